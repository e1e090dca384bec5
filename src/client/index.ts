// The typed client library of the key/value service.
export { KvClient, type KvClientOptions, type CallOptions, type FetchLike } from "./kv-client.ts";
export { KvError, type KvErrorDetails } from "./errors.ts";
export type { GetResult, PutResult, CasResult, AppendResult, KvResult } from "../kv/results.ts";
