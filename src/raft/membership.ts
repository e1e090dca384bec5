// Cluster membership: who votes, who only listens, and how that changes one server at a time.
//
// The algorithm is the thesis's single-server change (Ongaro §4.1; hashicorp/raft does the
// same): a configuration is an entry of the log, and a server uses the latest configuration
// in its log, committed or not — it takes effect when APPENDED, not when applied. Why: a
// change adds or removes one voter, so any majority of the old voters and any majority of
// the new ones overlap; by using the new configuration at once, the leader never needs a
// joint phase, and a server never waits for a commit it cannot see to learn who its peers
// are. The price is that a log truncation must roll the configuration back to the previous
// one (a follower may drop an uncommitted configuration entry): MembershipHistory keeps
// every configuration entry still in the log, by index, so truncating pops them.
//
// What bit others, and how this core handles it (raft.ts):
//  - A leader starts a change only once it has committed an entry of its own term (Ongaro's
//    2015 raft-dev post "bug in single-server membership changes": a leader of a new term
//    could otherwise append a change conflicting with an uncommitted one of the previous
//    leader's, and two disjoint majorities could each commit). etcd gets the same from
//    pendingConfIndex set at becomeLeader.
//  - At most one change is pending: a new one waits until the last configuration entry is
//    committed.
//  - A new voter joins as a learner (it receives the log but votes in nothing and counts
//    toward no majority) and is promoted once it has caught up.
//  - Learners never vote, never stand, never count.
//  - A removed leader keeps replicating until its removal commits (not counting itself),
//    then hands over to the most up-to-date voter and stops.
//  - A removed server cannot disrupt the rest: servers ignore RequestVote and PreVote from
//    servers that are not voters of their configuration (the message changes nothing, not
//    even their term).
//  - A snapshot carries the configuration as of its last entry.
import type { Entry, Membership, MembershipChange, NodeId } from "./types.ts";

/** How a configuration travels in the log: the command of an entry of its own. */
export interface MembershipCommand {
  readonly kind: "membership";
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** At most this many voters and this many learners (API.md). */
export const MAX_VOTERS = 9;
export const MAX_LEARNERS = 9;

export function membershipCommand(m: Membership): MembershipCommand {
  return { kind: "membership", voters: sorted(m.voters), learners: sorted(m.learners) };
}

/** The configuration an entry's command carries, or null if it is not a configuration entry. */
export function membershipOf(command: unknown): Membership | null {
  if (typeof command !== "object" || command === null) return null;
  const c = command as { kind?: unknown; voters?: unknown; learners?: unknown };
  if (c.kind !== "membership" || !isIdList(c.voters) || !isIdList(c.learners)) return null;
  return { voters: c.voters, learners: c.learners };
}

export function isVoter(m: Membership, id: NodeId): boolean {
  return m.voters.includes(id);
}

export function isMember(m: Membership, id: NodeId): boolean {
  return m.voters.includes(id) || m.learners.includes(id);
}

/** Voters and learners: everyone a leader replicates to (besides itself). */
export function members(m: Membership): NodeId[] {
  return sorted([...m.voters, ...m.learners]);
}

export function describe(m: Membership): string {
  return `voters=[${m.voters.join(" ")}] learners=[${m.learners.join(" ")}]`;
}

export type ChangeRefusal = { readonly refused: "invalid" | "last_voter"; readonly message: string };

/** `m` after `change`, or why the change is not possible. */
export function applyChange(m: Membership, change: MembershipChange): Membership | ChangeRefusal {
  const { id } = change;
  const invalid = (message: string): ChangeRefusal => ({ refused: "invalid", message });
  switch (change.op) {
    case "add_learner":
      if (isMember(m, id)) return invalid(`server ${id} is already a member`);
      if (m.learners.length >= MAX_LEARNERS) return invalid(`at most ${MAX_LEARNERS} learners`);
      return { voters: m.voters, learners: sorted([...m.learners, id]) };
    case "promote":
      if (isVoter(m, id)) return invalid(`server ${id} is already a voter`);
      if (!m.learners.includes(id)) return invalid(`server ${id} is not a learner`);
      if (m.voters.length >= MAX_VOTERS) return invalid(`at most ${MAX_VOTERS} voters`);
      return { voters: sorted([...m.voters, id]), learners: m.learners.filter((l) => l !== id) };
    case "remove":
      if (!isMember(m, id)) return invalid(`server ${id} is not a member`);
      if (isVoter(m, id) && m.voters.length === 1) return { refused: "last_voter", message: `server ${id} is the last voter` };
      return { voters: m.voters.filter((v) => v !== id), learners: m.learners.filter((l) => l !== id) };
  }
}

/**
 * The configurations a log holds, so the current one is always the latest in the log and a
 * truncation rolls it back. `base` is the configuration as of `baseIndex` (the snapshot's
 * last entry, or 0 with the cluster's initial configuration).
 */
export class MembershipHistory {
  private changes: { index: number; membership: Membership }[] = [];

  constructor(
    private base: Membership,
    private baseIndex: number,
    entries: readonly Entry[] = [],
  ) {
    for (const e of entries) this.appended(e);
  }

  /** The configuration in force: the latest in the log. */
  get current(): Membership {
    return this.changes.length > 0 ? this.changes[this.changes.length - 1]!.membership : this.base;
  }

  /** The index of the entry that made the current configuration (baseIndex for the base). */
  get currentIndex(): number {
    return this.changes.length > 0 ? this.changes[this.changes.length - 1]!.index : this.baseIndex;
  }

  /** The configuration as of log index `index` (the latest configuration entry at or before it). */
  at(index: number): Membership {
    for (let i = this.changes.length - 1; i >= 0; i--) if (this.changes[i]!.index <= index) return this.changes[i]!.membership;
    return this.base;
  }

  /** An entry was appended: a configuration entry takes effect now. Answers whether it was one. */
  appended(e: Entry): boolean {
    const m = membershipOf(e.command);
    if (m === null) return false;
    this.changes.push({ index: e.index, membership: m });
    return true;
  }

  /** Entries from `index` on were dropped: their configurations go with them. */
  truncatedFrom(index: number): boolean {
    const before = this.changes.length;
    this.changes = this.changes.filter((c) => c.index < index);
    return this.changes.length !== before;
  }

  /** Entries up to `index` were folded into a snapshot: the configuration there becomes the base. */
  compactedTo(index: number): void {
    if (index <= this.baseIndex) return;
    this.base = this.at(index);
    this.baseIndex = index;
    this.changes = this.changes.filter((c) => c.index > index);
  }

  /** The log was replaced by a snapshot carrying `membership` as of `index`. */
  resetTo(index: number, membership: Membership): void {
    this.base = membership;
    this.baseIndex = index;
    this.changes = [];
  }
}

function sorted(ids: readonly NodeId[]): NodeId[] {
  return [...ids].sort((a, b) => a - b);
}

function isIdList(v: unknown): v is NodeId[] {
  return Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0);
}
