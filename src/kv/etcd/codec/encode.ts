// Answers as etcd 3.4's JSON gateway writes them (jsonpb, OrigName): field names as in the
// proto, zero values omitted, int64 as decimal strings, bytes as base64. The top header gets
// the ids the caller supplies; inner txn headers carry only the revision, a nested txn's none.

import { encodeBase64 } from "../bytes.ts";
import type { EtcdError } from "../errors.ts";
import type {
  CompactionResponse,
  DeleteRangeResponse,
  Header,
  KeyValue,
  PutResponse,
  RangeResponse,
  ResponseOp,
  TxnResponse,
} from "../types.ts";

/** What only the server knows: uint64 ids and the term, as decimal strings or numbers. */
export interface HeaderIds {
  clusterId: string | number | bigint;
  memberId: string | number | bigint;
  raftTerm: string | number | bigint;
}

type Json = Record<string, unknown>;

/** Sets `name` to the int64 `n` as a string unless it is zero (jsonpb omits zero values). */
function putInt(out: Json, name: string, n: number | string | bigint): void {
  const text = String(n);
  if (text !== "0") out[name] = text;
}

export function topHeader(h: Header, ids: HeaderIds): Json {
  const out: Json = {};
  putInt(out, "cluster_id", ids.clusterId);
  putInt(out, "member_id", ids.memberId);
  putInt(out, "revision", h.revision ?? 0);
  putInt(out, "raft_term", ids.raftTerm);
  return out;
}

function innerHeader(h: Header): Json {
  const out: Json = {};
  putInt(out, "revision", h.revision ?? 0);
  return out;
}

export function encodeKeyValue(kv: KeyValue): Json {
  const out: Json = {};
  if (kv.key.length > 0) out.key = encodeBase64(kv.key);
  putInt(out, "create_revision", kv.createRevision);
  putInt(out, "mod_revision", kv.modRevision);
  putInt(out, "version", kv.version);
  if (kv.value.length > 0) out.value = encodeBase64(kv.value);
  putInt(out, "lease", kv.lease);
  return out;
}

function rangeBody(r: RangeResponse, header: Json): Json {
  const out: Json = { header };
  if (r.kvs.length > 0) out.kvs = r.kvs.map(encodeKeyValue);
  if (r.more) out.more = true;
  putInt(out, "count", r.count);
  return out;
}

function putBody(r: PutResponse, header: Json): Json {
  const out: Json = { header };
  if (r.prevKv !== null) out.prev_kv = encodeKeyValue(r.prevKv);
  return out;
}

function deleteBody(r: DeleteRangeResponse, header: Json): Json {
  const out: Json = { header };
  putInt(out, "deleted", r.deleted);
  if (r.prevKvs.length > 0) out.prev_kvs = r.prevKvs.map(encodeKeyValue);
  return out;
}

function txnBody(r: TxnResponse, header: Json): Json {
  const out: Json = { header };
  if (r.succeeded) out.succeeded = true;
  if (r.responses.length > 0) out.responses = r.responses.map(responseOp);
  return out;
}

function responseOp(op: ResponseOp): Json {
  switch (op.kind) {
    case "range":
      return { response_range: rangeBody(op.range, innerHeader(op.range.header)) };
    case "put":
      return { response_put: putBody(op.put, innerHeader(op.put.header)) };
    case "deleteRange":
      return { response_delete_range: deleteBody(op.deleteRange, innerHeader(op.deleteRange.header)) };
    case "txn":
      return { response_txn: txnBody(op.txn, innerHeader(op.txn.header)) };
  }
}

export const encodeRange = (r: RangeResponse, ids: HeaderIds) => rangeBody(r, topHeader(r.header, ids));
export const encodePut = (r: PutResponse, ids: HeaderIds) => putBody(r, topHeader(r.header, ids));
export const encodeDeleteRange = (r: DeleteRangeResponse, ids: HeaderIds) => deleteBody(r, topHeader(r.header, ids));
export const encodeTxn = (r: TxnResponse, ids: HeaderIds) => txnBody(r, topHeader(r.header, ids));
export const encodeCompaction = (r: CompactionResponse, ids: HeaderIds) => ({ header: topHeader(r.header, ids) });

/** The gateway's error body: the same text twice and the gRPC code. */
export function encodeError(e: EtcdError): Json {
  return { error: e.message, message: e.message, code: e.grpcCode };
}
