// Raft clusters under the single object's put workload: what a committed op costs in RPCs, alarms and
// (profiled) storage, what an idle cluster costs per second, how long a leader crash keeps writes away.
import { cpuNow, cpuPer } from "../lib/cpu.ts";
import { between, Cluster, message, type Count, type Snapshot } from "../lib/cluster.ts";
import { sleep, until } from "../lib/http.ts";
import { concurrent, phaseAt, PUT_FIGURES, sequential, type Phase } from "../lib/load.ts";
import { clientsLabel, errorNote, fmt, ratio, table, type Value } from "../lib/render.ts";
import { round, sum, summarize, tally } from "../lib/stats.ts";
import type { Ctx, Results, Suite } from "../lib/suite.ts";
import { putAnatomy, STAGES } from "./anatomy.ts";
import { v3Phases, v3Table } from "./v3-put.ts";

const FAILOVER_DEADLINE_MS = 10_000;

async function measureAll(ctx: Ctx) {
  const out: RaftResult[] = [];
  for (const size of ctx.o.sizes) out.push(await measureRaft(ctx, size));
  return out;
}

async function measureRaft({ http, o, profiled, progress }: Ctx, size: number) {
  // --url: the project's Worker has no bench routes: no failover (crash needs ADMIN), no anatomy, no storage counts.
  const remote = o.url !== null;
  progress(`${remote ? `${o.url}: ` : ""}raft-${size}: idle ${o.idleMs} ms, ${o.sequential} sequential puts, ${o.concurrency.join("/")} clients × ${o.phaseMs} ms${remote ? "" : `, ${o.trials} failover trials`}`);
  // sleepAfterMs 0: the idle window and the heartbeats the per-op figures subtract are an awake cluster's.
  const r = await Cluster.with(http, `raft${size}-${Date.now().toString(36)}`, { size, sleepAfterMs: 0 }, profiled, async (c) => {
    await c.stable();
    await sleep(500); // let the first election's aftermath (vote replies, first heartbeats) pass
    const idle = await idleCost(c, o.idleMs);
    const failing = await until(() => http.call("PUT", `/clusters/${c.name}/kv/probe`, { value: "probe" }), 5_000);
    const unavailable = failing === null ? null : `kv put failing: PUT /clusters/{c}/kv/{key} kept answering ${failing}`;
    const { electionTimeoutMs, heartbeatMs } = await c.view();
    const base = { size, cluster: c.name, electionTimeoutMs, heartbeatMs, idle };
    if (unavailable) return { ...base, unavailable, sequential: null, anatomy: null, concurrency: [], v3: null, failover: null };
    const costed = async (clients: number, f: () => Promise<Phase>) => {
      const before = await c.snapshot();
      const phase = await f();
      return { ...phase, cost: loadCost(clients, before, await c.snapshot(true), idle.leader.rpcsSentPerSec) };
    };
    const seq = await costed(1, () => sequential(c.put, o.sequential));
    const steady = await c.stable();
    const anatomy = !remote && o.anatomyPuts > 0 ? await putAnatomy(http, c.name, size, steady.leader!, o.anatomyPuts) : null;
    const phases = [];
    for (const clients of o.concurrency) {
      await c.stable();
      phases.push(await costed(clients, () => concurrent(c.put, clients, o.phaseMs)));
    }
    const v3 = await v3Phases(http, c.name, o, () => c.stable(), costed);
    if (v3.unavailable) progress(`raft-${size}: /v3/kv/put ${v3.unavailable}`);
    const failover = !remote && o.trials > 0 ? await failoverTrials(c, o.trials) : null;
    return { ...base, unavailable: null, sequential: seq, anatomy, concurrency: phases, v3, failover };
  });
  if (typeof r === "string") throw new Error(r);
  if (r.unavailable) progress(`raft-${size}: ${r.unavailable}`);
  return r;
}

/** Per committed op between two snapshots: Raft RPCs, AppendEntries, alarms, billed requests and, profiled, storage. */
function loadCost(clients: number, before: Snapshot, after: Snapshot, idleLeaderRpcsPerSec: number) {
  const w = between(before, after);
  const leader = w.servers.find((s) => s.id === before.view.leader);
  const followers = w.servers.filter((s) => s !== leader);
  const stable = leader !== undefined && after.view.leader === leader.id && before.view.servers.every((s, i) => s.state !== "Dead" && s.term === after.view.servers[i]!.term && after.view.servers[i]!.state === s.state);
  const perOp = (x: number) => round(w.committed > 0 ? x / w.committed : NaN);
  const perFollower = (x: number) => round(x / Math.max(1, followers.length));
  const mean = (xs: number[]) => sum(xs) / Math.max(1, xs.length);
  let storage = null;
  if (leader?.storage && followers.every((s) => s.storage)) {
    const [l, all] = [leader.storage, w.servers.map((s) => s.storage!)];
    const follower = (k: Count) => mean(followers.map((s) => s.storage![k]));
    const total = (k: Count) => sum(all.map((s) => s[k]));
    const followerAe = mean(followers.map((s) => s.rpcsReceived));
    const byKey = (of: Array<Record<string, number>>) => {
      const out: Record<string, number> = {};
      for (const counts of of) for (const [k, n] of Object.entries(counts)) tally(out, k, n);
      return Object.fromEntries(Object.entries(out).map(([k, n]) => [k, perOp(n)]));
    };
    // Rows: SQLite's count (what Cloudflare bills), all servers, by table; the leader's by statement.
    storage = {
      leaderTransactionsPerOp: perOp(l.transactions), followerTransactionsPerOp: perOp(follower("transactions")), followerTransactionsPerAppendEntries: round(followerAe > 0 ? follower("transactions") / followerAe : NaN),
      leaderSqlWritesPerOp: perOp(l.sqlWrites), followerSqlWritesPerOp: perOp(follower("sqlWrites")), setAlarmsPerOp: perOp(total("setAlarms")), transactionsPerOp: perOp(total("transactions")),
      rowsWrittenPerOp: perOp(total("rowsWritten")), rowsWrittenByTablePerOp: byKey(all.map((s) => s.byTable)), leaderRowsWrittenByStatementPerOp: byKey([l.byStatement]),
      leaderRowsWrittenPerOp: perOp(l.rowsWritten), followerRowsWrittenPerOp: perOp(follower("rowsWritten")), billedRowsWrittenPerOp: perOp(w.billedRows!),
    };
  }
  const leaderSent = leader?.rpcsSent ?? NaN;
  // stable: same leader, same terms, nobody down, so the counters are comparable; "above idle":
  // less what the leader sends idle (heartbeats); billed requests: Worker calls + RPCs + alarms.
  return {
    clients, ops: w.committed, stable, rpcsPerOp: perOp(w.rpcsSent), alarmsPerOp: perOp(w.alarms),
    appendEntriesPerOpPerFollower: perFollower(perOp(leaderSent)), appendEntriesAboveIdlePerOpPerFollower: perFollower(perOp(leaderSent - idleLeaderRpcsPerSec * w.seconds)),
    workerCallsPerOp: w.workerCalls === null ? null : perOp(w.workerCalls), billedRequestsPerOp: w.workerCalls === null ? null : perOp(w.workerCalls + w.rpcsSent + w.alarms),
    storage,
  };
}

/** Counters over `ms` of a cluster doing nothing. */
async function idleCost(c: Cluster, ms: number) {
  const v = await c.stable();
  const before = await c.snapshot();
  const cpu0 = cpuNow();
  await sleep(ms);
  const cpu = cpuPer(cpu0, cpuNow(), ms / 1000).workerdMs;
  const w = between(before, await c.snapshot());
  const leader = w.servers.find((s) => s.id === v.leader)!;
  const followers = w.servers.filter((s) => s !== leader);
  const rate = (x: number) => round(x / w.seconds);
  const mean = (xs: number[]) => round(sum(xs) / Math.max(1, xs.length));
  const tx = (s: (typeof w.servers)[number]) => (s.storage ? rate(s.storage.transactions) : null);
  // Billed while idle: Raft RPCs and alarms, all servers.
  const followerAlarms = followers.map((s) => rate(s.alarms));
  return {
    seconds: round(w.seconds), billedRequestsPerSec: rate(w.rpcsSent + w.alarms), billedRowsWrittenPerSec: w.billedRows === null ? null : rate(w.billedRows), workerdCpuMsPerSec: cpu === null ? null : round(cpu),
    leader: { alarmsPerSec: rate(leader.alarms), rpcsSentPerSec: rate(leader.rpcsSent), transactionsPerSec: tx(leader) },
    followers: { alarmsPerSec: mean(followerAlarms), maxAlarmsPerSec: Math.max(...followerAlarms), transactionsPerSec: w.billedRows === null ? null : mean(followers.map((s) => tx(s)!)) },
  };
}

/** Crash the leader, then put until a put succeeds: from sending the crash to that success. The crashed server is restarted and the cluster settles between trials. */
async function failoverTrials(c: Cluster, trials: number) {
  const [samples, puts, errors, failures] = [[] as number[], [] as number[], {} as Record<string, number>, [] as string[]];
  for (let t = 0; t < trials; t++) {
    const leader = await c.stable().then((v) => v.leader!, (e: unknown) => (failures.push(`trial ${t}: ${message(e)}`), null));
    if (leader === null) continue;
    const warm = await c.put(0, t); // the cluster serves before the crash
    const t0 = performance.now();
    const crash = warm.status === 200 ? await c.http.call("POST", `/clusters/${c.name}/servers/${leader}/crash`) : warm;
    if (crash.status !== 200) {
      failures.push(`trial ${t}: ${warm.status === 200 ? "crash" : "a put before the crash"} answered ${crash.status} ${JSON.stringify(crash.body)}`);
      continue;
    }
    let [n, done] = [0, false];
    while (!done && performance.now() - t0 < FAILOVER_DEADLINE_MS) {
      const a = await c.put(1, t * 1000 + n++);
      done = a.status === 200;
      if (!done) tally(errors, a.status);
      if (!done && a.ms < 5) await sleep(5); // a quick refusal: do not spin
    }
    if (done) samples.push(performance.now() - t0);
    if (done) puts.push(n);
    else failures.push(`trial ${t}: no put succeeded within ${FAILOVER_DEADLINE_MS} ms of the crash`);
    await c.http.ok("POST", `/clusters/${c.name}/servers/${leader}/restart`);
  }
  return { trials, samplesMs: samples.map(round), ms: summarize(samples), putsPerTrial: summarize(puts), errors, failures };
}

export type RaftResult = Awaited<ReturnType<typeof measureRaft>>;

const LOAD = 64;

/** Every Raft figure beside the floor's and the single object's, with both ratios. */
function sideBySide(all: Results): string | null {
  const { floor: f, single: s, raft = [] } = all;
  if (all.meta.url) return null;
  const floor = f?.inWorkerd.rpcWrite;
  const header = ["metric", "floor", "single", ...raft.flatMap((x) => [`raft-${x.size}`, "×floor", "×single"])];
  const rows: string[][] = [];
  const add = (name: string, fl: Value, si: Value, pick: (x: RaftResult) => number | null | undefined, digits = 2) =>
    rows.push([name, fmt(fl, digits), fmt(si, digits), ...raft.flatMap((x) => [fmt(pick(x), digits), ratio(pick(x), fl), ratio(pick(x), si)])]);
  // Against the floor: latencies against its RPC+write's, throughput against 1000 / its mean.
  for (const [name, digits, pick] of PUT_FIGURES) add(name, name.includes("throughput") ? 1000 / (floor?.mean ?? NaN) : name.includes("p50") ? floor?.p50 : floor?.p99, pick(s), pick, digits);
  const write = f?.http.write.cpuPerCall;
  add("sequential: workerd CPU per put (ms)", write?.workerdMs, s?.sequential.cpuPerOp.workerdMs, (x) => x.sequential?.cpuPerOp.workerdMs);
  add("sequential: Node CPU per put (ms)", write?.nodeMs, s?.sequential.cpuPerOp.nodeMs, (x) => x.sequential?.cpuPerOp.nodeMs);
  const s64 = phaseAt(s?.concurrency, LOAD);
  const at64 = (x: RaftResult) => phaseAt(x.concurrency, LOAD);
  add(`${LOAD} clients: workerd CPU per put (ms)`, write?.workerdMs, s64?.cpuPerOp.workerdMs, (x) => at64(x)?.cpuPerOp.workerdMs);
  add(`${LOAD} clients: Node CPU per put (ms)`, write?.nodeMs, s64?.cpuPerOp.nodeMs, (x) => at64(x)?.cpuPerOp.nodeMs);
  add("leader crash → first write p50 (ms)", floor?.p50, null, (x) => (x.failover?.ms.n ? x.failover.ms.p50 : null), 0);
  add("leader crash → first write p99 (ms)", floor?.p99, null, (x) => (x.failover?.ms.n ? x.failover.ms.p99 : null), 0);
  const load = (x: RaftResult) => at64(x)?.cost;
  add(`Raft RPCs per op (${LOAD} clients, all servers)`, null, 0, (x) => load(x)?.rpcsPerOp, 3);
  add(`AppendEntries per op per follower (${LOAD} clients)`, null, 0, (x) => load(x)?.appendEntriesPerOpPerFollower, 3);
  add(`alarms per op (${LOAD} clients, all servers)`, null, 0, (x) => load(x)?.alarmsPerOp, 3);
  // SingleKv runs every operation in exactly one transactionSync: 1 per op by construction.
  add(`storage transactions per op, leader (${LOAD} clients)`, null, 1, (x) => load(x)?.storage?.leaderTransactionsPerOp, 3);
  add(`storage transactions per op, per follower (${LOAD} clients)`, null, 0, (x) => load(x)?.storage?.followerTransactionsPerOp, 3);
  add(`SQL writes per op, leader (${LOAD} clients)`, null, null, (x) => load(x)?.storage?.leaderSqlWritesPerOp, 3);
  add("idle: workerd CPU ms per second", null, null, (x) => x.idle.workerdCpuMsPerSec, 1);
  add("idle: leader RPCs per second", null, 0, (x) => x.idle.leader.rpcsSentPerSec, 1);
  add("idle: leader alarms per second", null, 0, (x) => x.idle.leader.alarmsPerSec, 1);
  add("idle: follower alarms per second (mean)", null, 0, (x) => x.idle.followers.alarmsPerSec, 1);
  add("idle: storage transactions per second, leader", null, 0, (x) => x.idle.leader.transactionsPerSec, 1);
  const notes = [
    ...raft.flatMap((x) => [
      ...(x.unavailable ? [`- raft-${x.size}: ${x.unavailable} — put, throughput and failover figures skipped.`] : []),
      ...x.concurrency.flatMap((p) => [
        ...errorNote(`raft-${x.size}, ${clientsLabel(p.clients)}`, p.errors),
        ...(p.cost.stable ? [] : [`- raft-${x.size}, ${clientsLabel(p.clients)}: leader or term changed during the phase; per-op costs mix two leaderships.`]),
      ]),
      ...(x.failover?.failures.length ? [`- raft-${x.size} failover: ${x.failover.failures.join("; ")}.`] : []),
      ...(x.failover && Object.keys(x.failover.errors).length ? [`- raft-${x.size} failover: answers before the first success ${JSON.stringify(x.failover.errors)}; puts per trial p50 ${x.failover.putsPerTrial.p50}.`] : []),
    ]),
    ...(s?.concurrency ?? []).flatMap((p) => errorNote(`single, ${clientsLabel(p.clients)}`, p.errors)),
  ];
  const caption = "×floor: against the floor's RPC+write (throughput: 1000 / its mean; CPU: one Node→Worker→object write); ×single: the single object's.";
  return [table(header, rows), caption, ...(notes.length ? [notes.join("\n")] : [])].join("\n\n");
}

/** Per-op costs of every phase, and the sequential put cut into stages. */
function profile(raft: RaftResult[], all: Results): string {
  const rows = raft.flatMap((x) =>
    [...(x.sequential ? [["sequential", x.sequential] as const] : []), ...x.concurrency.map((p) => [clientsLabel(p.clients), p] as const)].map(([name, { cost: c }]) => {
      const st = c.storage;
      const per = [c.rpcsPerOp, c.appendEntriesPerOpPerFollower, c.appendEntriesAboveIdlePerOpPerFollower, c.alarmsPerOp, st?.leaderTransactionsPerOp, st?.followerTransactionsPerOp, st?.followerTransactionsPerAppendEntries, st?.leaderSqlWritesPerOp, st?.followerSqlWritesPerOp, st?.rowsWrittenPerOp, st?.setAlarmsPerOp, c.billedRequestsPerOp];
      return [`raft-${x.size}, ${name}`, `${c.ops}${c.stable ? "" : " (leader changed)"}`, ...per.map((v) => fmt(v, 3))];
    }),
  );
  const costs = table(
    ["cluster, phase", "committed", "RPCs/op", "AE/op/follower", "… above idle heartbeats", "alarms/op", "leader tx/op", "follower tx/op", "follower tx/AE", "leader SQL writes/op", "follower SQL writes/op", "SQL rows written/op, all servers", "setAlarm/op", "billed requests/op"],
    rows,
  );
  const s = all.single?.anatomy;
  const traced = raft.filter((x) => x.anatomy && x.anatomy.traced > 0).map((x) => [x.size, x.anatomy!] as const);
  const cut = [...(s ? [["single", s] as const] : []), ...traced.map(([n, a]) => [`raft-${n}`, a] as const)];
  const anatomy = table(
    ["one sequential put, median ms", ...cut.map(([n]) => n)],
    [
      ...STAGES.map(([k, label]) => [label, ...cut.map(([, a]) => fmt(a.medianMs[k], 1))]),
      ["whole put, from Node", ...cut.map(([, a]) => fmt(a.medianMs.total, 1))],
      ["puts traced", ...cut.map(([, a]) => `${a.traced}/${a.puts}`)],
    ],
  );
  return [costs, "One sequential put, stage by stage (medians of 1 ms clocks; they need not add up to the whole put's median):", anatomy].join("\n\n");
}

export const raft: Suite<RaftResult[]> = { name: "raft", full: true, url: true, about: "raft clusters (--sizes): the put workload, idle costs, per-op counts, leader-crash failover", run: measureAll, sections: (r, all) => [["Side by side", sideBySide(all)], ["Through etcd's gateway: /v3/kv/put beside /kv", v3Table(r, all)], ["Profile", all.meta.url ? null : profile(r, all)]] };
