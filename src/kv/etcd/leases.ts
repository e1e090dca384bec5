// etcd 3.4's lease service over the store's lease table (lessor.go, v3_server.go), pure and
// deterministic. Grant and revoke are replicated writes: every replica applies them from the log
// and ends with the same table and the same kv rows. Keepalive and timetolive are the leader's
// (etcd answers them only from the primary lessor): they read the leader's LeaseExpiry and the
// time the caller passes; keepalive changes nothing but that expiry. Errors are thrown as
// EtcdError before anything is written.

import { errLeaseExists, errLeaseIdTooLarge, errLeaseNotFound, errLeaseTtlTooLarge } from "./errors.ts";
import type { LeaseExpiry } from "./lease-expiry.ts";
import { chooseLeaseId, MAX_LEASE_TTL } from "./lease-rules.ts";
import type {
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseIdRequest,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
} from "./lease-types.ts";
import type { LeaseRecord, LeaseStore, MvccStore } from "./store.ts";
import { WriteTxn } from "./write-txn.ts";

export class EtcdLeases {
  constructor(
    private readonly store: MvccStore & LeaseStore,
    /** Seconds; from minLeaseTtlSeconds (lease-rules.ts). */
    private readonly minTtl: number,
  ) {}

  /** For the kv model: a put or txn naming a lease that does not exist is refused. */
  exists(id: number): boolean {
    return id !== 0 && this.store.lease(id) !== undefined;
  }

  lease(id: number): LeaseRecord | undefined {
    return this.store.lease(id);
  }

  /**
   * Applied from the log. A grant without ID gets one derived from its entry's `logIndex`
   * (etcd's is random-looking; this one must be equal on every replica). Checks in etcd's order:
   * TTL too large, then an ID already granted; a TTL below the minimum (even ≤ 0) is raised to it.
   */
  grant(r: LeaseGrantRequest, logIndex: number): LeaseGrantResponse {
    if (r.TTL > MAX_LEASE_TTL) throw errLeaseTtlTooLarge();
    const asked = exactNumber(r.ID);
    if (asked === null) throw errLeaseIdTooLarge();
    const id = asked !== 0 ? asked : chooseLeaseId(logIndex, (x) => this.store.lease(x) !== undefined);
    if (this.store.lease(id) !== undefined) throw errLeaseExists();
    const lease: LeaseRecord = { id, ttl: Math.max(r.TTL, this.minTtl) };
    this.store.putLease(lease);
    return { header: { revision: this.revision() }, ID: lease.id, TTL: lease.ttl };
  }

  /**
   * Applied from the log, for a client's revoke and for an expiry alike: the lease's keys are
   * deleted in one revision, in key order (as etcd, so every replica writes the same rows); a
   * lease without keys does not move the revision.
   */
  revoke(r: LeaseIdRequest): LeaseRevokeResponse {
    const lease = this.find(r.ID);
    if (lease === undefined) throw errLeaseNotFound();
    const txn = new WriteTxn(this.store);
    for (const key of this.store.leaseKeys(lease.id)) txn.deleteRange({ start: key, end: null });
    const revision = txn.end();
    this.store.deleteLease(lease.id);
    return { header: { revision } };
  }

  /** The leader's keepalive: an unknown or expired lease answers TTL 0, not an error (etcd). */
  keepAlive(r: LeaseIdRequest, expiry: LeaseExpiry, now: number): LeaseKeepAliveResponse {
    const header = { revision: this.revision() };
    return { header, ID: r.ID, TTL: expiry.renew(this.find(r.ID), now) };
  }

  /**
   * The leader's timetolive: whole seconds left, rounded toward zero as Go's int64(d.Seconds());
   * an unknown lease answers TTL -1, not an error (etcd).
   */
  timeToLive(r: LeaseTimeToLiveRequest, expiry: LeaseExpiry, now: number): LeaseTimeToLiveResponse {
    const header = { revision: this.revision() };
    const lease = this.find(r.ID);
    if (lease === undefined) return { header, ID: r.ID, TTL: -1, grantedTTL: 0, keys: [] };
    const remainingMs = expiry.remainingMs(lease.id, now) ?? lease.ttl * 1000;
    return {
      header,
      ID: r.ID,
      TTL: Math.trunc(remainingMs / 1000) || 0,
      grantedTTL: lease.ttl,
      keys: r.keys ? this.store.leaseKeys(lease.id) : [],
    };
  }

  /**
   * Every lease. etcd sorts by time left (soonest first) on the leader; with an `expiry` this does
   * too, ties and untracked leases by ID; without one (a follower), by ID.
   */
  list(expiry?: LeaseExpiry, now: number = 0): LeaseLeasesResponse {
    const left = (l: LeaseRecord) => expiry?.remainingMs(l.id, now) ?? Infinity;
    const leases = this.store.leases().sort((a, b) => left(a) - left(b) || a.id - b.id);
    return { header: { revision: this.revision() }, leases: leases.map((l) => ({ ID: l.id })) };
  }

  /** The lease an ID asked for names; an ID not exact in a number names none (no grant accepts one). */
  private find(id: bigint): LeaseRecord | undefined {
    const n = exactNumber(id);
    return n === null || n === 0 ? undefined : this.store.lease(n);
  }

  private revision(): number {
    return this.store.readMeta().revision;
  }
}

/** The ID as a JS number if that is exact, else null. */
function exactNumber(id: bigint): number | null {
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : null;
}
