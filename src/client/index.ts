// The typed client library: the key/value routes (KvClient) and etcd's v3 API (EtcdClient).
export { KvClient, type KvClientOptions, type CallOptions, type FetchLike, type WriteIds } from "./kv-client.ts";
export { KvError, type KvErrorDetails } from "./errors.ts";
export type { GetResult, PutResult, CasResult, AppendResult, KvResult } from "../kv/results.ts";
export type { GetAnswer, DeleteResult, ListResult, ListedKey, ListOptions, ListAllOptions } from "./kv-types.ts";
export { EtcdClient, type EtcdClientOptions } from "./etcd-client.ts";
export { EtcdError, GrpcCode } from "./etcd-errors.ts";
export { cmp, op, type CompareOperator } from "./etcd-txn.ts";
export { prefixEnd } from "./etcd-bytes.ts";
export { KeyValue } from "./etcd-types.ts";
export type {
  BytesInput,
  LeaseId,
  SortOrder,
  SortTarget,
  CompareResult,
  CompareTarget,
  RangeRequest,
  PutRequest,
  DeleteRangeRequest,
  Compare,
  RequestOp,
  TxnRequest,
  CompactionRequest,
  ResponseHeader,
  RangeResponse,
  PutResponse,
  DeleteRangeResponse,
  ResponseOp,
  TxnResponse,
  CompactionResponse,
} from "./etcd-types.ts";
