// Automatic compaction of the store's history: when the leader proposes an etcd compaction,
// and to which revision. Pure: it looks at the store's meta and the cluster's retention only.
//
// etcd's revision-mode auto compactor (--auto-compaction-mode=revision) keeps the last
// `retention` revisions: every five minutes the leader compacts to revision − retention. Here
// there is no clock to poll on; the leader asks after each batch it applies, and a step
// replaces the period: it compacts once the history holds more than retention + step
// revisions, back to exactly `retention`. With step = retention / 10 the history stays between
// retention and 1.1 × retention revisions, and a compaction (one log entry and a pass of the
// purge over the table, etcd-store.ts) comes once per retention / 10 writes, not after every
// write: 1 in 1000 writes at the default.
//
// The compaction travels through the log like a client's, so every replica compacts at the
// same revision; a stale one (the store was compacted further meanwhile, by a client or an
// earlier leader) answers etcd's compacted error on every replica and changes nothing.
import type { StoreMeta } from "./etcd/store.ts";

/** etcd's revisions kept by default (issue 20): the last 10,000. */
export const DEFAULT_COMPACTION_RETENTION = 10_000;

/** Revisions written past retention before the next compaction: a tenth of it, at least 1. */
export function compactionStep(retention: number): number {
  return Math.max(1, Math.floor(retention / 10));
}

/**
 * The revision to compact to now, or null (not due; retention 0: never, as etcd's 0).
 * A fresh store's history starts at revision 1 (no write has it), so before any compaction
 * the history held is revision − 1 revisions.
 */
export function autoCompactionTarget(meta: StoreMeta, retention: number): number | null {
  if (retention <= 0) return null;
  const floor = Math.max(meta.compactedRevision, 1);
  if (meta.revision - floor <= retention + compactionStep(retention)) return null;
  return meta.revision - retention;
}
