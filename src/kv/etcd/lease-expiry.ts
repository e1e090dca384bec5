// The leader's view of lease expiry (etcd's primary lessor), as plain data: when each lease
// expires, in milliseconds of the leader's clock. It is not replicated and has no clock of its
// own: every call says what time it is. Followers keep none (etcd's "forever"); a server that
// becomes leader calls `promote`, which gives every lease its full TTL again, so a failover,
// an eviction or a deploy never makes a lease expire early. Expiry itself is not done here:
// `due` names the leases whose revoke the leader should propose through the log, and the
// applied revoke calls `revoked`.

import type { LeaseRecord } from "./store.ts";

/** etcd's expiredLeaseRetryInterval default: a revoke proposed but not applied is proposed again after this. */
export const EXPIRED_LEASE_RETRY_MS = 3_000;

export class LeaseExpiry {
  /** Lease id → the leader's ms at which it expires. */
  private readonly expiries = new Map<number, number>();
  /** Lease id → the earliest ms at which `due` may name it again (its revoke is in flight). */
  private readonly proposedUntil = new Map<number, number>();

  /**
   * Becoming leader (etcd's Promote): every lease expires its full TTL plus `extendMs` from now
   * (etcd extends by one election timeout). Call it once the new leader has applied its term's
   * first entry, as etcd does: every grant before it came from an earlier leader, and its stamped
   * time must not shorten the lease.
   */
  promote(leases: readonly LeaseRecord[], now: number, extendMs: number): void {
    this.expiries.clear();
    this.proposedUntil.clear();
    for (const l of leases) this.expiries.set(l.id, now + extendMs + l.ttl * 1000);
  }

  /** No longer leader: forget every expiry (the next leader starts them afresh). */
  demote(): void {
    this.expiries.clear();
    this.proposedUntil.clear();
  }

  /** A grant was applied at the leader's `now`: the lease lives its TTL from then. */
  granted(lease: LeaseRecord, now: number): void {
    this.expiries.set(lease.id, now + lease.ttl * 1000);
  }

  /** A revoke (a client's or an expiry's) was applied. */
  revoked(id: number): void {
    this.expiries.delete(id);
    this.proposedUntil.delete(id);
  }

  /**
   * etcd's Renew: a live lease gets its full TTL from now, and the answer is that TTL; an unknown
   * lease, or one already expired (its revoke is coming), answers 0, as etcd's keepalive does.
   */
  renew(lease: LeaseRecord | undefined, now: number): number {
    if (lease === undefined) return 0;
    const expiry = this.expiries.get(lease.id);
    if (expiry === undefined || expiry <= now) return 0;
    this.expiries.set(lease.id, now + lease.ttl * 1000);
    return lease.ttl;
  }

  /** Milliseconds left (≤ 0 once expired and not yet revoked); undefined for a lease this leader does not track. */
  remainingMs(id: number, now: number): number | undefined {
    const expiry = this.expiries.get(id);
    return expiry === undefined ? undefined : expiry - now;
  }

  /**
   * The leases expired at `now` whose revoke the leader should propose, earliest expiry first.
   * Each is then left out for `retryMs` (etcd's retry interval) so one expiry is one proposal,
   * unless that revoke is lost (a leader change drops it: `promote` starts afresh).
   */
  due(now: number, retryMs: number = EXPIRED_LEASE_RETRY_MS): number[] {
    const out: [number, number][] = [];
    for (const [id, expiry] of this.expiries) {
      if (expiry > now || (this.proposedUntil.get(id) ?? -Infinity) > now) continue;
      out.push([expiry, id]);
    }
    out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const [, id] of out) this.proposedUntil.set(id, now + retryMs);
    return out.map(([, id]) => id);
  }

  /**
   * When the leader must next look at expiries (its alarm), or null when no lease is tracked.
   * A grant, a keepalive and a revoke change it: the shell sets its alarm again after each.
   */
  nextWakeAt(): number | null {
    let next: number | null = null;
    for (const [id, expiry] of this.expiries) {
      const at = Math.max(expiry, this.proposedUntil.get(id) ?? -Infinity);
      if (next === null || at < next) next = at;
    }
    return next;
  }
}
