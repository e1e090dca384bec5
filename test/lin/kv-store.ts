// The implementation's key/value store in memory, as the checker's cross-checks run it:
// a fresh one, and a copy (the brute-force search branches on copies).
import { EtcdKv } from "../../src/kv/etcd/kv.ts";
import { MemoryMvccStore } from "../../src/kv/etcd/memory-store.ts";
import { KvStore } from "../../src/kv/store.ts";

export interface StoreInMemory {
  readonly kv: KvStore;
  readonly mvcc: MemoryMvccStore;
}

export function freshStore(): StoreInMemory {
  const mvcc = new MemoryMvccStore();
  return { kv: new KvStore(new EtcdKv(mvcc), mvcc), mvcc };
}

export function copyStore(from: StoreInMemory): StoreInMemory {
  const copy = freshStore();
  copy.mvcc.append(from.mvcc.allRows());
  copy.mvcc.writeMeta(from.mvcc.readMeta());
  return copy;
}
