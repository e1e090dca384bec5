// The in-memory MvccStore meets the store contract (store-contract.ts), as the SQLite one does
// in workerd (test/workerd/etcd-store.test.ts), and the lease store contract (lease-store-contract.ts) and the RevisionLog contract watches need.

import { describe } from "vitest";
import { MemoryMvccStore } from "../../../../src/kv/etcd/memory-store.ts";
import { leaseStoreContract } from "./lease-store-contract.ts";
import { revisionLogContract } from "./revision-log-contract.ts";
import { mvccStoreContract } from "./store-contract.ts";

describe("MemoryMvccStore", () => {
  mvccStoreContract((body) => body(new MemoryMvccStore()));
  leaseStoreContract((body) => body(new MemoryMvccStore()));
  revisionLogContract((body) => body(new MemoryMvccStore()));
});
