// The floor: what the platform itself costs, from the same run.
//  - inWorkerd: object→object timings taken inside workerd by BenchFloor (see bench/floor.ts
//    for why they are per-batch means);
//  - http: one Node→Worker→object call, timed from Node: the fixed cost every put of the
//    single object and of Raft pays for being driven from Node.
// On a shared machine the floor drifts with everything else, so it is sampled in rounds spread
// over the run (start, middle, end) and the rounds are pooled; each round's p50 is kept too.
import { cpuNow, cpuPer, type CpuSample } from "../lib/cpu.ts";
import { FLOOR_KINDS, type FloorKind, type FloorTiming } from "../floor-kinds.ts";
import type { Http } from "../lib/http.ts";
import { round, roundSummary, summarize, type Summary } from "../lib/stats.ts";

export interface FloorTimingSummary {
  /** Calls per timed batch (per round). */
  readonly batch: number[];
  readonly calls: number;
  /** Percentiles of the per-batch means, ms, all rounds pooled. */
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  /** p50 of each round, in order: the drift over the run. */
  readonly roundP50: number[];
}

export type HttpFloor = Summary & {
  readonly cpuPerCall: { readonly workerdMs: number | null; readonly nodeMs: number };
  readonly roundP50: number[];
};

export interface FloorResult {
  readonly rounds: number;
  readonly inWorkerd: Record<FloorKind, FloorTimingSummary>;
  readonly http: { readonly noop: HttpFloor; readonly write: HttpFloor };
}

type HttpWhat = "noop" | "write";

export class FloorSampler {
  private readonly timings = new Map<FloorKind, FloorTiming[]>();
  private readonly http = new Map<HttpWhat, { ms: number[][]; cpu: Array<[CpuSample, CpuSample]>; calls: number }>();

  constructor(
    private readonly client: Http,
    /** Per in-workerd measurement and round, ms. */
    private readonly roundMs: number,
    /** Node→Worker calls per kind and round. */
    private readonly httpCalls: number,
  ) {}

  async round(): Promise<void> {
    for (const kind of FLOOR_KINDS) {
      const t = await this.client.ok<FloorTiming>("GET", `/floor/measure/${kind}?ms=${this.roundMs}`);
      this.timings.set(kind, [...(this.timings.get(kind) ?? []), t]);
    }
    for (const what of ["noop", "write"] as const) await this.httpRound(what);
  }

  private async httpRound(what: HttpWhat): Promise<void> {
    for (let i = 0; i < 20; i++) await this.client.ok("GET", `/floor/http/${what}`); // warm-up
    const ms: number[] = [];
    const cpu0 = cpuNow();
    for (let i = 0; i < this.httpCalls; i++) {
      const a = await this.client.call("GET", `/floor/http/${what}`);
      if (a.status !== 200) throw new Error(`/floor/http/${what} answered ${a.status}: ${JSON.stringify(a.body)}`);
      ms.push(a.ms);
    }
    const acc = this.http.get(what) ?? { ms: [], cpu: [], calls: 0 };
    acc.ms.push(ms);
    acc.cpu.push([cpu0, cpuNow()]);
    acc.calls += this.httpCalls;
    this.http.set(what, acc);
  }

  result(): FloorResult {
    const inWorkerd = {} as Record<FloorKind, FloorTimingSummary>;
    for (const kind of FLOOR_KINDS) {
      const rounds = this.timings.get(kind) ?? [];
      const s = summarize(rounds.flatMap((t) => t.samplesMs));
      const calls = rounds.reduce((a, t) => a + t.calls, 0);
      const totalMs = rounds.reduce((a, t) => a + t.meanMs * t.calls, 0);
      inWorkerd[kind] = {
        batch: rounds.map((t) => t.batch),
        calls,
        p50: round(s.p50),
        p99: round(s.p99),
        mean: round(totalMs / Math.max(1, calls)),
        roundP50: rounds.map((t) => round(summarize(t.samplesMs).p50)),
      };
    }
    const http = (what: HttpWhat): HttpFloor => {
      const acc = this.http.get(what) ?? { ms: [], cpu: [], calls: 0 };
      let workerd: number | null = 0;
      let node = 0;
      for (const [a, b] of acc.cpu) {
        const c = cpuPer(a, b, 1);
        workerd = workerd === null || c.workerdMs === null ? null : workerd + c.workerdMs;
        node += c.nodeMs;
      }
      const calls = Math.max(1, acc.calls);
      return {
        ...roundSummary(summarize(acc.ms.flat())),
        cpuPerCall: { workerdMs: workerd === null ? null : round(workerd / calls), nodeMs: round(node / calls) },
        roundP50: acc.ms.map((ms) => round(summarize(ms).p50)),
      };
    };
    return { rounds: this.timings.get("rpc")?.length ?? 0, inWorkerd, http: { noop: http("noop"), write: http("write") } };
  }
}
