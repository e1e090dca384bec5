import { describe, expect, test } from "vitest";
import { RaftLog } from "../../../src/raft/log.ts";
import { majority, quorumIndex } from "../../../src/raft/quorum.ts";
import { Progress } from "../../../src/raft/progress.ts";

const e = (index: number, term: number, command: unknown = index) => ({ index, term, command });

describe("RaftLog", () => {
  test("answers terms, including index 0 and beyond the end", () => {
    const log = new RaftLog([e(1, 1), e(2, 1), e(3, 2)]);
    expect([log.term(0), log.term(1), log.term(3), log.term(4)]).toEqual([0, 1, 2, undefined]);
    expect(log.lastIndex).toBe(3);
    expect(log.lastTerm).toBe(2);
  });

  test("reports the lowest changed index once, covering truncation and appends", () => {
    const log = new RaftLog([e(1, 1), e(2, 1), e(3, 1)]);
    expect(log.takeWrite()).toBeNull();
    log.truncateFrom(2);
    log.append(e(2, 2));
    log.append(e(3, 2));
    expect(log.takeWrite()).toEqual({ fromIndex: 2, entries: [e(2, 2), e(3, 2)] });
    expect(log.takeWrite()).toBeNull();
  });

  test("isUpToDate: a later last term wins; with the same last term, the longer (or equal) log", () => {
    const log = new RaftLog([e(1, 1), e(2, 2), e(3, 2)]);
    expect([log.isUpToDate(1, 3), log.isUpToDate(3, 2), log.isUpToDate(4, 2)]).toEqual([true, true, true]);
    expect([log.isUpToDate(2, 2), log.isUpToDate(9, 1)]).toEqual([false, false]);
  });

  test("a pure truncation is a write with no entries", () => {
    const log = new RaftLog([e(1, 1), e(2, 1)]);
    log.truncateFrom(1);
    expect(log.takeWrite()).toEqual({ fromIndex: 1, entries: [] });
  });

  test("finds the first and last index of a term for fast backtracking", () => {
    const log = new RaftLog([e(1, 1), e(2, 2), e(3, 2), e(4, 2), e(5, 4)]);
    expect(log.firstIndexOfTerm(2, 4)).toBe(2);
    expect(log.lastIndexOfTerm(2)).toBe(4);
    expect(log.lastIndexOfTerm(3)).toBeUndefined();
  });

  test("batches by count and by bytes but always sends at least one entry", () => {
    const big = "x".repeat(1000);
    const log = new RaftLog([e(1, 1, big), e(2, 1, big), e(3, 1, big)]);
    expect(log.batch(1, 2, 1_000_000)).toHaveLength(2);
    expect(log.batch(1, 10, 1500)).toHaveLength(1);
    expect(log.batch(1, 10, 10)).toHaveLength(1);
    expect(log.batch(4, 10, 10)).toHaveLength(0);
  });

  test("refuses an append that would leave a gap", () => {
    const log = new RaftLog([e(1, 1)]);
    expect(() => log.append(e(3, 1))).toThrow(/append 3 after 1/);
  });
});

describe("quorum", () => {
  test("majority of odd and even sizes", () => {
    expect([1, 2, 3, 4, 5, 9].map(majority)).toEqual([1, 2, 2, 3, 3, 5]);
  });
  test("quorum index is what a majority holds", () => {
    expect(quorumIndex([5, 3, 1])).toBe(3);
    expect(quorumIndex([5, 5, 1, 1])).toBe(1);
    expect(quorumIndex([9, 7, 7, 2, 0])).toBe(7);
  });
});

describe("Progress", () => {
  test("late success replies never move match or next backwards", () => {
    const p = new Progress(10, 0);
    p.acknowledge(8);
    p.acknowledge(5);
    expect([p.match, p.next]).toEqual([8, 11]);
  });
  test("backtracking stays above match and within the log", () => {
    const p = new Progress(10, 0);
    p.acknowledge(4);
    p.backtrack(2, 10);
    expect(p.next).toBe(5);
    p.backtrack(99, 10);
    expect(p.next).toBe(11);
  });
  test("an append stays in flight until a success covers it; a stale rejection changes nothing", () => {
    const p = new Progress(10, 0);
    p.backtrack(6, 10);
    p.sentEntries(5, 10, 3);
    p.succeeded(8); // an earlier, shorter append's answer
    expect([p.inflight, p.match, p.next]).toEqual([true, 8, 9]);
    expect(p.rejected(5, 2, 10)).toBe(false); // a rejection of the attempt at 6
    expect(p.inflight).toBe(true);
    p.succeeded(10);
    expect([p.inflight, p.match, p.next]).toEqual([false, 10, 11]);
  });
  test("a rejection of the attempt at next backs off and ends the flight; a snapshot's reply ends its own", () => {
    const p = new Progress(10, 0);
    p.sentEntries(1, 11, 1);
    expect(p.rejected(10, 4, 10)).toBe(true);
    expect([p.inflight, p.next]).toEqual([false, 4]);
    p.sentSnapshot(5);
    expect([p.inflight, p.snapshotSentAt]).toEqual([true, 5]);
    p.snapshotAnswered(7, 9);
    expect([p.inflight, p.snapshotSentAt, p.match, p.lastHeard]).toEqual([false, null, 7, 9]);
  });
});
