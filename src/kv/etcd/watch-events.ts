// The events a revision produced, read back from the store's rows (as etcd's watchers read its
// backend): a put row is a PUT event with the whole version; a tombstone is a DELETE event whose
// kv has only the key and the revision of the delete. prev_kv is looked up when a message is
// made, as etcd's watch server does when it sends.

import { EMPTY } from "./bytes.ts";
import type { KeyVersion, MvccStore } from "./store.ts";
import type { KeyValue } from "./types.ts";
import { WATCH_BATCH_MAX_REVS, type WatchEvent } from "./watch-types.ts";

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

/**
 * Rows cut into batches of at most WATCH_BATCH_MAX_REVS revisions each, as etcd's eventBatch cuts
 * a catch-up (it counts the revisions of the rows in range, before a watcher's filters).
 */
export function batchesByRevision(rows: readonly KeyVersion[]): KeyVersion[][] {
  const batches: KeyVersion[][] = [];
  let current: KeyVersion[] = [];
  let revs = 0;
  for (const row of rows) {
    const last = current[current.length - 1];
    if (last === undefined || row.modRevision > last.modRevision) {
      if (revs === WATCH_BATCH_MAX_REVS) {
        batches.push(current);
        current = [];
        revs = 0;
      }
      revs++;
    }
    current.push(row);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
