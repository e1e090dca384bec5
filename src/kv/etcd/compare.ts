// A txn's compares as etcd 3.4 evaluates them (apply.go applyCompare / compareKV): every key in
// the compare's range must pass; no key at all compares as a zero KeyValue, except a VALUE
// compare, which then fails. The operand is the oneof field the request set: a VERSION compare
// given a mod_revision compares against 0, as in etcd.

import { compareBytes, EMPTY } from "./bytes.ts";
import { toKeyRange } from "./key-range.ts";
import type { WriteTxn } from "./write-txn.ts";
import { CompareResult, CompareTarget, type Compare, type KeyValue } from "./types.ts";

const ZERO_KV: KeyValue = { key: EMPTY, createRevision: 0, modRevision: 0, version: 0, value: EMPTY, lease: 0 };

export function applyCompares(txn: WriteTxn, compares: readonly Compare[]): boolean {
  return compares.every((c) => applyCompare(txn, c));
}

function applyCompare(txn: WriteTxn, c: Compare): boolean {
  let kvs: KeyValue[];
  try {
    kvs = txn.range(toKeyRange(c.key, c.rangeEnd), { limit: 0, rev: 0, count: false }).kvs;
  } catch {
    return false;
  }
  if (kvs.length === 0) return c.target === CompareTarget.VALUE ? false : compareKV(c, ZERO_KV);
  return kvs.every((kv) => compareKV(c, kv));
}

function compareKV(c: Compare, kv: KeyValue): boolean {
  const result = sign(targetDifference(c, kv));
  switch (c.result) {
    case CompareResult.EQUAL:
      return result === 0;
    case CompareResult.NOT_EQUAL:
      return result !== 0;
    case CompareResult.GREATER:
      return result > 0;
    case CompareResult.LESS:
      return result < 0;
    default:
      return true;
  }
}

function targetDifference(c: Compare, kv: KeyValue): number {
  const operand = (field: string): number =>
    c.operand !== null && c.operand.field === field && typeof c.operand.value === "number" ? c.operand.value : 0;
  switch (c.target) {
    case CompareTarget.VALUE:
      return compareBytes(kv.value, c.operand?.field === "value" ? c.operand.value : EMPTY);
    case CompareTarget.CREATE:
      return kv.createRevision - operand("create_revision");
    case CompareTarget.MOD:
      return kv.modRevision - operand("mod_revision");
    case CompareTarget.VERSION:
      return kv.version - operand("version");
    case CompareTarget.LEASE:
      return kv.lease - operand("lease");
    default:
      return 0;
  }
}

const sign = (n: number) => (n > 0 ? 1 : n < 0 ? -1 : 0);
