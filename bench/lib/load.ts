// Closed-loop load: each client sends its next put as soon as its previous one answered.
import { cpuNow, cpuPer } from "./cpu.ts";
import type { Answer } from "./http.ts";
import { roundSummary, summarize, type Summary, round } from "./stats.ts";

/** One put of client `client`'s `i`-th request. */
export type PutFn = (client: number, i: number) => Promise<Answer>;

export interface Phase {
  readonly clients: number;
  /** Puts answered 200. */
  readonly ops: number;
  /** Other answers, by status ("0" = the request failed). */
  readonly errors: Record<string, number>;
  readonly seconds: number;
  /** Successful puts per second. */
  readonly throughput: number;
  /** Latency of the successful puts, ms (client side: Node→Worker→objects→back). */
  readonly latency: Summary;
  /** CPU ms per successful put: workerd (Worker and objects) and Node (the client). */
  readonly cpuPerOp: { readonly workerdMs: number | null; readonly nodeMs: number };
}

/** Keys cycle over 16 per client, so puts overwrite (found: true) as a steady workload would. */
export function keyOf(client: number, i: number): string {
  return `k${client}-${i % 16}`;
}

/** A 32-byte value. */
export function valueOf(i: number): string {
  return `v${i}`.padEnd(32, ".");
}

/** `n` puts, one after another, after `warmup` untimed ones. */
export async function sequential(put: PutFn, n: number, warmup = 20): Promise<Phase> {
  for (let i = 0; i < warmup; i++) await put(0, i);
  return run(put, 1, { count: n });
}

/** `clients` clients, each putting back to back, for `durationMs`. */
export function concurrent(put: PutFn, clients: number, durationMs: number): Promise<Phase> {
  return run(put, clients, { durationMs });
}

async function run(put: PutFn, clients: number, stop: { count?: number; durationMs?: number }): Promise<Phase> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const cpu0 = cpuNow();
  const t0 = performance.now();
  let issued = 0;
  const more = () =>
    stop.count !== undefined ? issued < stop.count : performance.now() - t0 < (stop.durationMs ?? 0);
  const client = async (c: number) => {
    for (let i = 0; more(); i++) {
      issued++;
      const a = await put(c, i);
      if (a.status === 200) latencies.push(a.ms);
      else errors[String(a.status)] = (errors[String(a.status)] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuPer(cpu0, cpuNow(), Math.max(1, latencies.length));
  return {
    clients,
    ops: latencies.length,
    errors,
    seconds: round(seconds),
    throughput: round(latencies.length / seconds),
    latency: roundSummary(summarize(latencies)),
    cpuPerOp: { workerdMs: cpu.workerdMs === null ? null : round(cpu.workerdMs), nodeMs: round(cpu.nodeMs) },
  };
}
