// ReadRounds (src/raft/read-only.ts) on its own: rounds, majorities, and what never confirms a read.
import { describe, expect, test } from "vitest";
import { ReadRounds } from "../../../src/raft/read-only.ts";

const VOTERS = [0, 1, 2];

describe("read rounds", () => {
  test("a read waits for a majority to answer a round started after it arrived; concurrent reads share it", () => {
    const r = new ReadRounds();
    r.arrive("a", 0, 7);
    expect(r.startRound()).toBe(true);
    expect(r.round).toBe(1);
    r.arrive("b", 1, 8); // rides on the next round: round 1 left before it arrived
    expect(r.startRound()).toBe(false); // one round in flight at a time
    expect(r.acknowledge(1, 1)).toBe(true);
    r.confirm(VOTERS, 0);
    expect(r.take().reads).toEqual([{ ctx: "a", index: 7 }]);
    expect(r.startRound()).toBe(true); // b's round
    r.arrive("c", 2, 8); // arrives while round 2 is in flight: it needs round 3
    expect(r.acknowledge(2, 2)).toBe(true);
    r.confirm(VOTERS, 0);
    expect(r.take().reads).toEqual([{ ctx: "b", index: 8 }]);
    expect(r.waiting).toBe(true);
  });

  test("an answer to a round not yet started, or older than one already counted, is no news", () => {
    const r = new ReadRounds();
    r.arrive("a", 0, 3);
    r.startRound();
    expect(r.acknowledge(1, 2)).toBe(false); // round 2 was never sent (in this leadership)
    expect(r.acknowledge(1, 1)).toBe(true);
    expect(r.acknowledge(1, 1)).toBe(false); // a duplicate
  });

  test("a new leadership numbers its rounds from 1 again and forgets every answer", () => {
    const r = new ReadRounds();
    r.arrive("a", 0, 3);
    r.startRound();
    r.acknowledge(1, 1);
    r.reset();
    expect(r.round).toBe(0);
    r.arrive("b", 1, 4);
    r.startRound();
    r.confirm(VOTERS, 0); // follower 1's answer was to the earlier leadership's round 1
    expect(r.take().reads).toEqual([]);
  });

  test("reads whose index is not known wait for it; expired and abandoned reads fail", () => {
    const r = new ReadRounds();
    r.arrive("early", 0, null);
    expect(r.startRound()).toBe(false); // nothing to confirm yet
    expect(r.commitKnown(5)).toBe(true);
    expect(r.commitKnown(6)).toBe(false);
    r.arrive("late", 100, 6);
    expect(r.expire(50)).toBe(1);
    expect(r.take().failedReads).toEqual(["early"]);
    r.failAll();
    expect(r.take()).toEqual({ reads: [], failedReads: ["late"] });
    expect(r.waiting).toBe(false);
  });
});
