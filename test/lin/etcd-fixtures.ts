// A small vocabulary for writing etcd histories by hand (revisions.test.ts) and for building
// requests in the generator (etcd-generate.ts). Keys and values are plain strings:
//   at(0, 0, 1, put("x", "v1"), putOk(2))                       — put x=v1, created revision 2
//   at(1, 2, 3, range("x"), rangeOk(2, [kv("x", "v1", 2, 2, 1)])) — read it at revision 2
//   lost(2, 4, del("x"))                                         — a delete whose answer never came

import type {
  Compare,
  DeleteRangeRequest,
  KeyValue,
  PutRequest,
  RangeRequest,
  RequestOp,
  ResponseOp,
  TxnRequest,
} from "../../src/kv/etcd/types.ts";
import type { EtcdRequest } from "./etcd-model.ts";
import type { EtcdOperation } from "./revisions.ts";

/** A string as bytes, one byte per char (binary strings: what the model uses too). */
export function b(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

export function kv(key: string, value: string, create: number, mod: number, version: number, lease = 0): KeyValue {
  return { key: b(key), value: b(value), createRevision: create, modRevision: mod, version, lease };
}

// --- requests ----------------------------------------------------------------------------

export function rangeRequest(key: string, rangeEnd = "", options: Partial<RangeRequest> = {}): RangeRequest {
  return {
    key: b(key),
    rangeEnd: b(rangeEnd),
    limit: 0,
    revision: 0,
    sortOrder: 0,
    sortTarget: 0,
    serializable: false,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0,
    maxModRevision: 0,
    minCreateRevision: 0,
    maxCreateRevision: 0,
    ...options,
  };
}

/** range(key) reads one key; range(key, end) reads [key, end); end "\0" means every key ≥ key. */
export const range = (key: string, rangeEnd = "", options: Partial<RangeRequest> = {}): EtcdRequest => ({
  kind: "range",
  range: rangeRequest(key, rangeEnd, options),
});

export function putRequest(key: string, value: string, options: Partial<PutRequest> = {}): PutRequest {
  return { key: b(key), value: b(value), lease: 0, prevKv: false, ignoreValue: false, ignoreLease: false, ...options };
}

export const put = (key: string, value: string, options: Partial<PutRequest> = {}): EtcdRequest => ({
  kind: "put",
  put: putRequest(key, value, options),
});

export function deleteRequest(key: string, rangeEnd = "", prevKv = false): DeleteRangeRequest {
  return { key: b(key), rangeEnd: b(rangeEnd), prevKv };
}

export const del = (key: string, rangeEnd = "", prevKv = false): EtcdRequest => ({
  kind: "deleteRange",
  deleteRange: deleteRequest(key, rangeEnd, prevKv),
});

const TARGETS = { version: 0, create: 1, mod: 2, value: 3, lease: 4 } as const;
const RESULTS = { "=": 0, ">": 1, "<": 2, "!=": 3 } as const;
const OPERAND_FIELD = { version: "version", create: "create_revision", mod: "mod_revision", lease: "lease" } as const;

/** A compare: cmp("x", "version", "=", 0) — "x does not exist". */
export function cmp(key: string, target: keyof typeof TARGETS, result: keyof typeof RESULTS, operand: number | string): Compare {
  return {
    key: b(key),
    rangeEnd: b(""),
    target: TARGETS[target],
    result: RESULTS[result],
    operand: target === "value" ? { field: "value", value: b(String(operand)) } : { field: OPERAND_FIELD[target], value: Number(operand) },
  };
}

export function txnRequest(compare: Compare[], success: EtcdRequest[], failure: EtcdRequest[] = []): TxnRequest {
  return { compare, success: success as RequestOp[], failure: failure as RequestOp[] };
}

export const txn = (compare: Compare[], success: EtcdRequest[], failure: EtcdRequest[] = []): EtcdRequest => ({
  kind: "txn",
  txn: txnRequest(compare, success, failure),
});

// --- answers -----------------------------------------------------------------------------

/** A range answer; count defaults to the number of kvs. `revision` null: inside a txn that leaves it out (never for ranges in etcd). */
export function rangeOk(revision: number, kvs: KeyValue[], options: { count?: number; more?: boolean } = {}): ResponseOp {
  return { kind: "range", range: { header: { revision }, kvs, more: options.more ?? false, count: options.count ?? kvs.length } };
}

export function putOk(revision: number, prevKv: KeyValue | null = null): ResponseOp {
  return { kind: "put", put: { header: { revision }, prevKv } };
}

export function delOk(revision: number, deleted: number, prevKvs: KeyValue[] = []): ResponseOp {
  return { kind: "deleteRange", deleteRange: { header: { revision }, deleted, prevKvs } };
}

/** A txn answer; nested txns have an empty header (`revision` null), as in etcd. */
export function txnOk(revision: number | null, succeeded: boolean, responses: ResponseOp[]): ResponseOp {
  return { kind: "txn", txn: { header: { revision }, succeeded, responses } };
}

// --- operations --------------------------------------------------------------------------

export function at(clientId: number, call: number, ret: number, input: EtcdRequest, output: ResponseOp): EtcdOperation {
  return { clientId, call, ret, input, output };
}

/** An operation whose outcome is unknown: called at `call`, never answered. */
export function lost(clientId: number, call: number, input: EtcdRequest): EtcdOperation {
  return { clientId, call, ret: Infinity, input, output: undefined };
}
