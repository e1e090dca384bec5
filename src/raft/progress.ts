/**
 * What a leader knows about one follower (Figure 2's nextIndex and matchIndex), plus the
 * flow control that turns "replicate at once on every proposal" into batching under load:
 * at most one AppendEntries carrying entries is in flight per follower; proposals that
 * arrive meanwhile wait and travel together in the next one, sent as soon as the reply
 * comes back (or at the next heartbeat, if a message was lost).
 */
export class Progress {
  /** Index of the next entry to send. */
  next: number;
  /** Highest index known to be replicated on the follower. */
  match = 0;
  /** An AppendEntries with entries is awaiting its reply. */
  inflight = false;
  /** The last index that append carried, and when it left (to resend it if no answer comes). */
  inflightUpTo = 0;
  inflightSince = 0;
  /** When an InstallSnapshot was sent and not yet answered (null: none in flight). */
  snapshotSentAt: number | null = null;
  /** When this follower last answered in the current term (CheckQuorum); the election's time at first. */
  lastHeard: number;

  constructor(lastIndex: number, now: number) {
    this.next = lastIndex + 1;
    this.lastHeard = now;
  }

  /** An AppendEntries left: `count` entries up to `upTo` are in flight from `now` (none: nothing in flight). */
  sentEntries(count: number, upTo: number, now: number): void {
    this.inflight = count > 0;
    this.inflightUpTo = upTo;
    this.inflightSince = now;
  }

  /** An InstallSnapshot left at `now`. */
  sentSnapshot(now: number): void {
    this.inflight = true;
    this.snapshotSentAt = now;
  }

  /** The snapshot's reply: nothing is in flight any more; the follower holds up to `matchIndex`. */
  snapshotAnswered(matchIndex: number, now: number): void {
    this.inflight = false;
    this.snapshotSentAt = null;
    this.lastHeard = now;
    this.acknowledge(matchIndex);
  }

  /** An AppendEntries success: the append in flight is answered once the reply covers it. */
  succeeded(matchIndex: number): void {
    this.acknowledge(matchIndex);
    if (this.inflight && this.match >= this.inflightUpTo) this.inflight = false;
  }

  /**
   * An AppendEntries rejection of the attempt at `rejectedIndex`: back off to `next` (see
   * backtrack). A rejection of an earlier attempt (late, or a duplicate) is stale: answers false.
   */
  rejected(rejectedIndex: number | undefined, next: number, lastIndex: number): boolean {
    if (rejectedIndex !== undefined && rejectedIndex !== this.next - 1) return false;
    this.inflight = false;
    this.backtrack(next, lastIndex);
    return true;
  }

  /** A success reply: never move backwards (replies may arrive late, twice or out of order). */
  acknowledge(matchIndex: number): void {
    if (matchIndex > this.match) this.match = matchIndex;
    if (this.next < this.match + 1) this.next = this.match + 1;
  }

  /**
   * Before sending: a snapshot unanswered for `snapshotMs` is presumed lost (send it again);
   * at a heartbeat, so are entries unanswered for `heartbeatMs`.
   */
  presumeLost(now: number, heartbeat: boolean, heartbeatMs: number, snapshotMs: number): void {
    if (this.snapshotSentAt !== null && now - this.snapshotSentAt > snapshotMs) {
      this.snapshotSentAt = null;
      this.inflight = false;
    }
    if (heartbeat && this.inflight && this.snapshotSentAt === null && now - this.inflightSince >= heartbeatMs) this.inflight = false;
  }

  /** A rejection: jump back to `next`, but never at or below what is known to match. */
  backtrack(next: number, lastIndex: number): void {
    this.next = Math.min(Math.max(next, this.match + 1), lastIndex + 1);
  }
}
