// The follower's side of InstallSnapshot (§7), once the snapshot goes past what it has
// committed, kept apart from raft.ts as etcd-io/raft keeps log restoration in its log code.

import type { RaftLog } from "./log.ts";
import type { MembershipHistory } from "./membership.ts";
import type { InstallSnapshot, SnapshotMeta } from "./types.ts";

/**
 * Adopt the leader's snapshot `m`: a log that goes on past it and matches there keeps the
 * rest; any other log starts over from the snapshot. Answers what the host must install.
 */
export function installSnapshot(log: RaftLog, history: MembershipHistory, m: InstallSnapshot): SnapshotMeta {
  if (log.term(m.lastIncludedIndex) === m.lastIncludedTerm) {
    log.compact(m.lastIncludedIndex); // our log goes on past the snapshot, and matches: keep the rest
    history.compactedTo(m.lastIncludedIndex);
  } else {
    log.resetTo(m.lastIncludedIndex, m.lastIncludedTerm);
    history.resetTo(m.lastIncludedIndex, m.membership ?? history.current);
  }
  return { index: m.lastIncludedIndex, term: m.lastIncludedTerm, membership: history.at(m.lastIncludedIndex) };
}
