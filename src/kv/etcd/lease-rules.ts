// etcd 3.4's numbers for leases: the largest TTL, the minimum TTL derived from the election
// timeout, and how an ID is chosen when the client gives none.

/** lease.MaxLeaseTTL: a grant above it is refused (etcdserver: too large lease TTL). */
export const MAX_LEASE_TTL = 9_000_000_000;

/**
 * etcd's minimum lease TTL (etcdserver/server.go): `(3 * ElectionTicks) / 2` ticks of one
 * heartbeat interval, rounded up to whole seconds, so that a lease outlives the election a
 * failover takes. `electionTimeoutMs` is etcd's ElectionTicks × TickMs: the low end of the
 * randomized election timeout (etcd draws from [E, 2E); this project's `electionTimeoutMs[0]`).
 * etcd's defaults (1000 ms, 100 ms) give 2 s, as the recorded answers show; this project's
 * defaults ([150, 300] ms, 50 ms) give 1 s.
 */
export function minLeaseTtlSeconds(electionTimeoutMs: number, heartbeatMs: number): number {
  const electionTicks = Math.floor(electionTimeoutMs / heartbeatMs);
  const minTtlMs = Math.floor((3 * electionTicks) / 2) * heartbeatMs;
  return Math.ceil(minTtlMs / 1000);
}

/** etcd's default flags (--election-timeout 1000, --heartbeat-interval 100): 2 s. */
export const ETCD_DEFAULT_MIN_LEASE_TTL = minLeaseTtlSeconds(1000, 100);

/**
 * Where chosen IDs start. etcd picks a random-looking positive int64 (member id and time) before
 * proposing, which clients never choose by hand; here the ID must be the same on every replica,
 * so it comes from the log index of the grant's entry, lifted above the small IDs clients pick
 * (1, 2, 77 …) and still exact in a JS number: 2^48 + index.
 */
export const CHOSEN_LEASE_ID_BASE = 2 ** 48;

/**
 * The ID a grant without one gets: 2^48 + the entry's log index, or the next free one after it if
 * a client already took that one (deterministic: every replica applies the same entries in order).
 */
export function chooseLeaseId(logIndex: number, taken: (id: number) => boolean): number {
  let id = CHOSEN_LEASE_ID_BASE + logIndex;
  while (taken(id)) id++;
  return id;
}
