// A server with a long history: how long it takes to restart and how many rows it stores,
// with log compaction and without, against a fresh server (no history) in the same run.
//
// Three one-server clusters (a one-server cluster commits each put at once, so a history
// builds fast): "fresh" (created, nothing written), "threshold 0" ({"snapshotThreshold": 0}:
// never compacts, every entry stays a log row: the default) and "threshold 1000" (once more
// than 1000 applied entries sit in the log, the older half is folded into the snapshot).
// Each of the two is filled with `ops` puts over `keys` distinct keys; then
//   - rows: GET /clusters/{c}/servers/0 → durable.rows {log, kv, sessions};
//   - restart, `restarts` times: POST .../servers/0/crash, then the time of
//     POST .../servers/0/restart plus the first GET /clusters/{c} after it (the restarted
//     server rebuilds itself from storage alone: its key/value state, then the log after
//     the snapshot), from Node; the Worker's own clock times the restart request alone.
//
// The fill: in a profiled run the server proposes the puts itself, through the same kv()
// the coordinator calls, in batches (ProfiledRaftServer.benchFill), ~0.1 ms of CPU per put;
// with --plain every put is one RPC from the bench Worker (~1 ms per put, ten times slower).
import type { Http } from "../lib/http.ts";
import { sleep } from "../lib/http.ts";
import { round, roundSummary, summarize, type Summary } from "../lib/stats.ts";

export interface DurableView {
  readonly logLength: number;
  readonly snapshotIndex: number;
  readonly applied: number;
  readonly rows: { readonly log: number; readonly kv: number; readonly sessions: number };
}

export interface HistoryCase {
  readonly name: string;
  readonly snapshotThreshold: number;
  /** Puts applied by the fill (0 for the fresh server). */
  readonly ops: number;
  /** Wall time of the fill, s (null: no fill). */
  readonly fillSeconds: number | null;
  readonly fillErrors: Record<string, number>;
  /** Storage after the fill (GET /clusters/{c}/servers/0). */
  readonly durable: DurableView | null;
  /** Restart + first status, ms, from Node: samples and summary. */
  readonly restartSamplesMs: number[];
  readonly restartMs: Summary;
  /** The restart request alone by the Worker's clock (1 ms resolution), ms. */
  readonly restartWorkerMs: Summary;
  /** Trials that failed, and why. */
  readonly failures: string[];
}

export interface CompactionResult {
  readonly ops: number;
  readonly keys: number;
  readonly restarts: number;
  readonly fillMode: "proposed inside the server by benchFill" | "one RPC per put";
  /** Null when the cases ran; otherwise why not. */
  readonly unavailable: string | null;
  readonly cases: HistoryCase[];
}

export interface CompactionOptions {
  readonly historyOps: number;
  readonly restarts: number;
  readonly profiled: boolean;
}

const KEYS = 1000;
/** Puts per fill request (the progress line moves once per request). */
const CHUNK = 10_000;
/** Puts per benchFill call: one turn of the object each, about a second at most. */
const BATCH = 1000;
const LEADER_DEADLINE_MS = 10_000;

export async function measureCompaction(http: Http, o: CompactionOptions, progress: (line: string) => void): Promise<CompactionResult> {
  const fillMode = o.profiled ? "proposed inside the server by benchFill" : "one RPC per put";
  const result = (cases: HistoryCase[], unavailable: string | null): CompactionResult => ({
    ops: o.historyOps,
    keys: KEYS,
    restarts: o.restarts,
    fillMode,
    unavailable,
    cases,
  });
  const plan: Array<{ name: string; threshold: number; ops: number }> = [
    { name: "fresh (no history)", threshold: 1000, ops: 0 },
    { name: "snapshotThreshold 0 (never compacts)", threshold: 0, ops: o.historyOps },
    { name: "snapshotThreshold 1000", threshold: 1000, ops: o.historyOps },
  ];
  const cases: HistoryCase[] = [];
  for (const step of plan) {
    const name = `hist${step.threshold}-${step.ops}-${Date.now().toString(36)}`;
    const created = await http.call("POST", `/clusters/${name}`, { size: 1, snapshotThreshold: step.threshold });
    if (created.status !== 201) return result(cases, `POST /clusters/{c} {"size": 1, "snapshotThreshold": ${step.threshold}} answered ${created.status} ${JSON.stringify(created.body)}`);
    try {
      await waitLeader(http, name);
      let fillSeconds: number | null = null;
      const fillErrors: Record<string, number> = {};
      if (step.ops > 0) {
        const t0 = performance.now();
        for (let done = 0; done < step.ops; done += CHUNK) {
          const n = Math.min(CHUNK, step.ops - done);
          progress(`history, ${step.name}: puts ${done + 1}–${done + n} of ${step.ops}`);
          // The keys cycle from where the last chunk stopped (benchFill numbers its puts from `first`).
          const query = o.profiled ? `inside=1&batch=${BATCH}&first=${done}` : "clients=64";
          const a = await http.call("POST", `/fill/${name}?ops=${n}&keys=${KEYS}&${query}`, undefined, 600_000);
          if (a.status !== 200) return result(cases, `POST /fill answered ${a.status} ${JSON.stringify(a.body)}`);
          for (const [k, v] of Object.entries(a.body.errors as Record<string, number>)) fillErrors[k] = (fillErrors[k] ?? 0) + v;
        }
        fillSeconds = round((performance.now() - t0) / 1000);
      }
      const detail = await http.ok<{ lastApplied: number; durable: DurableView }>("GET", `/clusters/${name}/servers/0`);
      const durable: DurableView = {
        logLength: detail.durable.logLength,
        snapshotIndex: detail.durable.snapshotIndex,
        applied: detail.durable.applied,
        rows: detail.durable.rows,
      };
      progress(`history, ${step.name}: ${o.restarts} restarts (log rows ${durable.rows.log}, applied ${durable.applied})`);
      const restart = await restarts(http, name, o.restarts, durable.applied);
      cases.push({ name: step.name, snapshotThreshold: step.threshold, ops: step.ops, fillSeconds, fillErrors, durable, ...restart });
    } finally {
      await http.call("DELETE", `/clusters/${name}`, undefined, 120_000);
    }
  }
  return result(cases, null);
}

async function waitLeader(http: Http, name: string): Promise<void> {
  const deadline = performance.now() + LEADER_DEADLINE_MS;
  while (performance.now() < deadline) {
    const v = await http.ok<{ leader: number | null }>("GET", `/clusters/${name}`);
    if (v.leader !== null) return;
    await sleep(20);
  }
  throw new Error(`cluster ${name} elected no leader within ${LEADER_DEADLINE_MS} ms`);
}

async function restarts(
  http: Http,
  name: string,
  trials: number,
  applied: number,
): Promise<Pick<HistoryCase, "restartSamplesMs" | "restartMs" | "restartWorkerMs" | "failures">> {
  const samples: number[] = [];
  const worker: number[] = [];
  const failures: string[] = [];
  const server = `/clusters/${name}/servers/0`;
  for (let t = 0; t < trials; t++) {
    // Let the previous restart's election and first alarms pass: crash a settled server.
    await waitLeader(http, name);
    const crash = await http.call("POST", `${server}/crash`);
    if (crash.status !== 200) {
      failures.push(`trial ${t}: crash answered ${crash.status} ${JSON.stringify(crash.body)}`);
      continue;
    }
    const t0 = performance.now();
    const restart = await http.call("POST", `${server}/restart`, undefined, 120_000, { "Bench-Trace": "1" });
    const status = await http.call("GET", `/clusters/${name}`);
    const ms = performance.now() - t0;
    const s = status.body?.servers?.[0] as { state?: string; lastApplied?: number } | undefined;
    if (restart.status !== 200 || status.status !== 200 || !s || s.state === "Dead" || (s.lastApplied ?? 0) < applied) {
      failures.push(`trial ${t}: restart ${restart.status}, then status ${status.status} ${JSON.stringify(s ?? status.body)} (applied before the crash: ${applied})`);
      continue;
    }
    samples.push(ms);
    const inAt = Number(restart.headers.get("Bench-Worker-In"));
    const outAt = Number(restart.headers.get("Bench-Worker-Out"));
    if (inAt > 0 && outAt >= inAt) worker.push(outAt - inAt);
  }
  return {
    restartSamplesMs: samples.map(round),
    restartMs: roundSummary(summarize(samples)),
    restartWorkerMs: roundSummary(summarize(worker)),
    failures,
  };
}
