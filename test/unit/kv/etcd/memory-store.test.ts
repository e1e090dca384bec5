// The in-memory MvccStore: the contract the SQLite store will also meet.

import { describe, expect, it } from "vitest";
import { EMPTY, utf8 } from "../../../../src/kv/etcd/bytes.ts";
import { MemoryMvccStore } from "../../../../src/kv/etcd/memory-store.ts";
import type { KeyVersion } from "../../../../src/kv/etcd/store.ts";

const row = (key: string, modRevision: number, sub = 0, tombstone = false): KeyVersion => ({
  key: utf8(key),
  modRevision,
  sub,
  createRevision: modRevision,
  version: tombstone ? 0 : 1,
  value: tombstone ? EMPTY : utf8(`${key}@${modRevision}`),
  lease: 0,
  tombstone,
});

const text = (rows: KeyVersion[]) => rows.map((r) => new TextDecoder().decode(r.value));

describe("MemoryMvccStore", () => {
  function store() {
    const s = new MemoryMvccStore();
    s.append([row("b", 2), row("a", 3), row("c", 4), row("b", 5, 0, true), row("b", 5, 1), row("a", 6, 0, true)]);
    return s;
  }

  it("reads each key's newest version at a revision, including every sub, skipping tombstones", () => {
    const s = store();
    const all = { start: utf8("a"), end: EMPTY };
    expect(text(s.latest(all, 4, 0))).toEqual(["a@3", "b@2", "c@4"]);
    expect(text(s.latest(all, 5, 0))).toEqual(["a@3", "b@5", "c@4"]);
    expect(text(s.latest(all, 6, 0))).toEqual(["b@5", "c@4"]);
    expect(text(s.latest(all, 6, 1))).toEqual(["b@5"]);
    expect(s.countLatest(all, 4)).toBe(3);
    expect(text(s.latest({ start: utf8("b"), end: null }, 2, 0))).toEqual(["b@2"]);
    expect(text(s.latest({ start: utf8("a"), end: utf8("c") }, 6, 0))).toEqual(["b@5"]);
    expect(s.latest({ start: utf8("c"), end: utf8("a") }, 6, 0)).toEqual([]);
  });

  it("compaction keeps what reads at or above it can see", () => {
    const s = store();
    s.compact(5);
    // a@3 and a's tombstone at 6, b@5 (sub 1) only, c@4.
    expect(s.rowCount()).toBe(4);
    const all = { start: utf8("a"), end: EMPTY };
    expect(text(s.latest(all, 5, 0))).toEqual(["a@3", "b@5", "c@4"]);
    expect(text(s.latest(all, 6, 0))).toEqual(["b@5", "c@4"]);
  });

  it("refuses versions out of revision order", () => {
    const s = store();
    expect(() => s.append([row("a", 6)])).toThrow();
  });
});
