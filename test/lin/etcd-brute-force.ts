// Linearizability of a tiny etcd history by brute force, for cross-checking the revision
// checker: tries every order of the operations that respects real time (a write of unknown
// outcome may also be left out), replays it through the model, and accepts when every answer,
// header revision included, is the model's. Nothing of the checker's reasoning (revisions as
// an order, pins, gaps, sightings) is used. Exponential: only for a handful of operations, and
// without serializable reads (they are allowed to be stale, which this does not model).

import { answerDifference, toView } from "./etcd-answers.ts";
import { EtcdModel } from "./etcd-model.ts";
import type { EtcdOperation } from "./revisions.ts";

export function bruteForceLinearizable(history: readonly EtcdOperation[], initialRevision = 1): boolean {
  const answered = (op: EtcdOperation) => op.ret !== Infinity && op.output !== undefined;
  // Unknown-outcome reads change nothing and promise nothing.
  const ops = history.filter((op) => answered(op) || op.input.kind !== "range");
  const mustAnswer = ops.filter(answered).length;
  const views = ops.map((op) => (answered(op) ? toView(op.output!) : null));
  const model = new EtcdModel(initialRevision);
  const placed = new Array<boolean>(ops.length).fill(false);

  const search = (answeredPlaced: number): boolean => {
    if (answeredPlaced === mustAnswer) return true; // what is left are writes of unknown outcome: never applied
    for (let i = 0; i < ops.length; i++) {
      if (placed[i]) continue;
      // Real time: everything answered before this one was invoked must already be placed.
      if (ops.some((a, j) => !placed[j] && j !== i && a.ret < ops[i]!.call)) continue;
      const outcome = model.execute(ops[i]!.input);
      const view = views[i] ?? null;
      let fits = false;
      if (outcome.refused === undefined) fits = view === null || answerDifference(ops[i]!.input, outcome.answer, view) === null;
      if (fits) {
        placed[i] = true;
        if (search(answeredPlaced + (view === null ? 0 : 1))) return true;
        placed[i] = false;
      }
      if (outcome.refused === undefined && outcome.wrote) model.undo();
    }
    return false;
  };
  return search(0);
}
