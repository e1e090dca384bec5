// A linearizability check for etcd's key/value API that uses the store's revisions, the way
// Jepsen checks etcd: every write gets the next cluster revision and every answer carries the
// store's revision, so the order the store applied things in is written in the answers. There
// is no search over interleavings: ranges, deletes over ranges and multi-key txns are judged as
// easily as single keys, and the cost is a replay.
//
// The check, for a history of put / deleteRange / range / txn operations (answered, or of
// unknown outcome: ret = ∞):
//  1. The answered writes (a put; a delete that deleted something; a txn whose taken branch
//     did either) name the revision they created: no two may name the same one, and none the
//     initial revision or below. A write whose outcome is unknown is known to be applied when a
//     value it wrote shows up in any answer (values must be unique in the workload): it is
//     pinned at the mod_revision that answer shows. A value shown at another mod_revision than
//     the one its writer created means it was written twice.
//  2. Real time: if A completed before B was invoked, rev(A) ≤ rev(B), and < when B writes
//     (a serializable range promises no recency and is left out of this rule).
//  3. The store's history is rebuilt revision by revision from the initial one up to the
//     newest any answer shows, with an independent model (etcd-model.ts): each revision's
//     writer is replayed, and every answer must be exactly the model's: a writer's at its
//     revision, a read's (and a write that wrote nothing) at the revision its header names,
//     a read at an older `revision` against the state at that revision. A revision no answered
//     or pinned write created (a gap) must have been created by a write of unknown outcome
//     invoked before anything that saw that revision completed. Two replays do this:
//     revision-certain.ts first, which guesses nothing (the keys a gap may have changed are
//     unknown until an answer shows them again) and so finds any violation that no way of
//     filling the gaps can explain, in one pass; then, if it was not complete,
//     revision-search.ts, which fills each gap with one candidate, backtracking on failure.
//     With no gap, the first pass is the whole check.
//
// Why that is linearizability (and a little more): order the operations by revision, each
// read right after the write of the revision it saw, reads of one revision by real time. Every
// answer is the model's in that order (3), and the order respects real time (2, and the
// candidate rule of 3 for the writes placed in gaps). Conversely an etcd-like store that is
// linearizable and numbers its writes as etcd does produces histories that pass. The check
// asks more than linearizability in one way: the revisions the answers name must be the
// store's true order (which is etcd's promise).
//
// The first violation found is reported with the operations and the revision involved.

import { describeRequest, show, toView } from "./etcd-answers.ts";
import { bin, type EtcdRequest, type EtcdResponse } from "./etcd-model.ts";
import type { Operation } from "./model.ts";
import { certainReplay } from "./revision-certain.ts";
import { type Answered, collectSightings, forEachPut, indexFacts, indexValues, mayWrite, type Sighting, viewWrote } from "./revision-facts.ts";
import { SearchReplay } from "./revision-search.ts";

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
  /** For "illegal", the first violation; for "unknown", the likeliest one the search met (if any). */
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
  /** The search gives up with "unknown" after this many model executions (default 2,000,000)... */
  readonly maxSteps?: number;
  /** ...or after this long (default 10 s). */
  readonly timeoutMs?: number;
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
  const sightings: Sighting[] = [];
  for (const a of answered.values()) collectSightings(history[a.index]!.input, a, sightings);

  let lastRevision = base;
  for (const a of answered.values()) lastRevision = Math.max(lastRevision, a.revision);
  for (const s of sightings) lastRevision = Math.max(lastRevision, s.kv.mod, s.kv.create, s.at);

  // --- 1. one writer per revision; values where their writers put them ------------------
  const describeOp = (i: number) => describe(history, i, answered.get(i));
  const writers = { writerAt: new Map<number, number>(), pinned: new Map<number, number>(), latest: new Map<number, number>() };
  const { writerAt, pinned, latest } = writers;
  try {
    const possible = base + answered.size + unknownWrites.length; // each operation writes at most one revision
    if (lastRevision > possible) {
      const shows = [...answered.values()].find((a) => a.revision > possible || sightings.some((s) => s.op === a.index && Math.max(s.kv.mod, s.kv.create, s.at) > possible));
      throw violation("no-writer", shows === undefined ? [] : [shows.index], lastRevision, `${shows === undefined ? "an answer" : describeOp(shows.index)} shows revision ${lastRevision}, but the history has writes enough for revision ${possible} at most`);
    }
    placeWriters(history, answered, sightings, base, describeOp, writers);

    // --- 2. real time --------------------------------------------------------------------
    checkRealTime(history, answered, pinned, describeOp);
  } catch (e) {
    if (e instanceof Failure) return finish("illegal", e.violation, new Map(), lastRevision, 0);
    throw e;
  }

  // --- 3. the replays ---------------------------------------------------------------------
  const facts = indexFacts({ history, answered, writerAt, pinned, latest, unknownWrites, base, last: lastRevision, describeOp, sightings });
  const certain = certainReplay(facts);
  if (certain.violation !== null) return finish("illegal", certain.violation, new Map(), lastRevision, certain.steps);
  if (certain.complete) {
    const revisions = new Map<number, number>([...answered.values()].map((a) => [a.index, a.revision]));
    for (const [i, r] of pinned) revisions.set(i, r);
    return finish("ok", null, revisions, lastRevision, certain.steps);
  }
  const search = new SearchReplay(facts, maxSteps, started + (options.timeoutMs ?? 10_000), certain.judged);
  const outcome = search.run();
  const steps = certain.steps + search.steps;
  if (outcome === "budget") return finish("unknown", search.likeliest, new Map(), lastRevision, steps);
  if (outcome !== null) return finish("illegal", outcome, new Map(), lastRevision, steps);
  return finish("ok", null, search.witness(), lastRevision, steps);
}

/**
 * Check 1: the revision each answered write claims (no two alike, none at or below the
 * initial one), and the writes of unknown outcome pinned by a value an answer shows. Throws
 * the first violation as a Failure.
 */
function placeWriters(
  history: readonly EtcdOperation[],
  answered: ReadonlyMap<number, Answered>,
  sightings: readonly Sighting[],
  base: number,
  describeOp: (i: number) => string,
  out: { writerAt: Map<number, number>; pinned: Map<number, number>; latest: Map<number, number> },
): void {
  const { writerAt, pinned, latest } = out;
  const writerOfValue = indexValues(history);
  const keysWithIgnoreValue = new Set<string>();
  for (const op of history) forEachPut(op.input, (p) => p.ignoreValue && keysWithIgnoreValue.add(bin(p.key)));
  for (const a of answered.values()) {
    if (a.revision < base) {
      throw violation("answer", [a.index], a.revision, `${describeOp(a.index)} answers revision ${a.revision}, but the store starts at ${base}`);
    }
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
    const seen = () => `${describeOp(s.op)} shows ${show(s.kv)}`; // built only for a report
    const w = answered.get(writer);
    if (keysWithIgnoreValue.has(s.kv.key)) {
      if (w === undefined) latest.set(writer, Math.min(latest.get(writer) ?? Infinity, s.kv.mod));
      continue;
    }
    if (w !== undefined) {
      if (w.wrote && w.revision !== s.kv.mod) {
        throw violation("value-revision", [s.op, writer], s.kv.mod, `${seen()}, but that value was written by ${describeOp(writer)}: written twice, or a wrong mod_revision`);
      }
      continue;
    }
    const at = pinned.get(writer);
    if (at !== undefined && at !== s.kv.mod) {
      throw violation("value-revision", [s.op, writer], s.kv.mod, `${seen()}, but another answer shows that value, from ${describeOp(writer)}, at mod_revision ${at}: written twice`);
    }
    if (at === undefined) {
      const other = writerAt.get(s.kv.mod);
      if (other !== undefined) {
        throw violation("duplicate-revision", [writer, other], s.kv.mod, `${seen()}, written by ${describeOp(writer)} (outcome unknown), but ${describeOp(other)} claims revision ${s.kv.mod}`);
      }
      if (s.kv.mod <= base) throw violation("value-revision", [s.op, writer], s.kv.mod, `${seen()}: no write can create revision ${s.kv.mod} (the store starts at ${base})`);
      pinned.set(writer, s.kv.mod);
      writerAt.set(s.kv.mod, writer);
    }
  }
}

function violation(kind: ViolationKind, ops: number[], revision: number | null, message: string): Failure {
  return new Failure({ kind, ops, revision, message });
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
