// What the Node client itself costs: the bench's two clients (bench/lib/http.ts: undici Pool
// with keep-alive, and Miniflare's dispatchFetch) sending the same no-op request through the
// Worker to an object (GET /floor/http/noop), in one Miniflare, in rounds ordered A B B A so
// the drift of a shared machine weighs on both alike. Per client: one request at a time
// (Node and workerd CPU per request, latency) and 64 closed-loop clients (the ceiling of the
// client path: throughput, CPU per request). Prints a markdown table with each figure's ratio.
//
//   npx tsx bench/client-cost.ts [--calls 600] [--clients 64] [--round-ms 2000]
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cpuNow, cpuPer } from "./lib/cpu.ts";
import { CLIENT_KINDS, Http, type ClientKind } from "./lib/http.ts";
import { concurrentSamples, pooled, type Phase, type PhaseSamples, type PutFn } from "./lib/load.ts";
import { bundle, start } from "./lib/runtime.ts";
import { round, summarize } from "./lib/stats.ts";

interface Sequential {
  readonly calls: number;
  readonly p50: number;
  readonly p99: number;
  readonly nodeMs: number;
  readonly workerdMs: number | null;
}

async function sequentialNoop(http: Http, calls: number): Promise<{ ms: number[]; nodeMs: number; workerdMs: number | null }> {
  for (let i = 0; i < 20; i++) await http.ok("GET", "/floor/http/noop"); // warm-up (connections, JIT)
  const ms: number[] = [];
  const cpu0 = cpuNow();
  for (let i = 0; i < calls; i++) {
    const a = await http.call("GET", "/floor/http/noop");
    if (a.status !== 200) throw new Error(`/floor/http/noop answered ${a.status}: ${JSON.stringify(a.body)}`);
    ms.push(a.ms);
  }
  const cpu = cpuPer(cpu0, cpuNow(), 1);
  return { ms, nodeMs: cpu.nodeMs, workerdMs: cpu.workerdMs };
}

const fmt = (x: number | null) => (x === null || !Number.isFinite(x) ? "—" : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (a: number | null, b: number | null) => (a === null || b === null || !(b > 0) ? "—" : `${(a / b).toFixed(2)}×`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { calls: { type: "string", default: "600" }, clients: { type: "string", default: "64" }, "round-ms": { type: "string", default: "2000" } },
  });
  const calls = Number(values.calls);
  const clients = Number(values.clients);
  const roundMs = Number(values["round-ms"]);
  const load0 = loadavg();
  const began = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "raft-client-"));
  const rt = await start(bundle(join(dir, "dist")), join(dir, "storage"), false);
  const https = new Map<ClientKind, Http>();
  for (const kind of CLIENT_KINDS) https.set(kind, await Http.open(rt.mf, kind));
  try {
    const order: ClientKind[] = [...CLIENT_KINDS, ...[...CLIENT_KINDS].reverse()];
    const seq = new Map<ClientKind, Array<{ ms: number[]; nodeMs: number; workerdMs: number | null }>>();
    const conc = new Map<ClientKind, PhaseSamples[]>();
    for (const kind of order) {
      const http = https.get(kind)!;
      process.stderr.write(`[client-cost] ${kind}: ${calls} sequential no-op requests, then ${clients} clients × ${roundMs} ms\n`);
      seq.set(kind, [...(seq.get(kind) ?? []), await sequentialNoop(http, Math.round(calls / 2))]);
      const noop: PutFn = () => http.call("GET", "/floor/http/noop");
      conc.set(kind, [...(conc.get(kind) ?? []), await concurrentSamples(noop, clients, roundMs)]);
    }
    const seqOf = (kind: ClientKind): Sequential => {
      const parts = seq.get(kind)!;
      const s = summarize(parts.flatMap((p) => p.ms));
      const n = parts.reduce((a, p) => a + p.ms.length, 0);
      const w = parts.some((p) => p.workerdMs === null) ? null : parts.reduce((a, p) => a + p.workerdMs!, 0) / n;
      return { calls: n, p50: round(s.p50), p99: round(s.p99), nodeMs: round(parts.reduce((a, p) => a + p.nodeMs, 0) / n), workerdMs: w === null ? null : round(w) };
    };
    const [a, b] = CLIENT_KINDS as [ClientKind, ClientKind];
    const sa = seqOf(a);
    const sb = seqOf(b);
    const ca: Phase = pooled(conc.get(a)!);
    const cb: Phase = pooled(conc.get(b)!);
    const rows: Array<[string, number | null, number | null]> = [
      ["one at a time: latency p50 (ms)", sa.p50, sb.p50],
      ["one at a time: latency p99 (ms)", sa.p99, sb.p99],
      ["one at a time: Node CPU per request (ms)", sa.nodeMs, sb.nodeMs],
      ["one at a time: workerd CPU per request (ms)", sa.workerdMs, sb.workerdMs],
      [`${clients} clients: throughput (requests/s)`, ca.throughput, cb.throughput],
      [`${clients} clients: latency p50 (ms)`, ca.latency.p50, cb.latency.p50],
      [`${clients} clients: Node CPU per request (ms)`, ca.cpuPerOp.nodeMs, cb.cpuPerOp.nodeMs],
      [`${clients} clients: workerd CPU per request (ms)`, ca.cpuPerOp.workerdMs, cb.cpuPerOp.workerdMs],
    ];
    const lines = [
      `No-op requests through the Worker to an object (GET /floor/http/noop), rounds ${order.join(", ")}: ` +
        `${sa.calls} sequential requests and ${clients} clients × ${(2 * roundMs) / 1000} s per client. ` +
        `Load average before ${load0.map((x) => x.toFixed(2)).join(" ")}, after ${loadavg().map((x) => x.toFixed(2)).join(" ")}; ` +
        `${((performance.now() - began) / 1000).toFixed(1)} s.`,
      "",
      `| no-op request | ${a} | ${b} | ${a} ÷ ${b} |`,
      "| --- | ---: | ---: | ---: |",
      ...rows.map(([name, x, y]) => `| ${name} | ${fmt(x)} | ${fmt(y)} | ${ratio(x, y)} |`),
      "",
    ];
    process.stdout.write(lines.join("\n"));
  } finally {
    for (const http of https.values()) await http.close();
    await rt.mf.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
