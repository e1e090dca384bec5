// EtcdClient's requests as etcd 3.4's JSON gateway reads them, and its answers back as typed
// values (etcd-types.ts says what each side looks like).
//
// Requests: proto field names (`range_end`, `prev_kv`), bytes in base64, int64 as decimal
// strings, enums by name; a field the caller left out is not sent (etcd reads it as zero).
// Answers: the gateway leaves out every zero value, so an absent field is its zero here. A
// field of the wrong type, or a counter past 2^53 - 1, throws: the transport turns that into
// a "bad_response" error rather than hand back a wrong number.

import { fromBase64, toBase64, toBytes } from "./etcd-bytes.ts";
import {
  KeyValue,
  type BytesInput,
  type CompactionRequest,
  type CompactionResponse,
  type Compare,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type LeaseId,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseHeader,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from "./etcd-types.ts";

type Json = Record<string, unknown>;

// ---- requests ---------------------------------------------------------------------------

const bytes = (b: BytesInput): string => toBase64(toBytes(b));

function int64(n: number, field: string): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${field} must be a safe integer, not ${n}`);
  return String(n);
}

function leaseId(id: LeaseId): string {
  if (typeof id === "bigint") return id.toString();
  if (typeof id === "number") return int64(id, "lease");
  if (!/^-?\d{1,19}$/.test(id)) throw new RangeError(`lease must be a decimal int64, not ${JSON.stringify(id)}`);
  return id;
}

/** Copies the fields the caller set, each through its encoder, under its proto name. */
function fields<T extends object>(input: T, encoders: { [K in keyof T]-?: readonly [string, (v: NonNullable<T[K]>, field: string) => unknown] }): Json {
  const out: Json = {};
  for (const name of Object.keys(encoders) as (keyof T & string)[]) {
    const value = input[name];
    if (value === undefined) continue;
    const [protoName, encode] = encoders[name];
    out[protoName] = encode(value as NonNullable<T[typeof name]>, name);
  }
  return out;
}

const asIs = <V>(v: V): V => v;
const key = ["key", bytes] as const;
const rangeEnd = ["range_end", bytes] as const;
const int = (proto: string) => [proto, int64] as const;

export function encodeRange(r: RangeRequest): Json {
  return fields(r, {
    key,
    rangeEnd,
    limit: int("limit"),
    revision: int("revision"),
    sortOrder: ["sort_order", asIs],
    sortTarget: ["sort_target", asIs],
    serializable: ["serializable", asIs],
    keysOnly: ["keys_only", asIs],
    countOnly: ["count_only", asIs],
    minModRevision: int("min_mod_revision"),
    maxModRevision: int("max_mod_revision"),
    minCreateRevision: int("min_create_revision"),
    maxCreateRevision: int("max_create_revision"),
  });
}

export function encodePut(p: PutRequest): Json {
  return fields(p, {
    key,
    value: ["value", bytes],
    lease: ["lease", leaseId],
    prevKv: ["prev_kv", asIs],
    ignoreValue: ["ignore_value", asIs],
    ignoreLease: ["ignore_lease", asIs],
  });
}

export function encodeDeleteRange(d: DeleteRangeRequest): Json {
  return fields(d, { key, rangeEnd, prevKv: ["prev_kv", asIs] });
}

function encodeCompare(c: Compare): Json {
  const out: Json = { result: c.result, target: c.target, key: bytes(c.key) };
  if (c.rangeEnd !== undefined) out.range_end = bytes(c.rangeEnd);
  switch (c.target) {
    case "VERSION":
      out.version = int64(c.version, "version");
      break;
    case "CREATE":
      out.create_revision = int64(c.createRevision, "createRevision");
      break;
    case "MOD":
      out.mod_revision = int64(c.modRevision, "modRevision");
      break;
    case "VALUE":
      out.value = bytes(c.value);
      break;
    case "LEASE":
      out.lease = leaseId(c.lease);
      break;
  }
  return out;
}

function encodeRequestOp(op: RequestOp): Json {
  if ("range" in op) return { request_range: encodeRange(op.range) };
  if ("put" in op) return { request_put: encodePut(op.put) };
  if ("deleteRange" in op) return { request_delete_range: encodeDeleteRange(op.deleteRange) };
  if ("txn" in op) return { request_txn: encodeTxn(op.txn) };
  throw new TypeError(`a txn operation is {range}, {put}, {deleteRange} or {txn}, not ${JSON.stringify(op)}`);
}

export function encodeTxn(t: TxnRequest): Json {
  const out: Json = {};
  if (t.compare !== undefined) out.compare = t.compare.map(encodeCompare);
  if (t.success !== undefined) out.success = t.success.map(encodeRequestOp);
  if (t.failure !== undefined) out.failure = t.failure.map(encodeRequestOp);
  return out;
}

export function encodeCompaction(c: CompactionRequest): Json {
  return fields(c, { revision: int("revision"), physical: ["physical", asIs] });
}

// ---- answers ----------------------------------------------------------------------------

function object(v: unknown, path: string): Json {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw new Error(`${path} is not an object`);
  return v as Json;
}

function list(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`${path} is not an array`);
  return v;
}

/** An int64 the gateway wrote as a decimal string (a number is taken too), as a JS number. */
function count(v: unknown, path: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : typeof v === "number" ? v : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`${path} = ${JSON.stringify(v)} is not an integer a JS number holds exactly (|n| < 2^53)`);
  return n;
}

/** A uint64/int64 id, kept exact as a decimal string. */
function id(v: unknown, path: string): string {
  if (v === undefined || v === null) return "0";
  if (typeof v === "string" && /^-?\d+$/.test(v)) return v;
  if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
  throw new Error(`${path} = ${JSON.stringify(v)} is not a decimal id`);
}

function flag(v: unknown, path: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw new Error(`${path} is not a boolean`);
  return v;
}

function data(v: unknown, path: string): Uint8Array {
  if (v === undefined || v === null) return new Uint8Array(0);
  if (typeof v !== "string") throw new Error(`${path} is not a base64 string`);
  try {
    return fromBase64(v);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}

function decodeHeader(v: unknown, path: string): ResponseHeader {
  const h = object(v, path);
  return {
    clusterId: id(h.cluster_id, `${path}.cluster_id`),
    memberId: id(h.member_id, `${path}.member_id`),
    revision: count(h.revision, `${path}.revision`),
    raftTerm: count(h.raft_term, `${path}.raft_term`),
  };
}

export function decodeKeyValue(v: unknown, path: string): KeyValue {
  const kv = object(v, path);
  return new KeyValue(
    data(kv.key, `${path}.key`),
    data(kv.value, `${path}.value`),
    count(kv.create_revision, `${path}.create_revision`),
    count(kv.mod_revision, `${path}.mod_revision`),
    count(kv.version, `${path}.version`),
    id(kv.lease, `${path}.lease`),
  );
}

const keyValues = (v: unknown, path: string): KeyValue[] => list(v, path).map((kv, i) => decodeKeyValue(kv, `${path}[${i}]`));

export function decodeRange(v: unknown, path = "answer"): RangeResponse {
  const r = object(v, path);
  return { header: decodeHeader(r.header, `${path}.header`), kvs: keyValues(r.kvs, `${path}.kvs`), more: flag(r.more, `${path}.more`), count: count(r.count, `${path}.count`) };
}

export function decodePut(v: unknown, path = "answer"): PutResponse {
  const r = object(v, path);
  return { header: decodeHeader(r.header, `${path}.header`), prevKv: r.prev_kv == null ? null : decodeKeyValue(r.prev_kv, `${path}.prev_kv`) };
}

export function decodeDeleteRange(v: unknown, path = "answer"): DeleteRangeResponse {
  const r = object(v, path);
  return { header: decodeHeader(r.header, `${path}.header`), deleted: count(r.deleted, `${path}.deleted`), prevKvs: keyValues(r.prev_kvs, `${path}.prev_kvs`) };
}

function decodeResponseOp(v: unknown, path: string): ResponseOp {
  const op = object(v, path);
  if (op.response_range != null) return { kind: "range", range: decodeRange(op.response_range, `${path}.response_range`) };
  if (op.response_put != null) return { kind: "put", put: decodePut(op.response_put, `${path}.response_put`) };
  if (op.response_delete_range != null) return { kind: "deleteRange", deleteRange: decodeDeleteRange(op.response_delete_range, `${path}.response_delete_range`) };
  if (op.response_txn != null) return { kind: "txn", txn: decodeTxn(op.response_txn, `${path}.response_txn`) };
  throw new Error(`${path} has none of response_range, response_put, response_delete_range, response_txn`);
}

export function decodeTxn(v: unknown, path = "answer"): TxnResponse {
  const r = object(v, path);
  return {
    header: decodeHeader(r.header, `${path}.header`),
    succeeded: flag(r.succeeded, `${path}.succeeded`),
    responses: list(r.responses, `${path}.responses`).map((op, i) => decodeResponseOp(op, `${path}.responses[${i}]`)),
  };
}

export function decodeCompaction(v: unknown, path = "answer"): CompactionResponse {
  return { header: decodeHeader(object(v, path).header, `${path}.header`) };
}

/** A whole answer must at least be an object with a header (a 200 of anything else is not etcd's). */
export function requireAnswer(v: unknown): unknown {
  if (typeof v !== "object" || v === null || Array.isArray(v) || typeof (v as Json).header !== "object" || (v as Json).header === null) {
    throw new Error("not an etcd answer (no header)");
  }
  return v;
}
