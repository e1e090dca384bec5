// The exact replay of the revision checker: rebuilds the store's history revision by revision
// with the model (etcd-model.ts), checking every answer, and fills each revision no known write
// created with a write of unknown outcome, trying them in turn and backtracking when a later
// answer fails. A candidate is dropped at once when a later answer contradicts what it would do
// to a key (shows the key unchanged across its revision, or alive since before it with a
// create_revision or a version it cannot give), and the others are tried best fit first (the
// one that gives a later answer's version exactly before one that merely could), which keeps
// the search small on histories that pass. On a history that fails, every choice may have to be tried before the verdict: the
// certain replay (revision-certain.ts) runs first so that a violation no guess can explain is
// reported without this search.

import { answerDifference } from "./etcd-answers.ts";
import { EtcdModel } from "./etcd-model.ts";
import { demands, fit, judgedState, noWriter, timelyCandidates, unchangedShownChange } from "./revision-evidence.ts";
import type { Facts } from "./revision-facts.ts";
import type { EtcdOperation, Violation } from "./revisions.ts";

interface Frame {
  readonly revision: number;
  /** The candidates that fit, best first (filled on the frame's first visit). */
  candidates: number[] | null;
  next: number;
  /** Operations whose answers ruled candidates out. */
  readonly ruledOutBy: Set<number>;
}

export class SearchReplay {
  steps = 0;
  private readonly model: EtcdModel;
  /** Unknown-outcome writes placed in gaps, newest last. */
  private readonly placed: Array<{ op: number; revision: number }> = [];
  private readonly isPlaced = new Set<number>();
  private deepest: Violation | null = null;
  private readonly history: readonly EtcdOperation[];

  constructor(
    private readonly facts: Facts,
    private readonly maxSteps: number,
    private readonly deadline: number,
    /** Read-only answers the certain replay already judged: they hold in any filling that passes. */
    private readonly judged: ReadonlySet<number>,
  ) {
    this.model = new EtcdModel(facts.base);
    this.history = facts.history;
  }

  /** The deepest violation met so far (when the budget ran out: the most likely one). */
  get likeliest(): Violation | null {
    return this.deepest;
  }

  /** null: every answer is explained; "budget": out of steps; else the deepest violation met. */
  run(): Violation | null | "budget" {
    const frames: Frame[] = [];
    const early = this.settle(this.facts.base);
    if (early !== null) return early;
    for (let r = this.facts.base + 1; r <= this.facts.last; r++) {
      if (this.outOfBudget()) return "budget";
      let failure: Violation | null;
      const writer = this.facts.writerAt.get(r);
      if (writer !== undefined) failure = this.applyKnown(writer, r);
      else {
        const frame: Frame = { revision: r, candidates: null, next: 0, ruledOutBy: new Set() };
        frames.push(frame);
        failure = this.advance(frame);
      }
      if (failure === null) failure = this.settle(r);
      while (failure !== null) {
        this.note(failure);
        const frame = frames[frames.length - 1];
        if (frame === undefined) return this.deepest;
        if (this.outOfBudget()) return "budget";
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
    for (const a of this.facts.answered.values()) out.set(a.index, a.revision);
    for (const [op, r] of this.facts.pinned) out.set(op, r);
    for (const p of this.placed) out.set(p.op, p.revision);
    return out;
  }

  /** Replays a write whose revision is known (answered, or pinned by a value seen) as revision `r`. */
  private applyKnown(i: number, r: number): Violation | null {
    this.steps++;
    const op = this.history[i]!;
    const outcome = this.model.execute(op.input);
    const a = this.facts.answered.get(i);
    const state = `in the state at revision ${r - 1}`;
    if (a === undefined) {
      if (outcome.refused !== undefined) return this.unknownWriteFailure(i, r, `${state} the store refuses it (${outcome.refused})`);
      if (!outcome.wrote) return this.unknownWriteFailure(i, r, `${state} it writes nothing`);
      return null;
    }
    if (outcome.refused !== undefined) return { kind: "answer", ops: [i], revision: r, message: `${this.facts.describeOp(i)}: ${state} the store refuses it (${outcome.refused})` };
    if (!outcome.wrote) return { kind: "answer", ops: [i], revision: r, message: `${this.facts.describeOp(i)} answered a write at revision ${r}, but ${state} it writes nothing` };
    const d = answerDifference(op.input, outcome.answer, a.view);
    return d === null ? null : { kind: "answer", ops: [i], revision: r, message: `${this.facts.describeOp(i)}, replayed as revision ${r}: ${d}` };
  }

  private unknownWriteFailure(i: number, r: number, why: string): Violation {
    return { kind: "unknown-write", ops: [i], revision: r, message: `${this.facts.describeOp(i)} (outcome unknown) shows up applied at revision ${r}, but ${why}` };
  }

  /** Checks every answer that saw the state at `r` without writing, and the deadlines of unknown writes seen applied. */
  private settle(r: number): Violation | null {
    for (const i of this.facts.observersAt.get(r) ?? []) {
      if (this.judged.has(i)) continue;
      this.steps++;
      const op = this.history[i]!;
      const outcome = this.model.execute(op.input);
      if (outcome.refused !== undefined) {
        return { kind: "answer", ops: [i], revision: r, message: `${this.facts.describeOp(i)}: in the state at revision ${r} the store refuses it (${outcome.refused})` };
      }
      if (outcome.wrote) this.model.undo();
      const d = answerDifference(op.input, outcome.answer, this.facts.answered.get(i)!.view);
      if (d !== null) return { kind: "answer", ops: [i], revision: r, message: `${this.facts.describeOp(i)}, against ${judgedState(op.input, r)}: ${d}` };
    }
    for (const [i, bound] of this.facts.latest) {
      if (bound <= r && !this.isPlaced.has(i) && !this.facts.pinned.has(i)) {
        return this.unknownWriteFailure(i, bound, `no place at or before revision ${bound} fits it`);
      }
    }
    return null;
  }

  /** The unknown-outcome writes that may have created revision `r` and are not placed yet. */
  private candidates(r: number): number[] {
    return timelyCandidates(this.facts, r).filter((i) => !this.isPlaced.has(i));
  }

  private outOfBudget(): boolean {
    return this.steps > this.maxSteps || ((this.steps & 1023) === 0 && Date.now() > this.deadline);
  }

  /**
   * Ranks the candidates for revision `r` once: each is run on the model and taken back; those
   * that write nothing, that leave unchanged a key an answer shows created or modified at `r`
   * or one that must be put here (demands()), or that a later answer contradicts, are dropped; the others are tried
   * best fit first (fit() summed over the keys they change), then the most recently invoked.
   */
  private rank(frame: Frame): number[] {
    const r = frame.revision;
    const demand = demands(this.facts, this.model, r);
    if (demand.impossibleBy !== null) {
      frame.ruledOutBy.add(demand.impossibleBy);
      return [];
    }
    const scored: Array<{ i: number; score: number }> = [];
    for (const i of this.candidates(r)) {
      this.steps++;
      const outcome = this.model.execute(this.history[i]!.input);
      if (outcome.refused !== undefined || !outcome.wrote) continue;
      let score = 0;
      let by = unchangedShownChange(this.facts, outcome.changed, r) ?? demand.mustChange.find((m) => !outcome.changed.includes(m.key))?.by ?? null;
      for (const key of by !== null ? [] : outcome.changed) {
        const f = fit(this.facts, this.model, key, r);
        if (f.by !== null) {
          by = f.by;
          break;
        }
        score += f.score;
      }
      this.model.undo();
      if (by === null) scored.push({ i, score });
      else frame.ruledOutBy.add(by);
    }
    scored.sort((x, y) => y.score - x.score || this.history[y.i]!.call - this.history[x.i]!.call);
    return scored.map((c) => c.i);
  }

  /** Applies the frame's next candidate. */
  private advance(frame: Frame): Violation | null {
    const r = frame.revision;
    frame.candidates ??= this.rank(frame);
    if (frame.next < frame.candidates.length) {
      const i = frame.candidates[frame.next++]!;
      this.steps++;
      this.model.execute(this.history[i]!.input);
      this.placed.push({ op: i, revision: r });
      this.isPlaced.add(i);
      return null;
    }
    return noWriter(this.facts, r, frame.ruledOutBy);
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
