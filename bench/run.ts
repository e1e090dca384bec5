// `npm run bench`: the floor, the single object, Raft clusters of 3 and 5, etcd (a 3-member
// loopback cluster, when `etcd` is on PATH), reads (ReadIndex against reads through the log)
// and a long history (restart and storage, with and without compaction), measured in one run
// on one machine, then a JSON file and markdown (stdout) that opens with the headline table:
// the ratios, the goals of issue 13 and the cost per write. Progress goes to stderr.
//
//   npm run bench                       # full run, a few minutes
//   npm run bench -- --quick            # about a minute
//   npm run bench -- --no-etcd          # without etcd even if installed
//   npm run bench -- --url http://127.0.0.1:8787   # the put workload against a running `npm run dev`
//   npm run bench -- --out /tmp/r.json  # somewhere else for the JSON
//   npm run bench -- --client dispatch  # Node sends through Miniflare's dispatchFetch (bench/lib/http.ts)
//   npm run bench -- --only regions     # commit latency over regions (regionRttMs); add --url for `npm run dev`
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Http } from "./lib/http.ts";
import { parseOptions, type Options } from "./lib/options.ts";
import { bundle, REPO, start } from "./lib/runtime.ts";
import { evaluateGoals, evaluateSleepGoals, evaluateTargets, markdown, sleepMarkdown, urlMarkdown, type Results, type UrlResults } from "./report.ts";
import { FloorSampler } from "./suites/floor.ts";
import { measureCompaction } from "./suites/compaction.ts";
import { measureRaft, type RaftResult } from "./suites/raft.ts";
import { measureReads } from "./suites/reads.ts";
import { measureSingle } from "./suites/single.ts";
import { measureEtcd, stopRunningEtcd, type EtcdResult } from "./suites/etcd.ts";
import { measureSleep, type SleepOptions } from "./suites/sleep.ts";
import { measureRegions, regionsMarkdown } from "./suites/regions.ts";

const progress = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

// Ctrl-C or a kill while etcd runs: stop its members and delete its directory before leaving.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void stopRunningEtcd().finally(() => process.exit(130));
  });
}

function sleepOptions(o: Options, profiled: boolean): SleepOptions {
  return {
    idleMs: o.idleMs,
    asleepMs: o.asleepMs,
    cycles: o.cycles,
    warmWrites: o.quick ? 5 : 10,
    writes: o.quick ? 40 : 100,
    deploys: o.deploys,
    deployGapMs: 500,
    profiled,
  };
}

async function runSleep(http: Http, o: Options, profiled: boolean) {
  progress(`sleep: raft-3 idle awake and asleep, ${o.cycles} sleep/wake cycles, ${o.deploys} deploys under a writer`);
  const s = await measureSleep(http, sleepOptions(o, profiled), progress);
  if (s.unavailable) progress(`sleep: ${s.unavailable}`);
  for (const f of s.failures) progress(`sleep: ${f}`);
  return s;
}

/** `--only sleep`: the sleep suite alone, its section on stdout. */
async function mainSleep(o: Options): Promise<void> {
  const began = performance.now();
  const load0 = loadavg();
  const dir = mkdtempSync(join(tmpdir(), "raft-bench-"));
  progress(`bundling bench/worker.ts (wrangler deploy --dry-run) into ${dir}`);
  const rt = await start(bundle(join(dir, "dist")), join(dir, "storage"), !o.plain);
  const http = await Http.open(rt.mf, o.client);
  try {
    const sleep = await runSleep(http, o, rt.profiled);
    const meta = runMeta(o, load0, began);
    const out = resolve(REPO, o.out === "bench/results.json" ? "bench/results-sleep.json" : o.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ meta, sleep, sleepGoals: evaluateSleepGoals(sleep) }, null, 2) + "\n");
    process.stdout.write(
      `Run ${meta.date} · \`${meta.command}\` · ${meta.seconds} s · Node ${meta.node} · ${meta.cpus} · load average before ${meta.loadavgBefore.join(" ")}, after ${meta.loadavgAfter.join(" ")}\n\n### Sleeping, waking and deploys\n\n${sleepMarkdown(sleep)}`,
    );
    progress(`done in ${meta.seconds} s; JSON in ${out}`);
  } finally {
    await http.close();
    await rt.mf.dispose();
    if (o.keep) progress(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `--only regions`: raft-3 and raft-5 spread over regions by POST .../network's regionRttMs,
 * their sequential commit latency against the round trip to the nearest majority; through
 * Miniflare, or against a running `npm run dev` with `--url`.
 */
async function mainRegions(o: Options): Promise<void> {
  const began = performance.now();
  const load0 = loadavg();
  const dir = o.url ? null : mkdtempSync(join(tmpdir(), "raft-bench-"));
  if (dir) progress(`bundling bench/worker.ts (wrangler deploy --dry-run) into ${dir}`);
  const rt = dir ? await start(bundle(join(dir, "dist")), join(dir, "storage"), !o.plain) : null;
  const http = rt ? await Http.open(rt.mf, o.client) : Http.connect(o.url!);
  try {
    const regions = await measureRegions(http, { writes: o.quick ? 40 : 100 }, progress);
    if (regions.unavailable) progress(`regions: ${regions.unavailable}`);
    const meta = { ...runMeta(o, load0, began), ...(o.url ? { url: o.url } : {}) };
    const out = resolve(REPO, o.out === "bench/results.json" ? "bench/results-regions.json" : o.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ meta, regions }, null, 2) + "\n");
    process.stdout.write(
      `Run ${meta.date} · \`${meta.command}\` · ${meta.seconds} s · Node ${meta.node} · ${meta.cpus} · load average before ${meta.loadavgBefore.join(" ")}, after ${meta.loadavgAfter.join(" ")}${o.url ? ` · against ${o.url}` : ""}\n\n### Regions\n\n${regionsMarkdown(regions)}`,
    );
    progress(`done in ${meta.seconds} s; JSON in ${out}`);
  } finally {
    await http.close();
    if (rt) await rt.mf.dispose();
    if (dir && o.keep) progress(`kept ${dir}`);
    else if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (o.only === "regions") return mainRegions(o);
  if (o.url) return mainUrl(o, o.url);
  if (o.only === "sleep") return mainSleep(o);
  const began = performance.now();
  const load0 = loadavg();
  const dir = mkdtempSync(join(tmpdir(), "raft-bench-"));
  progress(`bundling bench/worker.ts (wrangler deploy --dry-run) into ${dir}`);
  const script = bundle(join(dir, "dist"));
  const rt = await start(script, join(dir, "storage"), !o.plain);
  const http = await Http.open(rt.mf, o.client);
  progress(`Node's client: ${o.client}`);
  try {
    // The floor in three rounds (start, middle, end), pooled: the machine drifts.
    const rounds = 3;
    const floorSampler = new FloorSampler(http, Math.round(o.floorMs / rounds), Math.round(o.httpFloorCalls / rounds));
    const floorRound = async (n: number) => {
      progress(`floor, round ${n}/${rounds}: ${Math.round(o.floorMs / rounds)} ms per in-workerd measurement, ${Math.round(o.httpFloorCalls / rounds)} Node→Worker calls`);
      await floorSampler.round();
    };
    await floorRound(1);
    progress(`single object: ${o.sequential} sequential puts, then ${o.concurrency.join("/")} clients × ${o.phaseMs} ms`);
    const single = await measureSingle(http, o);
    await floorRound(2);
    const raft: RaftResult[] = [];
    for (const size of o.sizes) {
      progress(`raft-${size}: idle ${o.idleMs} ms, ${o.sequential} sequential puts, ${o.concurrency.join("/")} clients × ${o.phaseMs} ms, ${o.trials} failover trials`);
      const r = await measureRaft(http, size, { ...o, profiled: rt.profiled });
      if (r.unavailable) progress(`raft-${size}: ${r.unavailable}`);
      raft.push(r);
    }
    progress(o.noEtcd ? "etcd: skipped (--no-etcd)" : `etcd: 3 members on loopback, ${o.sequential} sequential puts, then ${o.concurrency.join("/")} clients × ${o.phaseMs} ms`);
    const etcd = await measureEtcd({ ...o, skip: o.noEtcd }, progress);
    if (etcd.unavailable) progress(`etcd: ${etcd.unavailable}`);
    progress(`reads on raft-3: ReadIndex and log reads, 64 clients, rounds of ${o.readRoundMs} ms, from Node and inside workerd`);
    const reads = await measureReads(http, { clients: 64, roundMs: o.readRoundMs, profiled: rt.profiled }, progress);
    if (reads.unavailable) progress(`reads: ${reads.unavailable}`);
    progress(`history: one-server clusters with ${o.historyOps} puts, snapshotThreshold 0 and 1000, and a fresh one; ${o.restarts} restarts each`);
    const history = await measureCompaction(http, { historyOps: o.historyOps, restarts: o.restarts, profiled: rt.profiled }, progress);
    if (history.unavailable) progress(`history: ${history.unavailable}`);
    const sleep = await runSleep(http, o, rt.profiled);
    await floorRound(3);
    const floor = floorSampler.result();
    const results: Results = {
      meta: {
        ...runMeta(o, load0, began),
        raftServerClass: rt.profiled ? "ProfiledRaftServer (RaftServer with counted storage)" : "RaftServer",
      },
      floor,
      single,
      raft,
      reads,
      history,
      etcd,
      sleep,
    };
    const targets = evaluateTargets(results);
    const goals = evaluateGoals(results);
    const sleepGoals = evaluateSleepGoals(sleep);
    const out = resolve(REPO, o.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ ...results, goals, sleepGoals, targets }, null, 2) + "\n");
    process.stdout.write(markdown(results, targets, goals));
    progress(`done in ${results.meta.seconds} s; JSON in ${out}`);
  } finally {
    await http.close();
    await rt.mf.dispose();
    if (o.keep) progress(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `--url`: the put workload against a running Worker (`npm run dev`): Raft clusters created
 * through the API (no failover trials, no storage counters: the project's Worker has no bench
 * routes), and etcd beside it. Each cluster is deleted afterwards.
 */
async function mainUrl(o: Options, url: string): Promise<void> {
  const began = performance.now();
  const load0 = loadavg();
  const http = Http.connect(url);
  try {
    const probe = await http.call("GET", "/clusters/bench-probe", undefined, 5_000);
    if (probe.status === 0) throw new Error(`nothing answers at ${url}: start it with \`npm run dev\` (${JSON.stringify(probe.body)})`);
    const raft: RaftResult[] = [];
    for (const size of o.sizes) {
      progress(`${url}: raft-${size}: idle ${o.idleMs} ms, ${o.sequential} sequential puts, ${o.concurrency.join("/")} clients × ${o.phaseMs} ms`);
      const r = await measureRaft(http, size, { ...o, trials: 0, anatomyPuts: 0, profiled: false });
      if (r.unavailable) progress(`raft-${size}: ${r.unavailable}`);
      raft.push(r);
    }
    progress(o.noEtcd ? "etcd: skipped (--no-etcd)" : `etcd: 3 members on loopback, the same workload`);
    const etcd: EtcdResult = await measureEtcd({ ...o, skip: o.noEtcd }, progress);
    if (etcd.unavailable) progress(`etcd: ${etcd.unavailable}`);
    const results: UrlResults = {
      meta: { ...runMeta(o, load0, began), url },
      raft,
      etcd,
    };
    const out = resolve(REPO, o.out === "bench/results.json" ? "bench/results-url.json" : o.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
    process.stdout.write(urlMarkdown(results));
    progress(`done in ${results.meta.seconds} s; JSON in ${out}`);
  } finally {
    await http.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});

/** What every results file says of its run: when, how, on what machine, under what load. */
function runMeta(o: Options, load0: number[], began: number) {
  const round2 = (x: number) => Math.round(x * 100) / 100;
  return {
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    node: process.version,
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
    loadavgBefore: load0.map(round2),
    loadavgAfter: loadavg().map(round2),
    options: o,
    seconds: Math.round((performance.now() - began) / 100) / 10,
  };
}
