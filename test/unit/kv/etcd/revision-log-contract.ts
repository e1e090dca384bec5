// The RevisionLog contract (src/kv/etcd/store.ts): what a store must answer for watches to catch
// up from it. Run against the in-memory store (memory-store.test.ts); the SQLite store runs it
// too once it implements `changes` (test/workerd/etcd-store.test.ts, as mvccStoreContract).

import { expect, it } from "vitest";
import { EMPTY, utf8 } from "../../../../src/kv/etcd/bytes.ts";
import type { KeyVersion, MvccStore, RevisionLog } from "../../../../src/kv/etcd/store.ts";
import { row } from "./store-contract.ts";

export type WithLogStore = (body: (store: MvccStore & RevisionLog) => void) => void | Promise<void>;

const names = (rows: KeyVersion[]) => rows.map((r) => `${new TextDecoder().decode(r.key)}@${r.modRevision}.${r.sub}${r.tombstone ? "x" : ""}`);

export function revisionLogContract(withStore: WithLogStore): void {
  it("answers the rows of a span of revisions in (revision, sub) order, tombstones included, within a key range", () =>
    withStore((s) => {
      s.append([row("b", 2), row("a", 3), row("c", 3, 1), row("b", 4, 0, true), row("b", 4, 1), row("a", 5, 0, true), row("ab", 5, 1)]);
      const all = { start: EMPTY, end: EMPTY };
      expect(names(s.changes(all, 1, 9))).toEqual(["b@2.0", "a@3.0", "c@3.1", "b@4.0x", "b@4.1", "a@5.0x", "ab@5.1"]);
      expect(names(s.changes(all, 3, 4))).toEqual(["a@3.0", "c@3.1", "b@4.0x", "b@4.1"]);
      expect(names(s.changes(all, 5, 5))).toEqual(["a@5.0x", "ab@5.1"]);
      expect(names(s.changes({ start: utf8("b"), end: null }, 1, 9))).toEqual(["b@2.0", "b@4.0x", "b@4.1"]);
      expect(names(s.changes({ start: utf8("a"), end: utf8("b") }, 1, 9))).toEqual(["a@3.0", "a@5.0x", "ab@5.1"]);
      expect(names(s.changes({ start: utf8("ab"), end: EMPTY }, 4, 9))).toEqual(["b@4.0x", "b@4.1", "ab@5.1"]);
      expect(s.changes(all, 6, 9)).toEqual([]);
      expect(s.changes({ start: utf8("c"), end: utf8("a") }, 1, 9)).toEqual([]);
    }));

  it("after a compaction keeps only what a read at or above it can see", () =>
    withStore((s) => {
      s.append([row("a", 2), row("a", 3), row("b", 3, 1), row("b", 4, 0, true), row("c", 4, 1)]);
      s.compact(4);
      const all = { start: EMPTY, end: EMPTY };
      // a@3 is a's newest at 4; b's tombstone at 4 ends it, so nothing of b is left.
      expect(names(s.changes(all, 1, 9))).toEqual(["a@3.0", "c@4.1"]);
    }));
}
