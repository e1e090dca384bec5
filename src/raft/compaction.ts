// How far a server may compact its log: the rule both hosts (the Durable Object shell and the
// simulator) ask before they fold applied entries into the snapshot.
//
// Why a rule and not "keep the newest threshold/2 entries": a follower that needs a snapshot
// gets the leader's state as of some applied index S, then needs entries S+1.. from the log.
// A leader that compacts past S while the snapshot travels sends it another snapshot, and
// under a write rate above (threshold/2) / transfer time it does so forever (issue 23): the
// follower never gets back in and the group has no fault tolerance. So a leader keeps
//   - every entry after a snapshot it is sending (until the follower's match passes it: the
//     install reply sets match to S, and from then on the match index keeps it), and
//   - every entry after the match index of each follower heard from recently (a follower
//     that keeps up is served by appends, never by a snapshot),
// but never more than `KEPT_PER_THRESHOLD * threshold` applied entries: a follower that is
// alive but too slow (or a transfer that never ends) cannot grow the log without bound.
// A follower not heard from within `recentMs` pins nothing (down or cut off: it will need a
// snapshot when it returns, and keeping entries for it would only cost memory).
//
// Pure: no clock of its own (`now` is the caller's), no I/O. Followers and other non-leaders
// pass no progress and no transfers, and compact as before.
import type { NodeId } from "./types.ts";

/** What a leader knows of one follower, as far as compaction cares (Raft.followerProgress). */
export interface FollowerProgress {
  readonly id: NodeId;
  /** Highest index known to be replicated on the follower. */
  readonly match: number;
  /** When it last answered in the current term, in the core's clock. */
  readonly lastHeard: number;
}

export interface CompactionInput {
  /** Entries applied to the state machine (the snapshot can cover at most these). */
  readonly lastApplied: number;
  /** The current snapshot's last index (0: none). */
  readonly snapshotIndex: number;
  /** The cluster's snapshotThreshold (0: never compact). */
  readonly threshold: number;
  /** Leader only: its followers' progress (empty otherwise). */
  readonly followers: readonly FollowerProgress[];
  /** Leader only: the last index of each snapshot on its way to a follower (empty otherwise). */
  readonly snapshotsInFlight: readonly number[];
  /** Now, in the clock of `lastHeard`. */
  readonly now: number;
  /** "Heard from recently": within this many ms (the longest election timeout, as CheckQuorum's window). */
  readonly recentMs: number;
}

/**
 * A leader keeps at most this many thresholds of applied entries for slow followers: 32 at the
 * default threshold of 1000 is 32,000 entries, a transfer of ~19 s (issue 23's 32 MB state)
 * at ~1,600 writes/s; at the tests' threshold of 10, 320 entries.
 */
export const KEPT_PER_THRESHOLD = 32;

/** The most applied entries a log may keep past its snapshot for followers (see above). */
export function keptCap(threshold: number): number {
  return KEPT_PER_THRESHOLD * threshold;
}

/**
 * Whether compaction is due at all: more than `threshold` applied entries in the log. Checked
 * first, so a host asked after every event gathers its followers' progress only when it is.
 */
export function compactionDue(lastApplied: number, snapshotIndex: number, threshold: number): boolean {
  return threshold > 0 && lastApplied - snapshotIndex > threshold;
}

/**
 * The index to compact up to now, or null to leave the log as it is. Compaction starts once
 * more than `threshold` applied entries sit in the log, as before; it then goes up to
 * `lastApplied - floor(threshold/2)`, lowered to what the followers above still need, raised
 * to what the cap allows; and it happens only if it frees at least half a threshold, so a
 * follower whose match creeps forward one entry at a time does not cost a transaction per
 * entry.
 */
export function compactionPoint(input: CompactionInput): number | null {
  const { lastApplied, snapshotIndex, threshold } = input;
  if (!compactionDue(lastApplied, snapshotIndex, threshold)) return null;
  let upTo = lastApplied - Math.floor(threshold / 2);
  for (const index of input.snapshotsInFlight) upTo = Math.min(upTo, index);
  for (const f of input.followers) {
    // A follower already behind the snapshot needs one whatever is kept: it pins nothing
    // until a transfer to it starts (snapshotsInFlight).
    if (input.now - f.lastHeard < input.recentMs && f.match >= snapshotIndex) upTo = Math.min(upTo, f.match);
  }
  upTo = Math.max(upTo, lastApplied - keptCap(threshold));
  return upTo - snapshotIndex >= Math.ceil(threshold / 2) ? upTo : null;
}
