// The leader's compaction rule (src/raft/compaction.ts), case by case.
import { describe, expect, test } from "vitest";
import { compactionPoint, keptCap, type CompactionInput } from "../../../src/raft/compaction.ts";

const base: CompactionInput = { lastApplied: 100, snapshotIndex: 80, threshold: 10, followers: [], snapshotsInFlight: [], now: 1000, recentMs: 300 };
const at = (over: Partial<CompactionInput>) => compactionPoint({ ...base, ...over });

describe("compactionPoint", () => {
  test("a server with nobody to wait for keeps the newest half threshold, as before", () => {
    expect(at({})).toBe(95);
    expect(at({ lastApplied: 90 })).toBeNull(); // exactly threshold entries in the log: not yet
    expect(at({ threshold: 0 })).toBeNull();
  });

  test("a snapshot in flight holds compaction at its index", () => {
    expect(at({ snapshotsInFlight: [90] })).toBe(90);
    expect(at({ snapshotsInFlight: [90, 86] })).toBe(86);
    // Would free less than half a threshold: not worth a transaction yet.
    expect(at({ snapshotsInFlight: [84] })).toBeNull();
  });

  test("a follower heard from recently keeps what it lacks; one not heard from keeps nothing", () => {
    expect(at({ followers: [{ id: 1, match: 88, lastHeard: 900 }] })).toBe(88);
    expect(at({ followers: [{ id: 1, match: 88, lastHeard: 700 }] })).toBe(95);
    expect(at({ followers: [{ id: 1, match: 100, lastHeard: 999 }, { id: 2, match: 91, lastHeard: 999 }] })).toBe(91);
  });

  test("a follower already behind the snapshot pins nothing until a transfer to it starts", () => {
    expect(at({ followers: [{ id: 1, match: 3, lastHeard: 999 }] })).toBe(95);
  });

  test("the cap: at most keptCap(threshold) applied entries stay, whoever lags", () => {
    const lastApplied = 80 + keptCap(10) + 50;
    expect(at({ lastApplied, followers: [{ id: 1, match: 81, lastHeard: 999 }] })).toBe(lastApplied - keptCap(10));
    expect(at({ lastApplied, snapshotsInFlight: [81] })).toBe(lastApplied - keptCap(10));
  });
});
