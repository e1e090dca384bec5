// Shorthands for writing a txn, in the spirit of etcd's clientv3 (`Compare(Version(k), "=", 0)`,
// `OpPut(k, v)`): each returns the plain Compare or RequestOp object of etcd-types.ts, which
// can also be written out by hand.
//
//   etcd.txn({
//     compare: [cmp.version("lock", "=", 0)],
//     success: [op.put("lock", "me")],
//     failure: [op.range("lock")],
//   });

import type { BytesInput, Compare, CompareResult, DeleteRangeRequest, LeaseId, PutRequest, RangeRequest, RequestOp, TxnRequest } from "./etcd-types.ts";

/** "=" EQUAL, "!=" NOT_EQUAL, ">" GREATER, "<" LESS. */
export type CompareOperator = "=" | "!=" | ">" | "<";

const RESULT: Record<CompareOperator, CompareResult> = { "=": "EQUAL", "!=": "NOT_EQUAL", ">": "GREATER", "<": "LESS" };

function on(key: BytesInput, operator: CompareOperator, rangeEnd: BytesInput | undefined) {
  const result = RESULT[operator];
  if (result === undefined) throw new RangeError(`compare operator must be one of = != > <, not ${JSON.stringify(operator)}`);
  return { key, result, ...(rangeEnd === undefined ? {} : { rangeEnd }) };
}

/** Compares on a key (or, with `rangeEnd`, on every key of [key, rangeEnd)). */
export const cmp = {
  version: (key: BytesInput, operator: CompareOperator, version: number, rangeEnd?: BytesInput): Compare => ({ ...on(key, operator, rangeEnd), target: "VERSION", version }),
  create: (key: BytesInput, operator: CompareOperator, createRevision: number, rangeEnd?: BytesInput): Compare => ({ ...on(key, operator, rangeEnd), target: "CREATE", createRevision }),
  mod: (key: BytesInput, operator: CompareOperator, modRevision: number, rangeEnd?: BytesInput): Compare => ({ ...on(key, operator, rangeEnd), target: "MOD", modRevision }),
  value: (key: BytesInput, operator: CompareOperator, value: BytesInput, rangeEnd?: BytesInput): Compare => ({ ...on(key, operator, rangeEnd), target: "VALUE", value }),
  lease: (key: BytesInput, operator: CompareOperator, lease: LeaseId, rangeEnd?: BytesInput): Compare => ({ ...on(key, operator, rangeEnd), target: "LEASE", lease }),
};

/** The operations of a txn's success and failure lists. */
export const op = {
  range: (key: BytesInput, more: Omit<RangeRequest, "key"> = {}): RequestOp => ({ range: { ...more, key } }),
  put: (key: BytesInput, value: BytesInput, more: Omit<PutRequest, "key" | "value"> = {}): RequestOp => ({ put: { ...more, key, value } }),
  delete: (key: BytesInput, more: Omit<DeleteRangeRequest, "key"> = {}): RequestOp => ({ deleteRange: { ...more, key } }),
  txn: (txn: TxnRequest): RequestOp => ({ txn }),
};
