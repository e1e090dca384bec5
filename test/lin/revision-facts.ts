// What the revision checker reads out of a history before it replays anything: which answers
// are writes and at which revision, the key versions every answer shows (sightings), the puts
// the answers prove, and the indexes both replays (revision-certain.ts, revision-search.ts)
// look things up in. Pure functions of the history.

import { type AnswerView, bin, type EtcdRequest, type ModelKv, type ModelRange, toModelRange } from "./etcd-model.ts";
import type { EtcdOperation } from "./revisions.ts";

/** One answered operation, as the answer describes it. */
export interface Answered {
  readonly index: number;
  readonly view: AnswerView;
  /** The revision it created (a write) or saw (anything else). */
  readonly revision: number;
  readonly wrote: boolean;
  /** A serializable range: its answer must be some true state, but not a recent one. */
  readonly relaxed: boolean;
}

/** Something an answer shows: key `kv.key` had version `kv` in the state at revision `at`. */
export interface Sighting {
  readonly kv: ModelKv;
  readonly at: number;
  /** false for keys_only answers: the value is not shown. */
  readonly hasValue: boolean;
  readonly op: number;
}

export function mayWrite(req: EtcdRequest): boolean {
  if (req.kind === "put" || req.kind === "deleteRange") return true;
  if (req.kind === "range") return false;
  return [...req.txn.success, ...req.txn.failure].some((op) => op.kind !== "none" && mayWrite(op));
}

export function viewWrote(view: AnswerView): boolean {
  switch (view.kind) {
    case "put":
      return true;
    case "deleteRange":
      return view.deleted > 0;
    case "range":
      return false;
    case "txn":
      return view.responses.some(viewWrote);
  }
}

type PutRequest = Extract<EtcdRequest, { kind: "put" }>["put"];

export function forEachPut(req: EtcdRequest, f: (p: PutRequest) => unknown): void {
  if (req.kind === "put") f(req.put);
  else if (req.kind === "txn") for (const op of [...req.txn.success, ...req.txn.failure]) if (op.kind !== "none") forEachPut(op, f);
}

/** Which operation put each value. Values must be unique (the empty value aside): a value then names its write. */
export function indexValues(history: readonly EtcdOperation[]): Map<string, number> {
  const writer = new Map<string, number>();
  history.forEach((op, i) =>
    forEachPut(op.input, (p) => {
      if (p.ignoreValue || p.value.length === 0) return;
      const value = bin(p.value);
      const other = writer.get(value);
      if (other !== undefined && other !== i) {
        throw new RangeError(`operations ${other} and ${i} both put the value ${JSON.stringify(value)}: the check needs unique values`);
      }
      writer.set(value, i);
    }),
  );
  return writer;
}

/**
 * The key versions an answer shows, each with the revision whose state it is: a read's own
 * revision (or its `revision` for a read of the past); a write's state before it (its
 * revision − 1), for its prev_kv and for the reads inside a txn (which also see the txn's own
 * writes: those show the txn's revision as mod_revision).
 */
export function collectSightings(req: EtcdRequest, a: Answered, out: Sighting[]): void {
  const before = a.wrote ? a.revision - 1 : a.revision;
  const add = (kv: ModelKv, at: number, hasValue: boolean) => out.push({ kv, at: Math.max(at, Math.min(kv.mod, a.revision)), hasValue, op: a.index });
  const walk = (r: EtcdRequest, v: AnswerView) => {
    if (r.kind !== v.kind) return; // a wrong shape: the replay reports it
    if (v.kind === "range" && r.kind === "range") {
      const at = r.range.revision > 0 ? r.range.revision : before;
      for (const kv of v.kvs) add(kv, Math.min(at, before), !r.range.keysOnly);
    } else if (v.kind === "put" && v.prevKv !== null) add(v.prevKv, before, true);
    else if (v.kind === "deleteRange") for (const kv of v.prevKvs) add(kv, before, true);
    else if (v.kind === "txn" && r.kind === "txn") {
      const ops = (v.succeeded ? r.txn.success : r.txn.failure).filter((op) => op.kind !== "none") as EtcdRequest[];
      v.responses.forEach((sub, i) => ops[i] !== undefined && walk(ops[i]!, sub));
    }
  };
  walk(req, a.view);
}

export function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Per key, the revisions of the puts the answers prove: an answered write's puts in the branches it took, a pinned plain put. */
export function collectCertainPuts(history: readonly EtcdOperation[], answered: ReadonlyMap<number, Answered>, pinned: ReadonlyMap<number, number>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const add = (key: string, r: number) => {
    const list = out.get(key);
    if (list === undefined) out.set(key, [r]);
    else list.push(r);
  };
  const walk = (req: EtcdRequest, view: AnswerView, r: number) => {
    if (req.kind === "put" && view.kind === "put") add(bin(req.put.key), r);
    else if (req.kind === "txn" && view.kind === "txn") {
      const ops = (view.succeeded ? req.txn.success : req.txn.failure).filter((op) => op.kind !== "none") as EtcdRequest[];
      view.responses.forEach((sub, i) => ops[i] !== undefined && walk(ops[i]!, sub, r));
    }
  };
  for (const a of answered.values()) if (a.wrote) walk(history[a.index]!.input, a.view, a.revision);
  for (const [i, r] of pinned) {
    const req = history[i]!.input;
    if (req.kind === "put") add(bin(req.put.key), r);
  }
  for (const list of out.values()) list.sort((x, y) => x - y);
  return out;
}

/** Per key, its sightings ordered by the revision seen, with the smallest mod_revision from each one on. */
export interface KeySightings {
  readonly at: readonly number[];
  readonly kvs: readonly ModelKv[];
  readonly minModFrom: readonly number[];
  /** The operation whose answer each sighting is, and the one that shows minModFrom. */
  readonly ops: readonly number[];
  readonly minModOp: readonly number[];
}

/** Everything the replays need, computed once. */
export interface Facts {
  readonly history: readonly EtcdOperation[];
  readonly answered: ReadonlyMap<number, Answered>;
  /** The write that created each revision: answered, or of unknown outcome and pinned by a value seen. */
  readonly writerAt: ReadonlyMap<number, number>;
  /** Unknown-outcome writes pinned at the revision their value was seen at. */
  readonly pinned: ReadonlyMap<number, number>;
  /** Unknown-outcome writes seen applied on a key with ignore_value puts: applied at or before this revision. */
  readonly latest: ReadonlyMap<number, number>;
  /** Every write of unknown outcome (pinned or not). */
  readonly unknownWrites: readonly number[];
  /** The revision before the history, and the newest any answer shows. */
  readonly base: number;
  readonly last: number;
  /** Answered operations that wrote nothing, by the revision whose state they saw. */
  readonly observersAt: ReadonlyMap<number, readonly number[]>;
  /** For each revision g, the earliest return of an answered linearizable operation that saw g or later. */
  readonly earliestReturnFrom: Float64Array;
  readonly seen: ReadonlyMap<string, KeySightings>;
  /** Per key, the revisions at which an answered (or pinned) write certainly put it, ascending. */
  readonly certainPuts: ReadonlyMap<string, readonly number[]>;
  /** Every key any put of the history names, ascending: no other key can ever exist. */
  readonly universe: readonly string[];
  /**
   * openUpTo[x]: how many revisions in (base, x] may have put any key without an answer saying
   * so (a gap, or a pinned write that is not a plain put): the room left for puts not proven.
   */
  readonly openUpTo: Int32Array;
  /** Per key, the revisions answers show it absent at (ascending), and the operation that shows each. */
  readonly absent: ReadonlyMap<string, { readonly at: readonly number[]; readonly ops: readonly number[] }>;
  /**
   * Per key, the revisions whose known writer may delete it (its request deletes a range that
   * holds the key), ascending. With the gaps (gapUpTo), where a key can end.
   */
  readonly mayDelete: ReadonlyMap<string, readonly number[]>;
  /** gapUpTo[x]: how many revisions in (base, x] no answered or pinned write made. */
  readonly gapUpTo: Int32Array;
  /** The keys answers show created or modified at each revision (with an operation that shows it): its writer must change them. */
  readonly changedAt: ReadonlyMap<number, ReadonlyMap<string, number>>;
  /** What the answers show of single keys in the state at each revision (null: absent), for the certain replay to learn from. */
  readonly statesAt: ReadonlyMap<number, ReadonlyArray<{ readonly key: string; readonly kv: ModelKv | null; readonly op: number }>>;
  readonly describeOp: (i: number) => string;
}

export type FactsInput = Omit<
  Facts,
  "observersAt" | "earliestReturnFrom" | "seen" | "certainPuts" | "universe" | "statesAt" | "changedAt" | "openUpTo" | "absent" | "mayDelete" | "gapUpTo"
> & { readonly sightings: readonly Sighting[] };

export function indexFacts(input: FactsInput): Facts {
  const { history, answered, pinned, last } = input;
  const observersAt = new Map<number, number[]>();
  for (const a of answered.values()) {
    if (a.wrote) continue;
    const list = observersAt.get(a.revision);
    if (list === undefined) observersAt.set(a.revision, [a.index]);
    else list.push(a.index);
  }
  const byKey = new Map<string, Sighting[]>();
  for (const s of input.sightings) {
    const list = byKey.get(s.kv.key) ?? [];
    list.push(s);
    byKey.set(s.kv.key, list);
  }
  const seen = new Map<string, KeySightings>();
  for (const [key, list] of byKey) {
    list.sort((x, y) => x.at - y.at);
    const minModFrom = list.map((x) => x.kv.mod);
    const minModOp = list.map((x) => x.op);
    for (let i = minModFrom.length - 2; i >= 0; i--) {
      if (minModFrom[i + 1]! < minModFrom[i]!) {
        minModFrom[i] = minModFrom[i + 1]!;
        minModOp[i] = minModOp[i + 1]!;
      }
    }
    seen.set(key, { at: list.map((x) => x.at), kvs: list.map((x) => x.kv), minModFrom, ops: list.map((x) => x.op), minModOp });
  }
  const earliestReturnFrom = new Float64Array(last + 2).fill(Infinity);
  for (const a of answered.values()) {
    if (a.relaxed || a.revision > last) continue;
    const ret = history[a.index]!.ret;
    if (ret < earliestReturnFrom[a.revision]!) earliestReturnFrom[a.revision] = ret;
  }
  for (let g = last - 1; g >= 0; g--) earliestReturnFrom[g] = Math.min(earliestReturnFrom[g]!, earliestReturnFrom[g + 1]!);
  const keys = new Set<string>();
  for (const op of history) forEachPut(op.input, (p) => keys.add(bin(p.key)));
  const universe = [...keys].sort();
  const statesAt = new Map<number, Array<{ key: string; kv: ModelKv | null; op: number }>>();
  const learn = (at: number, key: string, kv: ModelKv | null, op: number) => {
    const list = statesAt.get(at);
    if (list === undefined) statesAt.set(at, [{ key, kv, op }]);
    else list.push({ key, kv, op });
  };
  for (const s of input.sightings) if (s.hasValue) learn(s.at, s.kv.key, s.kv, s.op);
  for (const a of answered.values()) collectAbsences(history[a.index]!.input, a, universe, (at, key) => learn(at, key, null, a.index));
  const changedAt = new Map<number, Map<string, number>>();
  for (const s of input.sightings) {
    for (const r of [s.kv.create, s.kv.mod]) {
      const keys = changedAt.get(r);
      if (keys === undefined) changedAt.set(r, new Map([[s.kv.key, s.op]]));
      else keys.set(s.kv.key, s.op);
    }
  }
  const { sightings: _, ...rest } = input;
  const openUpTo = new Int32Array(last + 2);
  const gapUpTo = new Int32Array(last + 2);
  const mayDelete = new Map<string, number[]>();
  for (let r = input.base + 1; r <= last + 1; r++) {
    const w = input.writerAt.get(r);
    const gap = r <= last && w === undefined;
    const open = gap || (r <= last && pinned.has(w!) && history[w!]!.input.kind !== "put");
    openUpTo[r] = openUpTo[r - 1]! + (open ? 1 : 0);
    gapUpTo[r] = gapUpTo[r - 1]! + (gap ? 1 : 0);
    if (w !== undefined) for (const key of deletedKeys(universe, history[w]!.input)) mayDelete.set(key, [...(mayDelete.get(key) ?? []), r]);
  }
  const absent = new Map<string, { at: number[]; ops: number[] }>();
  for (const [at, list] of [...statesAt].sort((x, y) => x[0] - y[0])) {
    for (const { key, kv, op } of list) {
      if (kv !== null) continue;
      const entry = absent.get(key) ?? { at: [], ops: [] };
      entry.at.push(at);
      entry.ops.push(op);
      absent.set(key, entry);
    }
  }
  return {
    ...rest,
    observersAt,
    earliestReturnFrom,
    seen,
    certainPuts: collectCertainPuts(history, answered, pinned),
    universe,
    statesAt,
    changedAt,
    openUpTo,
    absent,
    mayDelete,
    gapUpTo,
  };
}

/** The keys of `universe` a request's deletes (every branch) may remove. */
function deletedKeys(universe: readonly string[], req: EtcdRequest): string[] {
  if (req.kind === "deleteRange") return keysIn(universe, toModelRange(req.deleteRange.key, req.deleteRange.rangeEnd));
  if (req.kind !== "txn") return [];
  return [...req.txn.success, ...req.txn.failure].flatMap((op) => (op.kind === "none" ? [] : deletedKeys(universe, op)));
}

/**
 * The keys an answer shows absent, with the revision of that state: a put's null prev_kv and
 * the keys of a delete's range missing from its prev_kvs (the state before the write), the
 * keys of a read's range missing from a full answer (no limit, filter, count_only or
 * keys_only). Reads inside a txn that writes are left out: they see the txn's own deletes.
 */
function collectAbsences(req: EtcdRequest, a: Answered, universe: readonly string[], out: (at: number, key: string) => void): void {
  const before = a.wrote ? a.revision - 1 : a.revision;
  const walk = (r: EtcdRequest, v: AnswerView) => {
    if (r.kind === "put" && v.kind === "put") {
      if (r.put.prevKv && v.prevKv === null) out(before, bin(r.put.key));
    } else if (r.kind === "deleteRange" && v.kind === "deleteRange") {
      if (!r.deleteRange.prevKv) return;
      const shown = new Set(v.prevKvs.map((kv) => kv.key));
      for (const key of keysIn(universe, toModelRange(r.deleteRange.key, r.deleteRange.rangeEnd))) if (!shown.has(key)) out(before, key);
    } else if (r.kind === "range" && v.kind === "range") {
      const q = r.range;
      if (a.wrote || q.limit !== 0 || q.countOnly || q.keysOnly || q.minModRevision || q.maxModRevision || q.minCreateRevision || q.maxCreateRevision) return;
      const shown = new Set(v.kvs.map((kv) => kv.key));
      const at = q.revision > 0 ? q.revision : before;
      for (const key of keysIn(universe, toModelRange(q.key, q.rangeEnd))) if (!shown.has(key)) out(at, key);
    } else if (r.kind === "txn" && v.kind === "txn") {
      const ops = (v.succeeded ? r.txn.success : r.txn.failure).filter((op) => op.kind !== "none") as EtcdRequest[];
      v.responses.forEach((sub, i) => ops[i] !== undefined && walk(ops[i]!, sub));
    }
  };
  walk(req, a.view);
}

/** The keys of `universe` in `range`. */
export function keysIn(universe: readonly string[], range: ModelRange): string[] {
  const first = lowerBoundString(universe, range.start);
  if (range.end === null) return universe[first] === range.start ? [range.start] : [];
  const out: string[] = [];
  for (let i = first; i < universe.length; i++) {
    const key = universe[i]!;
    if (range.end !== "" && key >= range.end) break;
    out.push(key);
  }
  return out;
}

function lowerBoundString(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The keys a request may write (every branch of a txn) and the keys it may look at, each
 * with the revision of the state it reads there (`now`, or a range's own `revision`).
 */
export function keysOf(universe: readonly string[], req: EtcdRequest, now: number): { writes: string[]; reads: Array<{ key: string; at: number }> } {
  const writes: string[] = [];
  const reads: Array<{ key: string; at: number }> = [];
  const walk = (r: EtcdRequest) => {
    switch (r.kind) {
      case "range": {
        const at = r.range.revision > 0 ? r.range.revision : now;
        for (const key of keysIn(universe, toModelRange(r.range.key, r.range.rangeEnd))) reads.push({ key, at });
        return;
      }
      case "put":
        writes.push(bin(r.put.key));
        reads.push({ key: bin(r.put.key), at: now });
        return;
      case "deleteRange":
        for (const key of keysIn(universe, toModelRange(r.deleteRange.key, r.deleteRange.rangeEnd))) {
          writes.push(key);
          reads.push({ key, at: now });
        }
        return;
      case "txn":
        for (const c of r.txn.compare) for (const key of keysIn(universe, toModelRange(c.key, c.rangeEnd))) reads.push({ key, at: now });
        for (const op of [...r.txn.success, ...r.txn.failure]) if (op.kind !== "none") walk(op);
        return;
    }
  };
  walk(req);
  return { writes, reads };
}
