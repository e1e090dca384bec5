// Part 3 of the reference series: persistence and optimisations (submit answers the index,
// replication and commit advances go out at once, fast backtracking, durable state before
// any message that depends on it), plus this project's regression scenarios 24–30. Where
// a fabricated message is the clearest way to reach a state, it is injected straight into
// one core with cluster.inject().

import { describe, expect, test } from "vitest";
import type { Message, NodeId } from "../../src/raft/types.ts";
import type { Harness } from "./harness.ts";
import { scenario } from "./harness.ts";
import { forEachSeed } from "./seeds.ts";

/** Wait (bounded) until server i is a candidate, as a disconnected server soon is. */
function untilCandidate(h: Harness, i: NodeId): number {
  for (let k = 0; k < 100 && h.cluster.status(i)!.state !== "Candidate"; k++) h.sleep(10);
  const st = h.cluster.status(i)!;
  expect(st.state).toBe("Candidate");
  expect(st.votedFor).toBe(i);
  return st.term;
}

function voteRequest(from: NodeId, to: NodeId, term: number, h: Harness): Message {
  // A candidate whose log is at least as up to date as anyone's.
  const d = h.cluster.disk(to);
  return {
    type: "RequestVote",
    from,
    to,
    term,
    candidateId: from,
    lastLogIndex: d.lastIndex + 10,
    lastLogTerm: term,
  };
}

function granted(out: readonly Message[]): boolean {
  const replies = out.filter((m) => m.type === "RequestVoteReply");
  expect(replies).toHaveLength(1);
  const r = replies[0]!;
  return r.type === "RequestVoteReply" && r.voteGranted;
}

describe("Part 3: persistence and optimisations", () => {
  test("CommitAfterCallDrops", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [lid] = h.checkSingleLeader();
        h.dropCallsAfterN(lid, 2);
        const index = h.submitToLeader(lid, 99);
        expect(index).toBe(1); // submit answers the log index
        // Replication starts at once: the two calls allowed carry 99 to both followers.
        h.sleep(5);
        for (let i = 0; i < 3; i++) expect(h.cluster.disk(i).entry(1)?.command).toBe(99);
        h.sleep(25);
        h.dontDropCalls(lid);
        h.sleep(60);
        h.checkCommittedN(99, 3);
      }),
    );
  });

  // Part 3's optimisations, measured directly: well inside one 50 ms heartbeat, a submitted
  // command reaches the followers and the commit advance reaches them too.
  test("SubmitReplicatesAndCommitsAtOnce", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [leader] = h.checkSingleLeader();
        h.sleep(5); // off any heartbeat boundary
        const index = h.submitToLeader(leader, 77);
        h.sleep(5);
        // Replicated and committed at once; followers learn the commit with the next
        // AppendEntries or heartbeat, within one heartbeat interval (50 ms).
        expect(h.cluster.applied(leader).at(-1)).toMatchObject({ index, command: 77 });
        for (let i = 0; i < 3; i++) expect(h.cluster.status(i)!.logLength).toBe(index);
        h.sleep(50);
        for (let i = 0; i < 3; i++) expect(h.cluster.applied(i).at(-1)).toMatchObject({ index, command: 77 });
      }),
    );
  });

  test("DisconnectLeaderBriefly", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [origLeader] = h.checkSingleLeader();
        h.submitToLeader(origLeader, 5);
        h.submitToLeader(origLeader, 6);
        h.sleep(250);
        h.checkCommittedN(6, 3);
        // Shorter than any election timeout: nobody notices.
        h.disconnect(origLeader);
        h.sleep(90);
        h.reconnect(origLeader);
        h.sleep(200);
        h.submitToLeader(origLeader, 7);
        h.sleep(250);
        h.checkCommittedN(7, 3);
      }),
    );
  });

  test("CrashFollower", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [origLeader] = h.checkSingleLeader();
        h.submitToLeader(origLeader, 5);
        h.sleep(350);
        h.checkCommittedN(5, 3);
        h.crash((origLeader + 1) % 3);
        h.sleep(350);
        h.checkCommittedN(5, 2);
      }),
    );
  });

  test("CrashThenRestartFollower", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [origLeader] = h.checkSingleLeader();
        const vals = [5, 6, 7];
        for (const v of vals) h.submitToLeader(origLeader, v);
        h.sleep(350);
        for (const v of vals) h.checkCommittedN(v, 3);
        const f = (origLeader + 1) % 3;
        h.crash(f);
        h.sleep(300);
        for (const v of vals) h.checkCommittedN(v, 2);
        h.restart(f);
        h.sleep(650);
        for (const v of vals) h.checkCommittedN(v, 3);
      }),
    );
  });

  test("CrashThenRestartLeader", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [origLeader] = h.checkSingleLeader();
        const vals = [5, 6, 7];
        for (const v of vals) h.submitToLeader(origLeader, v);
        h.sleep(350);
        for (const v of vals) h.checkCommittedN(v, 3);
        h.crash(origLeader);
        h.sleep(350);
        for (const v of vals) h.checkCommittedN(v, 2);
        h.restart(origLeader);
        h.sleep(550);
        for (const v of vals) h.checkCommittedN(v, 3);
      }),
    );
  });

  test("CrashThenRestartAll", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [origLeader] = h.checkSingleLeader();
        for (const v of [5, 6, 7]) h.submitToLeader(origLeader, v);
        h.sleep(350);
        for (const v of [5, 6, 7]) h.checkCommittedN(v, 3);
        for (let i = 0; i < 3; i++) h.crash((origLeader + i) % 3);
        h.sleep(350);
        for (let i = 0; i < 3; i++) h.restart((origLeader + i) % 3);
        h.sleep(150);
        const [newLeader] = h.checkSingleLeader();
        h.submitToLeader(newLeader, 8);
        h.sleep(250);
        for (const v of [5, 6, 7, 8]) h.checkCommittedN(v, 3);
      }),
    );
  });

  test("ReplaceMultipleLogEntries", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [origLeader] = h.checkSingleLeader();
        h.submitToLeader(origLeader, 5);
        h.submitToLeader(origLeader, 6);
        h.sleep(250);
        h.checkCommittedN(6, 3);

        h.disconnect(origLeader);
        h.sleep(10);
        // Accepted by the cut-off leader, never replicated.
        for (const v of [21, 22, 23, 24]) {
          h.submitToLeader(origLeader, v);
          h.sleep(5);
        }
        const [newLeader] = h.checkSingleLeader();
        for (const v of [8, 9]) {
          h.submitToLeader(newLeader, v);
          h.sleep(5);
        }
        h.submitToLeader(newLeader, 10);
        h.sleep(250);
        h.checkNotCommitted(21);
        h.checkCommittedN(10, 2);

        h.crash(newLeader);
        h.sleep(60);
        h.restart(newLeader);
        h.sleep(100);
        const [finalLeader] = h.checkSingleLeader();
        h.reconnect(origLeader);
        h.sleep(400);
        h.submitToLeader(finalLeader, 11);
        h.sleep(250);
        // 21–24 were overwritten on the old leader.
        h.checkNotCommitted(21);
        h.checkCommittedN(11, 3);
        h.checkCommittedN(10, 3);
        expect(h.cluster.disk(origLeader).log().some((e) => e.command === 21)).toBe(false);
      }),
    );
  });

  /**
   * CrashAfterSubmit and DisconnectAfterSubmit: the leader sends 5 at once and is cut off
   * (`cut`) before any reply: followers hold 5, nobody committed it. A new leader must not
   * commit an entry of an older term by counting replicas; once an entry of its own term
   * commits, 5 commits with it.
   */
  function afterSubmit(cut: (h: Harness, i: number) => void, heal: (h: Harness, i: number) => void): void {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [origLeader] = h.checkSingleLeader();
        h.submitToLeader(origLeader, 5);
        h.sleep(1);
        cut(h, origLeader);
        h.sleep(10);
        h.checkSingleLeader();
        h.sleep(300);
        h.checkNotCommitted(5);
        heal(h, origLeader);
        h.sleep(150);
        const [newLeader] = h.checkSingleLeader();
        h.checkNotCommitted(5);
        h.submitToLeader(newLeader, 6);
        h.sleep(100);
        h.checkCommittedN(5, 3);
        h.checkCommittedN(6, 3);
      }),
    );
  }

  test("CrashAfterSubmit", () =>
    afterSubmit(
      (h, i) => h.crash(i),
      (h, i) => h.restart(i),
    ));

  test("DisconnectAfterSubmit", () =>
    afterSubmit(
      (h, i) => h.disconnect(i),
      (h, i) => h.reconnect(i),
    ));

  test("Bug_StartElectionMissingPersist", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [leader, origTerm] = h.checkSingleLeader();
        const f = (leader + 1) % 3;
        h.disconnect(f);
        // It keeps starting elections; each new term and self-vote must be durable at once.
        for (let t = 0; t < 1200; t += 10) {
          h.sleep(10);
          const st = h.cluster.status(f)!;
          const hs = h.cluster.disk(f).hardState;
          expect(hs.term).toBeGreaterThanOrEqual(st.term);
          expect(hs.votedFor).toBe(st.votedFor);
        }
        const term = h.cluster.status(f)!.term;
        expect(term).toBeGreaterThan(origTerm + 2);
        h.crash(f);
        h.restart(f);
        expect(h.cluster.status(f)!.term).toBe(term);
        expect(h.cluster.status(f)!.votedFor).toBe(f);
      }),
    );
  });

  test("Bug_BecomeFollowerMissingPersist", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [leader, term] = h.checkSingleLeader();
        const f = (leader + 1) % 3;
        // A reply carrying a higher term: the leader steps down and sends nothing in
        // response, so only the disk can tell whether it remembered the term.
        const out = h.cluster.inject(leader, {
          type: "AppendEntriesReply",
          from: f,
          to: leader,
          term: term + 3,
          success: false,
          matchIndex: 0,
          conflictIndex: 0,
          conflictTerm: -1,
        });
        expect(out).toEqual([]);
        expect(h.cluster.status(leader)!.state).toBe("Follower");
        // Stepping down cleared the led-term mark: a reset brings it back as a follower, not
        // as a leader of term + 3.
        expect(h.cluster.disk(leader).hardState).toEqual({ term: term + 3, votedFor: null });
        h.crash(leader);
        h.restart(leader);
        expect(h.cluster.status(leader)!.term).toBe(term + 3);
        h.checkSingleLeader();
      }),
    );
  });

  test("BecomeFollowerSameTermPreservesVotedFor", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [leader] = h.checkSingleLeader();
        const x = (leader + 1) % 3;
        const y = (leader + 2) % 3;
        h.disconnect(x);
        const T = untilCandidate(h, x);
        // A leader of the same term speaks: x steps down but keeps its vote (for itself).
        h.cluster.inject(x, {
          type: "AppendEntries",
          from: y,
          to: x,
          term: T,
          leaderId: y,
          prevLogIndex: 0,
          prevLogTerm: 0,
          entries: [],
          leaderCommit: 0,
        });
        const st = h.cluster.status(x)!;
        expect(st.state).toBe("Follower");
        expect(st.term).toBe(T);
        expect(st.votedFor).toBe(x);
        expect(h.cluster.disk(x).hardState).toEqual({ term: T, votedFor: x });
        // So another candidate of term T is refused.
        expect(granted(h.cluster.inject(x, voteRequest(leader, x, T, h)))).toBe(false);
      }),
    );
  });

  test("BecomeFollowerHigherTermResetsVotedFor", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [leader] = h.checkSingleLeader();
        const x = (leader + 1) % 3;
        const y = (leader + 2) % 3;
        h.disconnect(x);
        const T = untilCandidate(h, x);
        h.cluster.inject(x, {
          type: "AppendEntriesReply",
          from: y,
          to: x,
          term: T + 1,
          success: false,
          matchIndex: 0,
          conflictIndex: 0,
          conflictTerm: -1,
        });
        const st = h.cluster.status(x)!;
        expect(st.state).toBe("Follower");
        expect(st.term).toBe(T + 1);
        expect(st.votedFor).toBe(null);
        expect(h.cluster.disk(x).hardState).toEqual({ term: T + 1, votedFor: null });
        // Its vote in the new term is free.
        expect(granted(h.cluster.inject(x, voteRequest(leader, x, T + 1, h)))).toBe(true);
        expect(h.cluster.disk(x).hardState).toEqual({ term: T + 1, votedFor: leader });
      }),
    );
  });

  test("StaleVoteReplyIgnored", () => {
    forEachSeed((seed) =>
      scenario(5, { seed }, (h) => {
        const [leader] = h.checkSingleLeader();
        const x = (leader + 1) % 5;
        h.disconnect(x);
        const T = untilCandidate(h, x);
        const others = h.cluster.ids.filter((i) => i !== x);
        const reply = (from: NodeId, term: number): Message => ({
          type: "RequestVoteReply",
          from,
          to: x,
          term,
          voteGranted: true,
        });
        // Grants from an older term are answers to a question nobody asks any more.
        for (const o of others) h.cluster.inject(x, reply(o, T - 1));
        expect(h.cluster.status(x)!.state).toBe("Candidate");
        // One real grant, duplicated, is still one vote: 2 of 5.
        h.cluster.inject(x, reply(others[0]!, T));
        h.cluster.inject(x, reply(others[0]!, T));
        expect(h.cluster.status(x)!.state).toBe("Candidate");
        // A second distinct grant makes a majority (3 of 5).
        h.cluster.inject(x, reply(others[1]!, T));
        expect(h.cluster.status(x)!.state).toBe("Leader");
        expect(h.cluster.status(x)!.term).toBe(T);
        h.reconnect(x);
        h.sleep(300);
        h.checkSingleLeader();
      }),
    );
  });

  test("SameTermDoubleVotePrevented", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const [a, t] = h.checkSingleLeader();
        const f = (a + 1) % 3;
        const b = (a + 2) % 3;
        h.disconnect(f);
        expect(granted(h.cluster.inject(f, voteRequest(a, f, t + 1, h)))).toBe(true);
        expect(granted(h.cluster.inject(f, voteRequest(b, f, t + 1, h)))).toBe(false);
        // The same candidate asking again (a retry) gets the same answer.
        expect(granted(h.cluster.inject(f, voteRequest(a, f, t + 1, h)))).toBe(true);
        // The vote survives a crash.
        h.crash(f);
        h.restart(f);
        h.disconnect(f);
        expect(h.cluster.status(f)!.votedFor).toBe(a);
        expect(granted(h.cluster.inject(f, voteRequest(b, f, t + 1, h)))).toBe(false);
      }),
    );
  });

  test("ElectionSafetyStress", () => {
    forEachSeed((seed) =>
      scenario(5, { seed }, (h) => {
        for (let round = 0; round < 8; round++) {
          const [leader] = h.checkSingleLeader();
          h.disconnect(leader);
          h.sleep(350);
          const [next] = h.checkSingleLeader();
          expect(next).not.toBe(leader);
          h.reconnect(leader);
          h.sleep(150);
        }
        // Eight rounds, at least eight terms with a leader, never two in one term.
        expect(h.cluster.checker.leaders().size).toBeGreaterThanOrEqual(8);
      }),
    );
  });
});
