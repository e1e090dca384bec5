// The certain replay of the revision checker: one pass, no guesses. It replays the history
// revision by revision like the exact search (revision-search.ts), but where a revision was
// created by a write of unknown outcome that nobody identified (a gap), it does not guess
// which: it marks every key that any write able to fill the gap might have written as unknown
// from there on. An answer is checked only when every key it depends on is known; a write that
// touches an unknown key makes the keys it may write unknown too; an answer that shows a key
// in the state at the current revision (a read, a prev_kv; absent too, from a full read or a
// null prev_kv) makes it known again.
//
// Why a violation found here is certain: the known keys hold the same state in every way of
// filling the gaps (no write able to fill one can change them), so an answer that depends only
// on known keys and differs from the model differs in every way of filling them. Learning from
// an answer is sound for the same reason: if some way of filling the gaps explains the history,
// every answer is the truth. With no gaps at all, this pass alone is the whole check.

import { answerDifference } from "./etcd-answers.ts";
import { bin, EtcdModel } from "./etcd-model.ts";
import { contradicted, demands, judgedState, noWriter, seenUnchangedAcross, timelyCandidates, unchangedShownChange } from "./revision-evidence.ts";
import { type Facts, keysOf } from "./revision-facts.ts";
import type { Violation } from "./revisions.ts";

export interface CertainOutcome {
  /** A violation no way of filling the gaps explains, or null. */
  readonly violation: Violation | null;
  /** True when no key was ever unknown: then the pass checked everything, and null means linearizable. */
  readonly complete: boolean;
  /**
   * The read-only answers this pass judged (everything they depend on known) and did not learn
   * from. Every way of filling the gaps that explains the answers this pass learnt from gives
   * them the same state, so the search, which judges those, need not judge these again.
   */
  readonly judged: ReadonlySet<number>;
  readonly steps: number;
}

export function certainReplay(facts: Facts): CertainOutcome {
  return new CertainReplay(facts).run();
}

class CertainReplay {
  private readonly model: EtcdModel;
  /** Keys unknown now, with the revision from which they are. */
  private readonly unknownFrom = new Map<string, number>();
  /** Past periods [from, to) when a key was unknown, for reads of the past. */
  private readonly unknownPeriods = new Map<string, Array<readonly [number, number]>>();
  private everUnknown = false;
  private steps = 0;
  private readonly judged = new Set<number>();
  /** The operations whose answers this pass learnt a key from. */
  private readonly teachers = new Set<number>();

  constructor(private readonly facts: Facts) {
    this.model = new EtcdModel(facts.base);
  }

  run(): CertainOutcome {
    const f = this.facts;
    this.learn(f.base);
    let violation = this.observe(f.base);
    for (let r = f.base + 1; r <= f.last && violation === null; r++) {
      violation = this.write(r);
      if (violation !== null) break;
      this.learn(r);
      violation = this.observe(r);
    }
    return { violation, complete: !this.everUnknown, steps: this.steps, judged: this.judged };
  }

  /** Revision `r`'s write: replayed when it depends only on known keys, else its keys become unknown. */
  private write(r: number): Violation | null {
    const f = this.facts;
    const i = f.writerAt.get(r);
    if (i === undefined) return this.gap(r);
    const req = f.history[i]!.input;
    const keys = this.everUnknown ? keysOf(f.universe, req, r - 1) : null;
    if (keys !== null && keys.reads.some((k) => this.isUnknown(k.key, k.at))) {
      this.model.skip();
      this.forget(keys.writes, r);
      return null;
    }
    this.steps++;
    const outcome = this.model.execute(req);
    const answered = f.answered.get(i);
    const state = `in the state at revision ${r - 1}`;
    if (answered === undefined) {
      const why = outcome.refused !== undefined ? `the store refuses it (${outcome.refused})` : outcome.wrote ? null : "it writes nothing";
      if (why === null) return null;
      return { kind: "unknown-write", ops: [i], revision: r, message: `${f.describeOp(i)} (outcome unknown) shows up applied at revision ${r}, but ${state} ${why}` };
    }
    if (outcome.refused !== undefined) return { kind: "answer", ops: [i], revision: r, message: `${f.describeOp(i)}: ${state} the store refuses it (${outcome.refused})` };
    if (!outcome.wrote) return { kind: "answer", ops: [i], revision: r, message: `${f.describeOp(i)} answered a write at revision ${r}, but ${state} it writes nothing` };
    const d = answerDifference(req, outcome.answer, answered.view);
    return d === null ? null : { kind: "answer", ops: [i], revision: r, message: `${f.describeOp(i)}, replayed as revision ${r}: ${d}` };
  }

  /**
   * A revision nobody identified: whatever the writes of unknown outcome that may have made it
   * may have written there becomes unknown. A candidate whose keys are all known is run on the
   * model (and taken back) to see exactly what it would change, and dropped when it would
   * change nothing, would leave unchanged a key an answer shows created or modified at `r`, or
   * a later answer contradicts that change (contradicted()); one that reads unknown keys may
   * change any key it names.
   */
  private gap(r: number): Violation | null {
    const f = this.facts;
    const changes: string[][] = [];
    const ruledOutBy = new Set<number>();
    const demand = demands(f, this.model, r, (key) => !this.isUnknown(key, r - 1));
    if (demand.impossibleBy !== null) return noWriter(f, r, new Set([demand.impossibleBy]));
    for (const i of timelyCandidates(f, r)) {
      const req = f.history[i]!.input;
      const keys = keysOf(f.universe, req, r - 1);
      if (keys.reads.some((k) => this.isUnknown(k.key, k.at))) {
        const unfit = (req.kind === "put" && seenUnchangedAcross(f, bin(req.put.key), r)) || demand.mustChange.some((m) => !keys.writes.includes(m.key));
        if (!unfit) changes.push(keys.writes);
        continue;
      }
      this.steps++;
      const outcome = this.model.execute(req);
      if (outcome.refused !== undefined || !outcome.wrote) continue;
      let by = unchangedShownChange(f, outcome.changed, r) ?? demand.mustChange.find((m) => !outcome.changed.includes(m.key))?.by ?? null;
      for (const key of by !== null ? [] : outcome.changed) by ??= contradicted(f, this.model, key, r);
      this.model.undo();
      if (by === null) changes.push([...outcome.changed]);
      else ruledOutBy.add(by);
    }
    if (changes.length === 0) return noWriter(f, r, ruledOutBy);
    this.model.skip();
    for (const keys of changes) this.forget(keys, r);
    return null;
  }

  /** Checks the answers that saw the state at `r` without writing and depend on known keys only. */
  private observe(r: number): Violation | null {
    const f = this.facts;
    for (const i of f.observersAt.get(r) ?? []) {
      const req = f.history[i]!.input;
      const view = f.answered.get(i)!.view;
      const reads = this.everUnknown ? keysOf(f.universe, req, r).reads : [];
      if (reads.some((k) => this.isUnknown(k.key, k.at))) continue;
      this.steps++;
      const outcome = this.model.execute(req);
      if (outcome.refused !== undefined) {
        return { kind: "answer", ops: [i], revision: r, message: `${f.describeOp(i)}: in the state at revision ${r} the store refuses it (${outcome.refused})` };
      }
      if (outcome.wrote) this.model.undo();
      const d = answerDifference(req, outcome.answer, view);
      if (d !== null) return { kind: "answer", ops: [i], revision: r, message: `${f.describeOp(i)}, against ${judgedState(req, r)}: ${d}` };
      // An answer this pass learnt from is judged against itself here, which proves nothing:
      // the search must still judge it.
      if (!this.teachers.has(i)) this.judged.add(i);
    }
    return null;
  }

  /** Unknown keys become known again where an answer shows them in the state at `r` (present, or absent). */
  private learn(r: number): void {
    for (const { key, kv, op } of this.facts.statesAt.get(r) ?? []) {
      const from = this.unknownFrom.get(key);
      if (from === undefined) continue;
      this.teachers.add(op);
      this.model.force(key, kv);
      this.unknownFrom.delete(key);
      const periods = this.unknownPeriods.get(key) ?? [];
      periods.push([from, r]);
      this.unknownPeriods.set(key, periods);
    }
  }

  private forget(keys: readonly string[], from: number): void {
    for (const key of keys) {
      if (this.unknownFrom.has(key)) continue;
      this.unknownFrom.set(key, from);
      this.everUnknown = true;
    }
  }

  /** Whether `key`'s state at revision `at` is unknown. */
  private isUnknown(key: string, at: number): boolean {
    const from = this.unknownFrom.get(key);
    if (from !== undefined && from <= at) return true;
    return (this.unknownPeriods.get(key) ?? []).some(([a, b]) => a <= at && at < b);
  }
}
