// Pieces of the Ready a core hands its host (types.ts, Ready), kept out of the protocol as
// etcd keeps newReady in rawnode.go apart from raft.go.

import type { HardState } from "./types.ts";

/**
 * The hard state the host must persist now: `next` if it differs from what it last persisted
 * (`last`), else null (nothing to write). An unset mark and its zero value are the same.
 */
export function hardStateToPersist(next: HardState, last: HardState): HardState | null {
  const changed =
    next.term !== last.term ||
    next.votedFor !== last.votedFor ||
    (next.ledTerm ?? 0) !== (last.ledTerm ?? 0) ||
    (next.asleep ?? false) !== (last.asleep ?? false) ||
    (next.life ?? 0) !== (last.life ?? 0);
  return changed ? next : null;
}

/** A core's deadlines: the leader's three, and a follower's (or candidate's) election. */
export interface Deadlines {
  readonly heartbeat: number;
  readonly checkQuorum: number;
  readonly transfer: number;
  readonly election: number;
}

/** When the host must tick next: never while asleep; a leader at its earliest deadline; others at their election. */
export function wakeAt(asleep: boolean, leading: boolean, d: Deadlines): number {
  if (asleep) return Infinity;
  return leading ? Math.min(d.heartbeat, d.checkQuorum, d.transfer) : d.election;
}
