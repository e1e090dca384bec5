// The LeaseStore contract (src/kv/etcd/store.ts), written once for every store: the in-memory one
// runs it in Node (memory-store.test.ts); the SQLite store will run it in workerd once it has the
// lease table. A lease's keys are a question of the kv rows: the keys whose newest version names it.

import { expect, it } from "vitest";
import { EMPTY, utf8 } from "../../../../src/kv/etcd/bytes.ts";
import type { KeyVersion, LeaseStore, MvccStore } from "../../../../src/kv/etcd/store.ts";

export type WithLeaseStore = (body: (store: MvccStore & LeaseStore) => void) => void | Promise<void>;

const version = (key: string, modRevision: number, lease: number, tombstone = false): KeyVersion => ({
  key: utf8(key),
  modRevision,
  sub: 0,
  createRevision: modRevision,
  version: tombstone ? 0 : 1,
  value: tombstone ? EMPTY : utf8(key),
  lease: tombstone ? 0 : lease,
  tombstone,
});

const text = (keys: Uint8Array[]) => keys.map((k) => new TextDecoder().decode(k));

export function leaseStoreContract(withStore: WithLeaseStore): void {
  it("keeps leases by id, listed ascending, negative ids included", () =>
    withStore((s) => {
      expect(s.leases()).toEqual([]);
      s.putLease({ id: 77, ttl: 300 });
      s.putLease({ id: -3, ttl: 120 });
      s.putLease({ id: 2 ** 48 + 5, ttl: 2 });
      expect(s.lease(77)).toEqual({ id: 77, ttl: 300 });
      expect(s.lease(78)).toBeUndefined();
      expect(s.leases().map((l) => l.id)).toEqual([-3, 77, 2 ** 48 + 5]);
      s.deleteLease(77);
      expect(s.lease(77)).toBeUndefined();
      expect(s.leases().map((l) => l.id)).toEqual([-3, 2 ** 48 + 5]);
    }));

  it("a lease's keys are those whose newest version names it: a rewrite without it or a delete detaches", () =>
    withStore((s) => {
      s.putLease({ id: 5, ttl: 60 });
      s.append([version("b", 2, 5), version("a", 3, 5), version("c", 4, 5), version("d", 5, 9)]);
      expect(text(s.leaseKeys(5))).toEqual(["a", "b", "c"]);
      s.append([version("a", 6, 0), version("c", 7, 0, true), version("d", 8, 5)]);
      expect(text(s.leaseKeys(5))).toEqual(["b", "d"]);
      expect(text(s.leaseKeys(9))).toEqual([]);
    }));

  it("compaction keeps a lease's keys (each key's newest version survives it)", () =>
    withStore((s) => {
      s.append([version("a", 2, 5), version("a", 3, 5), version("b", 4, 0), version("b", 5, 5)]);
      s.compact(5);
      expect(text(s.leaseKeys(5))).toEqual(["a", "b"]);
    }));
}
