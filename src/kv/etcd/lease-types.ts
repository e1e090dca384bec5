// etcd 3.4's lease requests and responses (etcdserverpb Lease*), typed. IDs are int64 in etcd;
// here they are JS numbers, exact up to 2^53 - 1 (a grant refuses a larger chosen ID, and the IDs
// this server chooses are far below it: lease-ids.ts).

import type { Bytes } from "./bytes.ts";
import type { Header } from "./types.ts";

export interface LeaseGrantRequest {
  /** Seconds; at or below the minimum TTL (even ≤ 0) it becomes the minimum. */
  TTL: number;
  /** 0: the server chooses one. */
  ID: number;
}

export interface LeaseIdRequest {
  ID: number;
}

export interface LeaseTimeToLiveRequest {
  ID: number;
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
  ID: number;
  TTL: number;
}

/** TTL -1 and grantedTTL 0: the lease is unknown (etcd answers so rather than an error). */
export interface LeaseTimeToLiveResponse {
  header: Header;
  ID: number;
  TTL: number;
  grantedTTL: number;
  keys: Bytes[];
}

export interface LeaseLeasesResponse {
  header: Header;
  leases: { ID: number }[];
}
