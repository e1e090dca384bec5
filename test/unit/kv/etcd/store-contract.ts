// The MvccStore contract (src/kv/etcd/store.ts), written once and run against every store: the
// in-memory one in Node (memory-store.test.ts) and the SQLite one inside workerd
// (test/workerd/etcd-store.test.ts). `withStore` hands each test a fresh, empty store; in
// workerd the body runs inside a Durable Object, hence the callback rather than a factory.

import { expect, it } from "vitest";
import { EMPTY, fromBinaryString, utf8 } from "../../../../src/kv/etcd/bytes.ts";
import type { KeyVersion, MvccStore } from "../../../../src/kv/etcd/store.ts";

/** A store and the one extra question the contract asks: how many versions it keeps. */
export type ContractStore = MvccStore & { rowCount(): number };

export type WithStore = (body: (store: ContractStore) => void) => void | Promise<void>;

export const row = (key: string | Uint8Array, modRevision: number, sub = 0, tombstone = false): KeyVersion => {
  const bytes = typeof key === "string" ? utf8(key) : key;
  return {
    key: bytes,
    modRevision,
    sub,
    createRevision: modRevision,
    version: tombstone ? 0 : 1,
    value: tombstone ? EMPTY : utf8(`${new TextDecoder().decode(bytes)}@${modRevision}`),
    lease: 0,
    tombstone,
  };
};

const text = (rows: KeyVersion[]) => rows.map((r) => new TextDecoder().decode(r.value));

/** b@2, a@3, c@4, b deleted and put again in revision 5 (subs 0 and 1), a deleted at 6. */
function fill(s: MvccStore) {
  s.append([row("b", 2), row("a", 3), row("c", 4), row("b", 5, 0, true), row("b", 5, 1), row("a", 6, 0, true)]);
}

const all = { start: utf8("a"), end: EMPTY };

export function mvccStoreContract(withStore: WithStore): void {
  it("reads each key's newest version at a revision, including every sub, skipping tombstones", () =>
    withStore((s) => {
      fill(s);
      expect(text(s.latest(all, 4, 0))).toEqual(["a@3", "b@2", "c@4"]);
      expect(text(s.latest(all, 5, 0))).toEqual(["a@3", "b@5", "c@4"]);
      expect(text(s.latest(all, 6, 0))).toEqual(["b@5", "c@4"]);
      expect(text(s.latest(all, 6, 1))).toEqual(["b@5"]);
      // An etcd limit is an int64: the largest is no limit at all.
      expect(text(s.latest(all, 6, 9223372036854775807))).toEqual(["b@5", "c@4"]);
      expect(text(s.latest(all, 1, 0))).toEqual([]);
      expect(s.countLatest(all, 4)).toBe(3);
      expect(s.countLatest(all, 6)).toBe(2);
      expect(text(s.latest({ start: utf8("b"), end: null }, 2, 0))).toEqual(["b@2"]);
      expect(s.latest({ start: utf8("b"), end: null }, 1, 0)).toEqual([]);
      expect(text(s.latest({ start: utf8("a"), end: utf8("c") }, 6, 0))).toEqual(["b@5"]);
      expect(s.latest({ start: utf8("c"), end: utf8("a") }, 6, 0)).toEqual([]);
      expect(s.countLatest({ start: utf8("c"), end: utf8("a") }, 6)).toBe(0);
    }));

  it("returns every field of a version as written", () =>
    withStore((s) => {
      const v: KeyVersion = { key: utf8("k"), modRevision: 7, sub: 2, createRevision: 3, version: 4, value: EMPTY, lease: 9, tombstone: false };
      s.append([v]);
      expect(s.latest({ start: utf8("k"), end: null }, 7, 0)).toEqual([v]);
    }));

  it("orders and bounds keys by unsigned bytes, as Go's bytes.Compare", () =>
    withStore((s) => {
      // "a" < "a\0" < "ab" < "\x7f" < "\x80" < "\xff": a prefix first, then byte by byte, unsigned.
      const keys = ["\xff", "a\0", "\x80", "ab", "a", "\x7f"].map(fromBinaryString);
      keys.forEach((k, i) => s.append([row(k, i + 2)]));
      const seen = (rows: KeyVersion[]) => rows.map((r) => Array.from(r.key));
      const want = ["a", "a\0", "ab", "\x7f", "\x80", "\xff"].map((k) => Array.from(fromBinaryString(k)));
      expect(seen(s.latest({ start: fromBinaryString("\0"), end: EMPTY }, 10, 0))).toEqual(want);
      expect(seen(s.latest({ start: fromBinaryString("a\0"), end: fromBinaryString("\x80") }, 10, 0))).toEqual(want.slice(1, 4));
      expect(seen(s.latest({ start: fromBinaryString("\x80"), end: EMPTY }, 10, 0))).toEqual(want.slice(4));
      expect(s.countLatest({ start: fromBinaryString("a"), end: fromBinaryString("a\0") }, 10)).toBe(1);
      expect(seen(s.latest({ start: fromBinaryString("\xff"), end: null }, 10, 0))).toEqual([want[5]]);
    }));

  it("compaction keeps what reads at or above it can see", () =>
    withStore((s) => {
      fill(s);
      s.compact(5);
      // a@3 and a's tombstone at 6, b@5 (sub 1) only, c@4.
      expect(s.rowCount()).toBe(4);
      expect(text(s.latest(all, 5, 0))).toEqual(["a@3", "b@5", "c@4"]);
      expect(text(s.latest(all, 6, 0))).toEqual(["b@5", "c@4"]);
      s.compact(6);
      // a's tombstone goes with everything before it.
      expect(s.rowCount()).toBe(2);
      expect(text(s.latest(all, 6, 0))).toEqual(["b@5", "c@4"]);
    }));

  it("refuses a version written twice", () =>
    withStore((s) => {
      fill(s);
      expect(() => s.append([row("a", 6)])).toThrow();
    }));

  it("keeps its meta: revision 1 and never compacted when new, then what was written", () =>
    withStore((s) => {
      expect(s.readMeta()).toEqual({ revision: 1, compactedRevision: -1 });
      s.writeMeta({ revision: 12, compactedRevision: 4 });
      s.writeMeta({ revision: 13, compactedRevision: 4 });
      expect(s.readMeta()).toEqual({ revision: 13, compactedRevision: 4 });
    }));

  it("walks the versions at or below a revision after a position, in primary-key order, a few at a time", () =>
    withStore((s) => {
      fill(s);
      s.append([row(fromBinaryString("a\xff"), 7), row("ab", 8)]);
      const label = (rows: KeyVersion[]) => rows.map((r) => `${new TextDecoder().decode(r.key.subarray(0, 1))}${r.key.length}@${r.modRevision}.${r.sub}`);
      // "ab" before "a\xff": unsigned bytes.
      expect(label(s.versionsAfter(null, 100, 100))).toEqual(["a1@3.0", "a1@6.0", "a2@8.0", "a2@7.0", "b1@2.0", "b1@5.0", "b1@5.1", "c1@4.0"]);
      // At or below revision 5, two at a time, each walk starting after the last row it gave.
      const walked: string[] = [];
      let after: KeyVersion | null = null;
      for (;;) {
        const batch = s.versionsAfter(after, 5, 2);
        walked.push(...label(batch));
        if (batch.length < 2) break;
        after = batch[batch.length - 1]!;
      }
      expect(walked).toEqual(["a1@3.0", "b1@2.0", "b1@5.0", "b1@5.1", "c1@4.0"]);
      // After a position inside one revision's subs, and after a key that is not stored.
      expect(label(s.versionsAfter({ key: utf8("b"), modRevision: 5, sub: 0 }, 100, 10))).toEqual(["b1@5.1", "c1@4.0"]);
      expect(label(s.versionsAfter({ key: utf8("bb"), modRevision: 1, sub: 0 }, 100, 10))).toEqual(["c1@4.0"]);
    }));
}
