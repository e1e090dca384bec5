// What a leader sends a follower to bring its log up to date (Figure 2's AppendEntries, and
// InstallSnapshot, §7, once the entries it needs are compacted away), as etcd's raft builds
// its MsgApp and MsgSnap; the follower's Progress (progress.ts) records what is in flight.
// The core decides when to send and narrates; this builds the message.

import type { RaftLog } from "./log.ts";
import type { Progress } from "./progress.ts";
import type { AppendEntries, AppendEntriesReply, InstallSnapshot, Membership, NodeId } from "./types.ts";

/** What every message of a leader carries, and the batch limits of its appends. */
export interface Sender {
  readonly id: NodeId;
  readonly term: number;
  readonly commitIndex: number;
  readonly log: RaftLog;
  readonly now: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/** The round tags an AppendEntries may carry (read round, quiesce round, and the life that asks). */
export type RoundTags = Pick<AppendEntries, "readSeq" | "quiesce" | "life">;

/**
 * AppendEntries to `peer` from its nextIndex, with a batch of entries (`withEntries`, then in
 * flight) or none (a bare heartbeat). The caller sends the snapshot instead when nextIndex is
 * compacted away and entries are wanted.
 */
export function appendEntriesFor(s: Sender, peer: NodeId, pr: Progress, withEntries: boolean, tags: RoundTags): AppendEntries {
  // A bare heartbeat whose previous entry was compacted away (while a snapshot travels,
  // say) names the snapshot's last entry instead: it keeps the follower's timer quiet,
  // and its reply is only a sign of life.
  // (With entries, pr.next - 1 is never below the snapshot: that case is the snapshot's.)
  const prevLogIndex = Math.max(pr.next - 1, s.log.snapshotIndex);
  const entries = withEntries ? s.log.batch(pr.next, s.maxEntries, s.maxBytes) : [];
  if (withEntries) pr.sentEntries(entries.length, prevLogIndex + entries.length, s.now);
  return {
    type: "AppendEntries",
    from: s.id,
    to: peer,
    term: s.term,
    leaderId: s.id,
    prevLogIndex,
    prevLogTerm: s.log.term(prevLogIndex) ?? 0,
    entries,
    leaderCommit: s.commitIndex,
    ...tags,
  };
}

/** InstallSnapshot of the leader's snapshot (with the configuration as of its last entry) to `peer`; in flight from now. */
export function snapshotFor(s: Sender, peer: NodeId, pr: Progress, membership: Membership): InstallSnapshot {
  pr.sentSnapshot(s.now);
  return {
    type: "InstallSnapshot",
    from: s.id,
    to: peer,
    term: s.term,
    leaderId: s.id,
    lastIncludedIndex: s.log.snapshotIndex,
    lastIncludedTerm: s.log.snapshotTerm,
    membership,
  };
}

/**
 * Fast backtracking (§5.3): after a rejection, where the leader tries next: past the
 * follower's whole conflicting term (the leader's last entry of that term, if it has one), or
 * just past the follower's log when it was too short.
 */
export function retryFrom(log: RaftLog, m: AppendEntriesReply): number {
  const last = m.conflictTerm >= 0 ? log.lastIndexOfTerm(m.conflictTerm) : undefined;
  return last !== undefined ? last + 1 : m.conflictIndex;
}
