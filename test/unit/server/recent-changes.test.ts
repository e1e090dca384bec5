// RecentChanges (src/server/recent-changes.ts): the RevisionLog contract over the in-memory
// store, and that a live write's rows are answered from memory (no read of the store) while
// anything it cannot vouch for (a fresh instance, a snapshot's refill, a rolled-back revision
// written again, a span older than the tail) goes to the store and answers the same.

import { describe, expect, it } from "vitest";
import { EMPTY, utf8 } from "../../../src/kv/etcd/bytes.ts";
import { MemoryMvccStore } from "../../../src/kv/etcd/memory-store.ts";
import type { KeyVersion } from "../../../src/kv/etcd/store.ts";
import { RECENT_BYTES, RECENT_ROWS, RecentChanges } from "../../../src/server/recent-changes.ts";
import { revisionLogContract } from "../kv/etcd/revision-log-contract.ts";
import { row } from "../kv/etcd/store-contract.ts";

const ALL = { start: EMPTY, end: EMPTY };
const names = (rows: KeyVersion[]) => rows.map((r) => `${new TextDecoder().decode(r.key)}@${r.modRevision}.${r.sub}`);

/** A write as the model makes one: its rows (one append per operation), then the meta. */
function write(s: RecentChanges, revision: number, ...keys: string[]): void {
  keys.forEach((k, sub) => s.append([row(k, revision, sub)]));
  s.writeMeta({ revision, compactedRevision: s.readMeta().compactedRevision });
}

function fresh(): { inner: MemoryMvccStore; s: RecentChanges } {
  const inner = new MemoryMvccStore();
  return { inner, s: new RecentChanges(inner) };
}

describe("RecentChanges", () => {
  revisionLogContract((body) => body(new RecentChanges(new MemoryMvccStore())));

  it("answers a live write's rows from memory, a txn's several appends together, and the same as the store", () => {
    const { inner, s } = fresh();
    write(s, 2, "a");
    write(s, 3, "b", "c", "a");
    write(s, 4, "b");
    expect(names(s.changes(ALL, 3, 4))).toEqual(["b@3.0", "c@3.1", "a@3.2", "b@4.0"]);
    expect(names(s.changes({ start: utf8("b"), end: null }, 2, 4))).toEqual(["b@3.0", "b@4.0"]);
    expect(s.reads).toEqual({ fromMemory: 2, fromSql: 0 });
    expect(s.changes(ALL, 2, 4)).toEqual(inner.changes(ALL, 2, 4));
  });

  it("goes to the store for what it cannot vouch for: before the first write it saw, after a refill, after a rolled-back revision", () => {
    const { inner, s } = fresh();
    inner.append([row("old", 2)]);
    inner.writeMeta({ revision: 2, compactedRevision: -1 });
    write(s, 3, "a");
    expect(names(s.changes(ALL, 2, 3))).toEqual(["old@2.0", "a@3.0"]);
    expect(s.reads).toEqual({ fromMemory: 0, fromSql: 1 });
    expect(names(s.changes(ALL, 3, 3))).toEqual(["a@3.0"]);
    expect(s.reads.fromMemory).toBe(1);

    // A snapshot: cleared, refilled in key order, its meta written. Nothing of it is in memory.
    s.clear();
    s.append([row("x", 5), row("y", 4)]);
    s.writeMeta({ revision: 5, compactedRevision: -1 });
    expect(names(s.changes(ALL, 4, 5))).toEqual(["y@4.0", "x@5.0"]);
    expect(s.reads.fromSql).toBe(2);
    write(s, 6, "z");
    expect(names(s.changes(ALL, 6, 6))).toEqual(["z@6.0"]);
    expect(s.reads.fromMemory).toBe(2);

    // Revision 7 written, then rolled back (the store forgets it; the meta stays at 6), then written again.
    const rolledBack = new MemoryMvccStore();
    const r = new RecentChanges(rolledBack);
    write(r, 2, "a");
    r.append([row("lost", 3)]);
    rolledBack.clear(); // what a rolled-back transaction leaves: only revision 2
    rolledBack.append([row("a", 2)]);
    write(r, 3, "kept");
    expect(names(r.changes(ALL, 3, 3))).toEqual(["kept@3.0"]);
  });

  it("after a compaction answers only what the store keeps", () => {
    const { s } = fresh();
    write(s, 2, "a");
    write(s, 3, "b");
    write(s, 4, "a");
    s.compact(3); // a@2 is superseded by a@4 only above 3: a's newest at 3 stays
    expect(names(s.changes(ALL, 4, 4))).toEqual(["a@4.0"]);
    expect(s.reads).toEqual({ fromMemory: 1, fromSql: 0 });
    write(s, 5, "b");
    s.compact(5); // a@2 and b@3 go now
    expect(names(s.changes(ALL, 2, 5))).toEqual(["a@4.0", "b@5.0"]); // below the tail now: from the store
    expect(s.reads.fromSql).toBe(1);
  });

  it(`keeps at most ${RECENT_ROWS} rows, whole revisions, and reads older spans from the store`, () => {
    const { s } = fresh();
    for (let rev = 2; rev < RECENT_ROWS / 2 + 10; rev++) write(s, rev, "a", "b", "c");
    const last = RECENT_ROWS / 2 + 9;
    expect(names(s.changes(ALL, last, last))).toEqual([`a@${last}.0`, `b@${last}.1`, `c@${last}.2`]);
    expect(s.reads).toEqual({ fromMemory: 1, fromSql: 0 });
    expect(s.changes(ALL, 2, 2)).toHaveLength(3);
    expect(s.reads.fromSql).toBe(1);
  });

  it(`keeps at most ${RECENT_BYTES} bytes of keys and values, whole revisions; a revision bigger than that alone is read from the store`, () => {
    const { s } = fresh();
    const big = (key: string, revision: number, size: number) => {
      s.append([{ ...row(key, revision), value: new Uint8Array(size) }]);
      s.writeMeta({ revision, compactedRevision: -1 });
    };
    const third = Math.floor(RECENT_BYTES / 3) - 10; // three revisions of one fit, four do not
    for (let rev = 2; rev <= 5; rev++) big("k", rev, third);
    expect(s.changes(ALL, 3, 5)).toHaveLength(3);
    expect(s.reads).toEqual({ fromMemory: 1, fromSql: 0 });
    expect(s.changes(ALL, 2, 5)).toHaveLength(4);
    expect(s.reads.fromSql).toBe(1);
    big("huge", 6, RECENT_BYTES + 1);
    expect(names(s.changes(ALL, 6, 6))).toEqual(["huge@6.0"]);
    expect(s.reads.fromSql).toBe(2);
    write(s, 7, "small");
    expect(names(s.changes(ALL, 7, 7))).toEqual(["small@7.0"]);
    expect(s.reads).toEqual({ fromMemory: 2, fromSql: 2 });
  });
});
