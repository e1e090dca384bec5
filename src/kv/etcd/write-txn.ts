// One pass over the store as etcd's mvcc storeTxnWrite: every request (a put, a delete, a whole
// txn) runs in one of these, so all its writes share one main revision and each gets the next
// sub. Reads inside see the writes made so far (etcd reads at beginRev + 1 once something
// changed). Ending it moves the store's revision only if something changed.

import type { Bytes } from "./bytes.ts";
import { compareBytes, EMPTY } from "./bytes.ts";
import { errCompacted, errFutureRev } from "./errors.ts";
import type { KeyRange, KeyVersion, MvccStore } from "./store.ts";
import type { KeyValue } from "./types.ts";

export interface RangeOptions {
  /** 0: no limit. */
  limit: number;
  /** ≤ 0: the current revision. */
  rev: number;
  /** Only count, fetch nothing. */
  count: boolean;
}

export interface RangeResult {
  kvs: KeyValue[];
  count: number;
  rev: number;
}

export class WriteTxn {
  readonly beginRev: number;
  /** etcd's compactMainRev: -1 until the first compaction. */
  readonly compactedRev: number;
  private changes = 0;
  /**
   * The newest version of one key as this txn last saw it at `rev` (null: none live), so a
   * put right after its own prev_kv read (every /kv put, a put in a txn after a compare or a
   * range of its key) does not ask the store the same question twice. Only numbers are kept:
   * the caller owns the KeyValue it was handed.
   */
  private seen: { key: Bytes; rev: number; prev: { createRevision: number; version: number } | null } | null = null;

  constructor(private readonly store: MvccStore) {
    const meta = store.readMeta();
    this.beginRev = meta.revision;
    this.compactedRev = meta.compactedRevision;
  }

  /** The revision reads see: the begin revision, or the new one once something changed. */
  get rev(): number {
    return this.changes > 0 ? this.beginRev + 1 : this.beginRev;
  }

  get changed(): boolean {
    return this.changes > 0;
  }

  /** etcd's rangeKeys: future before compacted; the count is of every matching key. */
  range(range: KeyRange, ro: RangeOptions): RangeResult {
    const curRev = this.rev;
    if (ro.rev > curRev) throw errFutureRev();
    const rev = ro.rev <= 0 ? curRev : ro.rev;
    if (rev < this.compactedRev) throw errCompacted();
    if (ro.count) return { kvs: [], count: this.store.countLatest(range, rev), rev: curRev };
    const kvs = this.store.latest(range, rev, ro.limit).map(toKeyValue);
    if (range.end === null && rev === curRev) this.seen = { key: range.start, rev, prev: kvs[0] ?? null };
    const count = ro.limit > 0 && kvs.length >= ro.limit ? this.store.countLatest(range, rev) : kvs.length;
    return { kvs, count, rev: curRev };
  }

  /** Writes a new version; answers the revision it is written at. */
  put(key: Bytes, value: Bytes, lease: number): number {
    const rev = this.beginRev + 1;
    const prev = this.latestOf(key);
    const createRevision = prev === null ? rev : prev.createRevision;
    const version = prev === null ? 1 : prev.version + 1;
    this.store.append([{ key, modRevision: rev, sub: this.changes, createRevision, version, value, lease, tombstone: false }]);
    this.changes++;
    this.seen = { key, rev, prev: { createRevision, version } };
    return rev;
  }

  /** Tombstones every live key in the range; answers how many, and the header revision etcd gives. */
  deleteRange(range: KeyRange): { deleted: number; rev: number } {
    const victims = this.store.latest(range, this.rev, 0);
    this.seen = null;
    const rev = this.beginRev + 1;
    const rows: KeyVersion[] = victims.map((v, i) => ({
      key: v.key,
      modRevision: rev,
      sub: this.changes + i,
      createRevision: 0,
      version: 0,
      value: EMPTY,
      lease: 0,
      tombstone: true,
    }));
    this.store.append(rows);
    this.changes += rows.length;
    return { deleted: rows.length, rev: this.changed ? rev : this.beginRev };
  }

  /** The key's newest live version at the current revision: from what this txn last saw of it, or the store. */
  private latestOf(key: Bytes): { createRevision: number; version: number } | null {
    const seen = this.seen;
    if (seen !== null && seen.rev === this.rev && compareBytes(seen.key, key) === 0) return seen.prev;
    return this.store.latest({ start: key, end: null }, this.rev, 0)[0] ?? null;
  }

  /** Makes the writes count: the store's revision moves by one if anything changed. */
  end(): number {
    if (this.changed) this.store.writeMeta({ revision: this.beginRev + 1, compactedRevision: this.compactedRev });
    return this.rev;
  }
}

function toKeyValue(v: KeyVersion): KeyValue {
  return {
    key: v.key,
    createRevision: v.createRevision,
    modRevision: v.modRevision,
    version: v.version,
    value: v.value,
    lease: v.lease,
  };
}
