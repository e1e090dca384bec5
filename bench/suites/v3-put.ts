// Issue 20, item 8: the put workload through the cluster's etcd gateway (`POST /clusters/{c}/v3/kv/put`,
// etcd's JSON encoding, the etcd suite's client) beside `PUT /kv` in the same raft run, and both beside etcd.
import { v3Put } from "../lib/etcd.ts";
import type { Http } from "../lib/http.ts";
import { concurrent, phaseAt, sequential, type Phase } from "../lib/load.ts";
import { fmt, ratio, table, verdict, type Value } from "../lib/render.ts";
import type { Options } from "../lib/options.ts";
import type { Results } from "../lib/suite.ts";
import type { RaftResult } from "./raft.ts";

const LOAD = 64;

/** Sequential puts and LOAD clients through /v3/kv/put, each phase measured by `costed` after `settle`; not measured while the route is missing. */
export async function v3Phases<P extends Phase>(http: Http, cluster: string, o: Options, settle: () => Promise<unknown>, costed: (clients: number, f: () => Promise<Phase>) => Promise<P>) {
  const put = v3Put(http, `/clusters/${cluster}/v3`);
  const probe = await put(0, 0);
  if (probe.status !== 200) return { unavailable: `not measured: the route answered ${probe.status}`, sequential: null, concurrency: [] as P[] };
  await settle();
  const seq = await costed(1, () => sequential(put, o.sequential));
  await settle();
  return { unavailable: null, sequential: seq, concurrency: [await costed(LOAD, () => concurrent(put, LOAD, o.phaseMs))] };
}

/** raft-3's (else the first size's) /kv and /v3/kv/put figures side by side, with etcd's, and issue 20's goals. */
export function v3Table(raft: RaftResult[], all: Results): string | null {
  const x = raft.find((r) => r.size === 3) ?? raft[0];
  if (!x || x.unavailable) return null;
  const etcd = all.etcd && !all.etcd.unavailable ? all.etcd : null;
  const [kv64, v364, e64] = [phaseAt(x.concurrency, LOAD), phaseAt(x.v3?.concurrency, LOAD), phaseAt(etcd?.concurrency, LOAD)];
  const rows: string[][] = [];
  const add = (name: string, kv: Value, v3: Value, e: Value, digits = 2) => rows.push([name, fmt(kv, digits), fmt(v3, digits), ratio(v3, kv), fmt(e, digits), ratio(v3, e), ratio(kv, e)]);
  add("sequential put p50 (ms)", x.sequential?.latency.p50, x.v3?.sequential?.latency.p50, etcd?.sequential?.latency.p50);
  add("sequential put p99 (ms)", x.sequential?.latency.p99, x.v3?.sequential?.latency.p99, etcd?.sequential?.latency.p99);
  add("sequential: server CPU per put (ms)", x.sequential?.cpuPerOp.workerdMs, x.v3?.sequential?.cpuPerOp.workerdMs, etcd?.sequential?.etcdCpuMsPerOp);
  add(`${LOAD} clients: throughput (ops/s)`, kv64?.throughput, v364?.throughput, e64?.throughput, 0);
  add(`${LOAD} clients: put p50 (ms)`, kv64?.latency.p50, v364?.latency.p50, e64?.latency.p50);
  add(`${LOAD} clients: put p99 (ms)`, kv64?.latency.p99, v364?.latency.p99, e64?.latency.p99);
  add(`${LOAD} clients: server CPU per put (ms)`, kv64?.cpuPerOp.workerdMs, v364?.cpuPerOp.workerdMs, e64?.etcdCpuMsPerOp);
  add(`${LOAD} clients: SQL rows written per put, all servers`, kv64?.cost.storage?.rowsWrittenPerOp, v364?.cost.storage?.rowsWrittenPerOp, null);
  // The goals read the v3 figures; until the route lands, /kv's stand in for the comparisons with etcd.
  const [put64, seq] = [v364 ?? kv64, x.v3?.sequential ?? x.sequential];
  const via = v364 ? "/v3/kv/put" : "/kv (v3 not measured)";
  const q = (a: Value, b: Value) => (a !== null && a !== undefined && b ? a / b : null);
  const goals: Array<[string, number | null, string, (v: number) => boolean]> = [
    [`/v3/kv/put ÷ /kv throughput at ${LOAD} clients`, q(v364?.throughput, kv64?.throughput), "≥ 0.9", (v) => v >= 0.9],
    [`SQL rows written per put, all servers, ${LOAD} clients (${via})`, put64?.cost.storage?.rowsWrittenPerOp ?? null, "≤ 5", (v) => v <= 5],
    [`raft-${x.size} ÷ etcd throughput at ${LOAD} clients (${via})`, q(put64?.throughput, e64?.throughput), "≥ 0.5", (v) => v >= 0.5],
    [`raft-${x.size} ÷ etcd sequential put p50 (${via})`, q(seq?.latency.p50, etcd?.sequential?.latency.p50), "≤ 1.5", (v) => v <= 1.5],
  ];
  const header = ["figure", "/kv", "/v3/kv/put", "v3 ÷ kv", etcd ? `etcd ${etcd.version} ×3` : "etcd", "v3 ÷ etcd", "kv ÷ etcd"];
  const caption = `raft-${x.size}, the same run and client; /v3/kv/put: ${x.v3?.unavailable ?? "etcd's JSON encoding, as the etcd suite sends it"}; etcd: ${all.etcd?.unavailable ?? (etcd ? "3 loopback members" : "not run")}. Server CPU: workerd (every object) or the three etcd processes.`;
  return [table(header, rows), caption, table(["goal (issue 20)", "measured", "goal", "result"], goals.map(([text, v, goal, ok]) => [text, fmt(v), goal, verdict(v === null ? null : ok(v))]))].join("\n\n");
}
