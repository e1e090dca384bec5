// The etcd model of one replica, wired: the KV service and the lease service over one store, the
// KV asking the lease table whether a lease named by a put or a txn exists. The leader's
// LeaseExpiry is not part of it: only the leader keeps one (lease-expiry.ts).

import { EtcdKv } from "./kv.ts";
import { EtcdLeases } from "./leases.ts";
import type { LeaseStore, MvccStore } from "./store.ts";

export interface EtcdModel {
  kv: EtcdKv;
  leases: EtcdLeases;
}

/** `minLeaseTtl` in seconds: minLeaseTtlSeconds(electionTimeoutMs[0], heartbeatMs) (lease-rules.ts). */
export function etcdModel(store: MvccStore & LeaseStore, minLeaseTtl: number): EtcdModel {
  const leases = new EtcdLeases(store, minLeaseTtl);
  const kv = new EtcdKv(store, { leaseExists: (id) => leases.exists(id) });
  return { kv, leases };
}
