// A linearizability check for etcd's key/value API that uses the store's revisions, the way
// Jepsen checks etcd: every write gets the next cluster revision and every answer carries the
// store's revision, so the order the store applied things in is written in the answers. No
// search over interleavings is needed, ranges, deletes over ranges and multi-key txns are judged
// as easily as single keys, and the cost is one replay.
//
// The check, for a history of put / deleteRange / range / txn operations (answered, or of
// unknown outcome: ret = ∞):
//  1. The answered writes (a put; a delete that deleted something; a txn whose taken branch
//     did either) name the revision they created: no two may name the same one. A write whose
//     outcome is unknown is known to be applied when a value it wrote shows up in any answer
//     (values must be unique in the workload): it is pinned at the mod_revision that answer
//     shows. A value shown at another mod_revision than the one its writer created means it
//     was written twice.
//  2. Real time: if A completed before B was invoked, rev(A) ≤ rev(B), and < when B writes
//     (a serializable range promises no recency and is left out of this rule).
//  3. The store's history is rebuilt revision by revision from the initial one up to the
//     newest any answer shows, with an independent model (etcd-model.ts): each revision's
//     writer is replayed, and every answer must be exactly the model's: a writer's at its
//     revision, a read's (and a write that wrote nothing) at the revision its header names,
//     a read at an older `revision` against the state at that revision. A revision no answered
//     or pinned write created must have been created by some write of unknown outcome that was
//     invoked before any operation that saw that revision completed: those are tried in turn,
//     with backtracking, which stays cheap because a candidate is dropped at once when a
//     later answer contradicts what it would do to a key: shows the key unchanged across its
//     revision, or alive since before it with a create_revision or a version it cannot give.
//
// Why that is linearizability (and a little more): order the operations by revision, each
// read right after the write of the revision it saw, reads of one revision by real time. Every
// answer is the model's in that order (3), and the order respects real time (2; the candidate
// rule of 3 for the unknown writes placed in gaps). Conversely an etcd-like store that is
// linearizable and numbers its writes as etcd does produces histories that pass. The check
// asks more than linearizability in one way: the revisions the answers name must be the
// store's true order (which is etcd's promise).
//
// The first violation found is reported with the operations and the revision involved.

import { answerDifference, describeRequest, show, toView } from "./etcd-answers.ts";
import { type AnswerView, bin, EtcdModel, type EtcdRequest, type EtcdResponse, type ModelKv } from "./etcd-model.ts";
import type { Operation } from "./model.ts";

export type EtcdOperation = Operation<EtcdRequest, EtcdResponse>;

export type ViolationKind =
  /** Two writes claim one revision. */
  | "duplicate-revision"
  /** A value is shown at a mod_revision its writer did not create (written twice, or a wrong revision). */
  | "value-revision"
  /** A real-time order the revisions contradict. */
  | "real-time"
  /** An answer that is not the model's at its revision. */
  | "answer"
  /** A revision nobody in the history can have written. */
  | "no-writer"
  /** A write of unknown outcome whose value was seen, but which cannot have been applied where it was seen. */
  | "unknown-write";

export interface Violation {
  readonly kind: ViolationKind;
  /** History indices of the operations involved, the one at fault first. */
  readonly ops: readonly number[];
  readonly revision: number | null;
  readonly message: string;
}

export interface RevisionReport {
  readonly verdict: "ok" | "illegal" | "unknown";
  readonly violation: Violation | null;
  /**
   * For "ok": each operation's revision in the witness order (a write: the revision it
   * created; anything else: the revision whose state it saw). Unknown-outcome writes that
   * were never applied are absent.
   */
  readonly revisions: ReadonlyMap<number, number>;
  /** The newest revision any answer shows. */
  readonly lastRevision: number;
  /** Model executions spent (one per replayed operation, plus each candidate tried in a gap). */
  readonly steps: number;
  readonly elapsedMs: number;
}

export interface RevisionCheckOptions {
  /** The store's revision before the history (etcd: 1). */
  readonly initialRevision?: number;
  /** Give up with "unknown" after this many model executions (default 2,000,000). */
  readonly maxSteps?: number;
}

/** One answered operation, as the answer describes it. */
interface Answered {
  readonly index: number;
  readonly view: AnswerView;
  /** The revision it created (a write) or saw (anything else). */
  readonly revision: number;
  readonly wrote: boolean;
  /** A serializable range: its answer must be some true state, but not a recent one. */
  readonly relaxed: boolean;
}

/** Something an answer shows: key `kv.key` had version `kv` in the state at revision `at`. */
interface Sighting {
  readonly kv: ModelKv;
  readonly at: number;
  /** false for keys_only answers: the value is not shown. */
  readonly hasValue: boolean;
  readonly op: number;
}

class Failure {
  constructor(readonly violation: Violation) {}
}

export function checkRevisions(history: readonly EtcdOperation[], options: RevisionCheckOptions = {}): RevisionReport {
  const started = Date.now();
  const base = options.initialRevision ?? 1;
  const maxSteps = options.maxSteps ?? 2_000_000;
  for (const [i, op] of history.entries()) {
    if (!(op.call <= op.ret) || Number.isNaN(op.call) || op.call === Infinity) {
      throw new RangeError(`operation ${i}: call ${op.call} and return ${op.ret} are not an interval`);
    }
  }
  const finish = (verdict: RevisionReport["verdict"], violation: Violation | null, revisions: Map<number, number>, last: number, steps: number) => ({
    verdict,
    violation,
    revisions,
    lastRevision: last,
    steps,
    elapsedMs: Date.now() - started,
  });

  // --- what the answers claim -------------------------------------------------------
  const answered = new Map<number, Answered>();
  const unknownWrites: number[] = [];
  history.forEach((op, index) => {
    if (op.ret === Infinity || op.output === undefined) {
      if (mayWrite(op.input)) unknownWrites.push(index);
      return;
    }
    const view = toView(op.output);
    if (view.revision === null) throw new RangeError(`operation ${index}: the answer has no header revision`);
    answered.set(index, {
      index,
      view,
      revision: view.revision,
      wrote: viewWrote(view),
      relaxed: op.input.kind === "range" && op.input.range.serializable,
    });
  });
  const writerOfValue = indexValues(history);
  const keysWithIgnoreValue = new Set<string>();
  for (const op of history) forEachPut(op.input, (p) => p.ignoreValue && keysWithIgnoreValue.add(bin(p.key)));

  const sightings: Sighting[] = [];
  for (const a of answered.values()) collectSightings(history[a.index]!.input, a, sightings);

  let lastRevision = base;
  for (const a of answered.values()) lastRevision = Math.max(lastRevision, a.revision);
  for (const s of sightings) lastRevision = Math.max(lastRevision, s.kv.mod, s.kv.create, s.at);

  // --- 1. one writer per revision; values where their writers put them ------------------
  const writerAt = new Map<number, number>();
  const pinned = new Map<number, number>(); // unknown-outcome op -> revision its value was seen at
  /** Unknown-outcome writes seen applied on a key with ignore_value puts: applied at or before this revision. */
  const latest = new Map<number, number>();
  const describeOp = (i: number) => describe(history, i, answered.get(i));
  try {
    for (const a of answered.values()) {
      if (!a.wrote) continue;
      if (a.revision <= base) {
        throw violation("answer", [a.index], a.revision, `${describeOp(a.index)} claims to have written revision ${a.revision}, but the store starts at ${base}`);
      }
      const other = writerAt.get(a.revision);
      if (other !== undefined) {
        throw violation("duplicate-revision", [a.index, other], a.revision, `${describeOp(other)} and ${describeOp(a.index)} both claim revision ${a.revision}`);
      }
      writerAt.set(a.revision, a.index);
    }
    for (const s of sightings) {
      if (!s.hasValue || s.kv.value === "") continue;
      const writer = writerOfValue.get(s.kv.value);
      if (writer === undefined) continue; // a value nobody wrote: the replay reports the answer that shows it
      const seen = `${describeOp(s.op)} shows ${show(s.kv)}`;
      const w = answered.get(writer);
      if (keysWithIgnoreValue.has(s.kv.key)) {
        if (w === undefined) latest.set(writer, Math.min(latest.get(writer) ?? Infinity, s.kv.mod));
        continue;
      }
      if (w !== undefined) {
        if (w.wrote && w.revision !== s.kv.mod) {
          throw violation("value-revision", [s.op, writer], s.kv.mod, `${seen}, but ${describeOp(writer)} wrote that value at revision ${w.revision}: written twice, or a wrong mod_revision`);
        }
        continue;
      }
      const at = pinned.get(writer);
      if (at !== undefined && at !== s.kv.mod) {
        throw violation("value-revision", [s.op, writer], s.kv.mod, `${seen}, but another answer shows that value, from ${describeOp(writer)}, at mod_revision ${at}: written twice`);
      }
      if (at === undefined) {
        const other = writerAt.get(s.kv.mod);
        if (other !== undefined) {
          throw violation("duplicate-revision", [writer, other], s.kv.mod, `${seen}, written by ${describeOp(writer)} (outcome unknown), but ${describeOp(other)} claims revision ${s.kv.mod}`);
        }
        if (s.kv.mod <= base) throw violation("value-revision", [s.op, writer], s.kv.mod, `${seen}: no write can create revision ${s.kv.mod} (the store starts at ${base})`);
        pinned.set(writer, s.kv.mod);
        writerAt.set(s.kv.mod, writer);
      }
    }

    // --- 2. real time --------------------------------------------------------------------
    checkRealTime(history, answered, pinned, describeOp);
  } catch (e) {
    if (e instanceof Failure) return finish("illegal", e.violation, new Map(), lastRevision, 0);
    throw e;
  }

  // --- 3. the replay ---------------------------------------------------------------------
  const replay = new Replay(history, answered, sightings, writerAt, pinned, latest, unknownWrites, base, lastRevision, maxSteps, describeOp);
  const outcome = replay.run();
  if (outcome === "budget") return finish("unknown", null, new Map(), lastRevision, replay.steps);
  if (outcome !== null) return finish("illegal", outcome, new Map(), lastRevision, replay.steps);
  return finish("ok", null, replay.witness(), lastRevision, replay.steps);
}

function violation(kind: ViolationKind, ops: number[], revision: number | null, message: string): Failure {
  return new Failure({ kind, ops, revision, message });
}

// --- the replay --------------------------------------------------------------------------

interface Frame {
  readonly revision: number;
  readonly candidates: number[];
  next: number;
}

class Replay {
  steps = 0;
  private readonly model: EtcdModel;
  /** Answered operations that wrote nothing, by the revision whose state they saw. */
  private readonly observersAt = new Map<number, number[]>();
  /** Per key, sightings ordered by the revision seen, with the smallest mod_revision from there on. */
  private readonly seen = new Map<string, { at: number[]; kvs: ModelKv[]; minModFrom: number[] }>();
  /** Per key, the revisions at which an answered (or pinned) write certainly put it, ascending. */
  private readonly certainPuts: Map<string, number[]>;
  /** For each revision g, the earliest return of an answered (linearizable) operation that saw g or later. */
  private readonly earliestReturnFrom: Float64Array;
  /** Unknown-outcome writes placed in gaps, newest last. */
  private readonly placed: Array<{ op: number; revision: number }> = [];
  private readonly isPlaced = new Set<number>();
  private deepest: Violation | null = null;

  constructor(
    private readonly history: readonly EtcdOperation[],
    private readonly answered: ReadonlyMap<number, Answered>,
    sightings: readonly Sighting[],
    private readonly writerAt: ReadonlyMap<number, number>,
    private readonly pinned: ReadonlyMap<number, number>,
    private readonly latest: ReadonlyMap<number, number>,
    private readonly unknownWrites: readonly number[],
    private readonly base: number,
    private readonly last: number,
    private readonly maxSteps: number,
    private readonly describeOp: (i: number) => string,
  ) {
    this.model = new EtcdModel(base);
    for (const a of answered.values()) {
      if (a.wrote) continue;
      const list = this.observersAt.get(a.revision);
      if (list === undefined) this.observersAt.set(a.revision, [a.index]);
      else list.push(a.index);
    }
    const byKey = new Map<string, Sighting[]>();
    for (const s of sightings) {
      const list = byKey.get(s.kv.key) ?? [];
      list.push(s);
      byKey.set(s.kv.key, list);
    }
    for (const [key, list] of byKey) {
      list.sort((x, y) => x.at - y.at);
      const minModFrom = list.map((x) => x.kv.mod);
      for (let i = minModFrom.length - 2; i >= 0; i--) minModFrom[i] = Math.min(minModFrom[i]!, minModFrom[i + 1]!);
      this.seen.set(key, { at: list.map((x) => x.at), kvs: list.map((x) => x.kv), minModFrom });
    }
    this.certainPuts = collectCertainPuts(history, answered, pinned);
    this.earliestReturnFrom = new Float64Array(last + 2).fill(Infinity);
    for (const a of answered.values()) {
      if (a.relaxed || a.revision > last) continue;
      const ret = history[a.index]!.ret;
      if (ret < this.earliestReturnFrom[a.revision]!) this.earliestReturnFrom[a.revision] = ret;
    }
    for (let g = last - 1; g >= 0; g--) this.earliestReturnFrom[g] = Math.min(this.earliestReturnFrom[g]!, this.earliestReturnFrom[g + 1]!);
  }

  /** null: every answer is explained; "budget": out of steps; else the deepest violation met. */
  run(): Violation | null | "budget" {
    const frames: Frame[] = [];
    const early = this.settle(this.base);
    if (early !== null) return early;
    for (let r = this.base + 1; r <= this.last; r++) {
      if (this.steps > this.maxSteps) return "budget";
      let failure: Violation | null;
      const writer = this.writerAt.get(r);
      if (writer !== undefined) failure = this.applyKnown(writer, r);
      else {
        const frame: Frame = { revision: r, candidates: this.candidates(r), next: 0 };
        frames.push(frame);
        failure = this.advance(frame);
      }
      if (failure === null) failure = this.settle(r);
      while (failure !== null) {
        this.note(failure);
        const frame = frames[frames.length - 1];
        if (frame === undefined) return this.deepest;
        if (this.steps > this.maxSteps) return "budget";
        this.rewind(frame.revision - 1);
        failure = this.advance(frame);
        if (failure === null) {
          r = frame.revision;
          failure = this.settle(r);
        } else frames.pop();
      }
    }
    return null;
  }

  witness(): Map<number, number> {
    const out = new Map<number, number>();
    for (const a of this.answered.values()) out.set(a.index, a.revision);
    for (const [op, r] of this.pinned) out.set(op, r);
    for (const p of this.placed) out.set(p.op, p.revision);
    return out;
  }

  /** Replays a write whose revision is known (answered, or pinned by a value seen) as revision `r`. */
  private applyKnown(i: number, r: number): Violation | null {
    this.steps++;
    const op = this.history[i]!;
    const outcome = this.model.execute(op.input);
    const a = this.answered.get(i);
    const state = `in the state at revision ${r - 1}`;
    if (a === undefined) {
      if (outcome.refused !== undefined) return this.unknownWriteFailure(i, r, `${state} the store refuses it (${outcome.refused})`);
      if (!outcome.wrote) return this.unknownWriteFailure(i, r, `${state} it writes nothing`);
      return null;
    }
    if (outcome.refused !== undefined) return { kind: "answer", ops: [i], revision: r, message: `${this.describeOp(i)}: ${state} the store refuses it (${outcome.refused})` };
    if (!outcome.wrote) return { kind: "answer", ops: [i], revision: r, message: `${this.describeOp(i)} answered a write at revision ${r}, but ${state} it writes nothing` };
    const d = answerDifference(op.input, outcome.answer, a.view);
    return d === null ? null : { kind: "answer", ops: [i], revision: r, message: `${this.describeOp(i)}, replayed as revision ${r}: ${d}` };
  }

  private unknownWriteFailure(i: number, r: number, why: string): Violation {
    return { kind: "unknown-write", ops: [i], revision: r, message: `${this.describeOp(i)} (outcome unknown) shows up applied at revision ${r}, but ${why}` };
  }

  /** Checks every answer that saw the state at `r` without writing, and the deadlines of unknown writes seen applied. */
  private settle(r: number): Violation | null {
    for (const i of this.observersAt.get(r) ?? []) {
      this.steps++;
      const op = this.history[i]!;
      const outcome = this.model.execute(op.input);
      if (outcome.refused !== undefined) {
        return { kind: "answer", ops: [i], revision: r, message: `${this.describeOp(i)}: in the state at revision ${r} the store refuses it (${outcome.refused})` };
      }
      if (outcome.wrote) this.model.undo();
      const d = answerDifference(op.input, outcome.answer, this.answered.get(i)!.view);
      if (d !== null) return { kind: "answer", ops: [i], revision: r, message: `${this.describeOp(i)}, against the state at revision ${r}: ${d}` };
    }
    for (const [i, bound] of this.latest) {
      if (bound <= r && !this.isPlaced.has(i) && !this.pinned.has(i)) {
        return this.unknownWriteFailure(i, bound, `no place at or before revision ${bound} fits it`);
      }
    }
    return null;
  }

  /** The unknown-outcome writes that may have created revision `r`, the most recently invoked first. */
  private candidates(r: number): number[] {
    const deadline = this.earliestReturnFrom[r]!;
    const out = this.unknownWrites.filter((i) => !this.isPlaced.has(i) && !this.pinned.has(i) && this.history[i]!.call <= deadline);
    return out.sort((x, y) => this.history[y]!.call - this.history[x]!.call);
  }

  /** Applies the frame's next candidate that writes and that no later answer contradicts at once. */
  private advance(frame: Frame): Violation | null {
    const r = frame.revision;
    while (frame.next < frame.candidates.length) {
      const i = frame.candidates[frame.next++]!;
      this.steps++;
      const outcome = this.model.execute(this.history[i]!.input);
      if (outcome.refused !== undefined || !outcome.wrote) continue;
      if (outcome.changed.some((key) => this.contradicted(key, r))) {
        this.model.undo();
        continue;
      }
      this.placed.push({ op: i, revision: r });
      this.isPlaced.add(i);
      return null;
    }
    return {
      kind: "no-writer",
      ops: [],
      revision: r,
      message:
        `revision ${r} was created by no operation of the history: no answered write claims it, and none of the ` +
        `${frame.candidates.length} writes of unknown outcome invoked early enough fits there (a write applied twice, or one the history lacks?)`,
    };
  }

  /**
   * True when a later answer rules out that `key` changed as the model now has it at revision
   * `r`. A sighting at revision s ≥ r of the key with create c, mod m, version v says: the key
   * did not change in (m, s]; it lived without a break from c to s; and it was put v − 1 times
   * in (c, m]. So: m < r is a contradiction; with c ≤ r the key must now be live with create c
   * and a version that leaves room for the puts the answered writes certainly made in (r, m].
   */
  private contradicted(key: string, r: number): boolean {
    const s = this.seen.get(key);
    if (s === undefined) return false;
    const i = lowerBound(s.at, r);
    if (i === s.at.length) return false;
    if (s.minModFrom[i]! < r) return true;
    const next = s.kvs[i]!;
    if (next.create > r) return false; // a later life of the key: a delete may come between
    const now = this.model.get(key, r);
    if (now === null || now.create !== next.create) return true;
    const puts = this.certainPuts.get(key) ?? [];
    const certain = lowerBound(puts, next.mod + 1) - lowerBound(puts, r + 1);
    return next.version - now.version < certain;
  }

  /** Back to the state at revision `r`: later revisions undone, unknown writes placed there taken back. */
  private rewind(r: number): void {
    while (this.model.revision > r) this.model.undo();
    while (this.placed.length > 0 && this.placed[this.placed.length - 1]!.revision > r) this.isPlaced.delete(this.placed.pop()!.op);
  }

  /** Keeps the violation met furthest into the history: the most telling one when the search fails. */
  private note(v: Violation): void {
    if (this.deepest !== null && (v.revision ?? 0) <= (this.deepest.revision ?? 0)) return;
    // When revisions were filled by guesses, say so: the failure may be a wrong guess's.
    const guesses = this.placed.filter((p) => p.revision < (v.revision ?? Infinity)).map((p) => `${p.revision} by #${p.op}`);
    this.deepest = guesses.length === 0 ? v : { ...v, message: `${v.message} (with revisions filled by writes of unknown outcome: ${guesses.join(", ")}; no other choice got further)` };
  }
}

function lowerBound(sorted: readonly number[], x: number): number {
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
function collectCertainPuts(history: readonly EtcdOperation[], answered: ReadonlyMap<number, Answered>, pinned: ReadonlyMap<number, number>): Map<string, number[]> {
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

// --- real time ---------------------------------------------------------------------------

/** If A completed before B was invoked: rev(A) ≤ rev(B), and < when B writes. Sweeps B by call time. */
function checkRealTime(
  history: readonly EtcdOperation[],
  answered: ReadonlyMap<number, Answered>,
  pinned: ReadonlyMap<number, number>,
  describeOp: (i: number) => string,
): void {
  const before = [...answered.values()].filter((a) => !a.relaxed).sort((x, y) => history[x.index]!.ret - history[y.index]!.ret);
  const after: Array<{ index: number; revision: number; wrote: boolean }> = before.map((a) => ({ index: a.index, revision: a.revision, wrote: a.wrote }));
  for (const [index, revision] of pinned) after.push({ index, revision, wrote: true });
  after.sort((x, y) => history[x.index]!.call - history[y.index]!.call);
  let k = 0;
  let newest: Answered | null = null;
  for (const b of after) {
    const call = history[b.index]!.call;
    while (k < before.length && history[before[k]!.index]!.ret < call) {
      if (newest === null || before[k]!.revision > newest.revision) newest = before[k]!;
      k++;
    }
    if (newest === null) continue;
    if (b.wrote ? newest.revision >= b.revision : newest.revision > b.revision) {
      throw violation(
        "real-time",
        [b.index, newest.index],
        b.revision,
        `${describeOp(newest.index)} completed at ${history[newest.index]!.ret} having seen revision ${newest.revision}, ` +
          `before ${describeOp(b.index)} was invoked at ${call}, which ${b.wrote ? "wrote" : "saw"} revision ${b.revision}`,
      );
    }
  }
}

// --- reading requests and answers ----------------------------------------------------------

function mayWrite(req: EtcdRequest): boolean {
  if (req.kind === "put" || req.kind === "deleteRange") return true;
  if (req.kind === "range") return false;
  return [...req.txn.success, ...req.txn.failure].some((op) => op.kind !== "none" && mayWrite(op));
}

function viewWrote(view: AnswerView): boolean {
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

function forEachPut(req: EtcdRequest, f: (p: PutRequest) => unknown): void {
  if (req.kind === "put") f(req.put);
  else if (req.kind === "txn") for (const op of [...req.txn.success, ...req.txn.failure]) if (op.kind !== "none") forEachPut(op, f);
}

/** Which operation put each value. Values must be unique (the empty value aside): a value then names its write. */
function indexValues(history: readonly EtcdOperation[]): Map<string, number> {
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
function collectSightings(req: EtcdRequest, a: Answered, out: Sighting[]): void {
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

/** One operation for a report: #12 client 3 [40, 52] put("x", "v1") -> revision 7. */
function describe(history: readonly EtcdOperation[], i: number, a?: Answered): string {
  const op = history[i]!;
  const ret = op.ret === Infinity ? "∞" : String(op.ret);
  const answer = a === undefined ? "outcome unknown" : a.wrote ? `wrote revision ${a.revision}` : `at revision ${a.revision}`;
  return `#${i} (client ${op.clientId ?? "?"}, [${op.call}, ${ret}]) ${describeRequest(op.input)} ${answer}`;
}

/** A human account of a report. */
export function explainRevisionReport(report: RevisionReport): string {
  const head = `verdict: ${report.verdict} (${report.elapsedMs} ms, ${report.steps} steps, revisions up to ${report.lastRevision})`;
  if (report.violation === null) return head;
  return `${head}\n${report.violation.kind} at revision ${report.violation.revision ?? "?"}: ${report.violation.message}`;
}
