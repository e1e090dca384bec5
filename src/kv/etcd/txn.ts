// Txn as etcd 3.4's applier runs it (apply.go Txn): first every compare of the txn and of the
// nested txns on the taken path is evaluated against the store as it was (the "txn path"), then
// the taken branches are checked (ignore_value/ignore_lease need a key, a lease must exist, a
// range revision must be readable), and only then applied, all in one WriteTxn: one revision.
// Inner put/range/delete responses carry their own header revision; a nested txn's header is
// empty, as in etcd.

import { errCompacted, errFutureRev, errKeyNotFound, errLeaseNotFound } from "./errors.ts";
import { applyCompares } from "./compare.ts";
import { applyDeleteRange, applyPut } from "./put-delete.ts";
import { applyRange } from "./range.ts";
import type { WriteTxn } from "./write-txn.ts";
import type { RequestOp, ResponseOp, TxnRequest, TxnResponse } from "./types.ts";

export type LeaseExists = (id: number) => boolean;

export function applyTxn(txn: WriteTxn, rt: TxnRequest, leaseExists: LeaseExists): TxnResponse {
  const path = txnPath(txn, rt);
  forEachTaken(rt, path, (reqs) => checkPuts(txn, reqs, leaseExists));
  forEachTaken(rt, path, (reqs) => checkRanges(txn, reqs));
  const resp = runBranch(txn, rt, path.slice());
  resp.header = { revision: txn.end() };
  return resp;
}

/** The compare outcome of this txn, then of each nested txn in the branch taken, depth first. */
function txnPath(txn: WriteTxn, rt: TxnRequest): boolean[] {
  const ok = applyCompares(txn, rt.compare);
  const path = [ok];
  for (const op of ok ? rt.success : rt.failure) {
    if (op.kind === "txn") path.push(...txnPath(txn, op.txn));
  }
  return path;
}

/** Calls `f` with the branch taken at each txn level; answers how many nested txns it walked. */
function forEachTaken(rt: TxnRequest, path: boolean[], f: (reqs: RequestOp[]) => void): number {
  const reqs = path[0] ? rt.success : rt.failure;
  f(reqs);
  let rest = path.slice(1);
  let walked = 0;
  for (const op of reqs) {
    if (op.kind !== "txn") continue;
    const n = forEachTaken(op.txn, rest, f);
    walked += n + 1;
    rest = rest.slice(n + 1);
  }
  return walked;
}

function checkPuts(txn: WriteTxn, reqs: RequestOp[], leaseExists: LeaseExists): void {
  for (const op of reqs) {
    if (op.kind !== "put") continue;
    const p = op.put;
    if (p.ignoreValue || p.ignoreLease) {
      const prev = txn.range({ start: p.key, end: null }, { limit: 0, rev: 0, count: false });
      if (prev.kvs.length === 0) throw errKeyNotFound();
    }
    if (p.lease !== 0 && !leaseExists(p.lease)) throw errLeaseNotFound();
  }
}

function checkRanges(txn: WriteTxn, reqs: RequestOp[]): void {
  for (const op of reqs) {
    if (op.kind !== "range" || op.range.revision === 0) continue;
    if (op.range.revision > txn.rev) throw errFutureRev();
    if (op.range.revision < txn.compactedRev) throw errCompacted();
  }
}

/** Applies the branch taken; consumes this level's and its nested txns' entries of `path`. */
function runBranch(txn: WriteTxn, rt: TxnRequest, path: boolean[]): TxnResponse {
  const succeeded = path.shift()!;
  const responses: ResponseOp[] = [];
  for (const op of succeeded ? rt.success : rt.failure) {
    switch (op.kind) {
      case "range":
        responses.push({ kind: "range", range: applyRange(txn, op.range) });
        break;
      case "put":
        responses.push({ kind: "put", put: applyPut(txn, op.put) });
        break;
      case "deleteRange":
        responses.push({ kind: "deleteRange", deleteRange: applyDeleteRange(txn, op.deleteRange) });
        break;
      case "txn":
        responses.push({ kind: "txn", txn: runBranch(txn, op.txn, path) });
        break;
      case "none":
        break;
    }
  }
  return { header: { revision: null }, succeeded, responses };
}
