// The floor, what the platform itself costs: object→object timings inside workerd (BenchFloor) and
// Node→Worker→object calls; it drifts with the machine, so it is sampled in rounds over the run and pooled.
import { cpuNow, cpuPer, type CpuSample } from "../lib/cpu.ts";
import { FLOOR_KINDS, type FloorKind, type FloorTiming } from "../floor-kinds.ts";
import { fmt, table } from "../lib/render.ts";
import { round, summarize, sum } from "../lib/stats.ts";
import type { Ctx, Suite } from "../lib/suite.ts";

const HTTP = ["noop", "write"] as const;

function sampler({ http, o, progress }: Ctx) {
  const [roundMs, calls] = [Math.round(o.floorMs / 3), Math.round(o.httpFloorCalls / 3)];
  const timings = new Map<FloorKind, FloorTiming[]>(FLOOR_KINDS.map((k) => [k, []]));
  const https = new Map(HTTP.map((w) => [w, { ms: [] as number[][], cpu: [] as Array<[CpuSample, CpuSample]> }]));
  return {
    async round(n: number, of: number) {
      progress(`floor, round ${n}/${of}: ${roundMs} ms per in-workerd measurement, ${calls} Node→Worker calls`);
      for (const kind of FLOOR_KINDS) timings.get(kind)!.push(await http.ok<FloorTiming>("GET", `/floor/measure/${kind}?ms=${roundMs}`));
      for (const what of HTTP) {
        for (let i = 0; i < 20; i++) await http.ok("GET", `/floor/http/${what}`); // warm-up
        const ms: number[] = [];
        const cpu0 = cpuNow();
        for (let i = 0; i < calls; i++) {
          const a = await http.call("GET", `/floor/http/${what}`);
          if (a.status !== 200) throw new Error(`/floor/http/${what} answered ${a.status}: ${JSON.stringify(a.body)}`);
          ms.push(a.ms);
        }
        https.get(what)!.ms.push(ms);
        https.get(what)!.cpu.push([cpu0, cpuNow()]);
      }
    },
    result() {
      const inWorkerd = Object.fromEntries(
        FLOOR_KINDS.map((kind) => {
          const rounds = timings.get(kind)!;
          const s = summarize(rounds.flatMap((t) => t.samplesMs));
          const n = sum(rounds.map((t) => t.calls));
          const mean = round(sum(rounds.map((t) => t.meanMs * t.calls)) / Math.max(1, n));
          return [kind, { batch: rounds.map((t) => t.batch), calls: n, p50: s.p50, p99: s.p99, mean, roundP50: rounds.map((t) => summarize(t.samplesMs).p50) }];
        }),
      ) as Record<FloorKind, { batch: number[]; calls: number; p50: number; p99: number; mean: number; roundP50: number[] }>;
      const fromNode = (what: (typeof HTTP)[number]) => {
        const { ms, cpu } = https.get(what)!;
        const per = cpu.map(([a, b]) => cpuPer(a, b, 1));
        const n = Math.max(1, sum(ms.map((m) => m.length)));
        const workerd = per.some((c) => c.workerdMs === null) ? null : round(sum(per.map((c) => c.workerdMs!)) / n);
        return { ...summarize(ms.flat()), cpuPerCall: { workerdMs: workerd, nodeMs: round(sum(per.map((c) => c.nodeMs)) / n) }, roundP50: ms.map((m) => summarize(m).p50) };
      };
      return { rounds: timings.get("rpc")!.length, inWorkerd, http: { noop: fromNode("noop"), write: fromNode("write") } };
    },
  };
}

export type FloorResult = ReturnType<ReturnType<typeof sampler>["result"]>;

function floorTable(f: FloorResult): string {
  type Row = { p50: number; p99: number; mean: number; roundP50: number[] };
  const row = (name: string, s: Row, calls: string, cpu: string) => [name, fmt(s.p50, 3), fmt(s.p99, 3), fmt(s.mean, 3), calls, s.roundP50.map((x) => fmt(x, 2)).join(" / "), cpu];
  const inside = (name: string, kind: FloorKind) => row(name, f.inWorkerd[kind], `${f.inWorkerd[kind].calls} (batches of ${f.inWorkerd[kind].batch.join("/")})`, "—");
  const node = (name: string, what: (typeof HTTP)[number]) => row(name, f.http[what], `${f.http[what].n}`, `${fmt(f.http[what].cpuPerCall.workerdMs)} / ${fmt(f.http[what].cpuPerCall.nodeMs)}`);
  const rows = [
    inside("object→object RPC (inside workerd)", "rpc"),
    inside("**RPC whose callee writes one row** (inside workerd) — *the floor*", "rpcWrite"),
    inside("one local durable write (write + sync)", "write"),
    inside("one local durable write that also moves the alarm", "writeAlarm"),
    inside("leader's write, then RPC+write (least a commit costs)", "commit"),
    node("Node→Worker→object, no-op (from Node)", "noop"),
    node("Node→Worker→object, one row written (from Node)", "write"),
  ];
  const body = table(["floor", "p50 ms", "p99 ms", "mean ms", "calls", "p50 per round (start / middle / end)", "CPU ms per call: workerd / Node"], rows);
  return `${body}\n\nIn-workerd timings are per-call means of back-to-back batches (workerd's clock has 1 ms resolution), so their p99\nis flattened. Node→Worker rows are per request, timed from Node. Sampled in ${f.rounds} rounds spread over the run, pooled.`;
}

export const floor: Suite<FloorResult> = { name: "floor", full: true, url: false, about: "the platform's floor: object→object calls and writes inside workerd, Node→Worker→object calls", sampler, sections: (f) => [["Floor", floorTable(f)]] };
