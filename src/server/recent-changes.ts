// The rows the last applies wrote, kept in memory so a live watch costs no read: after each
// applied batch the watch hub asks for the rows of the revisions it has not handled yet
// (WatchHub.notify), and they are the rows that batch just appended. Without this, that
// question would walk the whole etcd_kv table (it has no index on mod_revision: see
// SqliteMvccStore.changes), once per write, while anyone watches.
//
// A store in front of the SQLite store: every call goes through to it, and `changes` answers
// from the tail when the tail is known to hold every row of the span, else from SQL. The
// invariant: while `tailFrom` is not null, the tail holds exactly the stored rows with
// mod_revision ≥ tailFrom. The tail only grows by appends that continue it in (revision, sub)
// order, as a live write's do (a txn appends its operations one by one, each after the last);
// anything else (a snapshot's rows, in key order; an append that follows a rolled-back one at
// the same revision) forgets the tail, and it starts again at the next writeMeta, which every
// write ends with: no stored row is above the revision it writes.
// A rolled-back transaction (a failed apply resets the object: raft-server.ts) may leave rows
// here that storage does not have: they are above the store's revision, which `changes` is
// never asked past, and the next append at that revision is out of order and forgets them.

import type { KeyRange, KeyVersion, MvccStore, RevisionLog, StoreMeta, VersionPosition } from "../kv/etcd/store.ts";
import { covers } from "../kv/etcd/watcher.ts";

/** The most rows kept: a burst of writes between two notifies stays in memory, a snapshot's rows do not. */
export const RECENT_ROWS = 4096;
/** The most key and value bytes kept (values reach 64 KiB on the kv routes, more through etcd's): memory stays bounded. */
export const RECENT_BYTES = 4 * 1024 * 1024;

export class RecentChanges implements MvccStore, RevisionLog {
  /** Rows in (mod_revision, sub) order. */
  private tail: KeyVersion[] = [];
  /** The tail's key and value bytes. */
  private tailBytes = 0;
  /** The tail holds every stored row at or above this revision; null: not known (see the top). */
  private tailFrom: number | null = null;
  /** Between clear() and the next writeMeta: the store is being refilled (a snapshot), nothing is known. */
  private refilling = false;
  /** How many span reads the tail answered, and how many went to SQL (tests and the bench). */
  readonly reads = { fromMemory: 0, fromSql: 0 };

  constructor(private readonly inner: MvccStore & RevisionLog) {}

  changes(range: KeyRange, from: number, to: number): KeyVersion[] {
    if (this.tailFrom === null || from < this.tailFrom) {
      this.reads.fromSql++;
      return this.inner.changes(range, from, to);
    }
    this.reads.fromMemory++;
    return this.tail.filter((r) => r.modRevision >= from && r.modRevision <= to && covers(range, r.key));
  }

  append(rows: readonly KeyVersion[]): void {
    this.inner.append(rows);
    if (rows.length === 0 || this.refilling) return;
    // A fresh instance: the first write's rows start the tail if they are above every stored row.
    if (this.tailFrom === null && rows[0]!.modRevision > this.inner.readMeta().revision) this.tailFrom = rows[0]!.modRevision;
    if (this.tailFrom === null) return;
    let last = this.tail[this.tail.length - 1];
    for (const r of rows) {
      if (r.modRevision < this.tailFrom || (last !== undefined && !after(r, last))) return this.forget();
      last = r;
    }
    this.tail.push(...rows);
    for (const r of rows) this.tailBytes += weight(r);
    this.trim();
  }

  writeMeta(meta: StoreMeta): void {
    this.inner.writeMeta(meta);
    this.refilling = false;
    if (this.tailFrom === null) {
      this.keep([]);
      this.tailFrom = meta.revision + 1;
    }
  }

  compact(revision: number): void {
    this.inner.compact(revision);
    // Compaction removes only rows at or below `revision`: above it the tail is still exact.
    this.keep(this.tail.filter((r) => r.modRevision > revision));
    if (this.tailFrom !== null && this.tailFrom <= revision) this.tailFrom = revision + 1;
  }

  clear(): void {
    this.inner.clear();
    this.forget();
    this.refilling = true;
  }

  /** The table under it was replaced whole (a snapshot's staged rows swapped in): the tail is not its. */
  rowsReplaced(): void {
    this.forget();
  }

  latest(range: KeyRange, atRevision: number, limit: number): KeyVersion[] {
    return this.inner.latest(range, atRevision, limit);
  }

  versionsAfter(after: VersionPosition | null, atRevision: number, limit: number): KeyVersion[] {
    return this.inner.versionsAfter(after, atRevision, limit);
  }

  countLatest(range: KeyRange, atRevision: number): number {
    return this.inner.countLatest(range, atRevision);
  }

  readMeta(): StoreMeta {
    return this.inner.readMeta();
  }

  allRows(): KeyVersion[] {
    return this.inner.allRows();
  }

  private forget(): void {
    this.keep([]);
    this.tailFrom = null;
  }

  private keep(rows: KeyVersion[]): void {
    this.tail = rows;
    this.tailBytes = rows.reduce((n, r) => n + weight(r), 0);
  }

  /**
   * Keeps at most RECENT_ROWS rows and RECENT_BYTES bytes, dropping whole revisions, oldest
   * first (a span is answered whole or not at all). A revision bigger than that alone leaves
   * the tail empty: its notify reads it from SQL. Walks only the rows it drops, from the old
   * end: once the tail is full every write trims it, and a walk or copy of the whole tail per
   * write was measured as CPU of every put (issue 20 item 8).
   */
  private trim(): void {
    if (this.tail.length <= RECENT_ROWS && this.tailBytes <= RECENT_BYTES) return;
    let dropped = 0;
    let bytes = this.tailBytes;
    while (this.tail.length - dropped > RECENT_ROWS || bytes > RECENT_BYTES) bytes -= weight(this.tail[dropped++]!);
    // The rest of the last dropped row's revision goes too.
    const cut = this.tail[dropped - 1]!.modRevision;
    while (dropped < this.tail.length && this.tail[dropped]!.modRevision === cut) bytes -= weight(this.tail[dropped++]!);
    // shift(), not splice(0, n) nor a copy: V8 moves the start of the array instead of its rows.
    // Measured in Node with a full tail: 1.4 µs per write, against 12 with splice and 64 with
    // the filter-and-sum this replaced.
    for (let i = 0; i < dropped; i++) this.tail.shift();
    this.tailBytes = bytes;
    this.tailFrom = cut + 1;
  }
}

function weight(r: KeyVersion): number {
  return r.key.length + r.value.length;
}

function after(r: KeyVersion, last: KeyVersion): boolean {
  return r.modRevision > last.modRevision || (r.modRevision === last.modRevision && r.sub > last.sub);
}
