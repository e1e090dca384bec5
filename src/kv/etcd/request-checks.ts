// The checks etcd's gRPC layer makes before a request reaches Raft (api/v3rpc/key.go):
// empty keys, ignore_value/ignore_lease with a value/lease, txn size (nested txns share the
// budget), ops with no request. Duplicate writes in a txn are txn-intervals.ts.

import { errEmptyKey, errKeyNotFound, errLeaseProvided, errTooManyOps, errValueProvided } from "./errors.ts";
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from "./types.ts";

/** etcd's default --max-txn-ops. */
export const MAX_TXN_OPS = 128;

export function checkRangeRequest(r: RangeRequest): void {
  if (r.key.length === 0) throw errEmptyKey();
}

export function checkDeleteRequest(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw errEmptyKey();
}

export function checkPutRequest(r: PutRequest): void {
  if (r.key.length === 0) throw errEmptyKey();
  if (r.ignoreValue && r.value.length !== 0) throw errValueProvided();
  if (r.ignoreLease && r.lease !== 0) throw errLeaseProvided();
}

export function checkTxnRequest(r: TxnRequest, maxTxnOps: number = MAX_TXN_OPS): void {
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opc > maxTxnOps) throw errTooManyOps();
  for (const c of r.compare) if (c.key.length === 0) throw errEmptyKey();
  for (const op of r.success) checkRequestOp(op, maxTxnOps - opc);
  for (const op of r.failure) checkRequestOp(op, maxTxnOps - opc);
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): void {
  switch (op.kind) {
    case "range":
      return checkRangeRequest(op.range);
    case "put":
      return checkPutRequest(op.put);
    case "deleteRange":
      return checkDeleteRequest(op.deleteRange);
    case "txn":
      return checkTxnRequest(op.txn, maxTxnOps);
    case "none":
      throw errKeyNotFound();
  }
}
