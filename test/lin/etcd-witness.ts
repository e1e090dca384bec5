// An independent check of an "ok" revision report's witness, for the randomized tests: the
// witness numbers every answered operation and the writes of unknown outcome it found applied;
// replaying them in that order must give every answer, and the order must respect real time.
// It shares only the model with the checker, not its bookkeeping (pins, gaps, backtracking).

import { answerDifference, toView } from "./etcd-answers.ts";
import { EtcdModel } from "./etcd-model.ts";
import type { EtcdOperation, RevisionReport } from "./revisions.ts";

/** A reason the witness is wrong, or null when it holds. */
export function witnessProblem(history: readonly EtcdOperation[], report: RevisionReport, initialRevision = 1): string | null {
  const writers = new Map<number, number>();
  const readers = new Map<number, number[]>();
  for (const [i, r] of report.revisions) {
    const op = history[i]!;
    const answered = op.ret !== Infinity && op.output !== undefined;
    const writes = !answered || writesSomething(toView(op.output!));
    if (writes) {
      if (writers.has(r)) return `#${i} and #${writers.get(r)} both at revision ${r}`;
      writers.set(r, i);
    } else readers.set(r, [...(readers.get(r) ?? []), i]);
  }
  for (const [i, op] of history.entries()) {
    if (op.ret !== Infinity && op.output !== undefined && !report.revisions.has(i)) return `#${i} answered but not in the witness`;
  }
  const model = new EtcdModel(initialRevision);
  const check = (i: number, r: number, write: boolean): string | null => {
    const op = history[i]!;
    const outcome = model.execute(op.input);
    if (outcome.refused !== undefined) return `#${i} refused at ${r}: ${outcome.refused}`;
    if (write !== outcome.wrote) return `#${i} ${write ? "writes nothing" : "writes"} at ${r}`;
    if (!write && outcome.wrote) model.undo();
    if (op.ret === Infinity || op.output === undefined) return null;
    const d = answerDifference(op.input, outcome.answer, toView(op.output));
    return d === null ? null : `#${i} at ${r}: ${d}`;
  };
  for (let r = initialRevision; r <= report.lastRevision; r++) {
    if (r > initialRevision) {
      const w = writers.get(r);
      if (w === undefined) return `no writer at revision ${r}`;
      const problem = check(w, r, true);
      if (problem !== null) return problem;
    }
    for (const i of readers.get(r) ?? []) {
      const problem = check(i, r, false);
      if (problem !== null) return problem;
    }
  }
  // Real time, pair by pair (a test's histories are small): A before B means rev(A) ≤ rev(B), < if B writes.
  const placed = [...report.revisions];
  for (const [a, ra] of placed) {
    const opA = history[a]!;
    if (opA.ret === Infinity || isSerializable(opA)) continue;
    for (const [b, rb] of placed) {
      const opB = history[b]!;
      if (!(opA.ret < opB.call) || isSerializable(opB)) continue;
      const bWrites = writers.get(rb) === b;
      if (bWrites ? ra >= rb : ra > rb) return `#${a} (revision ${ra}) completed before #${b} (revision ${rb}) began`;
    }
  }
  return null;
}

function isSerializable(op: EtcdOperation): boolean {
  return op.input.kind === "range" && op.input.range.serializable;
}

function writesSomething(view: ReturnType<typeof toView>): boolean {
  switch (view.kind) {
    case "put":
      return true;
    case "deleteRange":
      return view.deleted > 0;
    case "range":
      return false;
    case "txn":
      return view.responses.some(writesSomething);
  }
}
