// Changing one recorded answer of a history, for the checker's negative tests.

import type { KvResult } from "../../src/kv/results.ts";
import { type KvHistoryOperation, sameKvOutput } from "./kv-model.ts";
import { pick } from "./random.ts";

/** The same history with operation `i`'s answer replaced. */
export function withOutput(history: readonly KvHistoryOperation[], i: number, output: KvResult): KvHistoryOperation[] {
  return history.map((op, j) => (j === i ? { ...op, output } : op));
}

/**
 * An answer that claims the key held `ghost` (a value no operation could have produced),
 * for an operation that has a value in its answer.
 */
export function ghostOutput(op: KvHistoryOperation, ghost: string): KvResult {
  switch (op.input.op) {
    case "get":
      return { found: true, value: ghost };
    case "put":
    case "append":
    case "delete":
      return { found: true, prev: ghost };
    case "cas":
      return { found: true, prev: ghost, swapped: false };
  }
}

/** A different answer of the right shape for `op`, drawn from `values` (null: absent). */
export function otherOutput(rand: () => number, op: KvHistoryOperation, values: ReadonlyArray<string | null>): KvResult {
  for (;;) {
    const v = pick(rand, values);
    const candidate: KvResult =
      op.input.op === "get"
        ? { found: v !== null, value: v }
        : op.input.op === "cas"
          ? { found: v !== null, prev: v, swapped: v !== null && rand() < 0.5 }
          : { found: v !== null, prev: v };
    if (op.output === undefined || !sameKvOutput(op.input.op, candidate, op.output)) return candidate;
  }
}
