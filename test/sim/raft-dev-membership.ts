// Ongaro's 2015 raft-dev post "bug in single-server membership changes", scripted with the
// harness verbs: the schedule in which a leader that changes the membership before it has
// committed an entry of its own term loses a committed configuration entry. The correct core
// must pass it (the change is refused, nothing committed is lost); a core whose
// requiresOwnTermCommit() returns false commits C_abc in step (2), and the checkers must object
// in step (3), when a server without it is elected (LeaderCompleteness) and commits a
// different configuration at its index (ConfigAgreement, then StateMachineSafety).
//
// The post: four servers a, b, c, d. Leader a (term 1) starts adding e: C_abcde reaches a and
// e only. a loses leadership; b becomes leader of term 2 in C_abcd, removes d (C_abc) and
// commits it with b and c (a majority of C_abc). Then a is elected with the votes of d and e
// (a majority of C_abcde: a's log is as up to date as theirs, ending with C_abcde of term 1)
// and overwrites the committed C_abc.
//
// Adapted to this core, which adds a voter as a learner first:
//   (0) a leads (term 1) with a, b, c, d; "x" commits everywhere. e is created and added as a
//       learner (committed everywhere, every server knows it is), and catches up.
//   (1) {a, e} | {b, c, d}: a promotes e. C_abcde (voters a b c d e) is on a and e only. a crashes.
//   (2) b, c, d elect one of them, b (term 2, C_abcd: it needs all three votes); d is then cut
//       off at once, so it holds nothing of b's term: {a, e} | {b, c} | {d}. b asks to remove
//       d, as the coordinator does, retrying "not_ready" for a second. The real core never
//       accepts: its own-term no-op cannot commit with b and c alone (2 of C_abcd's 4 voters).
//       The mutant accepts at once and commits C_abc with b and c (2 of C_abc's 3).
//   (3) {a, d, e} | {b, c}: a restarts; a or e is elected by the other two (d hears e
//       although e is no voter of its C_abcd, because e's log is ahead of d's: d's
//       configuration may be the stale one), then commits "y" with them. Either way the new
//       leader's log ends with C_abcde; with the mutant, C_abc (committed at that index) is
//       gone from it: the checkers fire at that election.
//   (4) Everyone back: "y" and C_abcde on all five; C_abc never applied anywhere.
//
// The host must not stop d after its removal commits in step (2) (Cluster.retireRemoved:
// false): a coordinator learns of a commit late, or is down, and d running on is exactly
// what the post's schedule needs.

import type { MembershipChange, MembershipChangeResult, NodeId } from "../../src/raft/types.ts";
import { membershipOf } from "../../src/raft/membership.ts";
import type { Harness } from "./harness.ts";

/** What the scenario saw, for the tests. */
export interface RaftDevOutcome {
  readonly a: NodeId;
  readonly b: NodeId;
  readonly d: NodeId;
  readonly e: NodeId;
  /** Whether b got to append C_abc (only a core without the own-term commit rule does). */
  readonly removalAccepted: boolean;
}

export function raftDevMembership(h: Harness): RaftDevOutcome {
  h.check(h.n === 4, "the raft-dev schedule needs 4 servers");
  const c = h.cluster;
  const ask = (leader: NodeId, change: MembershipChange): MembershipChangeResult => {
    const r = c.changeMembership(leader, change);
    h.tlog(`${change.op} ${change.id} asked of ${leader}: ${r.accepted ? `accepted at (${r.index}, term ${r.term})` : `refused: ${r.reason}`}`);
    return r;
  };
  const holdsEntry = (i: NodeId, index: number, term: number): boolean => c.disk(i).termAt(index) === term;

  // (0)
  const [a] = h.checkSingleLeader();
  const others = [0, 1, 2, 3].filter((i) => i !== a);
  h.submitToLeader(a, "x");
  h.sleep(100);
  h.checkCommittedN("x", 4);
  const e = c.addServer();
  h.tlog(`server e=${e} created`);
  h.check(retry(h, () => ask(a, { op: "add_learner", id: e })).accepted, "a did not accept adding e as a learner");
  // Committed, known committed everywhere (lazy commit: heartbeats carry it), and e caught up.
  h.until(
    () => [a, ...others, e].every((i) => (c.status(i)?.commitIndex ?? 0) >= c.status(a)!.logLength && c.status(i)!.logLength === c.status(a)!.logLength),
    2000,
    "the learner configuration committed everywhere and e caught up",
  );

  // (1)
  h.partition([a, e], others);
  const promote = ask(a, { op: "promote", id: e });
  h.check(promote.accepted, "a did not accept promoting e");
  if (!promote.accepted) throw new Error("unreachable");
  const k = promote.index;
  h.sleep(10);
  h.check(holdsEntry(e, k, promote.term), `C_abcde (index ${k}) did not reach e`);
  for (const i of others) h.check(!holdsEntry(i, k, promote.term), `C_abcde reached ${i}`);
  h.crash(a);

  // (2)
  h.until(() => others.some((i) => c.status(i)?.state === "Leader"), 8000, "a leader among b, c, d");
  const b = others.find((i) => c.status(i)?.state === "Leader")!;
  const [cc, d] = others.filter((i) => i !== b) as [NodeId, NodeId];
  h.tlog(`b=${b} leads term ${c.status(b)!.term}; c=${cc}; d=${d} is cut off`);
  h.heal();
  h.partition([a, e], [b, cc], [d]);
  const removal = retry(h, () => ask(b, { op: "remove", id: d }));
  const removalAccepted = removal.accepted;
  if (removal.accepted) {
    const { index, term } = removal;
    h.tlog(`C_abc appended by b at (${index}, term ${term}), index ${k} being C_abcde's on a and e`);
    h.until(() => (c.applied(b)[index - 1]?.term ?? -1) === term, 2000, "C_abc committed by b and c");
    h.tlog("C_abc committed with b and c");
  } else {
    h.tlog(`b never appended C_abc (last answer: ${removal.reason})`);
  }
  h.check(c.disk(d).lastIndex === k - 1, `d holds entries up to ${c.disk(d).lastIndex}, not just those before C_abcde (${k - 1})`);

  // (3)
  h.heal();
  h.partition([a, d, e], [b, cc]);
  h.restart(a);
  h.until(() => [a, d, e].some((i) => c.status(i)?.state === "Leader"), 8000, "a leader among a, d, e");
  const leader = [a, d, e].find((i) => c.status(i)?.state === "Leader")!;
  h.check(leader === a || leader === e, `the leader among a, d, e is ${leader}, not a=${a} or e=${e}`);
  h.tlog(`${leader === a ? "a" : "e"} leads term ${c.status(leader)!.term}`);
  const y = h.submitToLeader(leader, "y");
  h.until(() => [a, d, e].every((i) => c.applied(i)[y - 1]?.command === "y"), 3000, "y applied on a, d and e");

  // (4)
  h.heal();
  h.until(() => [a, b, cc, d, e].every((i) => c.applied(i)[y - 1]?.command === "y"), 3000, "y applied on all five");
  const finalConfig = membershipOf(c.applied(leader)[k - 1]?.command);
  h.check(finalConfig !== null && finalConfig.voters.length === 5, `index ${k} does not hold C_abcde on the leader`);
  for (const i of [a, b, cc, d, e]) {
    h.check(c.status(i)!.membership.voters.length === 5, `server ${i} does not use C_abcde: ${JSON.stringify(c.status(i)!.membership)}`);
  }
  return { a, b, d, e, removalAccepted };
}

/** Ask as the coordinator does: retry "not_ready" and "change_in_progress" every 20 ms, for a second. */
function retry(h: Harness, ask: () => MembershipChangeResult): MembershipChangeResult {
  const until = h.now + 1000;
  for (;;) {
    const r = ask();
    if (r.accepted || (r.reason !== "not_ready" && r.reason !== "change_in_progress") || h.now >= until) return r;
    h.sleep(20);
  }
}
