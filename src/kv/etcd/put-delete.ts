// Put and DeleteRange as etcd 3.4's applier runs them (apply.go), inside a WriteTxn.

import { errKeyNotFound } from "./errors.ts";
import { toKeyRange } from "./key-range.ts";
import type { WriteTxn } from "./write-txn.ts";
import type { DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse } from "./types.ts";

const noLimit = { limit: 0, rev: 0, count: false };

/** ignore_value / ignore_lease take the previous version's, and so need one (etcd: key not found). */
export function applyPut(txn: WriteTxn, p: PutRequest): PutResponse {
  let value = p.value;
  let lease = p.lease;
  const needsPrev = p.ignoreValue || p.ignoreLease || p.prevKv;
  const prev = needsPrev ? txn.range({ start: p.key, end: null }, noLimit).kvs[0] : undefined;
  if ((p.ignoreValue || p.ignoreLease) && prev === undefined) throw errKeyNotFound();
  if (p.ignoreValue) value = prev!.value;
  if (p.ignoreLease) lease = prev!.lease;
  const revision = txn.put(p.key, value, lease);
  return { header: { revision }, prevKv: p.prevKv && prev !== undefined ? prev : null };
}

export function applyDeleteRange(txn: WriteTxn, d: DeleteRangeRequest): DeleteRangeResponse {
  const range = toKeyRange(d.key, d.rangeEnd);
  const prevKvs = d.prevKv ? txn.range(range, noLimit).kvs : [];
  const { deleted, rev } = txn.deleteRange(range);
  return { header: { revision: rev }, deleted, prevKvs };
}
