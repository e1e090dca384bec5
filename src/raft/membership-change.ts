// A leader's side of a membership change by one server (thesis §4.1; membership.ts): append a
// configuration entry, in force here at once and on each follower as soon as it appends it;
// the change is done when that entry commits. Whether a change may start is decided by
// membership-rules.ts; this runs one against a narrow view of the leader (`ChangingLeader`),
// as etcd-io/raft keeps confchange/ beside raft.go. The core appends, commits and sends.

import { describe, membershipCommand } from "./membership.ts";
import { decideChange, type ChangeState } from "./membership-rules.ts";
import type { Entry, MembershipChange, MembershipChangeResult, MembershipRefusal, NodeId } from "./types.ts";

/** What a change reads of the core (as of now) and asks it to do. */
export interface ChangingLeader {
  /** Who this server is, whether it leads, and whom it takes as leader (itself if it leads). */
  leader(): { self: NodeId; leading: boolean; leader: NodeId | null };
  /** The change rules' view of the leader, its term, and its log's last term. */
  state(): { change: ChangeState; term: number; lastTerm: number };
  /** A client (or the coordinator) wants something: the idle clock restarts, a sleeping leader wakes. */
  activity(why: string): void;
  appendNoop(why: string): void;
  /** Append the configuration entry, commit what can be, and replicate it. */
  appendAndSend(entry: Entry): void;
  narrate(line: string): void;
  detail(line: string): void;
}

/**
 * Refused (nothing appended) unless this is the leader, the previous change has committed,
 * and this leader has committed an entry of its own term (it appends a no-op for that if it
 * has none); a learner is promoted only once it holds the leader's log.
 */
export function changeMembership(l: ChangingLeader, change: MembershipChange): MembershipChangeResult {
  const refuse = (reason: MembershipRefusal, message: string): MembershipChangeResult => {
    l.detail(`refuses ${change.op} ${change.id}: ${message}`);
    return { accepted: false, reason, message, leader: l.leader().leader };
  };
  const { self, leading } = l.leader();
  if (!leading) return refuse("not_leader", `server ${self} is not the leader`);
  l.activity("woken by a membership change");
  const { change: s, term } = l.state();
  const decided = decideChange(change, s, term);
  if ("refused" in decided) {
    if (decided.ownTermFirst && l.state().lastTerm !== term) l.appendNoop("before changing the membership");
    return refuse(decided.refused, decided.message);
  }
  const next = decided.next;
  const entry: Entry = { index: s.lastIndex + 1, term, command: membershipCommand(next) };
  l.narrate(`appends configuration ${describe(next)} at index ${entry.index} (${change.op} ${change.id})`);
  l.appendAndSend(entry);
  return { accepted: true, index: entry.index, term: entry.term, membership: next };
}
