// What a snapshot of the host's state machine covers, asked of the log and the configurations
// (kept apart from raft.ts, which only answers the host with it).

import type { RaftLog } from "./log.ts";
import type { MembershipHistory } from "./membership.ts";
import type { SnapshotMeta } from "./types.ts";

/**
 * The (index, term) a snapshot of the state machine taken at applied index `index` covers.
 * A host whose state machine lives on (rather than being kept as point-in-time copies)
 * sends its current state, at its applied index, with an InstallSnapshot: this names it.
 * Only applied indices (up to `lastApplied`) no older than the last compaction qualify
 * (their term is known).
 */
export function snapshotMetaAt(log: RaftLog, history: MembershipHistory, lastApplied: number, index: number): SnapshotMeta {
  const term = log.term(index);
  if (index < log.snapshotIndex || index > lastApplied || term === undefined) {
    throw new Error(`raft: no snapshot at ${index}: applied ${lastApplied}, compacted up to ${log.snapshotIndex}`);
  }
  return { index, term, membership: history.at(index) };
}
