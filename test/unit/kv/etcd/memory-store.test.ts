// The in-memory MvccStore meets the store contract (store-contract.ts), as the SQLite one does
// in workerd (test/workerd/etcd-store.test.ts).

import { describe } from "vitest";
import { MemoryMvccStore } from "../../../../src/kv/etcd/memory-store.ts";
import { mvccStoreContract } from "./store-contract.ts";

describe("MemoryMvccStore", () => {
  mvccStoreContract((body) => body(new MemoryMvccStore()));
});
