// Closed-loop load: each client sends its next request as soon as its previous one answered.
import { cpuNow, cpuPer } from "./cpu.ts";
import type { Answer } from "./http.ts";
import { clientsLabel, type Value } from "./render.ts";
import { round, sum, summarize, tally, type Summary } from "./stats.ts";

/** Client `client`'s `i`-th request (a put, a read, a no-op). */
export type PutFn = (client: number, i: number) => Promise<Answer>;

/** ops: requests answered 200; errors: the others by status ("0": no answer); latency from Node of the 200s; CPU ms per 200. */
export type Phase = { clients: number; ops: number; errors: Record<string, number>; seconds: number; throughput: number; latency: Summary; cpuPerOp: { workerdMs: number | null; nodeMs: number } };
/** A phase with its raw latencies, for pooling phases run at different times (`pooled`). */
export type PhaseSamples = { phase: Phase; latencies: number[] };

/** Keys cycle over 16 per client, so puts overwrite (found: true) as a steady workload would. */
export const keyOf = (client: number, i: number): string => `k${client}-${i % 16}`;
/** A 32-byte value. */
export const valueOf = (i: number): string => `v${i}`.padEnd(32, ".");

/** The phase of `clients` clients in `phases`. */
export const phaseAt = <P extends { clients: number }>(phases: readonly P[] | undefined, clients: number): P | undefined => phases?.find((p) => p.clients === clients);

/** The put workload's figures, [name, digits, value], of whatever ran it (single, raft, etcd), in the order the tables print them. */
type Ran = { sequential?: Phase | null; concurrency?: readonly Phase[] } | null | undefined;
export const PUT_FIGURES: Array<[string, number, (r: Ran) => Value]> = [
  ["sequential put p50 (ms)", 2, (r) => r?.sequential?.latency.p50],
  ["sequential put p99 (ms)", 2, (r) => r?.sequential?.latency.p99],
  ...[1, 8, 64].flatMap((n): Array<[string, number, (r: Ran) => Value]> => [
    [`${clientsLabel(n)}: throughput (ops/s)`, 0, (r) => phaseAt(r?.concurrency, n)?.throughput],
    [`${clientsLabel(n)}: put p50 (ms)`, 2, (r) => phaseAt(r?.concurrency, n)?.latency.p50],
    [`${clientsLabel(n)}: put p99 (ms)`, 2, (r) => phaseAt(r?.concurrency, n)?.latency.p99],
  ]),
];

/** `n` requests one after another, after `warmup` untimed ones. */
export async function sequential(put: PutFn, n: number, warmup = 20): Promise<Phase> {
  for (let i = 0; i < warmup; i++) await put(0, i);
  return (await closedLoop(put, 1, { count: n })).phase;
}

/** `clients` clients, each sending back to back, for `durationMs`. */
export const concurrent = async (put: PutFn, clients: number, durationMs: number): Promise<Phase> => (await closedLoop(put, clients, { durationMs })).phase;

/** Phases of one workload run at different times (A B B A, against drift) as one: CPU weighted by operations. */
export function pooled(parts: readonly PhaseSamples[]): Phase {
  const [ops, seconds] = [sum(parts.map((p) => p.phase.ops)), sum(parts.map((p) => p.phase.seconds))];
  const errors: Record<string, number> = {};
  for (const p of parts) for (const [k, n] of Object.entries(p.phase.errors)) tally(errors, k, n);
  const weighted = (f: (p: Phase) => number | null): number | null =>
    parts.some((p) => f(p.phase) === null) ? null : ops > 0 ? round(parts.reduce((a, p) => a + f(p.phase)! * p.phase.ops, 0) / ops) : NaN;
  const cpuPerOp = { workerdMs: weighted((p) => p.cpuPerOp.workerdMs), nodeMs: weighted((p) => p.cpuPerOp.nodeMs) ?? NaN };
  return { clients: parts[0]?.phase.clients ?? 0, ops, errors, seconds: round(seconds), throughput: round(seconds > 0 ? ops / seconds : NaN), latency: summarize(parts.flatMap((p) => p.latencies)), cpuPerOp };
}

/** `clients` clients back to back until `count` requests are sent or `durationMs` passed. */
export async function closedLoop(put: PutFn, clients: number, stop: { count?: number; durationMs?: number }): Promise<PhaseSamples> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const cpu0 = cpuNow();
  const t0 = performance.now();
  let issued = 0;
  const more = () => (stop.count !== undefined ? issued < stop.count : performance.now() - t0 < (stop.durationMs ?? 0));
  const client = async (c: number) => {
    for (let i = 0; more(); i++) {
      issued++;
      const a = await put(c, i);
      if (a.status === 200) latencies.push(a.ms);
      else tally(errors, a.status);
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuPer(cpu0, cpuNow(), Math.max(1, latencies.length));
  const cpuPerOp = { workerdMs: cpu.workerdMs === null ? null : round(cpu.workerdMs), nodeMs: round(cpu.nodeMs) };
  return { phase: { clients, ops: latencies.length, errors, seconds: round(seconds), throughput: round(latencies.length / seconds), latency: summarize(latencies), cpuPerOp }, latencies };
}
