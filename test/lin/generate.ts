// Histories of a simulated concurrent execution, linearizable by construction: clients
// issue operations one after another; each operation takes effect at one random instant
// inside its [call, return] interval; outputs come from running the real store in the
// order of those instants. Used by the checker's randomized tests and its benchmark.

import type { KvOperation } from "../../src/kv/command.ts";
import { freshStore } from "./kv-store.ts";
import type { KvHistoryOperation } from "./kv-model.ts";
import { mulberry32, pick, randInt } from "./random.ts";

export interface GenerateOptions {
  readonly seed: number;
  readonly operations: number;
  readonly keys: number;
  readonly clients: number;
  /** Share of operations whose answer is lost (ret = ∞). Half of them took effect, half never did. */
  readonly unknownRate?: number;
  /** Longest operation, in time units (default 40); gaps between a client's operations are up to 10. */
  readonly maxDuration?: number;
  /** Values are drawn from this alphabet (default "abc"): a value outside it was never written. */
  readonly alphabet?: string;
}

export interface GeneratedHistory {
  readonly history: KvHistoryOperation[];
  /** History indices in the order the operations took effect (excluding those that never did). */
  readonly order: number[];
}

export function generateKvHistory(options: GenerateOptions): GeneratedHistory {
  const rand = mulberry32(options.seed);
  const maxDuration = options.maxDuration ?? 40;
  const alphabet = options.alphabet ?? "abc";
  const keys = Array.from({ length: options.keys }, (_, i) => `k${i}`);
  const clocks = new Array<number>(options.clients).fill(0);
  const planned: Array<{ clientId: number; input: KvOperation; call: number; ret: number; at: number; lost: boolean; happened: boolean }> = [];
  for (let i = 0; i < options.operations; i++) {
    // The client that is free first issues the next operation: clients interleave like real ones.
    const clientId = clocks.indexOf(Math.min(...clocks));
    const call = clocks[clientId]! + randInt(rand, 0, 10);
    const ret = call + randInt(rand, 1, maxDuration);
    clocks[clientId] = ret;
    const at = call + rand() * (ret - call);
    const lost = rand() < (options.unknownRate ?? 0);
    planned.push({ clientId, input: randomOperation(rand, keys, alphabet), call, ret, at, lost, happened: !lost || rand() < 0.5 });
  }
  const byInstant = planned.map((_, i) => i).filter((i) => planned[i]!.happened);
  byInstant.sort((a, b) => planned[a]!.at - planned[b]!.at);
  const store = freshStore().kv;
  const outputs = new Map<number, KvHistoryOperation["output"]>();
  for (const i of byInstant) outputs.set(i, store.execute(planned[i]!.input));
  const history = planned.map((p, i): KvHistoryOperation =>
    p.lost
      ? { clientId: p.clientId, input: p.input, output: undefined, call: p.call, ret: Infinity }
      : { clientId: p.clientId, input: p.input, output: outputs.get(i), call: p.call, ret: p.ret },
  );
  return { history, order: byInstant };
}

function randomOperation(rand: () => number, keys: readonly string[], alphabet: string): KvOperation {
  const key = pick(rand, keys);
  const value = (): string => {
    let s = "";
    for (let n = randInt(rand, 1, 2); n > 0; n--) s += alphabet[randInt(rand, 0, alphabet.length - 1)];
    return s;
  };
  const r = rand();
  if (r < 0.4) return { op: "get", key };
  if (r < 0.65) return { op: "put", key, value: value() };
  if (r < 0.85) return { op: "append", key, value: value() };
  if (r < 0.95) return { op: "cas", key, compare: value(), value: value() };
  return { op: "delete", key };
}
