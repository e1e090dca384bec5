// The single object: the same put workload as Raft's, through /single/{c}/kv/{key}.
import type { Http } from "../lib/http.ts";
import { concurrent, keyOf, sequential, valueOf, type Phase, type PutFn } from "../lib/load.ts";
import { round } from "../lib/stats.ts";
import { singleAnatomy, type Anatomy } from "./anatomy.ts";

/** What one put costs the single object, from its own counters (bench/single-kv.ts). */
export interface SingleCost {
  /** Calls from the Worker into the object per op: one `run()` per request by construction. */
  readonly workerCallsPerOp: number;
  readonly transactionsPerOp: number;
  /** SQLite's rows written per op (Cloudflare's billed rows written; it sets no alarm). */
  readonly rowsWrittenPerOp: number;
}

export type SinglePhase = Phase & { readonly cost: SingleCost | null };

export interface SingleResult {
  readonly sequential: SinglePhase;
  /** Sequential puts cut into Node→Worker, inside workerd, Worker→Node. */
  readonly anatomy: Anatomy;
  readonly concurrency: SinglePhase[];
}

export async function measureSingle(http: Http, o: { sequential: number; phaseMs: number; concurrency: readonly number[]; anatomyPuts: number }): Promise<SingleResult> {
  const name = `single-${Date.now().toString(36)}`;
  const put: PutFn = (c, i) => http.call("PUT", `/single/${name}/kv/${keyOf(c, i)}`, { value: valueOf(i) });
  type Counters = { operations: number; transactions: number; rowsWritten: number };
  const counters = async (): Promise<Counters | null> => {
    const a = await http.call("GET", `/counters/single/${name}`);
    return a.status === 200 ? (a.body as Counters) : null;
  };
  const costed = async (f: () => Promise<Phase>): Promise<SinglePhase> => {
    const before = await counters();
    const phase = await f();
    const after = await counters();
    if (!before || !after) return { ...phase, cost: null };
    const ops = after.operations - before.operations;
    const per = (k: keyof Counters) => round(ops > 0 ? (after[k] - before[k]) / ops : NaN);
    return { ...phase, cost: { workerCallsPerOp: 1, transactionsPerOp: per("transactions"), rowsWrittenPerOp: per("rowsWritten") } };
  };
  const seq = await costed(() => sequential(put, o.sequential));
  const anatomy = await singleAnatomy(http, name, o.anatomyPuts);
  const phases: SinglePhase[] = [];
  for (const clients of o.concurrency) phases.push(await costed(() => concurrent(put, clients, o.phaseMs)));
  return { sequential: seq, anatomy, concurrency: phases };
}
