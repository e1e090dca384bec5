// What the Node client itself costs: the bench's two clients (bench/lib/http.ts: undici Pool
// with keep-alive, and Miniflare's dispatchFetch) sending the same no-op request through the
// Worker to an object (GET /floor/http/noop), in rounds ordered A B B A so the drift of a
// shared machine weighs on both alike. Per client: one request at a time, and 64 closed-loop
// clients (the ceiling of the client path). Not part of the full run: `--only client`.
import { cpuNow, cpuPer } from "../lib/cpu.ts";
import { CLIENT_KINDS, Http, type ClientKind } from "../lib/http.ts";
import { concurrentSamples, pooled, type PhaseSamples } from "../lib/load.ts";
import { fmt, ratio, table } from "../lib/render.ts";
import { round, sum, summarize } from "../lib/stats.ts";
import type { Ctx, Suite } from "../lib/suite.ts";

const CLIENTS = 64;

async function measure({ mf, o, progress }: Ctx) {
  if (!mf) throw new Error("the client suite compares clients of Miniflare: not with --url");
  const [calls, roundMs] = [o.sequential, o.readRoundMs];
  const order: ClientKind[] = [...CLIENT_KINDS, ...[...CLIENT_KINDS].reverse()];
  const seq = new Map<ClientKind, Array<{ ms: number[]; nodeMs: number; workerdMs: number | null }>>(CLIENT_KINDS.map((k) => [k, []]));
  const conc = new Map<ClientKind, PhaseSamples[]>(CLIENT_KINDS.map((k) => [k, []]));
  for (const kind of order) {
    const http = await Http.open(mf, kind);
    try {
      progress(`client ${kind}: ${calls} sequential no-op requests, then ${CLIENTS} clients × ${roundMs} ms`);
      for (let i = 0; i < 20; i++) await http.ok("GET", "/floor/http/noop"); // warm-up (connections, JIT)
      const ms: number[] = [];
      const cpu0 = cpuNow();
      for (let i = 0; i < calls; i++) ms.push((await http.call("GET", "/floor/http/noop")).ms);
      const cpu = cpuPer(cpu0, cpuNow(), 1);
      seq.get(kind)!.push({ ms, nodeMs: cpu.nodeMs, workerdMs: cpu.workerdMs });
      conc.get(kind)!.push(await concurrentSamples(() => http.call("GET", "/floor/http/noop"), CLIENTS, roundMs));
    } finally {
      await http.close();
    }
  }
  return CLIENT_KINDS.map((kind) => {
    const parts = seq.get(kind)!;
    const n = sum(parts.map((p) => p.ms.length));
    const s = summarize(parts.flatMap((p) => p.ms));
    const workerd = parts.some((p) => p.workerdMs === null) ? null : round(sum(parts.map((p) => p.workerdMs!)) / n);
    return { kind, order, sequential: { calls: n, p50: s.p50, p99: s.p99, nodeMs: round(sum(parts.map((p) => p.nodeMs)) / n), workerdMs: workerd }, concurrent: pooled(conc.get(kind)!) };
  });
}

export type ClientResult = Awaited<ReturnType<typeof measure>>;

function clientTable([a, b]: ClientResult): string {
  if (!a || !b) return "Not measured.";
  const rows: Array<[string, number | null, number | null]> = [
    ["one at a time: latency p50 (ms)", a.sequential.p50, b.sequential.p50],
    ["one at a time: latency p99 (ms)", a.sequential.p99, b.sequential.p99],
    ["one at a time: Node CPU per request (ms)", a.sequential.nodeMs, b.sequential.nodeMs],
    ["one at a time: workerd CPU per request (ms)", a.sequential.workerdMs, b.sequential.workerdMs],
    [`${CLIENTS} clients: throughput (requests/s)`, a.concurrent.throughput, b.concurrent.throughput],
    [`${CLIENTS} clients: latency p50 (ms)`, a.concurrent.latency.p50, b.concurrent.latency.p50],
    [`${CLIENTS} clients: Node CPU per request (ms)`, a.concurrent.cpuPerOp.nodeMs, b.concurrent.cpuPerOp.nodeMs],
    [`${CLIENTS} clients: workerd CPU per request (ms)`, a.concurrent.cpuPerOp.workerdMs, b.concurrent.cpuPerOp.workerdMs],
  ];
  return [
    table(["no-op request", a.kind, b.kind, `${a.kind} ÷ ${b.kind}`], rows.map(([name, x, y]) => [name, fmt(x), fmt(y), ratio(x, y)])),
    "",
    `No-op requests through the Worker to an object (GET /floor/http/noop), rounds ${a.order.join(", ")}: ${a.sequential.calls} sequential`,
    `requests and ${CLIENTS} clients × ${a.concurrent.seconds} s per client.`,
  ].join("\n");
}

export const client: Suite<ClientResult> = {
  name: "client",
  full: false,
  url: false,
  about: "the two Node clients (undici, dispatchFetch) side by side on no-op requests (about 20 s)",
  run: measure,
  sections: (r) => [["The client", clientTable(r)]],
};
