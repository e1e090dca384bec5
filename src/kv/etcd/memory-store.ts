// MvccStore in memory, for tests and the simulator. Keys are kept in one sorted array (binary
// search to the start of a range, then a walk), each with its versions oldest first, so a
// range costs its size and a log, not a scan of every key. Leases are a map; a lease's keys are
// found by a walk over every key's newest version (tests and the simulator hold few keys).

import { compareBytes, toBinaryString, type Bytes } from "./bytes.ts";
import type { KeyRange, KeyVersion, LeaseRecord, LeaseStore, MvccStore, RevisionLog, StoreMeta, VersionPosition } from "./store.ts";

interface KeyHistory {
  /** The key as a binary string: JS string order is byte order. */
  id: string;
  versions: KeyVersion[];
}

const newer = (a: KeyVersion, b: KeyVersion) => a.modRevision > b.modRevision || (a.modRevision === b.modRevision && a.sub > b.sub);

export class MemoryMvccStore implements MvccStore, LeaseStore, RevisionLog {
  private readonly keys: KeyHistory[] = [];
  private readonly leaseTable = new Map<number, LeaseRecord>();
  private meta: StoreMeta = { revision: 1, compactedRevision: -1 };

  latest(range: KeyRange, atRevision: number, limit: number): KeyVersion[] {
    const out: KeyVersion[] = [];
    for (const history of this.keysIn(range)) {
      const v = newestAtOrBelow(history.versions, atRevision);
      if (v === undefined || v.tombstone) continue;
      out.push(v);
      if (limit > 0 && out.length >= limit) break;
    }
    return out;
  }

  countLatest(range: KeyRange, atRevision: number): number {
    return this.latest(range, atRevision, 0).length;
  }

  append(rows: readonly KeyVersion[]): void {
    for (const row of rows) {
      const id = toBinaryString(row.key);
      const at = this.lowerBound(id);
      let history = this.keys[at];
      if (history === undefined || history.id !== id) {
        history = { id, versions: [] };
        this.keys.splice(at, 0, history);
      }
      const last = history.versions[history.versions.length - 1];
      if (last !== undefined && !newer(row, last)) throw new Error("append: versions must arrive in revision order");
      history.versions.push({ ...row });
    }
  }

  compact(revision: number): void {
    for (const history of this.keys) {
      const v = history.versions;
      let keepFrom = v.findIndex((x) => x.modRevision > revision);
      if (keepFrom === -1) keepFrom = v.length;
      const newestBelow = v[keepFrom - 1];
      const start = newestBelow !== undefined && !newestBelow.tombstone ? keepFrom - 1 : keepFrom;
      history.versions = v.slice(start);
    }
    const live = this.keys.filter((h) => h.versions.length > 0);
    this.keys.splice(0, this.keys.length, ...live);
  }

  /** A walk of the keys in range, each key's versions in the span (found by binary search), then one sort by (mod_revision, sub). */
  changes(range: KeyRange, from: number, to: number): KeyVersion[] {
    const out: KeyVersion[] = [];
    for (const history of this.keysIn(range)) {
      const v = history.versions;
      let lo = 0;
      let hi = v.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (v[mid]!.modRevision < from) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < v.length && v[i]!.modRevision <= to; i++) out.push({ ...v[i]! });
    }
    return out.sort((a, b) => a.modRevision - b.modRevision || a.sub - b.sub);
  }

  readMeta(): StoreMeta {
    return { ...this.meta };
  }

  writeMeta(meta: StoreMeta): void {
    this.meta = { ...meta };
  }

  versionsAfter(after: VersionPosition | null, atRevision: number, limit: number): KeyVersion[] {
    const out: KeyVersion[] = [];
    const from = after === null ? null : toBinaryString(after.key);
    for (let i = from === null ? 0 : this.lowerBound(from); i < this.keys.length && out.length < limit; i++) {
      const h = this.keys[i]!;
      for (const v of h.versions) {
        if (v.modRevision > atRevision) break; // oldest first: the rest are newer still
        if (after !== null && h.id === from && (v.modRevision < after.modRevision || (v.modRevision === after.modRevision && v.sub <= after.sub))) continue;
        out.push({ ...v });
        if (out.length >= limit) break;
      }
    }
    return out;
  }

  allRows(): KeyVersion[] {
    return this.keys.flatMap((h) => h.versions.map((v) => ({ ...v })));
  }

  clear(): void {
    this.keys.splice(0, this.keys.length);
    this.leaseTable.clear();
  }

  lease(id: number): LeaseRecord | undefined {
    const l = this.leaseTable.get(id);
    return l === undefined ? undefined : { ...l };
  }

  leases(): LeaseRecord[] {
    return [...this.leaseTable.values()].sort((a, b) => a.id - b.id).map((l) => ({ ...l }));
  }

  putLease(lease: LeaseRecord): void {
    this.leaseTable.set(lease.id, { ...lease });
  }

  deleteLease(id: number): void {
    this.leaseTable.delete(id);
  }

  leaseKeys(lease: number): Bytes[] {
    const out: Bytes[] = [];
    for (const history of this.keys) {
      const newest = history.versions[history.versions.length - 1];
      if (newest !== undefined && !newest.tombstone && newest.lease === lease) out.push(newest.key);
    }
    return out;
  }

  /** Every stored row, for tests that check what compaction keeps. */
  rowCount(): number {
    return this.keys.reduce((n, h) => n + h.versions.length, 0);
  }

  private *keysIn(range: KeyRange): Generator<KeyHistory> {
    const start = toBinaryString(range.start);
    if (range.end === null) {
      const h = this.keys[this.lowerBound(start)];
      if (h !== undefined && h.id === start) yield h;
      return;
    }
    const end: Bytes = range.end;
    const endId = end.length === 0 ? null : toBinaryString(end);
    if (endId !== null && compareBytes(end, range.start) <= 0) return;
    for (let i = this.lowerBound(start); i < this.keys.length; i++) {
      const h = this.keys[i]!;
      if (endId !== null && h.id >= endId) return;
      yield h;
    }
  }

  private lowerBound(id: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.keys[mid]!.id < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function newestAtOrBelow(versions: KeyVersion[], atRevision: number): KeyVersion | undefined {
  for (let i = versions.length - 1; i >= 0; i--) {
    if (versions[i]!.modRevision <= atRevision) return versions[i];
  }
  return undefined;
}
