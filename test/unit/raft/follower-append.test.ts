import { describe, expect, test } from "vitest";
import { checkAppend } from "../../../src/raft/follower-append.ts";
import { RaftLog } from "../../../src/raft/log.ts";
import type { AppendEntries, Entry } from "../../../src/raft/types.ts";

const e = (index: number, term: number): Entry => ({ index, term, command: `${index}/${term}` });
const ae = (prevLogIndex: number, prevLogTerm: number, entries: Entry[]): AppendEntries => ({
  type: "AppendEntries",
  from: 1,
  to: 2,
  term: 3,
  leaderId: 1,
  prevLogIndex,
  prevLogTerm,
  entries,
  leaderCommit: 0,
});

describe("checkAppend (Figure 2, receiver steps 2–4)", () => {
  const log = new RaftLog([e(1, 1), e(2, 1), e(3, 2), e(4, 2)]);

  test("a log too short to hold prevLogIndex: continue right after our last entry", () => {
    expect(checkAppend(log, ae(6, 2, []))).toEqual({ ok: false, conflictIndex: 5, conflictTerm: -1 });
  });

  test("another term at prevLogIndex: point at the first entry of our conflicting term", () => {
    expect(checkAppend(log, ae(4, 3, []))).toEqual({ ok: false, conflictIndex: 3, conflictTerm: 2 });
  });

  test("entries we hold already are not new; a late, shorter append truncates nothing", () => {
    expect(checkAppend(log, ae(2, 1, [e(3, 2)]))).toEqual({ ok: true, matchIndex: 3, truncateFrom: null, fresh: [] });
  });

  test("the first entry of another term truncates from there; entries past our log are appended", () => {
    expect(checkAppend(log, ae(2, 1, [e(3, 2), e(4, 3), e(5, 3)]))).toEqual({
      ok: true,
      matchIndex: 5,
      truncateFrom: 4,
      fresh: [e(4, 3), e(5, 3)],
    });
    expect(checkAppend(log, ae(4, 2, [e(5, 3)]))).toEqual({ ok: true, matchIndex: 5, truncateFrom: null, fresh: [e(5, 3)] });
  });

  test("what our snapshot covers is skipped as matching", () => {
    const compacted = new RaftLog([e(3, 2), e(4, 2)], 2, 1);
    expect(checkAppend(compacted, ae(0, 0, [e(1, 1), e(2, 1), e(3, 2), e(4, 2), e(5, 2)]))).toEqual({
      ok: true,
      matchIndex: 5,
      truncateFrom: null,
      fresh: [e(5, 2)],
    });
    // Every entry it carries is in our snapshot: a match up to the snapshot.
    expect(checkAppend(compacted, ae(0, 0, [e(1, 1)]))).toEqual({ ok: true, matchIndex: 2, truncateFrom: null, fresh: [] });
  });
});
