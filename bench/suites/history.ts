// A long history: restart time (crash, then restart + first status, rebuilt from storage alone) and rows of
// one-server clusters, compacting (snapshotThreshold 1000) and not (0), against a fresh one; filled by benchFill.
import { Cluster, message } from "../lib/cluster.ts";
import { fmt, ratio, table } from "../lib/render.ts";
import { round, summarize, tally } from "../lib/stats.ts";
import type { Ctx, Suite } from "../lib/suite.ts";

const KEYS = 1000;
const CHUNK = 10_000; // puts per fill request (the progress line moves once per request)
const BATCH = 1000; // puts per benchFill call: one turn of the object, a second at most

type Durable = { readonly logLength: number; readonly snapshotIndex: number; readonly applied: number; readonly rows: { readonly log: number; readonly kv: number; readonly sessions: number } };

type Case = { name: string; snapshotThreshold: number; ops: number; fillSeconds: number | null; fillErrors: Record<string, number>; durable: Durable } & Awaited<ReturnType<typeof restarts>>;

async function measure({ http, o, progress }: Ctx) {
  progress(`history: one-server clusters with ${o.historyOps} puts, snapshotThreshold 0 and 1000, and a fresh one; ${o.restarts} restarts each`);
  const cases: Case[] = [];
  const result = (unavailable: string | null) => ({ ops: o.historyOps, keys: KEYS, restarts: o.restarts, unavailable, cases });
  const plan = [
    { name: "fresh (no history)", threshold: 1000, ops: 0 },
    { name: "snapshotThreshold 0 (never compacts)", threshold: 0, ops: o.historyOps },
    { name: "snapshotThreshold 1000", threshold: 1000, ops: o.historyOps },
  ];
  for (const step of plan) {
    const done = await Cluster.with(http, `hist${step.threshold}-${step.ops}-${Date.now().toString(36)}`, { size: 1, snapshotThreshold: step.threshold }, false, async (c) => {
      await c.stable();
      let fillSeconds: number | null = null;
      const fillErrors: Record<string, number> = {};
      if (step.ops > 0) {
        const t0 = performance.now();
        for (let done = 0; done < step.ops; done += CHUNK) {
          const n = Math.min(CHUNK, step.ops - done);
          progress(`history, ${step.name}: puts ${done + 1}–${done + n} of ${step.ops}`);
          // The keys cycle from where the last chunk stopped (benchFill numbers its puts from `first`).
          const a = await http.call("POST", `/fill/${c.name}?ops=${n}&keys=${KEYS}&batch=${BATCH}&first=${done}`, undefined, 600_000);
          if (a.status !== 200) return `POST /fill answered ${a.status} ${JSON.stringify(a.body)}`;
          for (const [k, v] of Object.entries(a.body.errors as Record<string, number>)) tally(fillErrors, k, v);
        }
        fillSeconds = round((performance.now() - t0) / 1000);
      }
      const { logLength, snapshotIndex, applied, rows } = (await http.ok<{ durable: Durable }>("GET", `/clusters/${c.name}/servers/0`)).durable;
      const durable = { logLength, snapshotIndex, applied, rows };
      progress(`history, ${step.name}: ${o.restarts} restarts (log rows ${rows.log}, applied ${applied})`);
      cases.push({ name: step.name, snapshotThreshold: step.threshold, ops: step.ops, fillSeconds, fillErrors, durable, ...(await restarts(c, o.restarts, applied)) });
      return null;
    });
    if (done !== null) return result(done);
  }
  return result(null);
}

/** Crash, then restart + first status, `trials` times: from Node, and the restart request alone by the Worker's clock. */
async function restarts(c: Cluster, trials: number, applied: number) {
  const [samples, worker, failures] = [[] as number[], [] as number[], [] as string[]];
  const server = `/clusters/${c.name}/servers/0`;
  for (let t = 0; t < trials; t++) {
    // Let the previous restart's election and first alarms pass: crash a settled server.
    const settled = await c.stable().then(() => null, (e: unknown) => message(e));
    if (settled !== null) {
      failures.push(`trial ${t}: ${settled}`);
      continue;
    }
    const [crash, t0] = [await c.http.call("POST", `${server}/crash`), performance.now()];
    if (crash.status !== 200) {
      failures.push(`trial ${t}: crash answered ${crash.status} ${JSON.stringify(crash.body)}`);
      continue;
    }
    const restart = await c.http.call("POST", `${server}/restart`, undefined, 120_000, { "Bench-Trace": "1" });
    const status = await c.http.call("GET", `/clusters/${c.name}`);
    const ms = performance.now() - t0;
    const s = status.body?.servers?.[0] as { state?: string; lastApplied?: number } | undefined;
    if (restart.status !== 200 || status.status !== 200 || !s || s.state === "Dead" || (s.lastApplied ?? 0) < applied) {
      failures.push(`trial ${t}: restart ${restart.status}, then status ${status.status} ${JSON.stringify(s ?? status.body)} (applied before the crash: ${applied})`);
      continue;
    }
    samples.push(ms);
    const [inAt, outAt] = ["Bench-Worker-In", "Bench-Worker-Out"].map((h) => Number(restart.headers.get(h)));
    if (inAt! > 0 && outAt! >= inAt!) worker.push(outAt! - inAt!);
  }
  return { restartSamplesMs: samples.map(round), restartMs: summarize(samples), restartWorkerMs: summarize(worker), failures };
}

export type HistoryResult = Awaited<ReturnType<typeof measure>>;

/** The cases by role: the fresh server, the one that never compacts, the compacting one. */
export const historyCases = (h: HistoryResult) => ({
  fresh: h.cases.find((c) => c.ops === 0),
  never: h.cases.find((c) => c.ops > 0 && c.snapshotThreshold === 0),
  compacted: h.cases.find((c) => c.ops > 0 && c.snapshotThreshold > 0),
});

function historyTable(h: HistoryResult): string {
  const { fresh, never, compacted } = historyCases(h);
  if (!fresh || !never || !compacted) return `Not measured: ${h.unavailable ?? "no results"}.`;
  const rows: string[][] = [];
  const add = (name: string, f: (c: Case) => number | null | undefined, digits = 2) =>
    rows.push([name, fmt(f(fresh), digits), fmt(f(never), digits), ratio(f(never), f(fresh)), fmt(f(compacted), digits), ratio(f(compacted), f(fresh)), ratio(f(compacted), f(never))]);
  add("restart + first status, median (ms)", (c) => c.restartMs.p50, 1);
  add("restart + first status, slowest (ms)", (c) => c.restartMs.max, 1);
  add("restart request inside the Worker, median (ms, 1 ms clock)", (c) => c.restartWorkerMs.p50, 0);
  add("log rows", (c) => c.durable.rows.log, 0);
  add("key/value rows", (c) => c.durable.rows.kv, 0);
  add("session rows", (c) => c.durable.rows.sessions, 0);
  add("snapshotIndex", (c) => c.durable.snapshotIndex, 0);
  add("logLength", (c) => c.durable.logLength, 0);
  add("fill: seconds", (c) => c.fillSeconds, 1);
  const notes = h.cases.flatMap((c) => [
    ...(Object.keys(c.fillErrors).length ? [`- history, ${c.name}: puts not applied during the fill ${JSON.stringify(c.fillErrors)}.`] : []),
    ...(c.failures.length ? [`- history, ${c.name}: ${c.failures.join("; ")}.`] : []),
  ]);
  const header = ["one-server cluster", "fresh", "snapshotThreshold 0", "×fresh", `snapshotThreshold ${compacted.snapshotThreshold}`, "×fresh", "×threshold 0"];
  const caption = `Filled with ${h.ops.toLocaleString("en-US")} puts over ${h.keys} keys, proposed inside the server by benchFill; ${h.restarts} crash → restart + first status per server.`;
  return [table(header, rows), caption, ...(notes.length ? [notes.join("\n")] : [])].join("\n\n");
}

export const history: Suite<HistoryResult> = { name: "history", full: true, url: false, about: "a long history: restart time and rows of one-server clusters, compacting and not, against a fresh one", run: measure, sections: (h) => [["Long history: restart and storage", historyTable(h)]] };
