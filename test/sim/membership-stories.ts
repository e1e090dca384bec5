// Membership stories the random search found stuck (issue 12), scripted with the harness verbs
// so that each tells one thing. Both end with a cluster whose voters are up and connected and
// that must elect a leader and commit; the core of bc269bc elects none (a liveness bug, not a
// safety one: nothing is ever lost, nothing commits either).
//
// removedLeaderStuck (random seeds 27 and 72): a leader removes itself from a two-voter
// configuration [L, F]; the entry reaches nobody, and the leader loses its leadership (a
// crash and a restart here; CheckQuorum or a newer term would do the same). Its log now ends
// with [F], which leaves it out: it never stands again. F, whose configuration is still
// [L, F], stands but needs L's vote, and L refuses (its log is longer). Nobody ever leads, and
// the coordinator can change nothing without a leader. What must happen instead: L leads
// again, its no-op commits its removal, L hands over, F leads alone. (hashicorp/raft lets a server stand
// unless the LATEST configuration is committed and leaves it out; a candidate that is no voter
// of its own configuration must then not count its own vote.)
//
// staleVoterIgnoresCandidate (random seeds 126 and 259): a voter that missed the entries that
// made another server a voter ignores that server's RequestVote ("not a voter in my
// configuration"), and is the vote it needs. Here: voter 2 is down from the start (an empty
// log: its configuration is the initial [0 1 2]); the leader adds 3, promotes it, removes the
// other initial voter: [L 2 3]; then L dies for good. 2 and 3 are up and connected, two of the
// three voters, yet 3's RequestVotes are ignored by 2 and 2 asks only 0 and 1 (its
// configuration's voters: both gone). Ignoring the RequestVote of a non-voter whose log is
// strictly more up to date than ours loses the vote that would teach us the configuration;
// ignoring only those whose log is not (which the vote would refuse anyway) keeps a removed
// server from disrupting a cluster that has moved on.

import type { MembershipChange, NodeId } from "../../src/raft/types.ts";
import type { Harness } from "./harness.ts";

/** Ask the leader for a change as the coordinator does (retrying "later" refusals), then wait until it is applied by the leader. */
export function changeAndCommit(h: Harness, leader: NodeId, change: MembershipChange): number {
  const c = h.cluster;
  const until = h.now + 3000;
  for (;;) {
    const r = c.changeMembership(leader, change);
    h.tlog(`${change.op} ${change.id} asked of ${leader}: ${r.accepted ? `accepted at (${r.index}, term ${r.term})` : `refused: ${r.reason}`}`);
    if (r.accepted) {
      h.until(() => (c.applied(leader)[r.index - 1]?.term ?? -1) === r.term, 3000, `${change.op} ${change.id} committed`);
      return r.index;
    }
    const later = r.reason === "not_ready" || r.reason === "not_caught_up" || r.reason === "change_in_progress";
    h.check(later && h.now < until, `${change.op} ${change.id} refused: ${r.reason}`);
    h.sleep(20);
  }
}

/** Some server of `ids` leads, and commits a new command on all of them, within `ms`. */
function electsAndCommits(h: Harness, ids: readonly NodeId[], ms: number): void {
  const c = h.cluster;
  h.until(() => ids.some((i) => c.status(i)?.state === "Leader"), ms, `a leader among ${ids.join(", ")}`);
  const leader = ids.find((i) => c.status(i)?.state === "Leader")!;
  const index = h.submitToLeader(leader, "after");
  h.until(() => ids.every((i) => c.applied(i)[index - 1]?.command === "after"), 3000, `"after" applied on ${ids.join(", ")}`);
}

export function removedLeaderStuck(h: Harness): void {
  h.check(h.n === 3, "the story needs 3 servers");
  const c = h.cluster;
  const [L] = h.checkSingleLeader();
  const [F, G] = [0, 1, 2].filter((i) => i !== L) as [NodeId, NodeId];
  h.submitToLeader(L, "x");
  h.sleep(100);
  changeAndCommit(h, L, { op: "remove", id: G });
  h.sleep(100);
  h.check(c.status(F)!.membership.voters.length === 2, "F does not know the two-voter configuration");
  h.tlog(`voters [${L} ${F}]; ${L} removes itself while cut off from ${F}`);
  h.partition([L], [F]);
  const r = c.changeMembership(L, { op: "remove", id: L });
  h.check(r.accepted, "L refused to remove itself");
  h.sleep(10);
  h.crash(L);
  h.restart(L);
  h.heal();
  h.tlog(`${L}'s log ends with a configuration leaving it out, not committed; ${F}'s configuration is [${L} ${F}]`);
  // L may stand again (its removal is not committed); elected, it appends a no-op that
  // commits the removal with F (the one voter left), hands over to F and steps down. No
  // client write is needed for any of it.
  electsAndCommits(h, [F], 5000);
  const l = c.status(L); // null once the host stopped it (its removal committed)
  h.check(l === null || (l.state !== "Leader" && l.member === "removed"), `${L} still leads, or is still a member`);
}

export function staleVoterIgnoresCandidate(h: Harness): void {
  h.check(h.n === 3, "the story needs 3 servers");
  const c = h.cluster;
  h.crash(2);
  h.until(() => [0, 1].some((i) => c.status(i)?.state === "Leader"), 8000, "a leader among 0 and 1");
  const L = [0, 1].find((i) => c.status(i)?.state === "Leader")!;
  const O = L === 0 ? 1 : 0;
  h.submitToLeader(L, "x");
  const N = c.addServer();
  changeAndCommit(h, L, { op: "add_learner", id: N });
  changeAndCommit(h, L, { op: "promote", id: N });
  changeAndCommit(h, L, { op: "remove", id: O });
  h.sleep(200);
  h.check(c.status(N)!.membership.voters.join(" ") === [L, 2, N].sort((a, b) => a - b).join(" "), "N does not know voters [L 2 N]");
  h.tlog(`voters [${L} 2 ${N}]; ${L} dies for good; 2 comes back with an empty log (its configuration: the initial one)`);
  h.crash(L);
  h.restart(2);
  electsAndCommits(h, [2, N], 5000);
}
