// Compaction that waits for the snapshots being read.
//
// A leader streams a snapshot from its store a chunk at a time while it applies later entries
// (src/kv/snapshot-stream.ts). Versions at or below the snapshot's revision do not change
// then, except by compaction, which deletes some: a transfer that read half its rows before a
// compaction and half after would hand the follower a state that never existed. So while a
// reader holds a pin, a compaction moves the store's compacted revision (the meta, what reads
// are checked against: etcd's answers do not change) but leaves the rows; the deletion runs
// when the last pin is released. The extra rows are invisible to every read (each is a
// version no read at or above the compacted revision selects), and the reader leaves them out
// of the snapshot itself (it applies the compaction rule as it reads), so a snapshot is the
// state at its index whatever the table physically holds.
//
// Why not abort the transfer instead: a cluster compacting more often than a transfer takes
// would never let a follower back in (issue 23.1's story compacts every 8 puts).

import { compareBytes } from "./bytes.ts";
import type { KeyRange, KeyVersion, MvccStore, StoreMeta, VersionPosition } from "./store.ts";

/**
 * `rows` (in (key, mod_revision, sub) order) less what a compaction at `compacted` drops: of
 * each key's versions at or below it only the newest stays, and not even that one if it is a
 * tombstone (etcd's rule, as MvccStore.compact). The rows a store holds whose compaction a pin
 * deferred, as they will be: what a snapshot of the state carries.
 */
export function withoutCompacted(rows: readonly KeyVersion[], compacted: number): KeyVersion[] {
  return rows.filter((v, i) => !compactedAway(v, rows[i + 1] ?? null, compacted));
}

/** Whether compaction at `compacted` drops `v`, given the version stored right after it (null: none). */
export function compactedAway(v: KeyVersion, next: KeyVersion | null, compacted: number): boolean {
  if (v.modRevision > compacted) return false;
  if (v.tombstone) return true;
  return next !== null && next.modRevision <= compacted && compareBytes(next.key, v.key) === 0;
}

/** A reader's hold on the rows: `intact` while no deletion ran (or the store was replaced) since it was taken. */
export interface CompactionPin {
  intact(): boolean;
  /** Idempotent; the last release runs the compactions deferred meanwhile. */
  release(): void;
}

export class PinnedCompactionStore implements MvccStore {
  private pins = 0;
  /** The newest compaction asked for while pinned (the others are below it: compaction only moves up). */
  private deferred: number | null = null;
  /** Bumped whenever rows are deleted or replaced: a pin taken before is broken. */
  private generation = 0;

  constructor(readonly inner: MvccStore) {}

  latest(range: KeyRange, atRevision: number, limit: number): KeyVersion[] {
    return this.inner.latest(range, atRevision, limit);
  }

  countLatest(range: KeyRange, atRevision: number): number {
    return this.inner.countLatest(range, atRevision);
  }

  append(rows: readonly KeyVersion[]): void {
    this.inner.append(rows);
  }

  compact(revision: number): void {
    if (this.pins > 0) {
      this.deferred = Math.max(this.deferred ?? revision, revision);
      return;
    }
    this.inner.compact(revision);
    this.generation++;
  }

  readMeta(): StoreMeta {
    return this.inner.readMeta();
  }

  writeMeta(meta: StoreMeta): void {
    this.inner.writeMeta(meta);
  }

  versionsAfter(after: VersionPosition | null, atRevision: number, limit: number): KeyVersion[] {
    return this.inner.versionsAfter(after, atRevision, limit);
  }

  allRows(): KeyVersion[] {
    return this.inner.allRows();
  }

  clear(): void {
    this.inner.clear();
    this.replaced();
  }

  /** Hold the rows as they are until released. */
  pin(): CompactionPin {
    this.pins++;
    const generation = this.generation;
    const compactedAt = this.inner.readMeta().compactedRevision;
    let held = true;
    return {
      // No rows deleted or replaced through this store, and the compacted revision moved only
      // by compactions it deferred (a deletion by anyone else moves it too: then not intact).
      intact: () => {
        const now = this.inner.readMeta().compactedRevision;
        return this.generation === generation && (now === compactedAt || now === this.deferred);
      },
      release: () => {
        if (!held) return;
        held = false;
        if (generation === this.generation) this.pins--;
        if (this.pins > 0 || this.deferred === null) return;
        const revision = this.deferred;
        this.deferred = null;
        this.inner.compact(revision);
        this.generation++;
      },
    };
  }

  /**
   * The rows under this store were replaced from outside (a snapshot installed over them):
   * every pin is broken, and a deferred compaction is moot (the new rows come compacted).
   */
  replaced(): void {
    this.generation++;
    this.pins = 0;
    this.deferred = null;
  }
}
