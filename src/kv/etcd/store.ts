// The storage etcd's model needs, shaped like what SQLite does cheaply, so the Durable Object
// can implement it with one table and an index, and tests with memory-store.ts:
//
//   CREATE TABLE kv (key BLOB, mod_revision INT, sub INT, create_revision INT, version INT,
//                    value BLOB, lease INT, tombstone INT, PRIMARY KEY (key, mod_revision, sub))
//
// One row per version of a key (etcd's backend stores each version under its revision).
// "The newest version of each key at or below revision R" is one index seek per key; a range
// is those for the keys in [start, end). Nothing here knows etcd's rules (what a version is,
// when the revision moves): the model in kv.ts owns those.
//
// Leases (LeaseStore) are one more table, (id, ttl), and a question of the kv rows: which keys'
// newest version names a lease. A key's lease is the lease column of its newest version, so
// attaching (a put with `lease`), detaching (a put without) and a delete need no lease
// bookkeeping of their own, and every replica agrees on a lease's keys by construction.

import type { Bytes } from "./bytes.ts";

/** One version of one key: a row. A tombstone marks the delete that ends a key's life. */
export interface KeyVersion {
  key: Bytes;
  /** The revision of the write; `sub` orders writes inside one revision (one txn). */
  modRevision: number;
  sub: number;
  createRevision: number;
  version: number;
  value: Bytes;
  lease: number;
  tombstone: boolean;
}

/** Where a stream of versions stands: the last (key, mod_revision, sub) it gave. */
export interface VersionPosition {
  key: Bytes;
  modRevision: number;
  sub: number;
}

/**
 * Keys to read. `end === null`: the single key `start`. `end` empty: every key ≥ `start`.
 * Otherwise [start, end) in byte order (empty when end ≤ start).
 */
export interface KeyRange {
  start: Bytes;
  end: Bytes | null;
}

/** The two numbers that make a store etcd's: its revision and the revision it was compacted at. */
export interface StoreMeta {
  revision: number;
  /** -1 before any compaction, as etcd's compactMainRev. */
  compactedRevision: number;
}

export interface MvccStore {
  /**
   * For each key in `range`, its newest version with (mod_revision, sub) at or below
   * `atRevision` (every sub of it), left out if that version is a tombstone; ascending by key;
   * at most `limit` rows (0: no limit).
   */
  latest(range: KeyRange, atRevision: number, limit: number): KeyVersion[];
  /** How many rows `latest(range, atRevision, 0)` would give. */
  countLatest(range: KeyRange, atRevision: number): number;
  /** Adds versions; (key, mod_revision, sub) is new for each. */
  append(rows: readonly KeyVersion[]): void;
  /**
   * Drops every version no read at or above `revision` can see: of each key's versions at or
   * below it only the newest stays, and not even that one if it is a tombstone.
   */
  compact(revision: number): void;
  readMeta(): StoreMeta;
  writeMeta(meta: StoreMeta): void;
  /**
   * The stored versions with mod_revision at or below `atRevision` that come after `after`
   * (null: from the first) in (key, mod_revision, sub) order, at most `limit` (≥ 1): a snapshot
   * streams the store with it a few rows at a time (src/kv/snapshot-stream.ts), a seek on the
   * primary key each time, never the whole table in memory.
   */
  versionsAfter(after: VersionPosition | null, atRevision: number, limit: number): KeyVersion[];
  /**
   * Every stored version, ascending by (key, mod_revision, sub). Reads the whole store into
   * memory: for tests and the simulator's comparisons (InstallSnapshot streams: versionsAfter).
   */
  allRows(): KeyVersion[];
  /** Drops every version (a snapshot is installed over it); the meta is the caller's to write. */
  clear(): void;
}

/** One granted lease as every replica stores it. Its expiry is not here: only the leader keeps one. */
export interface LeaseRecord {
  /** Never 0 (etcd's NoLease); may be negative when a client chose it. */
  id: number;
  /** Seconds, already raised to the minimum TTL. */
  ttl: number;
}

/**
 * The lease table and the one lease question the kv rows answer. A SQLite store would hold
 *   CREATE TABLE lease (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL)
 *   CREATE INDEX kv_by_lease ON kv (lease, key) WHERE lease != 0
 * and answer `leaseKeys` from the rows that ever named the lease, keeping those that are their
 * key's newest version (a tombstone's lease is 0, so it never names one):
 *   SELECT k.key FROM kv AS k WHERE k.lease = ?1 AND k.lease != 0 AND NOT EXISTS
 *     (SELECT 1 FROM kv AS n WHERE n.key = k.key AND (n.mod_revision, n.sub) > (k.mod_revision, k.sub))
 *   ORDER BY k.key
 * (`k.lease != 0` lets SQLite use the partial index; the plan is an index search and one
 * primary-key seek per row.)
 */
export interface LeaseStore {
  lease(id: number): LeaseRecord | undefined;
  /** Every lease, ascending by id. */
  leases(): LeaseRecord[];
  putLease(lease: LeaseRecord): void;
  deleteLease(id: number): void;
  /** The keys whose newest version (at the store's revision, not a tombstone) carries `lease`; ascending. */
  leaseKeys(lease: number): Bytes[];
}

/**
 * What a watch needs besides reads at a revision: the rows written in a span of revisions, as
 * etcd's watchers read its backend by revision to catch up. A separate interface so a store
 * without watches need not offer it; in SQLite it is one walk of an index on (mod_revision, sub).
 */
export interface RevisionLog {
  /**
   * Every stored row with `from ≤ mod_revision ≤ to` whose key is in `range`, in (mod_revision,
   * sub) order: puts and tombstones alike. Compaction has removed what no read at or above the
   * compacted revision can see, so a span starting below it is incomplete (the caller checks).
   */
  changes(range: KeyRange, from: number, to: number): KeyVersion[];
}
