// The events a revision produced, read back from the store's rows (as etcd's watchers read its
// backend): a put row is a PUT event with the whole version; a tombstone is a DELETE event whose
// kv has only the key and the revision of the delete. prev_kv is looked up when a message is
// made, as etcd's watch server does when it sends.

import { EMPTY } from "./bytes.ts";
import type { KeyRange, KeyVersion, MvccStore, RevisionLog } from "./store.ts";
import type { KeyValue } from "./types.ts";
import type { WatchEvent } from "./watch-types.ts";

export function eventOf(row: KeyVersion): WatchEvent {
  if (row.tombstone) {
    const kv: KeyValue = { key: row.key, createRevision: 0, modRevision: row.modRevision, version: 0, value: EMPTY, lease: 0 };
    return { type: "DELETE", kv, prevKv: null };
  }
  const kv: KeyValue = {
    key: row.key,
    createRevision: row.createRevision,
    modRevision: row.modRevision,
    version: row.version,
    value: row.value,
    lease: row.lease,
  };
  return { type: "PUT", kv, prevKv: null };
}

/**
 * The event with its key's version just before it (a read at mod_revision − 1), or without one
 * when the key did not exist then or that revision is compacted away (etcd leaves it out then).
 */
export function withPrevKv(store: MvccStore, event: WatchEvent): WatchEvent {
  const at = event.kv.modRevision - 1;
  if (at < store.readMeta().compactedRevision) return event;
  const prev = store.latest({ start: event.kv.key, end: null }, at, 0)[0];
  if (prev === undefined) return event;
  const prevKv: KeyValue = {
    key: prev.key,
    createRevision: prev.createRevision,
    modRevision: prev.modRevision,
    version: prev.version,
    value: prev.value,
    lease: prev.lease,
  };
  return { ...event, prevKv };
}

/** How many revisions one read of a catch-up spans, so a long history is never read at once. */
export const CATCH_UP_READ_SPAN = 10_000;

/** How much of the history one catch-up message takes, and how it is read. */
export interface BatchLimits {
  /** Revisions with rows per message (etcd's watchBatchMaxRevs). */
  maxRevs: number;
  /** Revisions per read of the log. */
  readSpan: number;
}

/**
 * The next batch of a catch-up, as etcd's syncWatchers makes one: the rows in `range` from
 * revision `from` on, up to `to`, stopping before the first revision past `maxRevs` revisions
 * that have rows (etcd's eventBatch counts those, before a watcher's filters). Read in spans of
 * `readSpan` revisions. `next` is where the following batch starts (`to + 1`: done).
 */
export function readBatch(
  log: RevisionLog,
  range: KeyRange,
  from: number,
  to: number,
  { maxRevs, readSpan }: BatchLimits,
): { rows: KeyVersion[]; next: number } {
  const rows: KeyVersion[] = [];
  let revs = 0;
  for (let start = from; start <= to; start += readSpan) {
    for (const row of log.changes(range, start, Math.min(to, start + readSpan - 1))) {
      const last = rows[rows.length - 1];
      if (last === undefined || row.modRevision > last.modRevision) {
        if (revs === maxRevs) return { rows, next: row.modRevision };
        revs++;
      }
      rows.push(row);
    }
  }
  return { rows, next: to + 1 };
}
