// ReadIndex bookkeeping (thesis §6.4), as etcd-io/raft keeps read_only.go apart from raft.go.
//
// A read is answered at the commit index it arrived at, once a round of heartbeats that
// started after it has been answered by a majority (so no newer leader can have committed
// anything), and the host has applied up to that index. Rounds are numbered per leader, term
// and life; at most one is in flight, and every read that arrives meanwhile rides on the next
// one, so concurrent reads share a round. The core sends the rounds and says which answers
// count (an answer must name this life: raft.ts, readAcknowledged); this keeps the reads.

import { quorumIndex } from "./quorum.ts";
import type { NodeId, ReadState } from "./types.ts";

/** What the rounds ask of the leader: its id, the voters in force, and a round of heartbeats sent. */
export interface ReadLeader {
  self(): NodeId;
  voters(): readonly NodeId[];
  heartbeat(): void;
}

interface PendingRead {
  readonly ctx: string;
  readonly index: number;
  /** The round that must be answered by a majority: the first one started after it arrived. */
  readonly seq: number;
  readonly arrivedAt: number;
}

export class ReadRounds {
  /** The latest round started (0: none yet in this leadership), and the latest a majority answered. */
  private sent = 0;
  private confirmed = 0;
  /** Per follower: the highest round it answered. */
  private readonly acks = new Map<NodeId, number>();
  private pending: PendingRead[] = [];
  /** Reads that arrived before the leader's commit index was known to be current: their index is not known yet. */
  private awaitingCommit: { readonly ctx: string; readonly arrivedAt: number }[] = [];
  private ready: ReadState[] = [];
  private failed: string[] = [];

  /**
   * A new leadership (an election won, or a resume): rounds are numbered from 1 again. They
   * are numbered per leader, term and life, and replies echo all three. A resumed leader's
   * earlier life numbered rounds of this same term, and late replies may still echo them:
   * only replies naming this life count. (Numbering from the clock was not enough: two lives
   * loaded in one millisecond shared their numbers, issue 19.)
   */
  reset(): void {
    this.sent = 0;
    this.confirmed = 0;
    this.acks.clear();
  }

  /** The latest round started, which every heartbeat carries (0: none). */
  get round(): number {
    return this.sent;
  }

  /** Reads are waiting (the cluster must not sleep on them). */
  get waiting(): boolean {
    return this.pending.length > 0 || this.awaitingCommit.length > 0;
  }

  /** A read arrives; `index`: the leader's commit index if it is known to be current, else null. */
  arrive(ctx: string, now: number, index: number | null): void {
    if (index === null) this.awaitingCommit.push({ ctx, arrivedAt: now });
    else this.pending.push({ ctx, index, seq: this.sent + 1, arrivedAt: now });
  }

  /** The commit index is now known to be current (`index`): the reads waiting for it take it. True if there were any. */
  commitKnown(index: number): boolean {
    if (this.awaitingCommit.length === 0) return false;
    for (const r of this.awaitingCommit) this.pending.push({ ctx: r.ctx, index, seq: this.sent + 1, arrivedAt: r.arrivedAt });
    this.awaitingCommit = [];
    return true;
  }

  /** Start a round if a read needs one and none is in flight; true if one was started (the core sends it). */
  startRound(): boolean {
    if (this.confirmed !== this.sent) return false;
    if (!this.pending.some((r) => r.seq > this.sent)) return false;
    this.sent += 1;
    return true;
  }

  /** Follower `from` answered round `seq` (of this life: the core checked). True if that is news. */
  acknowledge(from: NodeId, seq: number): boolean {
    if (seq > this.sent || seq <= (this.acks.get(from) ?? 0)) return false;
    this.acks.set(from, seq);
    return true;
  }

  /** Release every read whose round a majority of `voters` has answered (`self` counts its own rounds). */
  confirm(voters: readonly NodeId[], self: NodeId): void {
    const confirmed = quorumIndex(voters.map((v) => (v === self ? this.sent : (this.acks.get(v) ?? 0))));
    if (confirmed <= this.confirmed) return;
    this.confirmed = confirmed;
    const still: PendingRead[] = [];
    for (const r of this.pending) {
      if (r.seq <= confirmed) this.ready.push({ ctx: r.ctx, index: r.index });
      else still.push(r);
    }
    this.pending = still;
  }

  /** Start a heartbeat round for waiting reads, unless one is already in flight. */
  maybeStartRound(leader: ReadLeader): void {
    if (!this.startRound()) return;
    leader.heartbeat();
    this.confirmAndGoOn(leader); // a one-server cluster is its own majority
  }

  /** Release every read whose round a majority has answered, then start the next round. */
  confirmAndGoOn(leader: ReadLeader): void {
    this.confirm(leader.voters(), leader.self());
    this.maybeStartRound(leader);
  }

  /** Leadership is lost: every waiting read fails (the host retries it elsewhere). */
  failAll(): void {
    for (const r of this.pending) this.failed.push(r.ctx);
    for (const r of this.awaitingCommit) this.failed.push(r.ctx);
    this.pending = [];
    this.awaitingCommit = [];
  }

  /**
   * Fail the reads that arrived at or before `oldest`; answers how many. The leader's
   * heartbeat ticks fail those it could not confirm within an election timeout (the host
   * retries them elsewhere): without CheckQuorum a leader cut off from its majority leads on
   * forever, and its unconfirmable reads must not pile up for as long.
   */
  expire(oldest: number): number {
    const expired = (r: { arrivedAt: number }) => r.arrivedAt <= oldest;
    const gone = [...this.pending.filter(expired), ...this.awaitingCommit.filter(expired)];
    for (const r of gone) this.failed.push(r.ctx);
    this.pending = this.pending.filter((r) => !expired(r));
    this.awaitingCommit = this.awaitingCommit.filter((r) => !expired(r));
    return gone.length;
  }

  /** The reads confirmed and failed since the last call (for Ready). */
  take(): { readonly reads: ReadState[]; readonly failedReads: string[] } {
    const out = { reads: this.ready, failedReads: this.failed };
    this.ready = [];
    this.failed = [];
    return out;
  }
}
