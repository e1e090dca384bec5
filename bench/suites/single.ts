// The single object: the same put workload as Raft's, through /single/{c}/kv/{key}.
import type { Http } from "../lib/http.ts";
import { concurrent, keyOf, sequential, valueOf, type Phase, type PutFn } from "../lib/load.ts";
import { singleAnatomy, type Anatomy } from "./anatomy.ts";

export interface SingleResult {
  readonly sequential: Phase;
  /** Sequential puts cut into Node→Worker, inside workerd, Worker→Node. */
  readonly anatomy: Anatomy;
  readonly concurrency: Phase[];
}

export async function measureSingle(http: Http, o: { sequential: number; phaseMs: number; concurrency: readonly number[]; anatomyPuts: number }): Promise<SingleResult> {
  const name = `single-${Date.now().toString(36)}`;
  const put: PutFn = (c, i) => http.call("PUT", `/single/${name}/kv/${keyOf(c, i)}`, { value: valueOf(i) });
  const seq = await sequential(put, o.sequential);
  const anatomy = await singleAnatomy(http, name, o.anatomyPuts);
  const phases: Phase[] = [];
  for (const clients of o.concurrency) phases.push(await concurrent(put, clients, o.phaseMs));
  return { sequential: seq, anatomy, concurrency: phases };
}
