// Membership rules the core applies (membership.ts has the configurations themselves): who
// may stand, whom a leader replicates to, when a change may start, whom a removed leader hands
// over to. etcd keeps confchange/ and quorum/ apart from raft.go in the same way.

import { applyChange, members, type MembershipHistory } from "./membership.ts";
import { Progress } from "./progress.ts";
import type { Membership, MembershipChange, MembershipRefusal, Message, NodeId } from "./types.ts";

/** Voters other than `self` (whom elections ask). */
export function otherVoters(conf: Membership, self: NodeId): NodeId[] {
  return conf.voters.filter((v) => v !== self);
}

/** Everyone a leader replicates to: voters and learners but itself. */
export function otherMembers(conf: Membership, self: NodeId): NodeId[] {
  return members(conf).filter((v) => v !== self);
}

/**
 * Is `m` a vote request (RequestVote or PreVote) to ignore, from a server that may not stand
 * by our log? A server that is no voter (removed, or a learner) cannot stand: ignoring it
 * entirely (not even its term) is what keeps a removed server from deposing a healthy leader
 * (thesis §4.2.3), and a sleeping cluster is not woken by it. Two exceptions. Its log is
 * ahead of ours (ending at lastTerm, lastIndex): then our configuration may be the stale one
 * (it was promoted in entries we lack; the simulator found a cluster stuck so, seed 126; a
 * removed server's log is never ahead of a server that holds the entry removing it). Or its
 * removal is not committed (mayStand): it may still be a voter of the configuration that
 * counts, and ignoring its term left us a term behind it for good while a third voter kept
 * giving it the vote we needed (random search, seed 4063 with sleep, membership and disk
 * faults on).
 */
export function ignoresCandidate(m: Message, history: MembershipHistory, commitIndex: number, lastTerm: number, lastIndex: number): boolean {
  if (m.type !== "RequestVote" && m.type !== "PreVote") return false;
  const ahead = m.lastLogTerm > lastTerm || (m.lastLogTerm === lastTerm && m.lastLogIndex > lastIndex);
  return !mayStand(history, commitIndex, m.from) && !ahead;
}

/**
 * May `self` stand for election? A voter may; so may a server whose removal is still
 * uncommitted (as hashicorp/raft: only a committed configuration without it rules it out).
 * Otherwise a leader that removed itself and then lost leadership before the removal
 * committed could leave its last partner waiting forever for its vote (simulator, seed 27).
 * Its own vote does not count in the configuration without it: it needs the others'.
 */
export function mayStand(history: MembershipHistory, commitIndex: number, self: NodeId): boolean {
  if (history.current.voters.includes(self)) return true;
  const i = history.currentIndex;
  return i > commitIndex && history.at(i - 1).voters.includes(self);
}

/**
 * A learner may count once it holds everything up to its own addition and is within one
 * append of the leader's log (or has all that is committed): promoting it then cannot stall
 * commitment for longer than one round trip.
 */
export function caughtUp(pr: Progress, configIndex: number, commitIndex: number, lastIndex: number, maxEntries: number): boolean {
  if (pr.snapshotSentAt !== null || pr.match < configIndex) return false;
  return pr.match >= commitIndex || lastIndex - pr.match <= maxEntries;
}

/** What the leader tells the change rules about itself. */
export interface ChangeState {
  readonly self: NodeId;
  readonly history: MembershipHistory;
  readonly commitIndex: number;
  readonly lastIndex: number;
  readonly maxEntries: number;
  readonly transferee: NodeId | null;
  /** Has this leader committed an entry of its own term? */
  readonly ownTermCommitted: boolean;
  readonly progress: ReadonlyMap<NodeId, Progress>;
  /** Mutation points (test/sim/mutants.ts): the real core passes true and false. */
  readonly requiresOwnTermCommit: boolean;
  readonly allowsChangeWhilePending: boolean;
}

/**
 * Why a leader may not start `change` now (null: it may; membership.applyChange then judges
 * the change itself). `ownTermFirst`: the leader must commit an entry of its own term first.
 */
export function changeRefusal(
  change: MembershipChange,
  s: ChangeState,
): { readonly reason: MembershipRefusal; readonly message: string; readonly ownTermFirst?: true } | null {
  if (s.transferee !== null) return { reason: "not_ready", message: `leadership is being handed to ${s.transferee}` };
  if (!s.allowsChangeWhilePending && s.history.currentIndex > s.commitIndex) {
    return { reason: "change_in_progress", message: `the change at index ${s.history.currentIndex} is not committed yet` };
  }
  if (s.requiresOwnTermCommit && !s.ownTermCommitted) {
    // Ongaro's raft-dev bug: a change appended before this leader commits anything of its
    // own term could conflict with an uncommitted change of an earlier leader, and two
    // majorities that do not overlap could both commit. Commit a no-op first.
    return { reason: "not_ready", message: "no entry of its term is committed yet", ownTermFirst: true };
  }
  if (change.op === "promote" && s.history.current.learners.includes(change.id)) {
    const pr = s.progress.get(change.id);
    if (!pr || !caughtUp(pr, s.history.currentIndex, s.commitIndex, s.lastIndex, s.maxEntries)) {
      return { reason: "not_caught_up", message: `learner ${change.id} holds up to ${pr?.match ?? 0} of ${s.lastIndex}` };
    }
  }
  return null;
}

/**
 * The leader's decision on `change`: the configuration it makes, or why not (changeRefusal,
 * then applyChange on the configuration in force). `ownTermFirst`: commit an entry of this
 * leader's term (`term`) first.
 */
export function decideChange(
  change: MembershipChange,
  s: ChangeState,
  term: number,
): { readonly next: Membership } | { readonly refused: MembershipRefusal; readonly message: string; readonly ownTermFirst?: true } {
  const no = changeRefusal(change, s);
  if (no?.ownTermFirst) return { refused: no.reason, message: `no entry of term ${term} is committed yet`, ownTermFirst: true };
  if (no) return { refused: no.reason, message: no.message };
  const next = applyChange(s.history.current, change);
  return "refused" in next ? next : { next };
}

/** A leader's progress map after a configuration change: members added get fresh progress, members gone are dropped. */
export function syncProgress(progress: Map<NodeId, Progress>, conf: Membership, self: NodeId, lastIndex: number, now: number): ReadonlySet<NodeId> {
  const want = new Set(otherMembers(conf, self));
  for (const id of [...progress.keys()]) if (!want.has(id)) progress.delete(id);
  for (const id of want) if (!progress.has(id)) progress.set(id, new Progress(lastIndex, now));
  return want;
}

/** A removed leader hands over to the voter holding the most of its log (null: none to hand to). */
export function handOverTarget(conf: Membership, progress: ReadonlyMap<NodeId, Progress>): NodeId | null {
  let best: NodeId | null = null;
  for (const v of conf.voters) {
    const pr = progress.get(v);
    if (pr && (best === null || pr.match > progress.get(best)!.match)) best = v;
  }
  return best;
}
