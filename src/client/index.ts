// The typed client library of the key/value service.
export { KvClient, type KvClientOptions, type CallOptions, type FetchLike, type WriteIds } from "./kv-client.ts";
export { KvError, type KvErrorDetails } from "./errors.ts";
export type { GetResult, PutResult, CasResult, AppendResult, KvResult } from "../kv/results.ts";
export type { DeleteResult, ListResult, ListedKey, ListOptions, ListAllOptions } from "./kv-types.ts";
