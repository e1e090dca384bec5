// The checker on its own, fed by hand: histories no correct core produces, to pin down what
// an invariant means where the random mutant search only shows that it can fire.

import { describe, expect, test } from "vitest";
import type { Entry, Membership, Message, RaftStatus } from "../../src/raft/types.ts";
import { Disk } from "./disk.ts";
import { Checker, InvariantViolation } from "./invariants.ts";
import { membershipCommand } from "../../src/raft/membership.ts";

function status(id: number, state: RaftStatus["state"], term: number, commitIndex = 0, logLength = 0): RaftStatus {
  return {
    id,
    state,
    preCandidate: false,
    transferringTo: null,
    term,
    votedFor: state === "Leader" ? id : null,
    leader: state === "Leader" ? id : null,
    commitIndex,
    lastApplied: commitIndex,
    logLength,
    snapshotIndex: 0,
    asleep: false,
  } as RaftStatus;
}

/** A checker of n servers; ElectionQuorum off unless `votes` (the histories below skip the elections' votes). */
function cluster(n: number, votes = false): { checker: Checker; disks: Disk[] } {
  const disks = Array.from({ length: n }, () => new Disk());
  const checker = new Checker(n, votes ? [] : ["ElectionQuorum"]);
  checker.attachDisks(disks);
  return { checker, disks };
}

/** Server `id` moves from `before` to `after` in one event (persisted, nothing sent). */
function event(checker: Checker, disk: Disk, before: RaftStatus | null, after: RaftStatus): void {
  checker.beforeCarryOut(after.id, before, after);
  checker.afterEvent(after.id, before, after, disk);
}

/** Leader `id` of `term` commits and applies `e` (its first entry). */
function commit(checker: Checker, disk: Disk, id: number, term: number, e: Entry): void {
  checker.onApply(id, 1, e);
  event(checker, disk, status(id, "Leader", term, 0, 1), status(id, "Leader", term, 1, 1));
}

function violation(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof InvariantViolation) return e.invariant;
    throw e;
  }
}

describe("LeaderCompleteness: every leader of every later term", () => {
  const x: Entry = { index: 1, term: 1, command: "x" };

  test("a leader of a later term elected before the entry committed must hold it too", () => {
    const { checker, disks } = cluster(3);
    disks[0]!.writeLog({ fromIndex: 1, entries: [x] });
    event(checker, disks[0]!, status(0, "Candidate", 1), status(0, "Leader", 1, 0, 1));
    // Server 1 wins term 2 with an empty log, then the deposed leader of term 1 commits x.
    event(checker, disks[1]!, status(1, "Candidate", 2), status(1, "Leader", 2));
    expect(violation(() => commit(checker, disks[0]!, 0, 1, x))).toBe("LeaderCompleteness");
  });

  test("leaders of terms that already existed when the entry was first applied are checked", () => {
    const { checker, disks } = cluster(3);
    disks[0]!.writeLog({ fromIndex: 1, entries: [x] });
    event(checker, disks[0]!, status(0, "Candidate", 1), status(0, "Leader", 1, 0, 1));
    // Term 4 exists somewhere (a candidate) when the leader of term 1 commits x ...
    checker.observeTerm(4);
    commit(checker, disks[0]!, 0, 1, x);
    // ... and a leader of term 3, elected long after, lacks it.
    expect(violation(() => event(checker, disks[2]!, status(2, "Candidate", 3), status(2, "Leader", 3)))).toBe("LeaderCompleteness");
  });

  test("leaders that hold the entry pass, whenever they were elected", () => {
    const { checker, disks } = cluster(3);
    for (const d of disks) d.writeLog({ fromIndex: 1, entries: [x] });
    event(checker, disks[0]!, status(0, "Candidate", 1), status(0, "Leader", 1, 0, 1));
    event(checker, disks[1]!, status(1, "Candidate", 2), status(1, "Leader", 2, 0, 1));
    checker.observeTerm(4);
    expect(violation(() => commit(checker, disks[0]!, 0, 1, x))).toBeNull();
    expect(violation(() => event(checker, disks[2]!, status(2, "Candidate", 3), status(2, "Leader", 3, 0, 1)))).toBeNull();
  });
});

describe("OneChangeAtATime: a new leader that inherits configuration entries", () => {
  const x: Entry = { index: 1, term: 1, command: "x" };
  const c1: Entry = { index: 2, term: 1, command: membershipCommand({ voters: [0, 1, 2], learners: [3] }) };
  const c2: Entry = { index: 3, term: 1, command: membershipCommand({ voters: [0, 1, 2, 3], learners: [] }) };

  // The leader of term 1 committed c1, then appended c2 (one change in flight). Commits reach
  // followers lazily: the next leader may not know c1 is committed, and holds both above its
  // own commitIndex. That is fine: the cluster's commit index (some server had 2) covers c1.
  test("two entries above its own commitIndex, one of them committed in the cluster: fine", () => {
    const { checker, disks } = cluster(3);
    for (const d of disks) d.writeLog({ fromIndex: 1, entries: [x, c1, c2] });
    event(checker, disks[0]!, status(0, "Candidate", 1), status(0, "Leader", 1, 2, 3));
    expect(violation(() => event(checker, disks[1]!, status(1, "Candidate", 2), status(1, "Leader", 2, 0, 3)))).toBeNull();
  });

  test("two entries above the cluster's commit index: two changes in flight", () => {
    const { checker, disks } = cluster(3);
    for (const d of disks) d.writeLog({ fromIndex: 1, entries: [x, c1, c2] });
    expect(violation(() => event(checker, disks[1]!, status(1, "Candidate", 2), status(1, "Leader", 2, 0, 3)))).toBe("OneChangeAtATime");
  });
});

describe("ElectionQuorum: a leader won with the votes of a majority of its configuration's voters", () => {
  /** Candidate `id` of `term` (configuration `m`) is delivered `from`'s grant of `grantTerm`, and leads after it or not. */
  function vote(checker: Checker, disk: Disk, id: number, term: number, from: number, leads: boolean, m: Membership, grantTerm = term): void {
    const grant: Message = { type: "RequestVoteReply", from, to: id, term: grantTerm, voteGranted: true };
    const before = { ...status(id, "Candidate", term), votedFor: id, membership: m };
    const after = { ...status(id, leads ? "Leader" : "Candidate", term), votedFor: id, membership: m };
    checker.delivering = grant;
    try {
      event(checker, disk, before, after);
    } finally {
      checker.delivering = null;
    }
  }

  test("its own vote and one more of three voters: fine", () => {
    const { checker, disks } = cluster(3, true);
    expect(violation(() => vote(checker, disks[0]!, 0, 1, 1, true, { voters: [0, 1, 2], learners: [] }))).toBeNull();
  });

  test("a learner's vote does not count", () => {
    const { checker, disks } = cluster(4, true);
    expect(violation(() => vote(checker, disks[0]!, 0, 1, 2, true, { voters: [0, 1], learners: [2, 3] }))).toBe("ElectionQuorum");
  });

  test("its own vote does not count when its configuration leaves it out", () => {
    const { checker, disks } = cluster(4, true);
    expect(violation(() => vote(checker, disks[0]!, 0, 5, 1, true, { voters: [1, 2, 3], learners: [] }))).toBe("ElectionQuorum");
  });

  test("a grant of an earlier term does not count", () => {
    const { checker, disks } = cluster(3, true);
    expect(violation(() => vote(checker, disks[0]!, 0, 2, 1, true, { voters: [0, 1, 2], learners: [] }, 1))).toBe("ElectionQuorum");
  });

  test("two grants delivered in two events add up", () => {
    const { checker, disks } = cluster(5, true);
    const m = { voters: [0, 1, 2, 3, 4], learners: [] };
    vote(checker, disks[0]!, 0, 1, 1, false, m);
    expect(violation(() => vote(checker, disks[0]!, 0, 1, 2, true, m))).toBeNull();
  });
});
