// One etcd JSON gateway call, start to finish and pure: the path under the gateway root
// ("/v3/kv/put"), the decoded JSON body, the header ids → HTTP status and JSON answer, as
// etcd 3.4 answers it. The routes and the Raft log come in a later step; this is what they
// will call once an entry is applied.

import { EtcdError } from "./errors.ts";
import type { EtcdKv } from "./kv.ts";
import {
  encodeCompaction,
  encodeDeleteRange,
  encodeError,
  encodePut,
  encodeRange,
  encodeTxn,
  type HeaderIds,
} from "./codec/encode.ts";
import { decodeBody } from "./codec/body.ts";
import {
  CompactionRequestSchema,
  DeleteRangeRequestSchema,
  parseRequest,
  PutRequestSchema,
  RangeRequestSchema,
  TxnRequestSchema,
} from "./codec/parse.ts";

export interface GatewayAnswer {
  status: number;
  body: unknown;
}

export const KV_PATHS = ["/v3/kv/range", "/v3/kv/put", "/v3/kv/deleterange", "/v3/kv/txn", "/v3/kv/compaction"] as const;
export type KvPath = (typeof KV_PATHS)[number];

export const isKvPath = (path: string): path is KvPath => (KV_PATHS as readonly string[]).includes(path);

/** As handleKv, from the body's text as it arrived (etcd's decoder: first JSON value, Go's errors). */
export function handleKvText(kv: EtcdKv, path: KvPath, text: string, ids: HeaderIds): GatewayAnswer {
  let body: unknown;
  try {
    body = decodeBody(text);
  } catch (e) {
    if (e instanceof EtcdError) return { status: e.httpStatus, body: encodeError(e) };
    throw e;
  }
  return handleKv(kv, path, body, ids);
}

export function handleKv(kv: EtcdKv, path: KvPath, body: unknown, ids: HeaderIds): GatewayAnswer {
  try {
    return { status: 200, body: dispatch(kv, path, body, ids) };
  } catch (e) {
    if (e instanceof EtcdError) return { status: e.httpStatus, body: encodeError(e) };
    throw e;
  }
}

function dispatch(kv: EtcdKv, path: KvPath, body: unknown, ids: HeaderIds): unknown {
  switch (path) {
    case "/v3/kv/range":
      return encodeRange(kv.range(parseRequest(RangeRequestSchema, body)), ids);
    case "/v3/kv/put":
      return encodePut(kv.put(parseRequest(PutRequestSchema, body)), ids);
    case "/v3/kv/deleterange":
      return encodeDeleteRange(kv.deleteRange(parseRequest(DeleteRangeRequestSchema, body)), ids);
    case "/v3/kv/txn":
      return encodeTxn(kv.txn(parseRequest(TxnRequestSchema, body)), ids);
    case "/v3/kv/compaction":
      return encodeCompaction(kv.compact(parseRequest(CompactionRequestSchema, body)), ids);
  }
}
