// Answers of etcd requests in the revision checker's terms: an etcd response turned into the
// model's view (etcd-model.ts), the first difference between two answers as a readable path
// ("responses[1].range.kvs[0].version: the model says 2, the answer says 3"), and one-line
// descriptions of requests for reports.

import type { KeyValue, ResponseOp } from "../../src/kv/etcd/types.ts";
import { type AnswerView, bin, type EtcdRequest, type ModelKv, SORT_KEY, sortField } from "./etcd-model.ts";

export function kvView(kv: KeyValue): ModelKv {
  return { key: bin(kv.key), create: kv.createRevision, mod: kv.modRevision, version: kv.version, value: bin(kv.value), lease: kv.lease };
}

/** An etcd response as the model would write it. */
export function toView(resp: ResponseOp): AnswerView {
  switch (resp.kind) {
    case "range": {
      const r = resp.range;
      return { kind: "range", revision: r.header.revision, kvs: r.kvs.map(kvView), more: r.more, count: r.count };
    }
    case "put":
      return { kind: "put", revision: resp.put.header.revision, prevKv: resp.put.prevKv === null ? null : kvView(resp.put.prevKv) };
    case "deleteRange": {
      const d = resp.deleteRange;
      return { kind: "deleteRange", revision: d.header.revision, deleted: d.deleted, prevKvs: d.prevKvs.map(kvView) };
    }
    case "txn":
      return { kind: "txn", revision: resp.txn.header.revision, succeeded: resp.txn.succeeded, responses: resp.txn.responses.map(toView) };
  }
}

/** The first place where `actual` differs from the model's `expected` answer to `req`, or null. */
export function answerDifference(req: EtcdRequest, expected: AnswerView, actual: AnswerView): string | null {
  return differ(req, expected, actual, "");
}

function differ(req: EtcdRequest, e: AnswerView, a: AnswerView, path: string): string | null {
  const at = (field: string) => (path === "" ? field : `${path}.${field}`);
  if (e.kind !== a.kind) return `${at("kind")}: the model answers a ${e.kind}, the answer is a ${a.kind}`;
  // The fields first, the header last: a write the model makes and the answer did not is told
  // better by "deleted: 1 / 0" than by the revision it moved.
  return fieldDifference(req, e, a, path) ?? (e.revision !== a.revision ? mismatch(at("header.revision"), e.revision, a.revision) : null);
}

function fieldDifference(req: EtcdRequest, e: AnswerView, a: AnswerView, path: string): string | null {
  const at = (field: string) => (path === "" ? field : `${path}.${field}`);
  switch (e.kind) {
    case "range": {
      const x = a as typeof e;
      if (e.count !== x.count) return mismatch(at("count"), e.count, x.count);
      if (e.more !== x.more) return mismatch(at("more"), e.more, x.more);
      if (e.kvs.length !== x.kvs.length) return mismatch(at("kvs.length"), e.kvs.length, x.kvs.length);
      const r = req.kind === "range" ? req.range : null;
      if (r !== null && r.sortTarget !== SORT_KEY) return sameUpToTies(e.kvs, x.kvs, sortField(r.sortTarget), at("kvs"));
      return sameKvs(e.kvs, x.kvs, at("kvs"));
    }
    case "put": {
      const x = a as typeof e;
      if (e.prevKv === null || x.prevKv === null) return e.prevKv === x.prevKv ? null : mismatch(at("prev_kv"), show(e.prevKv), show(x.prevKv));
      return kvDifference(e.prevKv, x.prevKv, at("prev_kv"));
    }
    case "deleteRange": {
      const x = a as typeof e;
      if (e.deleted !== x.deleted) return mismatch(at("deleted"), e.deleted, x.deleted);
      if (e.prevKvs.length !== x.prevKvs.length) return mismatch(at("prev_kvs.length"), e.prevKvs.length, x.prevKvs.length);
      return sameKvs(e.prevKvs, x.prevKvs, at("prev_kvs"));
    }
    case "txn": {
      const x = a as typeof e;
      if (e.succeeded !== x.succeeded) return mismatch(at("succeeded"), e.succeeded, x.succeeded);
      if (e.responses.length !== x.responses.length) return mismatch(at("responses.length"), e.responses.length, x.responses.length);
      const t = req.kind === "txn" ? req.txn : null;
      const ops = t === null ? [] : (e.succeeded ? t.success : t.failure).filter((op) => op.kind !== "none");
      for (let i = 0; i < e.responses.length; i++) {
        const sub = ops[i] as EtcdRequest | undefined;
        const d = differ(sub ?? req, e.responses[i]!, x.responses[i]!, at(`responses[${i}]`));
        if (d !== null) return d;
      }
      return null;
    }
  }
}

function sameKvs(e: readonly ModelKv[], a: readonly ModelKv[], path: string): string | null {
  for (let i = 0; i < e.length; i++) {
    const d = kvDifference(e[i]!, a[i]!, `${path}[${i}]`);
    if (d !== null) return d;
  }
  return null;
}

/**
 * A range sorted by something other than the key: etcd's unstable sort may order ties in its
 * own way, so the sorted field must match place by place and each returned key must be the
 * model's version of that key, once. With a limit, the ties at the cut may be other keys than
 * the model's: any key the model has with the same sort value is accepted there.
 */
function sameUpToTies(e: readonly ModelKv[], a: readonly ModelKv[], by: (kv: ModelKv) => string | number, path: string): string | null {
  const byKey = new Map(e.map((kv) => [kv.key, kv]));
  const seen = new Set<string>();
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    if (by(e[i]!) !== by(x)) return mismatch(`${path}[${i}] sort field`, by(e[i]!), by(x));
    if (seen.has(x.key)) return `${path}[${i}]: key ${JSON.stringify(x.key)} appears twice`;
    seen.add(x.key);
    const mine = byKey.get(x.key);
    if (mine !== undefined) {
      const d = kvDifference(mine, x, `${path}[${i}]`);
      if (d !== null) return d;
    } else if (!(i === e.length - 1 || by(e[e.length - 1]!) === by(x))) {
      return `${path}[${i}]: key ${JSON.stringify(x.key)} is not in the model's answer`;
    }
  }
  return null;
}

function kvDifference(e: ModelKv, a: ModelKv, path: string): string | null {
  if (e.key !== a.key) return mismatch(`${path}.key`, e.key, a.key);
  if (e.value !== a.value) return mismatch(`${path}.value (key ${JSON.stringify(e.key)})`, e.value, a.value);
  if (e.version !== a.version) return mismatch(`${path}.version (key ${JSON.stringify(e.key)})`, e.version, a.version);
  if (e.create !== a.create) return mismatch(`${path}.create_revision (key ${JSON.stringify(e.key)})`, e.create, a.create);
  if (e.mod !== a.mod) return mismatch(`${path}.mod_revision (key ${JSON.stringify(e.key)})`, e.mod, a.mod);
  if (e.lease !== a.lease) return mismatch(`${path}.lease (key ${JSON.stringify(e.key)})`, e.lease, a.lease);
  return null;
}

function mismatch(path: string, expected: unknown, actual: unknown): string {
  return `${path}: the model says ${JSON.stringify(expected)}, the answer says ${JSON.stringify(actual)}`;
}

export function show(kv: ModelKv | null): string {
  return kv === null ? "(absent)" : `${JSON.stringify(kv.key)}=${JSON.stringify(kv.value)} (create ${kv.create}, mod ${kv.mod}, version ${kv.version})`;
}

/** A request in one line: put("x", "v1"), range(["a", "c"), rev 5, limit 2), txn(if … then … else …). */
export function describeRequest(req: EtcdRequest): string {
  switch (req.kind) {
    case "range": {
      const r = req.range;
      const opts = [
        r.revision !== 0 ? `rev ${r.revision}` : "",
        r.limit !== 0 ? `limit ${r.limit}` : "",
        r.serializable ? "serializable" : "",
        r.keysOnly ? "keys_only" : "",
        r.countOnly ? "count_only" : "",
        r.sortOrder !== 0 || r.sortTarget !== 0 ? `sort ${r.sortTarget}/${r.sortOrder}` : "",
        r.minModRevision || r.maxModRevision ? `mod ${r.minModRevision}..${r.maxModRevision}` : "",
        r.minCreateRevision || r.maxCreateRevision ? `create ${r.minCreateRevision}..${r.maxCreateRevision}` : "",
      ].filter((s) => s !== "");
      return `range(${keys(r.key, r.rangeEnd)}${opts.length > 0 ? ", " + opts.join(", ") : ""})`;
    }
    case "put": {
      const p = req.put;
      const value = p.ignoreValue ? "(ignore_value)" : JSON.stringify(bin(p.value));
      return `put(${JSON.stringify(bin(p.key))}, ${value}${p.prevKv ? ", prev_kv" : ""})`;
    }
    case "deleteRange":
      return `delete(${keys(req.deleteRange.key, req.deleteRange.rangeEnd)}${req.deleteRange.prevKv ? ", prev_kv" : ""})`;
    case "txn": {
      const t = req.txn;
      const list = (ops: typeof t.success) => ops.map((op) => (op.kind === "none" ? "none" : describeRequest(op))).join("; ");
      const compares = t.compare.map((c) => `${JSON.stringify(bin(c.key))} ${["version", "create", "mod", "value", "lease"][c.target] ?? c.target} ${["=", ">", "<", "!="][c.result] ?? c.result} ${c.operand === null ? "0" : JSON.stringify(typeof c.operand.value === "number" ? c.operand.value : bin(c.operand.value))}`);
      return `txn(if [${compares.join(", ")}] then [${list(t.success)}] else [${list(t.failure)}])`;
    }
  }
}

function keys(key: Uint8Array, rangeEnd: Uint8Array): string {
  const end = bin(rangeEnd);
  if (end === "") return JSON.stringify(bin(key));
  if (end === "\0") return `[${JSON.stringify(bin(key))}, ∞)`;
  return `[${JSON.stringify(bin(key))}, ${JSON.stringify(end)})`;
}
