// Who counts, told as stories (issue 19, "tests that can fail"): whose votes win an election,
// whose copies commit an entry, and when a follower may agree to sleep. Each story puts the
// cluster where breaking the rule makes a difference; the real core passes it, and the mutant
// of counting-mutants.ts that breaks the rule fails it with the invariant aimed at it
// (counting.test.ts proves both). The random search reaches the same situations by chance;
// these reach them every time.
//
// removedServerStandsAgain (ElectionQuorum). A leader L removes itself; the entry reaches two
// of the three remaining voters, their answers are lost, and L crashes: it never learns that
// its removal committed (the new leader commits it). The coordinator's DELETE answered 504, so
// L runs on for a while. L comes back cut off with D, the voter that missed the removal. L's
// log (which ends with its removal) is ahead of D's, so D grants it its pre-vote (and would
// grant its vote). L is no voter of its own configuration: D's one vote of three must not make
// it leader, nor even a candidate.
//
// learnersDoNotCommit (CommitQuorum). Two voters and two learners, the other voter cut off: the
// leader and both learners hold a new entry, three of four servers, one of two voters. It must
// not commit. learnersDoNotCommitThreeVoters shows what counting them loses: with three voters
// and two learners, two voters cut off, an entry held by the leader and the learners would be
// "committed"; the leader crashes and the two voters elect a leader without it.
//
// lateQuiesceHeartbeat (SleepSafety). A follower sleeps only if its log ends where the quiesce
// heartbeat says the leader's does and all of it is committed. The network delivers a late
// copy of a quiesce heartbeat (duplicated and delayed, as the random networks do) to a follower
// that has since received a newer entry and not yet learnt it is committed: a lagging follower.
// It must stay awake.
//
// staleSuffixAtQuiesce (SleepSafety, and a liveness bug of the real core). A follower F holds
// an entry s that an old leader appended and never committed; the new leader N never had s,
// has committed its whole log, and has appended nothing of its own term (leaderNoop off). N's
// heartbeats match F's log up to N's last entry and never truncate s, so F acknowledges N's
// last index and N's idle check finds everyone caught up. At the quiesce heartbeat F's log runs
// past N's: F must not sleep. And the cluster must still fall asleep within the contract's
// bound (API.md: ten election timeouts after the idle time): once a round fails, N appends a
// no-op of its term, which truncates s at F (staleSuffixSleeps). Before that fix N retried
// the quiesce every idle period, F refused every time, and nothing ever removed s.

import type { Message, NodeId } from "../../src/raft/types.ts";
import type { Harness } from "./harness.ts";
import { changeAndCommit } from "./membership-stories.ts";

/** The server of `ids` that leads the highest term, if any is up and leading. */
function leaderAmong(h: Harness, ids: readonly NodeId[]): NodeId | undefined {
  const leaders = ids.filter((i) => h.cluster.status(i)?.state === "Leader");
  return leaders.sort((a, b) => h.cluster.status(b)!.term - h.cluster.status(a)!.term)[0];
}

/**
 * Some server of `ids` leads and commits `command` on all of them within 5 s, proposed again
 * to the next leader if its leader loses its term first (an entry of an older term commits
 * only under a newer one of the leader's own, so a proposal can be stranded).
 */
function electsAndCommits(h: Harness, ids: readonly NodeId[], command: string): void {
  const c = h.cluster;
  const deadline = h.now + 5000;
  while (h.now < deadline) {
    const leader = leaderAmong(h, ids);
    if (leader === undefined) {
      h.sleep(10);
      continue;
    }
    const term = c.status(leader)!.term;
    const index = h.submitToLeader(leader, command);
    while (h.now < deadline && c.status(leader)?.state === "Leader" && c.status(leader)!.term === term) {
      if (ids.every((i) => c.applied(i)[index - 1]?.command === command)) return;
      h.sleep(10);
    }
  }
  h.fail(`no leader among ${ids.join(", ")} committed ${command} on all of them within 5 s`);
}

/** Terms that `id` led, according to the checker's history. */
function termsLedBy(h: Harness, id: NodeId): number[] {
  return [...h.cluster.checker.leaders()].filter(([, l]) => l === id).map(([t]) => t);
}

/** Needs 4 servers, PreVote on, and removed servers left running for longer than the story (retireDelaysMs). */
export function removedServerStandsAgain(h: Harness): void {
  h.check(h.n === 4, "the story needs 4 servers");
  const c = h.cluster;
  const [L] = h.checkSingleLeader();
  const [A, B, D] = [0, 1, 2, 3].filter((i) => i !== L) as [NodeId, NodeId, NodeId];
  const x = h.submitToLeader(L, "x");
  h.until(() => [0, 1, 2, 3].every((i) => c.applied(i)[x - 1]?.command === "x"), 1000, "x applied everywhere");

  h.tlog(`${D} misses what follows; ${A} and ${B} will get ${L}'s removal, but ${L} will not hear them`);
  h.disconnect(D);
  h.cutLink(A, L);
  h.cutLink(B, L);
  const r = c.changeMembership(L, { op: "remove", id: L });
  h.check(r.accepted, `${L} refused to remove itself`);
  const k = r.accepted ? r.index : 0;
  h.until(() => [A, B].every((i) => c.status(i)!.membershipIndex === k), 100, `${A} and ${B} hold the removal`);
  h.crash(L);
  h.heal();

  // A and B are two of the three voters [A B D]: they elect a leader, which commits the removal.
  h.until(() => c.checker.committedEntries().has(k), 3000, `the removal at ${k} committed by ${A} and ${B}`);
  h.tlog(`the removal is committed; ${L} (stopped late, as after a 504) comes back cut off with ${D}, which missed it`);
  const ledBefore = termsLedBy(h, L);
  let granted = 0;
  c.net.tamper = (m) => {
    if (m.from === D && m.to === L && ((m.type === "PreVoteReply" && m.granted) || (m.type === "RequestVoteReply" && m.voteGranted))) granted++;
    return m;
  };
  h.partition([L, D], [A, B]);
  h.restart(L);
  h.reconnect(D);
  h.check(c.status(L)!.member === "removed" && c.status(L)!.commitIndex < k, `${L} should not know its removal committed`);
  h.check(c.status(D)!.membershipIndex < k, `${D} should not hold the removal`);
  h.sleep(2000);
  c.net.tamper = null;
  h.check(granted > 0, `${D} never granted ${L} a vote or pre-vote: the story showed nothing`);
  h.check(termsLedBy(h, L).length === ledBefore.length, `${L}, removed, led again (terms ${termsLedBy(h, L).join(", ")})`);

  h.heal();
  electsAndCommits(h, [A, B, D], "after");
}

/** Two voters, two learners (added here), the other voter cut off: nothing commits. Needs 2 servers. */
export function learnersDoNotCommit(h: Harness): void {
  h.check(h.n === 2, "the story needs 2 servers");
  const c = h.cluster;
  const [L] = h.checkSingleLeader();
  const V = L === 0 ? 1 : 0;
  h.submitToLeader(L, "x");
  const learners = [c.addServer(), c.addServer()];
  for (const id of learners) changeAndCommit(h, L, { op: "add_learner", id });
  const all = [L, V, ...learners];
  const last = c.status(L)!.logLength;
  h.until(() => all.every((i) => c.applied(i).length >= last), 1000, "everyone holds the configuration");

  h.tlog(`voters [${L} ${V}], learners [${learners.join(" ")}]; ${V} is cut off`);
  h.disconnect(V);
  const y = h.submitToLeader(L, "y");
  h.until(() => learners.every((i) => c.status(i)!.logLength >= y), 100, "the learners hold y");
  h.sleep(1000);
  h.check(c.status(L)!.commitIndex < y, `${L} committed y with one voter of two`);
  h.checkNotCommitted("y");

  // Back, V may have raised the term; y (of L's term) then commits with the new leader's first
  // entry. V cannot lead: its log lacks y, and L's vote is the one it needs.
  h.reconnect(V);
  electsAndCommits(h, all, "after");
  h.check(all.every((i) => c.applied(i)[y - 1]?.command === "y"), "y is not applied everywhere");
}

/**
 * Three voters and two learners, two voters cut off; the leader crashes and the two voters
 * elect a leader of their own. Needs 3 servers. y must not have committed, so the new leader
 * lacks nothing committed (counting learners, y would be, and it lacks y).
 */
export function learnersDoNotCommitThreeVoters(h: Harness): void {
  h.check(h.n === 3, "the story needs 3 servers");
  const c = h.cluster;
  const [L] = h.checkSingleLeader();
  const [A, B] = [0, 1, 2].filter((i) => i !== L) as [NodeId, NodeId];
  h.submitToLeader(L, "x");
  const learners = [c.addServer(), c.addServer()];
  for (const id of learners) changeAndCommit(h, L, { op: "add_learner", id });
  const last = c.status(L)!.logLength;
  h.until(() => [L, A, B, ...learners].every((i) => c.applied(i).length >= last), 1000, "everyone holds the configuration");

  h.tlog(`voters [${L} ${A} ${B}], learners [${learners.join(" ")}]; ${A} and ${B} are cut off`);
  h.disconnect(A);
  h.disconnect(B);
  h.submitToLeader(L, "y");
  h.sleep(500);
  h.crash(L);
  h.reconnect(A);
  h.reconnect(B);
  electsAndCommits(h, [A, B], "after");
  // Checked last, so that a core that did commit y meets the invariants first.
  h.check(![...c.checker.committedEntries().values()].some((e) => e.json === '"y"'), `y was committed with one voter of three`);
}

/** Needs 3 servers and sleepAfterMs. */
export function lateQuiesceHeartbeat(h: Harness): void {
  h.check(h.n === 3, "the story needs 3 servers");
  const c = h.cluster;
  const [L] = h.checkSingleLeader();
  const F = L === 0 ? 1 : 0;
  const x = h.submitToLeader(L, "x");
  h.until(() => [0, 1, 2].every((i) => c.applied(i)[x - 1]?.command === "x"), 1000, "x applied everywhere");

  // Keep a copy of the quiesce heartbeat sent to F (the network will deliver it again, late).
  let late: Message | null = null;
  c.net.tamper = (m) => {
    if (m.type === "AppendEntries" && m.quiesce !== undefined && m.to === F) late = m;
    return m;
  };
  h.until(() => [0, 1, 2].every((i) => c.status(i)!.asleep), 3000, "the idle cluster asleep");
  c.net.tamper = null;
  h.check(late !== null, `no quiesce heartbeat was sent to ${F}`);

  const y = h.submitToLeader(L, "y");
  h.until(() => c.status(F)!.logLength === y, 50, `${F} holds y`);
  const st = c.status(F)!;
  h.check(st.commitIndex < y && !st.asleep, `${F} should hold y uncommitted, awake (commitIndex ${st.commitIndex}, asleep ${st.asleep})`);
  h.tlog(`the quiesce heartbeat arrives again, late, at ${F} (which holds y uncommitted)`);
  c.inject(F, late!);
  h.check(!c.status(F)!.asleep, `${F} fell asleep on a stale quiesce heartbeat with y not committed`);

  h.until(() => [0, 1, 2].every((i) => c.applied(i)[y - 1]?.command === "y"), 1000, "y applied everywhere");
  h.until(() => [0, 1, 2].every((i) => c.status(i)!.asleep), 3000, "the idle cluster asleep again");
}

/**
 * Needs 5 servers and sleepAfterMs, leaderNoop off. Ends once the new leader has been idle for
 * `idleMs` (or, `untilAsleep`, as soon as every server up is asleep, if that is sooner);
 * answers F, the servers to watch and when the new leader went idle.
 */
export function staleSuffixAtQuiesce(
  h: Harness,
  idleMs: number,
  untilAsleep = false,
): { readonly F: NodeId; readonly up: readonly NodeId[]; readonly idleFrom: number } {
  h.check(h.n === 5, "the story needs 5 servers");
  const c = h.cluster;
  const [L] = h.checkSingleLeader();
  const [F, G, H, I] = [0, 1, 2, 3, 4].filter((i) => i !== L) as [NodeId, NodeId, NodeId, NodeId];
  const x = h.submitToLeader(L, "x");
  h.until(() => [0, 1, 2, 3, 4].every((i) => c.status(i)!.commitIndex >= x), 1000, "x committed everywhere");

  h.tlog(`s reaches only ${F}, whose answer is lost; ${L} crashes`);
  for (const o of [G, H, I]) h.cutLink(L, o);
  h.cutLink(F, L);
  const s = h.submitToLeader(L, "s");
  h.until(() => c.status(F)!.logLength === s, 100, `${F} holds s`);
  h.crash(L);
  h.disconnect(F);
  h.heal();
  h.until(() => leaderAmong(h, [G, H, I]) !== undefined, 5000, `a leader among ${G}, ${H}, ${I}`);
  const N = leaderAmong(h, [G, H, I])!;
  const n = c.status(N)!;
  h.check(n.logLength === x && n.commitIndex === x, `${N} should lead with its whole log (${n.logLength}) committed (${n.commitIndex})`);
  h.reconnect(F);
  h.tlog(`${N} leads with log and commit at ${x}; ${F} holds s at ${s}, uncommitted; idle`);
  const idleFrom = h.now;

  let quiesced = 0;
  c.net.tamper = (m) => {
    if (m.type === "AppendEntries" && m.quiesce !== undefined && m.to === F) quiesced++;
    return m;
  };
  const until = h.now + idleMs;
  const up = [F, G, H, I];
  while (h.now < until && !(untilAsleep && up.every((i) => c.status(i)!.asleep))) {
    h.sleep(10);
    const holdsS = c.disk(F).json(s) === '"s"';
    h.check(!(c.status(F)!.asleep && holdsS), `${F} fell asleep holding s, uncommitted`);
  }
  c.net.tamper = null;
  h.check(quiesced > 0, `${N} never sent ${F} a quiesce heartbeat: the story showed nothing`);
  return { F, up, idleFrom };
}

/**
 * staleSuffixAtQuiesce, then the bound: every server up asleep within sleepAfterMs + ten
 * election timeouts (of `electionMaxMs`) of the moment the new leader is idle.
 */
export function staleSuffixSleeps(h: Harness, sleepAfterMs: number, electionMaxMs: number): void {
  const c = h.cluster;
  const bound = sleepAfterMs + 10 * electionMaxMs;
  const { up, idleFrom } = staleSuffixAtQuiesce(h, bound, true);
  h.until(() => up.every((i) => c.status(i)!.asleep), bound - (h.now - idleFrom), `every server asleep within ${bound} ms of idling`);
  h.tlog(`asleep ${(h.now - idleFrom).toFixed(0)} ms after idling`);
}
