// etcd 3.4's lease requests and responses (etcdserverpb Lease*), typed. IDs are int64 in etcd.
// A request's ID is read exactly (bigint), so an answer echoes it digit for digit; a lease that
// exists has an ID exact in a JS number (a grant refuses a larger one, and the IDs this server
// chooses are far below it: lease-rules.ts), which is how the store and a key's `lease` hold it.

import type { Bytes } from "./bytes.ts";
import type { Header } from "./types.ts";

export interface LeaseGrantRequest {
  /** Seconds; at or below the minimum TTL (even ≤ 0) it becomes the minimum. */
  TTL: number;
  /** 0: the server chooses one. */
  ID: bigint;
}

export interface LeaseIdRequest {
  ID: bigint;
}

export interface LeaseTimeToLiveRequest {
  ID: bigint;
  keys: boolean;
}

export interface LeaseGrantResponse {
  header: Header;
  ID: number;
  TTL: number;
}

export interface LeaseRevokeResponse {
  header: Header;
}

/** TTL 0: the lease is unknown or already expired (etcd answers so rather than an error). */
export interface LeaseKeepAliveResponse {
  header: Header;
  /** The request's ID, as asked. */
  ID: bigint;
  TTL: number;
}

/** TTL -1 and grantedTTL 0: the lease is unknown (etcd answers so rather than an error). */
export interface LeaseTimeToLiveResponse {
  header: Header;
  /** The request's ID, as asked. */
  ID: bigint;
  TTL: number;
  grantedTTL: number;
  keys: Bytes[];
}

export interface LeaseLeasesResponse {
  header: Header;
  leases: { ID: number }[];
}
