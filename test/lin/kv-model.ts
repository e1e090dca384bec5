// The key/value service's sequential specification, for the linearizability checker.
//
// Written independently of src/kv/store.ts on purpose: the checker must not inherit a
// bug of the implementation it judges (the randomized tests cross-check the two).
// Keys are independent, so a history is partitioned by key and each key's state is just
// its value (null: absent).

import type { KvOperation } from "../../src/kv/command.ts";
import type { KvResult } from "../../src/kv/results.ts";
import type { Model, Operation, Partition, StepResult } from "./model.ts";

export type KvState = string | null;
export type KvInput = KvOperation;
export type KvOutput = KvResult;
export type KvHistoryOperation = Operation<KvInput, KvOutput>;

/** The answer `input` gets in `state`, and the state after it. */
export function kvApply(state: KvState, input: KvInput): { output: KvOutput; state: KvState } {
  const found = state !== null;
  switch (input.op) {
    case "get":
      return { output: { found, value: state }, state };
    case "put":
      return { output: { found, prev: state }, state: input.value };
    case "append":
      return { output: { found, prev: state }, state: (state ?? "") + input.value };
    case "cas": {
      const swapped = state !== null && state === input.compare;
      return { output: { found, prev: state, swapped }, state: swapped ? input.value : state };
    }
    case "delete":
      return { output: { found, prev: state }, state: null };
  }
}

/** Compares only the fields the API defines for `op` (extra response fields are allowed). */
export function sameKvOutput(op: KvInput["op"], a: KvOutput, b: KvOutput): boolean {
  const x = a as Partial<Record<"found" | "value" | "prev" | "swapped", unknown>>;
  const y = b as Partial<Record<"found" | "value" | "prev" | "swapped", unknown>>;
  if (x.found !== y.found) return false;
  switch (op) {
    case "get":
      return x.value === y.value;
    case "put":
    case "append":
    case "delete":
      return x.prev === y.prev;
    case "cas":
      return x.prev === y.prev && x.swapped === y.swapped;
  }
}

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  partition(history: ReadonlyArray<Operation<KvInput, KvOutput>>): Partition[] {
    const byKey = new Map<string, number[]>();
    history.forEach((op, i) => {
      const group = byKey.get(op.input.key);
      if (group === undefined) byKey.set(op.input.key, [i]);
      else group.push(i);
    });
    return [...byKey].map(([label, indices]) => ({ label, indices }));
  },
  init: () => null,
  isReadOnly: (input) => input.op === "get",
  step(state: KvState, input: KvInput, output: KvOutput | undefined): StepResult<KvState> {
    const next = kvApply(state, input);
    return { ok: output === undefined || sameKvOutput(input.op, next.output, output), state: next.state };
  },
  // "" for absent and "=" + value for present keep absent and the empty string apart.
  hash: (state) => (state === null ? "" : `=${state}`),
  describeOperation(input: KvInput, output: KvOutput | undefined): string {
    const args =
      input.op === "get" || input.op === "delete" ? "" : input.op === "cas" ? `, ${JSON.stringify(input.compare)} → ${JSON.stringify(input.value)}` : `, ${JSON.stringify(input.value)}`;
    const answer = output === undefined ? "?" : JSON.stringify(output);
    return `${input.op}(${JSON.stringify(input.key)}${args}) -> ${answer}`;
  },
  describeState: (state) => (state === null ? "(absent)" : JSON.stringify(state)),
};
