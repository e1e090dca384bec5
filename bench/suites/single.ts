// The single object: the same put workload as Raft's, through /single/{c}/kv/{key}. Its figures
// are printed beside Raft's (the headline, "Side by side"), so it has no section of its own.
import { concurrent, keyOf, sequential, valueOf, type Phase, type PutFn } from "../lib/load.ts";
import { round } from "../lib/stats.ts";
import type { Ctx, Suite } from "../lib/suite.ts";
import { singleAnatomy } from "./anatomy.ts";

async function measure({ http, o, progress }: Ctx) {
  progress(`single object: ${o.sequential} sequential puts, then ${o.concurrency.join("/")} clients × ${o.phaseMs} ms`);
  const name = `single-${Date.now().toString(36)}`;
  const put: PutFn = (c, i) => http.call("PUT", `/single/${name}/kv/${keyOf(c, i)}`, { value: valueOf(i) });
  type Counters = { operations: number; transactions: number; rowsWritten: number };
  const counters = async () => {
    const a = await http.call("GET", `/counters/single/${name}`);
    return a.status === 200 ? (a.body as Counters) : null;
  };
  /** A phase with what its puts cost the object, from its own counters (bench/single-kv.ts). */
  const costed = async (f: () => Promise<Phase>) => {
    const before = await counters();
    const phase = await f();
    const after = await counters();
    if (!before || !after) return { ...phase, cost: null };
    const ops = after.operations - before.operations;
    const per = (k: keyof Counters) => round(ops > 0 ? (after[k] - before[k]) / ops : NaN);
    // One `run()` call per request by construction; SQLite's rows written (it sets no alarm).
    return { ...phase, cost: { workerCallsPerOp: 1, transactionsPerOp: per("transactions"), rowsWrittenPerOp: per("rowsWritten") } };
  };
  const seq = await costed(() => sequential(put, o.sequential));
  const anatomy = await singleAnatomy(http, name, o.anatomyPuts);
  const phases = [];
  for (const clients of o.concurrency) phases.push(await costed(() => concurrent(put, clients, o.phaseMs)));
  return { sequential: seq, anatomy, concurrency: phases };
}

export type SingleResult = Awaited<ReturnType<typeof measure>>;

export const single: Suite<SingleResult> = { name: "single", full: true, url: false, about: "one unreplicated Durable Object, the same put workload", run: measure, sections: () => [] };
