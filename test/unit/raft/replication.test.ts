import { describe, expect, test } from "vitest";
import { RaftLog } from "../../../src/raft/log.ts";
import { Progress } from "../../../src/raft/progress.ts";
import { hardStateToPersist, wakeAt } from "../../../src/raft/ready.ts";
import { appendEntriesFor, retryFrom, snapshotFor, type Sender } from "../../../src/raft/replication.ts";

const e = (index: number, term: number) => ({ index, term, command: `${index}` });
// A leader of term 3 whose log was compacted up to 2 (term 1) and holds 3..5.
const sender: Sender = { id: 1, term: 3, commitIndex: 4, log: new RaftLog([e(3, 2), e(4, 3), e(5, 3)], 2, 1), now: 100, maxEntries: 2, maxBytes: 1 << 20 };

describe("replication: what a leader sends", () => {
  test("entries from nextIndex in one batch, in flight up to its last", () => {
    const pr = new Progress(5, 0);
    pr.backtrack(3, 5);
    const m = appendEntriesFor(sender, 2, pr, true, { readSeq: 7, life: 1 });
    expect(m).toMatchObject({ prevLogIndex: 2, prevLogTerm: 1, entries: [e(3, 2), e(4, 3)], leaderCommit: 4, readSeq: 7, life: 1 });
    expect([pr.inflight, pr.inflightUpTo, pr.inflightSince]).toEqual([true, 4, 100]);
  });

  test("a bare heartbeat whose previous entry is compacted away names the snapshot's last entry, and leaves the flight alone", () => {
    const pr = new Progress(5, 0);
    pr.backtrack(1, 5);
    const m = appendEntriesFor(sender, 2, pr, false, {});
    expect(m).toMatchObject({ prevLogIndex: 2, prevLogTerm: 1, entries: [] });
    expect(pr.inflight).toBe(false);
  });

  test("the snapshot carries its last entry and configuration, and is in flight", () => {
    const pr = new Progress(5, 0);
    const m = snapshotFor(sender, 2, pr, { voters: [1, 2, 3], learners: [] });
    expect(m).toMatchObject({ type: "InstallSnapshot", lastIncludedIndex: 2, lastIncludedTerm: 1, membership: { voters: [1, 2, 3], learners: [] } });
    expect([pr.inflight, pr.snapshotSentAt]).toEqual([true, 100]);
  });
});

describe("ready: the hard state to persist and the next wake", () => {
  test("only a change is persisted; an unset mark equals its zero value", () => {
    const last = { term: 2, votedFor: 1 };
    expect(hardStateToPersist({ term: 2, votedFor: 1, ledTerm: 0, asleep: false, life: 0 }, last)).toBeNull();
    expect(hardStateToPersist({ term: 2, votedFor: 1, asleep: true }, last)).toEqual({ term: 2, votedFor: 1, asleep: true });
    expect(hardStateToPersist({ term: 3, votedFor: null }, last)).toEqual({ term: 3, votedFor: null });
  });

  test("asleep: never; a leader: its earliest deadline; otherwise its election", () => {
    const d = { heartbeat: 50, checkQuorum: 40, transfer: Infinity, election: 300 };
    expect([wakeAt(true, true, d), wakeAt(false, true, d), wakeAt(false, false, d)]).toEqual([Infinity, 40, 300]);
  });
});

describe("replication: fast backtracking", () => {
  const reply = (conflictIndex: number, conflictTerm: number) =>
    ({ type: "AppendEntriesReply", from: 2, to: 1, term: 3, success: false, matchIndex: 0, conflictIndex, conflictTerm }) as const;
  test("past the leader's last entry of the follower's conflicting term, else at the follower's conflict index", () => {
    expect(retryFrom(sender.log, reply(4, 2))).toBe(4); // the leader's term 2 ends at 3
    expect(retryFrom(sender.log, reply(4, 3))).toBe(6);
    expect(retryFrom(sender.log, reply(3, 7))).toBe(3); // a term the leader never had
    expect(retryFrom(sender.log, reply(2, -1))).toBe(2); // the follower's log was too short
  });
});
