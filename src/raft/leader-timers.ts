// A leader's deadlines, kept apart from raft.ts as etcd-io/raft keeps its tick bookkeeping
// apart from the protocol: the next heartbeat, CheckQuorum's next look at who has answered,
// and a leadership transfer under way (thesis §3.10) with the time it is given up. All are
// absolute on the core's clock; Infinity: not due. The core decides what each one does.

import { heardWithin, quorumLapsesAt } from "./quorum.ts";
import type { Deadlines } from "./ready.ts";
import type { NodeId } from "./types.ts";

export class LeaderTimers {
  heartbeat = 0;
  /** CheckQuorum: when the leader would have heard from less than a majority within an election timeout. */
  checkQuorum = Infinity;
  /** Leadership transfer under way: to whom, and when to give up. */
  transferee: NodeId | null = null;
  transferDeadline = Infinity;

  /** Every deadline, for the Ready's wakeAt, with a follower's (or candidate's) `election`. */
  deadlines(election: number): Deadlines {
    return { heartbeat: this.heartbeat, checkQuorum: this.checkQuorum, transfer: this.transferDeadline, election };
  }

  /** Leading and awake from `now`: heartbeats are due, and CheckQuorum (`checkQuorum` on) counts from now. */
  start(now: number, heartbeatMs: number, checkQuorum: boolean | undefined, windowMs: number): void {
    this.heartbeat = now + heartbeatMs;
    this.checkQuorum = checkQuorum ? now + windowMs : Infinity;
  }

  /** A sleeping leader: nothing is due until something wakes it. */
  sleep(): void {
    this.heartbeat = Infinity;
    this.checkQuorum = Infinity;
  }

  startTransfer(target: NodeId, deadline: number): void {
    this.transferee = target;
    this.transferDeadline = deadline;
  }

  endTransfer(): void {
    this.transferee = null;
    this.transferDeadline = Infinity;
  }

  /**
   * CheckQuorum at `now`: null if a majority of `voters` (`self` included) answered within
   * `windowMs` (the next check is then set for when that lapses), else how many were heard.
   */
  quorumLost(voters: readonly NodeId[], self: NodeId, lastHeard: (id: NodeId) => number, now: number, windowMs: number): number | null {
    const lapsesAt = quorumLapsesAt(voters, self, lastHeard, windowMs);
    if (now < lapsesAt) {
      this.checkQuorum = lapsesAt;
      return null;
    }
    return heardWithin(voters, self, lastHeard, now, windowMs);
  }
}
