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
