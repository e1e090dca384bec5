// A small vocabulary for writing kv histories by hand in tests:
//   at(client, call, ret, put("x", "1", null))  — put x=1 answered "not found before"
//   lost(client, call, append("x", "a"))         — an append whose answer never came

import type { KvOperation } from "../../src/kv/command.ts";
import type { KvResult } from "../../src/kv/results.ts";
import { type KvHistoryOperation, kvApply, sameKvOutput } from "./kv-model.ts";
import type { CheckReport } from "./checker.ts";

interface InputOutput {
  readonly input: KvOperation;
  readonly output: KvResult;
}

/** get(key) answering `value` (null: not found). */
export const get = (key: string, value: string | null): InputOutput => ({
  input: { op: "get", key },
  output: { found: value !== null, value },
});
/** put(key, value) answering the previous value (null: not found). */
export const put = (key: string, value: string, prev: string | null): InputOutput => ({
  input: { op: "put", key, value },
  output: { found: prev !== null, prev },
});
/** append(key, value) answering the previous value (null: not found). */
export const append = (key: string, value: string, prev: string | null): InputOutput => ({
  input: { op: "append", key, value },
  output: { found: prev !== null, prev },
});
/** cas(key, compare → value) answering the previous value and whether it swapped. */
export const cas = (key: string, compare: string, value: string, prev: string | null, swapped: boolean): InputOutput => ({
  input: { op: "cas", key, compare, value },
  output: { found: prev !== null, prev, swapped },
});

export function at(clientId: number, call: number, ret: number, io: InputOutput): KvHistoryOperation {
  return { clientId, call, ret, input: io.input, output: io.output };
}

/** An operation whose outcome is unknown: called at `call`, never answered. */
export function lost(clientId: number, call: number, io: InputOutput): KvHistoryOperation {
  return { clientId, call, ret: Infinity, input: io.input, output: undefined };
}

/**
 * Checks an "ok" report's witness independently: every operation that returned appears
 * once, the order respects real time, and replaying it gives every recorded output.
 * Returns a reason when the witness is wrong, null when it holds.
 */
export function witnessProblem(history: readonly KvHistoryOperation[], report: CheckReport): string | null {
  for (const part of report.partitions) {
    const order = part.linearization;
    if (new Set(order).size !== order.length) return `part ${part.label}: an operation appears twice`;
    const placed = new Set(order);
    for (const i of part.operations) {
      if (history[i]!.ret !== Infinity && !placed.has(i)) return `part ${part.label}: #${i} is missing`;
    }
    for (let a = 0; a < order.length; a++) {
      for (let b = a + 1; b < order.length; b++) {
        if (history[order[b]!]!.ret < history[order[a]!]!.call) return `#${order[b]} returned before #${order[a]} was called`;
      }
    }
    let state: string | null = null;
    for (const i of order) {
      const op = history[i]!;
      const next = kvApply(state, op.input);
      if (op.output !== undefined && op.ret !== Infinity && !sameKvOutput(op.input.op, next.output, op.output)) return `#${i} answers differently`;
      state = next.state;
    }
  }
  return null;
}
