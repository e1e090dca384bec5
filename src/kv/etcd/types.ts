// etcd 3.4's KV requests and responses (etcdserverpb), typed. Field names are the proto's in
// camelCase; enums keep etcd's numbers. 64-bit integers are JS numbers: revisions, versions and
// counts stay far below 2^53, and a lease id only needs its sign and order until leases exist.

import type { Bytes } from "./bytes.ts";

export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;
export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;

/** mvccpb.KeyValue */
export interface KeyValue {
  key: Bytes;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Bytes;
  lease: number;
}

export interface RangeRequest {
  key: Bytes;
  rangeEnd: Bytes;
  limit: number;
  revision: number;
  sortOrder: number;
  sortTarget: number;
  serializable: boolean;
  keysOnly: boolean;
  countOnly: boolean;
  minModRevision: number;
  maxModRevision: number;
  minCreateRevision: number;
  maxCreateRevision: number;
}

export interface PutRequest {
  key: Bytes;
  value: Bytes;
  lease: number;
  prevKv: boolean;
  ignoreValue: boolean;
  ignoreLease: boolean;
}

export interface DeleteRangeRequest {
  key: Bytes;
  rangeEnd: Bytes;
  prevKv: boolean;
}

/** The compare's oneof target_union: which field the request set (etcd compares against 0 or "" otherwise). */
export type CompareOperand =
  | { field: "value"; value: Bytes }
  | { field: "version" | "create_revision" | "mod_revision" | "lease"; value: number };

export interface Compare {
  result: number;
  target: number;
  key: Bytes;
  rangeEnd: Bytes;
  operand: CompareOperand | null;
}

/** RequestOp's oneof; `none` is an op with no request set (etcd refuses it). */
export type RequestOp =
  | { kind: "range"; range: RangeRequest }
  | { kind: "put"; put: PutRequest }
  | { kind: "deleteRange"; deleteRange: DeleteRangeRequest }
  | { kind: "txn"; txn: TxnRequest }
  | { kind: "none" };

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

export interface CompactionRequest {
  revision: number;
  physical: boolean;
}

/** The model's part of a header; the caller adds cluster_id, member_id and raft_term. `null`: etcd's empty header. */
export interface Header {
  revision: number | null;
}

export interface RangeResponse {
  header: Header;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export interface PutResponse {
  header: Header;
  prevKv: KeyValue | null;
}

export interface DeleteRangeResponse {
  header: Header;
  deleted: number;
  prevKvs: KeyValue[];
}

export type ResponseOp =
  | { kind: "range"; range: RangeResponse }
  | { kind: "put"; put: PutResponse }
  | { kind: "deleteRange"; deleteRange: DeleteRangeResponse }
  | { kind: "txn"; txn: TxnResponse };

export interface TxnResponse {
  header: Header;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionResponse {
  header: Header;
}
