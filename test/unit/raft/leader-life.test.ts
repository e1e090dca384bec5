// LeaderLife (src/raft/leader-life.ts) on its own: lives, the led-term mark, quiesce rounds, the wake lease.
import { describe, expect, test } from "vitest";
import { LeaderLife } from "../../../src/raft/leader-life.ts";
import type { AppendEntriesReply } from "../../../src/raft/types.ts";

const asleep = (from: number, life: number | undefined, quiesce: number | undefined): AppendEntriesReply => ({
  type: "AppendEntriesReply",
  from,
  to: 0,
  term: 3,
  success: true,
  matchIndex: 4,
  conflictIndex: 0,
  conflictTerm: -1,
  asleep: true,
  ...(life !== undefined ? { life } : {}),
  ...(quiesce !== undefined ? { quiesce } : {}),
});

describe("leader life", () => {
  test("a load that resumes leading is one life more than the durable count; a load that follows writes none", () => {
    const fresh = new LeaderLife({ term: 0, votedFor: null });
    expect(fresh.life).toBe(0);
    expect(fresh.marks()).toEqual({});
    const l = new LeaderLife({ term: 3, votedFor: 0, ledTerm: 3, life: 7 });
    expect(l.life).toBe(7);
    l.startLeading(3, true, 5, 5, 0);
    expect(l.life).toBe(8);
    expect(l.marks()).toEqual({ ledTerm: 3, life: 8 });
    l.startLeading(4, false, 6, 5, 0); // elected: a new term, the same life
    expect(l.life).toBe(8);
  });

  test("a leader resumes only the term it led and did not step down from", () => {
    const l = new LeaderLife({ term: 3, votedFor: 0, ledTerm: 3 });
    expect(l.mayResume(3)).toBe(true);
    expect(l.mayResume(4)).toBe(false); // it persisted a newer term since
    l.steppedDown();
    expect(l.mayResume(3)).toBe(false);
    expect(l.marks()).toEqual({});
  });

  test("a resumed leader serves reads only once it committed up to the end of the log it reloaded", () => {
    const l = new LeaderLife({ term: 3, votedFor: 0, ledTerm: 3 });
    l.startLeading(3, true, 10, 6, 0);
    expect(l.mayServeReads).toBe(false);
    expect(l.committed(9)).toBe(false);
    expect(l.committed(10)).toBe(true);
    l.startLeading(4, false, 12, 10, 0); // elected: its own term's commit is the usual rule
    expect(l.mayServeReads).toBe(true);
  });

  test("an asleep answer counts only for the round under way in this life; every follower asked must agree", () => {
    const l = new LeaderLife({ term: 3, votedFor: 0, ledTerm: 3, life: 1 });
    l.startLeading(3, true, 4, 4, 0); // life 2
    expect(l.startRound([1, 2], 300)).toBe(1);
    expect(l.answersRound(asleep(1, 2, 1))).toBe(true);
    expect(l.answersRound(asleep(1, 1, 1))).toBe(false); // the same round number, an earlier life
    expect(l.answersRound(asleep(1, undefined, undefined))).toBe(false);
    expect(l.agreed(1)).toBe(false);
    expect(l.missing()).toEqual([2]);
    expect(l.roundOverdue(299)).toBe(false);
    expect(l.roundOverdue(300)).toBe(true);
    expect(l.abandonRound()).toEqual([2]);
    expect(l.startRound([1, 2], 600)).toBe(2);
    expect(l.answersRound(asleep(1, 2, 1))).toBe(false); // round 1's answer, late
    l.agreed(1);
    expect(l.agreed(2)).toBe(true);
  });

  test("only client activity restarts the idle wait; a follower woken from sleep keeps its leader's lease", () => {
    const l = new LeaderLife({ term: 3, votedFor: 0 });
    l.activity(100);
    expect(l.idleFor(1099, 1000)).toBe(false);
    expect(l.idleFor(1100, 1000)).toBe(true);
    l.startRound([1], 1400);
    l.abandonRound();
    expect(l.idleFor(1400, 1000)).toBe(true); // a lost answer does not cost another idle period
    expect(l.idleFor(5000, 0)).toBe(false); // sleep off
    l.fallAsleep();
    l.wake(2000, false);
    expect(l.asleep).toBe(false);
    expect(l.leaseHolder(2100, null, -Infinity, 150)).toBe("woke from sleep");
    expect(l.leaseHolder(2100, 3, 1000, 150)).toBe("woke from sleep");
    expect(l.leaseHolder(2600, 3, 2500, 150)).toBe("heard from leader 3");
    expect(l.leaseHolder(2150, 3, 1000, 150)).toBeNull();
  });

  test("a leader is always in its own lease; a follower's lease is its leader's or its waking's", () => {
    const l = new LeaderLife({ term: 3, votedFor: 0 });
    expect(l.lease(5000, null, -Infinity, 150, true)).toBe("woke from sleep");
    expect(l.lease(5000, null, -Infinity, 150, false)).toBeNull();
    expect(l.lease(5000, 2, 4900, 150, false)).toBe("heard from leader 2");
    expect(l.lease(5000, 2, 4900, 150, true)).toBe("heard from leader 2");
  });
});
