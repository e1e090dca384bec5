// A reference for testing the checker: linearizability by exhaustive search, straight
// from the definition, with no partitioning, no memo and the real store as the model.
// Exponential: only for histories of a handful of operations.

import { copyStore, freshStore, type StoreInMemory } from "./kv-store.ts";
import { type KvHistoryOperation, sameKvOutput } from "./kv-model.ts";

/**
 * True when some order of the operations (1) puts `a` before `b` whenever `a` returned
 * before `b` was called, (2) gives every answered operation its recorded output, and
 * (3) includes every answered operation; an operation with unknown outcome (ret = ∞) may
 * be placed anywhere after the operations that returned before its call, or left out.
 */
export function bruteForceLinearizable(history: readonly KvHistoryOperation[]): boolean {
  const placed = new Array<boolean>(history.length).fill(false);
  const mustPlace = history.filter((op) => op.ret !== Infinity).length;

  const search = (store: StoreInMemory, answered: number): boolean => {
    if (answered === mustPlace) return true;
    for (let x = 0; x < history.length; x++) {
      if (placed[x]) continue;
      const op = history[x]!;
      // x may go next only if no unplaced operation returned before x was called.
      const blocked = history.some((y, j) => j !== x && !placed[j] && y.ret < op.call && y.ret !== Infinity);
      if (blocked) continue;
      const next = copyStore(store);
      const output = next.kv.execute(op.input);
      if (op.ret !== Infinity && op.output !== undefined && !sameKvOutput(op.input.op, output, op.output)) continue;
      placed[x] = true;
      const ok = search(next, answered + (op.ret !== Infinity ? 1 : 0));
      placed[x] = false;
      if (ok) return true;
    }
    return false;
  };
  return search(freshStore(), 0);
}
