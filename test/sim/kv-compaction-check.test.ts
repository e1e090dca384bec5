// The compaction rule of the simulated etcd workload (kv-compaction-check.ts), on hand-written calls.

import { describe, expect, test } from "vitest";
import { checkCompactions, type CompactionCall, type HistoricalRead } from "./kv-compaction-check.ts";

const compaction = (revision: number, call: number, ret: number, ok = true): CompactionCall => ({ revision, call, ret, ok });
const read = (revision: number, call: number, ret: number, compacted: boolean): HistoricalRead => ({ client: "e0", revision, call, ret, compacted });

describe("the compaction rule", () => {
  test("a read of a revision below a compaction that had answered must be refused", () => {
    expect(checkCompactions([compaction(10, 0, 5)], [read(9, 6, 7, false)])).toHaveLength(1);
    // The compacted revision itself still reads; so does a read that began before the compaction answered.
    expect(checkCompactions([compaction(10, 0, 5)], [read(10, 6, 7, false), read(9, 4, 8, false)])).toEqual([]);
    // A compaction of unknown outcome proves nothing either way.
    expect(checkCompactions([compaction(10, 0, Infinity, false)], [read(9, 6, 7, false)])).toEqual([]);
  });

  test("a read refused as compacted needs a compaction above it, asked before it returned", () => {
    expect(checkCompactions([], [read(3, 0, 1, true)])).toHaveLength(1);
    expect(checkCompactions([compaction(3, 0, 1)], [read(3, 2, 3, true)])).toHaveLength(1);
    expect(checkCompactions([compaction(4, 5, 6)], [read(3, 2, 3, true)])).toHaveLength(1);
    expect(checkCompactions([compaction(4, 2.5, 6)], [read(3, 2, 3, true)])).toEqual([]);
    expect(checkCompactions([compaction(4, 1, Infinity, false)], [read(3, 2, 3, true)])).toEqual([]);
  });
});
