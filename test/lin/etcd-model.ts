// etcd 3.4's key/value store as a small sequential model, for the revision checker
// (revisions.ts). Written apart from src/kv/etcd/ on purpose, as kv-model.ts is apart from
// src/kv/store.ts: the checker must not inherit a bug of the store it judges. The randomized
// tests generate histories with the real store and judge them with this model, so each
// cross-checks the other.
//
// What it knows of etcd (apply.go, mvcc/kvstore_txn.go):
//  - one revision counter; a put, a delete that deletes something, or a txn that writes
//    anything moves it by one (a whole txn is one revision); anything else leaves it;
//  - each key has create_revision, mod_revision and version; a delete ends the key's life and
//    a put after it starts again at version 1;
//  - a range answers the live keys of [key, range_end) (etcd's "\0" forms too) at the current
//    or a given older revision; `count` counts them all before the min/max filters; `limit`
//    cuts after filtering and sorting and sets `more`; a sort target other than KEY with no
//    order sorts ascending, but only the first limit + 1 keys (etcd's quirk); the header
//    revision is always the store's current one;
//  - a txn evaluates the compares of itself and of the nested txns on its taken path against
//    the store as it was, then runs the taken branches in order; reads inside see the txn's
//    own writes so far, at revision begin+1 once something changed;
//  - inner answers carry the headers etcd gives them (put: the new revision; delete and range:
//    begin+1 once something changed, else begin; a nested txn: none).
// What it leaves out: compaction (a read below it is an error, and errors are not in a
// history), lease expiry, and the request checks made before Raft (a workload issues valid
// requests; an invalid one is refused and so is not in the history).

import type { Compare, RequestOp, ResponseOp } from "../../src/kv/etcd/types.ts";

/** A request as a history holds it: one of etcd's four KV requests (not the empty `none`). */
export type EtcdRequest = Exclude<RequestOp, { kind: "none" }>;
export type EtcdResponse = ResponseOp;

/** One version of a key, keys and values as binary strings (one char per byte: JS order is byte order). */
export interface ModelKv {
  readonly key: string;
  readonly create: number;
  readonly mod: number;
  readonly version: number;
  readonly value: string;
  readonly lease: number;
}

/** An answer in the model's terms; `revision` null is a nested txn's empty header. */
export type AnswerView =
  | { kind: "range"; revision: number | null; kvs: ModelKv[]; more: boolean; count: number }
  | { kind: "put"; revision: number | null; prevKv: ModelKv | null }
  | { kind: "deleteRange"; revision: number | null; deleted: number; prevKvs: ModelKv[] }
  | { kind: "txn"; revision: number | null; succeeded: boolean; responses: AnswerView[] };

export type ModelOutcome =
  | { readonly refused: string }
  | { readonly refused?: undefined; readonly answer: AnswerView; readonly wrote: boolean; readonly changed: readonly string[] };

/** Bytes as a binary string. */
export function bin(b: Uint8Array): string {
  if (b.length <= 1024) return String.fromCharCode.apply(null, b as unknown as number[]); // one call: keys and values are short
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** The keys a request names: `end` null is the one key, "" every key ≥ start (etcd's "\0"). */
export interface ModelRange {
  readonly start: string;
  readonly end: string | null;
}

export function toModelRange(key: Uint8Array, rangeEnd: Uint8Array): ModelRange {
  const end = bin(rangeEnd);
  return { start: bin(key), end: end === "" ? null : end === "\0" ? "" : end };
}

interface Entry {
  readonly mod: number;
  /** null: a tombstone (the key was deleted at `mod`). */
  readonly kv: ModelKv | null;
}

/** One request's pass over the store (etcd's storeTxnWrite). */
interface Pass {
  readonly begin: number;
  changes: number;
  changed: string[];
}

const readRevision = (p: Pass) => (p.changes > 0 ? p.begin + 1 : p.begin);

export class EtcdModel {
  private rev: number;
  private readonly entries = new Map<string, Entry[]>();
  /** Every key ever written, ascending. */
  private readonly keys: string[] = [];
  /** For undo: the keys each revision wrote, newest last. */
  private readonly written: string[][] = [];

  /** etcd starts an empty store at revision 1 (the first write is revision 2). */
  constructor(initialRevision = 1) {
    this.rev = initialRevision;
  }

  get revision(): number {
    return this.rev;
  }

  /** The key's version at revision `at`, null when absent then. */
  get(key: string, at: number): ModelKv | null {
    const list = this.entries.get(key);
    if (list === undefined) return null;
    let lo = 0;
    let hi = list.length; // first entry with mod > at
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.mod <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? null : list[lo - 1]!.kv;
  }

  /** The live keys of `range` at revision `at`, ascending. */
  live(range: ModelRange, at: number): ModelKv[] {
    if (range.end === null) {
      const kv = this.get(range.start, at);
      return kv === null ? [] : [kv];
    }
    const out: ModelKv[] = [];
    for (let i = lowerBound(this.keys, range.start); i < this.keys.length; i++) {
      const key = this.keys[i]!;
      if (range.end !== "" && key >= range.end) break;
      const kv = this.get(key, at);
      if (kv !== null) out.push(kv);
    }
    return out;
  }

  /** Runs one request as its own revision (or none if it writes nothing). A refusal changes nothing. */
  execute(req: EtcdRequest): ModelOutcome {
    const pass: Pass = { begin: this.rev, changes: 0, changed: [] };
    if (req.kind === "txn") {
      const path = this.txnPath(req.txn, pass.begin);
      const refusal = this.checkTaken(req.txn, path.slice(), pass.begin);
      if (refusal !== null) return { refused: refusal };
    } else if (req.kind === "put") {
      const refusal = this.checkPut(req.put, pass.begin);
      if (refusal !== null) return { refused: refusal };
    } else if (req.kind === "range" && req.range.revision > pass.begin) {
      return { refused: `revision ${req.range.revision} is in the future (store at ${pass.begin})` };
    }
    const answer = this.run(req, pass);
    if (pass.changes > 0) {
      this.rev = pass.begin + 1;
      this.written.push(pass.changed);
    }
    return { answer, wrote: pass.changes > 0, changed: pass.changed };
  }

  /**
   * A revision whose writes are not known (the certain replay's stand-in for a guess): the
   * counter moves and nothing is written; the caller treats the keys it may have changed as unknown.
   */
  skip(): void {
    this.rev++;
    this.written.push([]);
  }

  /** Sets what `key` holds from the current revision on (null: absent), learnt from an answer, without a new revision. */
  force(key: string, kv: ModelKv | null): void {
    let list = this.entries.get(key);
    if (list === undefined) {
      list = [];
      this.entries.set(key, list);
      this.keys.splice(lowerBound(this.keys, key), 0, key);
    }
    list.push({ mod: this.rev, kv });
  }

  /** Takes back the newest revision's writes. */
  undo(): void {
    const keys = this.written.pop();
    if (keys === undefined) throw new Error("undo: nothing written");
    for (const key of keys) {
      const list = this.entries.get(key)!;
      while (list.length > 0 && list[list.length - 1]!.mod === this.rev) list.pop();
    }
    this.rev--;
  }

  private run(req: EtcdRequest, pass: Pass): AnswerView {
    switch (req.kind) {
      case "range":
        return this.range(req.range, pass);
      case "put":
        return this.put(req.put, pass);
      case "deleteRange":
        return this.deleteRange(req.deleteRange, pass);
      case "txn":
        return this.runBranch(req.txn, this.txnPath(req.txn, pass.begin), pass, true);
    }
  }

  private range(r: Extract<EtcdRequest, { kind: "range" }>["range"], pass: Pass): AnswerView {
    const current = readRevision(pass);
    const at = r.revision > 0 ? r.revision : current;
    const all = this.live(toModelRange(r.key, r.rangeEnd), at);
    // etcd decides whether to fetch everything on the request's sort_order, before a non-KEY
    // target turns NONE into ascending: so NONE with limit n sorts only the first n + 1 keys.
    const filtered = r.minModRevision !== 0 || r.maxModRevision !== 0 || r.minCreateRevision !== 0 || r.maxCreateRevision !== 0;
    const fetched = r.limit > 0 && r.sortOrder === ORDER_NONE && !filtered ? all.slice(0, r.limit + 1) : all;
    let kvs = r.countOnly
      ? []
      : fetched.filter(
          (kv) =>
            (r.minModRevision === 0 || kv.mod >= r.minModRevision) &&
            (r.maxModRevision === 0 || kv.mod <= r.maxModRevision) &&
            (r.minCreateRevision === 0 || kv.create >= r.minCreateRevision) &&
            (r.maxCreateRevision === 0 || kv.create <= r.maxCreateRevision),
        );
    const order = r.sortTarget !== SORT_KEY && r.sortOrder === ORDER_NONE ? ORDER_ASCEND : r.sortOrder;
    if (order !== ORDER_NONE) {
      const by = sortField(r.sortTarget);
      // Ties keep key order here; etcd's unstable sort may not, and the comparison allows it.
      kvs = [...kvs].sort((a, b) => (order === ORDER_DESCEND ? -1 : 1) * compareFields(by(a), by(b)));
    }
    const more = r.limit > 0 && kvs.length > r.limit;
    if (more) kvs = kvs.slice(0, r.limit);
    if (r.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: "" }));
    return { kind: "range", revision: current, kvs, more, count: all.length };
  }

  private put(p: Extract<EtcdRequest, { kind: "put" }>["put"], pass: Pass): AnswerView {
    const key = bin(p.key);
    const prev = this.get(key, readRevision(pass));
    const rev = pass.begin + 1;
    this.write(key, pass, {
      key,
      create: prev === null ? rev : prev.create,
      mod: rev,
      version: prev === null ? 1 : prev.version + 1,
      value: p.ignoreValue ? prev!.value : bin(p.value),
      lease: p.ignoreLease ? prev!.lease : p.lease,
    });
    return { kind: "put", revision: rev, prevKv: p.prevKv ? prev : null };
  }

  private deleteRange(d: Extract<EtcdRequest, { kind: "deleteRange" }>["deleteRange"], pass: Pass): AnswerView {
    const victims = this.live(toModelRange(d.key, d.rangeEnd), readRevision(pass));
    for (const kv of victims) this.write(kv.key, pass, null);
    return { kind: "deleteRange", revision: readRevision(pass), deleted: victims.length, prevKvs: d.prevKv ? victims : [] };
  }

  private write(key: string, pass: Pass, kv: ModelKv | null): void {
    let list = this.entries.get(key);
    if (list === undefined) {
      list = [];
      this.entries.set(key, list);
      this.keys.splice(lowerBound(this.keys, key), 0, key);
    }
    list.push({ mod: pass.begin + 1, kv });
    pass.changes++;
    pass.changed.push(key);
  }

  /** Compare outcomes of the txn and its nested txns on the taken path, depth first, all against `at`. */
  private txnPath(t: Extract<EtcdRequest, { kind: "txn" }>["txn"], at: number): boolean[] {
    const ok = t.compare.every((c) => this.compare(c, at));
    const path = [ok];
    for (const op of ok ? t.success : t.failure) if (op.kind === "txn") path.push(...this.txnPath(op.txn, at));
    return path;
  }

  /** etcd's refusals once the path is known: ignore_value/ignore_lease on a missing key, a future range. */
  private checkTaken(t: Extract<EtcdRequest, { kind: "txn" }>["txn"], path: boolean[], at: number): string | null {
    const ok = path.shift()!;
    for (const op of ok ? t.success : t.failure) {
      const refusal =
        op.kind === "put"
          ? this.checkPut(op.put, at)
          : op.kind === "range" && op.range.revision > at
            ? `revision ${op.range.revision} is in the future (store at ${at})`
            : op.kind === "txn"
              ? this.checkTaken(op.txn, path, at)
              : null;
      if (refusal !== null) return refusal;
    }
    return null;
  }

  private checkPut(p: Extract<EtcdRequest, { kind: "put" }>["put"], at: number): string | null {
    if ((p.ignoreValue || p.ignoreLease) && this.get(bin(p.key), at) === null) return `key ${JSON.stringify(bin(p.key))} not found`;
    return null;
  }

  private runBranch(t: Extract<EtcdRequest, { kind: "txn" }>["txn"], path: boolean[], pass: Pass, top: boolean): AnswerView {
    const succeeded = path.shift()!;
    const responses: AnswerView[] = [];
    for (const op of succeeded ? t.success : t.failure) {
      if (op.kind === "none") continue;
      responses.push(op.kind === "txn" ? this.runBranch(op.txn, path, pass, false) : this.run(op, pass));
    }
    return { kind: "txn", revision: top ? readRevision(pass) : null, succeeded, responses };
  }

  /** apply.go applyCompare: every key of the range must pass; no key compares as a zero version, except VALUE. */
  private compare(c: Compare, at: number): boolean {
    const kvs = this.live(toModelRange(c.key, c.rangeEnd), at);
    if (kvs.length === 0) return c.target === TARGET_VALUE ? false : this.compareOne(c, ZERO);
    return kvs.every((kv) => this.compareOne(c, kv));
  }

  private compareOne(c: Compare, kv: ModelKv): boolean {
    let d: number;
    if (c.target === TARGET_VALUE) {
      const operand = c.operand?.field === "value" ? bin(c.operand.value) : "";
      d = compareFields(kv.value, operand);
    } else {
      const field = NUMERIC_OPERAND[c.target];
      const operand = c.operand !== null && c.operand.field === field ? (c.operand.value as number) : 0;
      const mine = c.target === TARGET_VERSION ? kv.version : c.target === TARGET_CREATE ? kv.create : c.target === TARGET_MOD ? kv.mod : kv.lease;
      d = mine - operand;
    }
    switch (c.result) {
      case RESULT_EQUAL:
        return d === 0;
      case RESULT_GREATER:
        return d > 0;
      case RESULT_LESS:
        return d < 0;
      case RESULT_NOT_EQUAL:
        return d !== 0;
      default:
        return true;
    }
  }
}

// etcd's enum numbers (rpc.proto), spelled out here rather than imported: the model stands alone.
const ORDER_NONE = 0;
const ORDER_ASCEND = 1;
const ORDER_DESCEND = 2;
export const SORT_KEY = 0;
const TARGET_VERSION = 0;
const TARGET_CREATE = 1;
const TARGET_MOD = 2;
const TARGET_VALUE = 3;
const RESULT_EQUAL = 0;
const RESULT_GREATER = 1;
const RESULT_LESS = 2;
const RESULT_NOT_EQUAL = 3;
const NUMERIC_OPERAND: Record<number, string> = { 0: "version", 1: "create_revision", 2: "mod_revision", 4: "lease" };
const ZERO: ModelKv = { key: "", create: 0, mod: 0, version: 0, value: "", lease: 0 };

/** The field a range sorts by (sort_target: KEY, VERSION, CREATE, MOD, VALUE). */
export function sortField(target: number): (kv: ModelKv) => string | number {
  switch (target) {
    case 1:
      return (kv) => kv.version;
    case 2:
      return (kv) => kv.create;
    case 3:
      return (kv) => kv.mod;
    case 4:
      return (kv) => kv.value;
    default:
      return (kv) => kv.key;
  }
}

function compareFields(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
