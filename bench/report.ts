// The run's results as markdown: the floor, the side-by-side table with every Raft figure
// as a ratio to the floor and to the single object, reads (ReadIndex as a ratio to log
// reads), the long history (restart and rows as ratios to a fresh server and to a server
// that never compacts), and the issues' targets, met or missed.
import type { Phase } from "./lib/load.ts";
import type { FloorResult, FloorTimingSummary, HttpFloor } from "./suites/floor.ts";
import { STAGES } from "./suites/anatomy.ts";
import type { CompactionResult, HistoryCase } from "./suites/compaction.ts";
import type { LoadCost, RaftResult } from "./suites/raft.ts";
import type { ReadMode, ReadsResult } from "./suites/reads.ts";
import type { SingleResult } from "./suites/single.ts";
import type { EtcdResult } from "./suites/etcd.ts";
import { costPerMillion, idleMonth, PRICES, type CostPerMillion, type IdleMonth } from "./cost.ts";
import type { SleepResult, WriteCost } from "./suites/sleep.ts";

export interface Results {
  readonly meta: Record<string, unknown>;
  readonly floor: FloorResult;
  readonly single: SingleResult;
  readonly raft: RaftResult[];
  readonly reads: ReadsResult;
  readonly history: CompactionResult;
  readonly etcd: EtcdResult;
  readonly sleep: SleepResult;
}

export interface Target {
  readonly id: string;
  readonly text: string;
  readonly threshold: string;
  readonly measured: string;
  /** null: could not be evaluated (and `measured` says why). */
  readonly met: boolean | null;
}

const LOAD_CLIENTS = 64;

const fmt = (x: number | null | undefined, digits = 2): string => {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(digits);
};
const ratio = (a: number | null | undefined, b: number | null | undefined): string =>
  a === null || a === undefined || b === null || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0
    ? "—"
    : `${fmt(a / b)}×`;

/** "kv routes missing: PUT ... answered 404 {...}" → "kv routes missing" (the notes keep the whole text). */
const short = (why: string | null): string | null => (why === null ? null : why.split(":")[0]!);

const phaseAt = <P extends Phase>(phases: readonly P[], clients: number): P | undefined => phases.find((p) => p.clients === clients);

// ---------------------------------------------------------------------------------------
// The headline: single, raft-3, raft-5 and etcd side by side, the goals of issue 13 (item 2)
// as ratios, and what the counters say bounds each.

export interface Goal {
  readonly id: string;
  readonly text: string;
  readonly goal: string;
  readonly measured: string;
  readonly value: number | null;
  readonly met: boolean | null;
  /** What the counters of the same run say bounds it. */
  readonly bounds: string;
}

const usd = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? "—" : x >= 100 ? `$${x.toFixed(0)}` : x >= 1 ? `$${x.toFixed(2)}` : `$${x.toFixed(3)}`);

/** "log 1.19, kv_data 1.00, …" — rows written per op by table, largest first. */
function byTable(t: Record<string, number> | undefined): string {
  if (!t) return "—";
  return Object.entries(t)
    .filter(([, n]) => Math.abs(n) >= 0.0005)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${fmt(n, 2)}`)
    .join(", ");
}

const raftOf = (r: { raft: RaftResult[] }, size: number) => r.raft.find((x) => x.size === size && !x.unavailable);

export function evaluateGoals(r: Results): Goal[] {
  const goals: Goal[] = [];
  const raft3 = raftOf(r, 3);
  const raft5 = raftOf(r, 5);
  const single64 = phaseAt(r.single.concurrency, LOAD_CLIENTS);
  const at64 = (x: RaftResult | undefined) => (x ? phaseAt(x.concurrency, LOAD_CLIENTS) : undefined);
  const why = raft3 ? "—" : (short(r.raft.find((x) => x.size === 3)?.unavailable ?? "raft-3 not run") ?? "—");
  {
    const a = at64(raft3)?.throughput;
    const b = single64?.throughput;
    const v = a !== undefined && b !== undefined && b > 0 ? a / b : null;
    const c3 = at64(raft3);
    const st = c3?.cost.storage;
    goals.push({
      id: "tput-64",
      text: `raft-3 throughput at ${LOAD_CLIENTS} clients ÷ single object`,
      goal: "≥ 0.75",
      measured: v === null ? why : `${fmt(v)} (${fmt(a, 0)} ÷ ${fmt(b, 0)} ops/s)`,
      value: v,
      met: v === null ? null : v >= 0.75,
      bounds: c3
        ? `workerd CPU per put ${fmt(c3.cpuPerOp.workerdMs)} ms against the single object's ${fmt(single64?.cpuPerOp.workerdMs)} ms, one workerd thread for every object here; per put: ${fmt(c3.cost.billedRequestsPerOp, 2)} billed requests (${fmt(c3.cost.rpcsPerOp, 2)} Raft RPCs) against 1, ${fmt(st?.transactionsPerOp, 2)} storage transactions against ${fmt(single64?.cost?.transactionsPerOp, 2)}, ${fmt(st?.rowsWrittenPerOp, 2)} SQL rows against ${fmt(single64?.cost?.rowsWrittenPerOp, 2)}`
        : "—",
    });
  }
  {
    const a = raft3?.sequential?.latency.p50;
    const b = r.single.sequential.latency.p50;
    const v = a !== undefined && b > 0 ? a / b : null;
    const seq = raft3?.sequential;
    const st = seq?.cost.storage;
    const an = raft3?.anatomy?.medianMs;
    goals.push({
      id: "seq-p50",
      text: "raft-3 sequential put p50 ÷ single object",
      goal: "≤ 2.0",
      measured: v === null ? why : `${fmt(v)} (${fmt(a)} ÷ ${fmt(b)} ms)`,
      value: v,
      met: v === null ? null : v <= 2,
      bounds: seq
        ? `per sequential put: ${fmt(st?.leaderTransactionsPerOp, 2)} transactions on the leader and ${fmt(st?.followerTransactionsPerOp, 2)} on each follower, ${fmt(seq.cost.rpcsPerOp, 2)} Raft RPCs (${fmt(seq.cost.appendEntriesAboveIdlePerOpPerFollower, 2)} AppendEntries per follower above heartbeats), ${fmt(seq.cost.workerCallsPerOp, 2)} Worker→server calls; workerd CPU ${fmt(seq.cpuPerOp.workerdMs)} ms against ${fmt(r.single.sequential.cpuPerOp.workerdMs)}` +
          (an ? `; inside workerd ${fmt(an.inWorker, 1)} ms against ${fmt(r.single.anatomy.medianMs.inWorker, 1)} (medians, 1 ms clock)` : "")
        : "—",
    });
  }
  for (const x of [raft3, raft5]) {
    if (!x) continue;
    const c = at64(x)?.cost;
    const v = c?.appendEntriesPerOpPerFollower ?? null;
    const heartbeats = c ? c.appendEntriesPerOpPerFollower - c.appendEntriesAboveIdlePerOpPerFollower : NaN;
    goals.push({
      id: `ae-${x.size}`,
      text: `raft-${x.size}: AppendEntries per committed op per follower at ${LOAD_CLIENTS} clients`,
      goal: "≤ 0.2",
      measured: v === null ? "—" : `${fmt(v, 3)}${c!.stable ? "" : " (leader changed)"}`,
      value: v,
      met: v === null ? null : v <= 0.2,
      bounds: c
        ? (c.appendEntriesAboveIdlePerOpPerFollower > 0
            ? `${fmt(c.appendEntriesAboveIdlePerOpPerFollower, 3)} caused by the load (batches of ${fmt(1 / c.appendEntriesAboveIdlePerOpPerFollower, 1)} entries)`
            : "none above the idle heartbeat rate (the load's entries all rode on heartbeats)") +
          ` + ${fmt(Math.min(heartbeats, c.appendEntriesPerOpPerFollower), 3)} heartbeats (idle rate ${fmt(x.idle.leader.rpcsSentPerSec / Math.max(1, x.size - 1), 0)}/s per follower, against ${fmt(at64(x)?.throughput, 0)} ops/s)`
        : "—",
    });
  }
  for (const x of [raft3, raft5]) {
    if (!x) continue;
    const st = at64(x)?.cost.storage;
    const v = st?.rowsWrittenPerOp ?? null;
    goals.push({
      id: `rows-${x.size}`,
      text: `raft-${x.size}: SQL rows written per committed op, all servers together, at ${LOAD_CLIENTS} clients`,
      goal: "≤ 5",
      measured: v === null ? (r.meta as { raftServerClass?: string }).raftServerClass === "RaftServer" ? "not counted (--plain)" : "—" : fmt(v, 2),
      value: v,
      met: v === null ? null : v <= 5,
      bounds: st
        ? `by table: ${byTable(st.rowsWrittenByTablePerOp)}; leader ${fmt(st.leaderRowsWrittenPerOp, 2)} (${byTable(st.leaderRowsWrittenByStatementPerOp)}), each follower ${fmt(st.followerRowsWrittenPerOp, 2)}; ${fmt(st.transactionsPerOp, 2)} transactions per op in all (leader ${fmt(st.leaderTransactionsPerOp, 2)}, follower ${fmt(st.followerTransactionsPerOp, 2)}); single object: ${fmt(single64?.cost?.rowsWrittenPerOp, 2)}`
        : "—",
    });
  }
  return goals;
}

/** Cost per million committed writes at 64 clients, per system. */
export function costs(r: Results): Array<{ name: string; cost: CostPerMillion; idle: ReturnType<typeof idleMonth> | null }> {
  const out: Array<{ name: string; cost: CostPerMillion; idle: ReturnType<typeof idleMonth> | null }> = [];
  const s = phaseAt(r.single.concurrency, LOAD_CLIENTS);
  if (s) {
    out.push({
      name: "single",
      cost: costPerMillion(1, s.cost ? s.cost.workerCallsPerOp : null, s.cost?.rowsWrittenPerOp, s.throughput),
      idle: { requestsUsd: 0, rowsUsd: 0, durationUsd: 0, totalUsd: 0 },
    });
  }
  for (const x of r.raft) {
    const p = phaseAt(x.concurrency, LOAD_CLIENTS);
    if (!p) continue;
    out.push({
      name: `raft-${x.size}`,
      cost: costPerMillion(x.size, p.cost.billedRequestsPerOp, p.cost.storage?.billedRowsWrittenPerOp, p.throughput),
      idle: idleMonth(x.size, x.idle.billedRequestsPerSec, x.idle.billedRowsWrittenPerSec),
    });
  }
  return out;
}

function headlineTable(r: Results): string {
  const single64 = phaseAt(r.single.concurrency, LOAD_CLIENTS);
  const single1 = phaseAt(r.single.concurrency, 1);
  const raft = [raftOf(r, 3), raftOf(r, 5)];
  const etcd = r.etcd.unavailable ? null : r.etcd;
  const e64 = etcd ? phaseAt(etcd.concurrency, LOAD_CLIENTS) : undefined;
  const e1 = etcd ? phaseAt(etcd.concurrency, 1) : undefined;
  const cost = costs(r);
  const costOf = (name: string) => cost.find((c) => c.name === name);
  const rows: string[][] = [];
  type V = number | null | undefined;
  const add = (name: string, single: V, pick: (x: RaftResult) => V, etcdValue: V, digits = 2, money = false) => {
    const f = money ? usd : (x: V) => fmt(x, digits);
    const vals = raft.map((x) => (x ? pick(x) : undefined));
    const cells = [name, f(single), ...vals.map(f), etcd ? f(etcdValue) : "—"];
    for (const v of vals) cells.push(ratio(v, single), etcd ? ratio(v, etcdValue) : "—");
    rows.push(cells);
  };
  const p64 = (x: RaftResult) => phaseAt(x.concurrency, LOAD_CLIENTS);
  add("sequential put p50 (ms)", r.single.sequential.latency.p50, (x) => x.sequential?.latency.p50, etcd?.sequential?.latency.p50);
  add("sequential put p99 (ms)", r.single.sequential.latency.p99, (x) => x.sequential?.latency.p99, etcd?.sequential?.latency.p99);
  add("1 client: throughput (ops/s)", single1?.throughput, (x) => phaseAt(x.concurrency, 1)?.throughput, e1?.throughput, 0);
  add(`${LOAD_CLIENTS} clients: throughput (ops/s)`, single64?.throughput, (x) => p64(x)?.throughput, e64?.throughput, 0);
  add(`${LOAD_CLIENTS} clients: put p50 (ms)`, single64?.latency.p50, (x) => p64(x)?.latency.p50, e64?.latency.p50);
  add(`${LOAD_CLIENTS} clients: put p99 (ms)`, single64?.latency.p99, (x) => p64(x)?.latency.p99, e64?.latency.p99);
  add(`${LOAD_CLIENTS} clients: server CPU per put (ms)`, single64?.cpuPerOp.workerdMs, (x) => p64(x)?.cpuPerOp.workerdMs, e64?.etcdCpuMsPerOp);
  add(`${LOAD_CLIENTS} clients: billed requests per write`, costOf("single")?.cost.requestsPerOp, (x) => costOf(`raft-${x.size}`)?.cost.requestsPerOp, null, 2);
  add(`${LOAD_CLIENTS} clients: billed rows written per write`, costOf("single")?.cost.rowsPerOp, (x) => costOf(`raft-${x.size}`)?.cost.rowsPerOp, null, 2);
  add(`${LOAD_CLIENTS} clients: GB-s per million writes`, (costOf("single")?.cost.gbSecondsPerOp ?? NaN) * 1e6, (x) => (costOf(`raft-${x.size}`)?.cost.gbSecondsPerOp ?? NaN) * 1e6, null, 0);
  add("$ per million writes (requests + rows + GB-s)", costOf("single")?.cost.totalUsd, (x) => costOf(`raft-${x.size}`)?.cost.totalUsd, null, 2, true);
  add("$ per month, idle, never sleeping (`sleepAfterMs` 0)", costOf("single")?.idle?.totalUsd, (x) => costOf(`raft-${x.size}`)?.idle?.totalUsd, null, 2, true);
  const asleep = r.sleep.unavailable ? null : sleepIdleMonths(r.sleep).after;
  add("$ per month, idle (default: asleep)", costOf("single")?.idle?.totalUsd, (x) => (x.size === r.sleep.size ? asleep?.totalUsd : null), null, 2, true);
  const header = ["figure", "single", "raft-3", "raft-5", etcd ? `etcd ${etcd.version} ×3` : "etcd", "raft-3 ÷ single", "raft-3 ÷ etcd", "raft-5 ÷ single", "raft-5 ÷ etcd"];
  return table(header, rows);
}

function goalsTable(goals: readonly Goal[]): string {
  return table(
    ["goal (issue 13)", "measured", "goal", "result", "what the counters say bounds it"],
    goals.map((g) => [g.text, g.measured, g.goal, g.met === null ? "not evaluated" : g.met ? "**met**" : "**missed**", g.bounds]),
  );
}

function costTable(r: Results): string {
  const rows = costs(r).map(({ name, cost: c, idle }) => [
    name,
    String(c.objects),
    fmt(c.requestsPerOp, 3),
    fmt(c.rowsPerOp, 3),
    fmt(c.gbSecondsPerOp === null ? null : c.gbSecondsPerOp * 1e6, 0),
    usd(c.requestsUsd),
    usd(c.rowsUsd),
    usd(c.durationUsd),
    `**${usd(c.totalUsd)}**`,
    idle ? `${usd(idle.totalUsd)} (${usd(idle.requestsUsd)} + ${usd(idle.rowsUsd)} + ${usd(idle.durationUsd)})` : "—",
  ]);
  return table(
    ["at 64 clients", "objects", "billed requests / write", "billed rows written / write", "GB-s per million writes", "requests $", "rows $", "duration $", "$ per million writes", "idle never sleeping, $ per month (requests + rows + duration)"],
    rows,
  );
}

/** Headline, goals and cost, as printed first: what a reader takes in before the details. */
export function headline(r: Results, goals: readonly Goal[]): string {
  const e = r.etcd;
  const etcdNote = e.unavailable
    ? `etcd: not measured — ${e.unavailable}.`
    : `etcd: ${e.members} members of etcd ${e.version} on loopback (data in a temporary directory, WAL fsync as shipped), the same puts through its JSON gateway (\`POST ${e.gateway}/kv/put\`, base64 key and value) to the leader, same client; its CPU is the three etcd processes'.`;
  return [
    headlineTable(r),
    "",
    "Ratios are within this run. Latency and throughput from Node through the same client for all four. Server CPU: the",
    "workerd process (Miniflare's entry, the Worker and every object, on one thread) or the etcd processes. Billed requests:",
    "Worker→object calls, Raft RPCs and alarm invocations; rows: SQLite's rows written plus one per setAlarm(). Dollars at",
    `Cloudflare's published prices (${PRICES.url}): $${PRICES.requestsPerMillion} per million requests, $${PRICES.gbSecondsPerMillion} per million GB-s`,
    `at 128 MB per object while not hibernated, $${PRICES.rowsWrittenPerMillion} per million rows written, included amounts left out; duration at the`,
    "64-client throughput measured here (an awake Raft server never hibernates: its heartbeats keep it in memory; the single object hibernates",
    "when idle). Idle, never sleeping: the raft suites' clusters (`sleepAfterMs` 0, as before issue 11); idle asleep: the sleep suite's",
    "raft-3 with the default settings once asleep (no duration billed: its objects are evicted; \"Sleeping, waking and deploys\").",
    etcdNote,
    "",
    goalsTable(goals),
  ].join("\n");
}

// ---------------------------------------------------------------------------------------
// Targets.

export function evaluateTargets(r: Results): Target[] {
  const targets: Target[] = [];
  const rpcWrite = r.floor.inWorkerd.rpcWrite.p50;
  const raft3 = r.raft.find((x) => x.size === 3);
  const missing = (x: RaftResult | undefined) => (!x ? "raft-3 not run" : short(x.unavailable));

  {
    const limit = r.single.sequential.latency.p50 + 3 * rpcWrite;
    const got = raft3?.sequential?.latency.p50;
    targets.push({
      id: "seq-p50",
      text: "raft-3 sequential put p50 ≤ single p50 + 3× floor RPC+write",
      threshold: `≤ ${fmt(limit)} ms (${fmt(r.single.sequential.latency.p50)} + 3×${fmt(rpcWrite, 3)})`,
      measured: got === undefined ? (missing(raft3) ?? "—") : `${fmt(got)} ms`,
      met: got === undefined ? null : got <= limit,
    });
  }
  {
    const single = phaseAt(r.single.concurrency, LOAD_CLIENTS)?.throughput;
    const got = raft3 ? phaseAt(raft3.concurrency, LOAD_CLIENTS)?.throughput : undefined;
    targets.push({
      id: "tput-64",
      text: `raft-3 throughput at ${LOAD_CLIENTS} clients ≥ 50% of single`,
      threshold: single === undefined ? "—" : `≥ ${fmt(single / 2)} ops/s`,
      measured: got === undefined || single === undefined ? (missing(raft3) ?? "—") : `${fmt(got)} ops/s (${fmt((100 * got) / single, 0)}%)`,
      met: got === undefined || single === undefined ? null : got >= single / 2,
    });
  }
  for (const x of r.raft) {
    const label = `raft-${x.size}`;
    const load = phaseAt(x.concurrency, LOAD_CLIENTS)?.cost;
    const why = short(x.unavailable) ?? "no load phase";
    targets.push({
      id: `ae-${x.size}`,
      text: `${label}: AppendEntries per committed op per follower under load (${LOAD_CLIENTS} clients)`,
      threshold: "≤ 0.25",
      measured: load ? `${fmt(load.appendEntriesPerOpPerFollower, 3)}${load.stable ? "" : " (leader changed during the phase)"}` : why,
      met: load ? load.appendEntriesPerOpPerFollower <= 0.25 : null,
    });
    const st = load?.storage;
    targets.push({
      id: `tx-${x.size}`,
      text: `${label}: storage transactions per committed op under load, per server (one per batch, not per entry)`,
      threshold: "≤ 0.25 on the leader and on each follower",
      measured: st
        ? `leader ${fmt(st.leaderTransactionsPerOp, 3)}, follower ${fmt(st.followerTransactionsPerOp, 3)} (${fmt(st.followerTransactionsPerAppendEntries)} per AppendEntries)`
        : load
          ? "not counted (--plain run)"
          : why,
      met: st ? st.leaderTransactionsPerOp <= 0.25 && st.followerTransactionsPerOp <= 0.25 : null,
    });
    const f = x.failover;
    const failLimit = x.electionTimeoutMs[1] + 100;
    targets.push({
      id: `failover-${x.size}`,
      text: `${label}: leader crash → first successful write, p50`,
      threshold: `≤ ${failLimit} ms (election timeout upper bound + 100)`,
      measured: f ? `${fmt(f.ms.p50)} ms (p99 ${fmt(f.ms.p99)}, ${f.ms.n}/${f.trials} trials)` : why,
      met: f && f.ms.n > 0 ? f.ms.p50 <= failLimit : null,
    });
    const alarmLimit = 1000 / x.electionTimeoutMs[0];
    targets.push({
      id: `idle-alarms-${x.size}`,
      text: `${label}: idle follower alarms per second (mean over followers)`,
      threshold: `≤ ${fmt(alarmLimit)}/s (one per shortest election timeout; one per heartbeat would be ${fmt(1000 / x.heartbeatMs)}/s)`,
      measured: `${fmt(x.idle.followers.alarmsPerSec)}/s (busiest follower ${fmt(x.idle.followers.maxAlarmsPerSec)}/s, over ${fmt(x.idle.seconds, 1)} s)`,
      met: x.idle.followers.alarmsPerSec <= alarmLimit,
    });
  }
  targets.push(...readTargets(r.reads), ...historyTargets(r.history));
  return targets;
}

const READ_TARGET = 2;
const RESTART_TARGET = 2;

function readTargets(reads: ReadsResult): Target[] {
  const ri = reads.modes.find((m) => m.consistency === "readindex");
  const log = reads.modes.find((m) => m.consistency === "log");
  const one = (id: string, where: string, pick: (m: ReadMode) => number, ceiling?: number): Target => {
    const text = `raft-${reads.size} reads at ${reads.clients} clients, ${where}: ReadIndex throughput ≥ ${READ_TARGET}× reads through the log`;
    if (!ri || !log) return { id, text, threshold: `≥ ${READ_TARGET}×`, measured: short(reads.unavailable) ?? "—", met: null };
    const a = pick(ri);
    const b = pick(log);
    return {
      id,
      text,
      threshold: `≥ ${READ_TARGET}× (≥ ${fmt(READ_TARGET * b)} ops/s)`,
      measured: `${fmt(a)} against ${fmt(b)} ops/s (${ratio(a, b)})${ceiling === undefined ? "" : `; no-op requests by the same client: ${fmt(ceiling)} ops/s`}`,
      met: Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a >= READ_TARGET * b : null,
    };
  };
  return [
    one("reads-node", "from Node", (m) => m.fromNode.throughput, reads.nodeCeiling?.throughput),
    one("reads-workerd", "driven inside workerd", (m) => m.inWorkerd.throughput),
  ];
}

/** The history cases by role: the fresh server, the one that never compacts, the compacting one. */
function historyCases(h: CompactionResult): { fresh?: HistoryCase; never?: HistoryCase; compacted?: HistoryCase } {
  return {
    fresh: h.cases.find((c) => c.ops === 0),
    never: h.cases.find((c) => c.ops > 0 && c.snapshotThreshold === 0),
    compacted: h.cases.find((c) => c.ops > 0 && c.snapshotThreshold > 0),
  };
}

function historyTargets(h: CompactionResult): Target[] {
  const { fresh, never, compacted } = historyCases(h);
  const text = `restart + first status of a server holding ${h.ops.toLocaleString("en-US")} applied puts, compacted (snapshotThreshold ${compacted?.snapshotThreshold ?? 1000}), median ≤ ${RESTART_TARGET}× a fresh server's`;
  const ok = (c: HistoryCase | undefined): c is HistoryCase => c !== undefined && c.restartMs.n > 0;
  if (!ok(fresh) || !ok(compacted)) {
    return [{ id: "restart-compacted", text, threshold: `≤ ${RESTART_TARGET}×`, measured: short(h.unavailable) ?? "restarts failed", met: null }];
  }
  const a = compacted.restartMs.p50;
  const b = fresh.restartMs.p50;
  const uncompacted = ok(never) ? `; never compacting: ${fmt(never.restartMs.p50)} ms (${ratio(never.restartMs.p50, b)})` : "";
  return [
    {
      id: "restart-compacted",
      text,
      threshold: `≤ ${RESTART_TARGET}× (≤ ${fmt(RESTART_TARGET * b)} ms; fresh ${fmt(b)} ms)`,
      measured: `${fmt(a)} ms (${ratio(a, b)})${uncompacted}`,
      met: a <= RESTART_TARGET * b,
    },
  ];
}

// ---------------------------------------------------------------------------------------
// Tables.

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map((h, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)].join("\n");
}

function floorTable(f: FloorResult): string {
  const w = f.inWorkerd;
  const row = (name: string, s: FloorTimingSummary) => [
    name,
    fmt(s.p50, 3),
    fmt(s.p99, 3),
    fmt(s.mean, 3),
    `${s.calls} (batches of ${s.batch.join("/")})`,
    s.roundP50.map((x) => fmt(x, 2)).join(" / "),
    "—",
  ];
  const http = (name: string, s: HttpFloor) => [
    name,
    fmt(s.p50, 3),
    fmt(s.p99, 3),
    fmt(s.mean, 3),
    `${s.n}`,
    s.roundP50.map((x) => fmt(x, 2)).join(" / "),
    `${fmt(s.cpuPerCall.workerdMs)} / ${fmt(s.cpuPerCall.nodeMs)}`,
  ];
  return table(
    ["floor", "p50 ms", "p99 ms", "mean ms", "calls", "p50 per round (start / middle / end)", "CPU ms per call: workerd / Node"],
    [
      row("object→object RPC (inside workerd)", w.rpc),
      row("**RPC whose callee writes one row** (inside workerd) — *the floor*", w.rpcWrite),
      row("one local durable write (write + sync)", w.write),
      row("one local durable write that also moves the alarm", w.writeAlarm),
      row("leader's write, then RPC+write (least a commit costs)", w.commit),
      http("Node→Worker→object, no-op (from Node)", f.http.noop),
      http("Node→Worker→object, one row written (from Node)", f.http.write),
    ],
  );
}

function mainTable(r: Results): string {
  const floor = r.floor.inWorkerd.rpcWrite;
  const floorTput = 1000 / floor.mean;
  const header = ["metric", "floor", "single"];
  for (const x of r.raft) header.push(`raft-${x.size}`, "×floor", "×single");
  const rows: string[][] = [];

  /** One row: the floor's and the single object's figure, and each cluster's with its ratios. */
  const add = (
    name: string,
    floorValue: number | null,
    singleValue: number | null,
    raftValue: (x: RaftResult) => number | null | undefined,
    digits = 2,
  ) => {
    const cells = [name, fmt(floorValue, digits), fmt(singleValue, digits)];
    for (const x of r.raft) {
      const v = raftValue(x);
      cells.push(fmt(v, digits), ratio(v, floorValue), ratio(v, singleValue));
    }
    rows.push(cells);
  };

  add("sequential put p50 (ms)", floor.p50, r.single.sequential.latency.p50, (x) => x.sequential?.latency.p50);
  add("sequential put p99 (ms)", floor.p99, r.single.sequential.latency.p99, (x) => x.sequential?.latency.p99);
  for (const clients of [1, 8, 64]) {
    const single = phaseAt(r.single.concurrency, clients);
    if (!single) continue;
    const at = (x: RaftResult) => phaseAt(x.concurrency, clients);
    add(`${clients} client${clients > 1 ? "s" : ""}: throughput (ops/s)`, floorTput, single.throughput, (x) => at(x)?.throughput, 0);
    add(`${clients} client${clients > 1 ? "s" : ""}: put p50 (ms)`, floor.p50, single.latency.p50, (x) => at(x)?.latency.p50);
    add(`${clients} client${clients > 1 ? "s" : ""}: put p99 (ms)`, floor.p99, single.latency.p99, (x) => at(x)?.latency.p99);
  }
  const httpWrite = r.floor.http.write.cpuPerCall;
  add("sequential: workerd CPU per put (ms)", httpWrite.workerdMs, r.single.sequential.cpuPerOp.workerdMs, (x) => x.sequential?.cpuPerOp.workerdMs);
  add("sequential: Node CPU per put (ms)", httpWrite.nodeMs, r.single.sequential.cpuPerOp.nodeMs, (x) => x.sequential?.cpuPerOp.nodeMs);
  const single64 = phaseAt(r.single.concurrency, LOAD_CLIENTS);
  if (single64) {
    const at64 = (x: RaftResult) => phaseAt(x.concurrency, LOAD_CLIENTS);
    add(`${LOAD_CLIENTS} clients: workerd CPU per put (ms)`, httpWrite.workerdMs, single64.cpuPerOp.workerdMs, (x) => at64(x)?.cpuPerOp.workerdMs);
    add(`${LOAD_CLIENTS} clients: Node CPU per put (ms)`, httpWrite.nodeMs, single64.cpuPerOp.nodeMs, (x) => at64(x)?.cpuPerOp.nodeMs);
  }
  add("leader crash → first write p50 (ms)", floor.p50, null, (x) => (x.failover?.ms.n ? x.failover.ms.p50 : null), 0);
  add("leader crash → first write p99 (ms)", floor.p99, null, (x) => (x.failover?.ms.n ? x.failover.ms.p99 : null), 0);
  const load = (x: RaftResult) => phaseAt(x.concurrency, LOAD_CLIENTS)?.cost;
  add(`Raft RPCs per op (${LOAD_CLIENTS} clients, all servers)`, null, 0, (x) => load(x)?.rpcsPerOp, 3);
  add(`AppendEntries per op per follower (${LOAD_CLIENTS} clients)`, null, 0, (x) => load(x)?.appendEntriesPerOpPerFollower, 3);
  add(`alarms per op (${LOAD_CLIENTS} clients, all servers)`, null, 0, (x) => load(x)?.alarmsPerOp, 3);
  // SingleKv runs every operation in exactly one transactionSync: 1 per op by construction.
  add(`storage transactions per op, leader (${LOAD_CLIENTS} clients)`, null, 1, (x) => load(x)?.storage?.leaderTransactionsPerOp, 3);
  add(`storage transactions per op, per follower (${LOAD_CLIENTS} clients)`, null, 0, (x) => load(x)?.storage?.followerTransactionsPerOp, 3);
  add(`SQL writes per op, leader (${LOAD_CLIENTS} clients)`, null, null, (x) => load(x)?.storage?.leaderSqlWritesPerOp, 3);
  add("idle: workerd CPU ms per second", null, null, (x) => x.idle.workerdCpuMsPerSec, 1);
  add("idle: leader RPCs per second", null, 0, (x) => x.idle.leader.rpcsSentPerSec, 1);
  add("idle: leader alarms per second", null, 0, (x) => x.idle.leader.alarmsPerSec, 1);
  add("idle: follower alarms per second (mean)", null, 0, (x) => x.idle.followers.alarmsPerSec, 1);
  add("idle: storage transactions per second, leader", null, 0, (x) => x.idle.leader.transactionsPerSec, 1);
  return table(header, rows);
}

/** Per-op costs of every phase, and the sequential put cut into stages: the profile. */
function profileTables(r: Results): string {
  const rows: string[][] = [];
  for (const x of r.raft) {
    const phases: Array<[string, Phase & { cost: LoadCost }]> = [];
    if (x.sequential) phases.push(["sequential", x.sequential]);
    for (const p of x.concurrency) phases.push([`${p.clients} client${p.clients > 1 ? "s" : ""}`, p]);
    for (const [name, p] of phases) {
      const c = p.cost;
      const st = c.storage;
      rows.push([
        `raft-${x.size}, ${name}`,
        `${c.ops}${c.stable ? "" : " (leader changed)"}`,
        fmt(c.rpcsPerOp, 3),
        fmt(c.appendEntriesPerOpPerFollower, 3),
        fmt(c.appendEntriesAboveIdlePerOpPerFollower, 3),
        fmt(c.alarmsPerOp, 3),
        fmt(st?.leaderTransactionsPerOp, 3),
        fmt(st?.followerTransactionsPerOp, 3),
        fmt(st?.followerTransactionsPerAppendEntries, 3),
        fmt(st?.leaderSqlWritesPerOp, 3),
        fmt(st?.followerSqlWritesPerOp, 3),
        fmt(st?.rowsWrittenPerOp, 3),
        fmt(st?.setAlarmsPerOp, 3),
        fmt(c.billedRequestsPerOp, 3),
      ]);
    }
  }
  const costs = table(
    ["cluster, phase", "committed", "RPCs/op", "AE/op/follower", "… above idle heartbeats", "alarms/op", "leader tx/op", "follower tx/op", "follower tx/AE", "leader SQL writes/op", "follower SQL writes/op", "SQL rows written/op, all servers", "setAlarm/op", "billed requests/op"],
    rows,
  );
  const traced = r.raft.filter((x) => x.anatomy && x.anatomy.traced > 0);
  const anatomy = table(
    ["one sequential put, median ms", "single", ...traced.map((x) => `raft-${x.size}`)],
    [
      ...STAGES.map(([k, label]) => [label, fmt(r.single.anatomy.medianMs[k], 1), ...traced.map((x) => fmt(x.anatomy!.medianMs[k], 1))]),
      ["whole put, from Node", fmt(r.single.anatomy.medianMs.total, 1), ...traced.map((x) => fmt(x.anatomy!.medianMs.total, 1))],
      ["puts traced", `${r.single.anatomy.traced}/${r.single.anatomy.puts}`, ...traced.map((x) => `${x.anatomy!.traced}/${x.anatomy!.puts}`)],
    ],
  );
  return [
    "Per committed op (tx = storage transactions; counted only when RAFT_SERVER is ProfiledRaftServer):",
    "",
    costs,
    "",
    "One sequential put, stage by stage (medians of each stage, ms, 1 ms clocks: the Worker's and the",
    "servers' narration timestamps, and Node's; see bench/suites/anatomy.ts). Stage medians need not add",
    "up to the whole put's median.",
    "",
    anatomy,
  ].join("\n");
}

function readsTable(reads: ReadsResult): string {
  const ri = reads.modes.find((m) => m.consistency === "readindex");
  const log = reads.modes.find((m) => m.consistency === "log");
  if (!ri || !log) return `Not measured: ${reads.unavailable ?? "no results"}.`;
  const rows: string[][] = [];
  const top = reads.nodeCeiling;
  /** `ceiling`: the same figure for the no-op requests (from-Node rows only). */
  const add = (name: string, f: (m: ReadMode) => number | null | undefined, digits = 2, ceiling?: number | null) => {
    const a = f(ri);
    const b = f(log);
    rows.push([name, fmt(b, digits), fmt(a, digits), ratio(a, b), fmt(ceiling, digits), ceiling === undefined ? "—" : ratio(a, ceiling)]);
  };
  add("from Node: throughput (ops/s)", (m) => m.fromNode.throughput, 0, top?.throughput);
  add("from Node: read p50 (ms)", (m) => m.fromNode.latency.p50, 2, top?.latency.p50);
  add("from Node: read p99 (ms)", (m) => m.fromNode.latency.p99, 2, top?.latency.p99);
  add("from Node: workerd CPU per read (ms)", (m) => m.fromNode.cpuPerOp.workerdMs, 2, top?.cpuPerOp.workerdMs);
  add("from Node: Node CPU per read (ms)", (m) => m.fromNode.cpuPerOp.nodeMs, 2, top?.cpuPerOp.nodeMs);
  add("from Node: Raft RPCs per read (all servers)", (m) => m.fromNodeCost.rpcsPerRead, 3);
  add("from Node: log entries per read", (m) => m.fromNodeCost.entriesPerRead, 3);
  add("from Node: storage transactions per read, leader", (m) => m.fromNodeCost.leaderTransactionsPerRead, 3);
  add("from Node: storage transactions per read, per follower", (m) => m.fromNodeCost.followerTransactionsPerRead, 3);
  add("inside workerd: throughput (ops/s)", (m) => m.inWorkerd.throughput, 0);
  add("inside workerd: read p50 (ms, 1 ms clock)", (m) => m.inWorkerd.latency.p50);
  add("inside workerd: read p99 (ms, 1 ms clock)", (m) => m.inWorkerd.latency.p99);
  add("inside workerd: workerd CPU per read (ms)", (m) => m.inWorkerd.cpuPerOp.workerdMs);
  add("inside workerd: Raft RPCs per read (all servers)", (m) => m.inWorkerdCost.rpcsPerRead, 3);
  add("inside workerd: log entries per read", (m) => m.inWorkerdCost.entriesPerRead, 3);
  add("inside workerd: storage transactions per read, leader", (m) => m.inWorkerdCost.leaderTransactionsPerRead, 3);
  return table(
    [`raft-${reads.size}, ${reads.clients} clients`, "log reads (`?consistency=log`)", "ReadIndex (default)", "×log", "no-op request (ceiling)", "ReadIndex ×ceiling"],
    rows,
  );
}

function historyTable(h: CompactionResult): string {
  const { fresh, never, compacted } = historyCases(h);
  if (!fresh || !never || !compacted) return `Not measured: ${h.unavailable ?? "no results"}.`;
  const rows: string[][] = [];
  const add = (name: string, f: (c: HistoryCase) => number | null | undefined, digits = 2) => {
    const a = f(fresh);
    const b = f(never);
    const c = f(compacted);
    rows.push([name, fmt(a, digits), fmt(b, digits), ratio(b, a), fmt(c, digits), ratio(c, a), ratio(c, b)]);
  };
  add("restart + first status, median (ms)", (c) => c.restartMs.p50, 1);
  add("restart + first status, slowest (ms)", (c) => c.restartMs.max, 1);
  add("restart request inside the Worker, median (ms, 1 ms clock)", (c) => c.restartWorkerMs.p50, 0);
  add("log rows", (c) => c.durable?.rows.log, 0);
  add("key/value rows", (c) => c.durable?.rows.kv, 0);
  add("session rows", (c) => c.durable?.rows.sessions, 0);
  add("snapshotIndex", (c) => c.durable?.snapshotIndex, 0);
  add("logLength", (c) => c.durable?.logLength, 0);
  add("fill: seconds", (c) => c.fillSeconds, 1);
  return table(
    ["one-server cluster", "fresh", `snapshotThreshold 0`, "×fresh", `snapshotThreshold ${compacted.snapshotThreshold}`, "×fresh", "×threshold 0"],
    rows,
  );
}

function targetTable(targets: readonly Target[]): string {
  return table(
    ["target", "threshold", "measured", "result"],
    targets.map((t) => [t.text, t.threshold, t.measured, t.met === null ? "not evaluated" : t.met ? "**met**" : "**missed**"]),
  );
}

export function markdown(r: Results, targets: readonly Target[], goals: readonly Goal[] = evaluateGoals(r)): string {
  const notes: string[] = [];
  for (const x of r.raft) {
    if (x.unavailable) notes.push(`- raft-${x.size}: ${x.unavailable} — put, throughput and failover figures skipped.`);
    for (const p of x.concurrency) {
      if (Object.keys(p.errors).length) notes.push(`- raft-${x.size}, ${p.clients} clients: non-200 answers ${JSON.stringify(p.errors)}.`);
      if (!p.cost.stable) notes.push(`- raft-${x.size}, ${p.clients} clients: leader or term changed during the phase; per-op costs mix two leaderships.`);
    }
    if (x.failover?.failures.length) notes.push(`- raft-${x.size} failover: ${x.failover.failures.join("; ")}.`);
    if (x.failover && Object.keys(x.failover.errors).length) {
      notes.push(`- raft-${x.size} failover: answers before the first success ${JSON.stringify(x.failover.errors)}; puts per trial p50 ${x.failover.putsPerTrial.p50}.`);
    }
  }
  for (const p of r.single.concurrency) {
    if (Object.keys(p.errors).length) notes.push(`- single, ${p.clients} clients: non-200 answers ${JSON.stringify(p.errors)}.`);
  }
  for (const m of r.reads.modes) {
    for (const [where, p] of [["from Node", m.fromNode], ["inside workerd", m.inWorkerd]] as const) {
      if (Object.keys(p.errors).length) notes.push(`- reads (${m.consistency}, ${where}): non-200 answers ${JSON.stringify(p.errors)}.`);
    }
  }
  if (r.reads.nodeCeiling && Object.keys(r.reads.nodeCeiling.errors).length) {
    notes.push(`- reads, no-op ceiling: non-200 answers ${JSON.stringify(r.reads.nodeCeiling.errors)}.`);
  }
  for (const c of r.history.cases) {
    if (Object.keys(c.fillErrors).length) notes.push(`- history, ${c.name}: puts not applied during the fill ${JSON.stringify(c.fillErrors)}.`);
    if (c.failures.length) notes.push(`- history, ${c.name}: ${c.failures.join("; ")}.`);
  }
  if (r.history.unavailable) notes.push(`- history: ${r.history.unavailable}.`);
  const m = r.meta as { date?: string; command?: string; cpus?: string; node?: string; loadavgBefore?: number[]; loadavgAfter?: number[]; seconds?: number; raftServerClass?: string; options?: { client?: string } };
  // The client Node sends its requests with (bench/lib/http.ts); older JSON files predate the choice.
  const client =
    m.options?.client === "undici" ? "an undici Pool with keep-alive connections to Miniflare's HTTP address" : "Miniflare's dispatchFetch";
  return [
    `Run ${m.date} · \`${m.command}\` · ${m.seconds} s · Node ${m.node} · ${m.cpus} · load average ` +
      `before ${m.loadavgBefore?.join(" ")}, after ${m.loadavgAfter?.join(" ")} · RAFT_SERVER = ${m.raftServerClass} · Node's client: ${m.options?.client ?? "dispatch"}`,
    "",
    "### Headline",
    "",
    headline(r, goals),
    "",
    "### Cost per committed write",
    "",
    costTable(r),
    "",
    "### Sleeping, waking and deploys",
    "",
    sleepMarkdown(r.sleep),
    "### Floor",
    "",
    floorTable(r.floor),
    "",
    "In-workerd timings are per-call means of back-to-back batches (workerd's clock has 1 ms",
    "resolution), so their p99 is flattened. Node→Worker rows are per request, timed from Node.",
    `The floor is sampled in ${r.floor.rounds} rounds spread over the run and pooled.`,
    "",
    "### Side by side",
    "",
    mainTable(r),
    "",
    `Latencies and throughput are measured from Node (${client}: every request`,
    "pays the Node→Worker row of the floor table, single object and Raft alike). ×floor divides",
    "by the floor's RPC+write (same percentile; throughput: against 1000 / its mean, the rate of",
    "back-to-back RPC+writes; CPU rows: against one Node→Worker→object write); ×single by the",
    "single object's figure in the same row. CPU is read from /proc for the workerd process (the",
    "Worker and every object) and for Node (the load generator and its HTTP client).",
    ...(notes.length ? ["", ...notes] : []),
    "",
    "### Profile",
    "",
    profileTables(r),
    "",
    "### Reads",
    "",
    readsTable(r.reads),
    "",
    `${r.reads.clients} closed-loop clients over 64 keys, each kind of read in two rounds of ${r.reads.roundMs} ms per driver, ordered`,
    `ReadIndex, log, log, ReadIndex and pooled. "From Node" is the bench's usual client (${client}); its ceiling`,
    "is the same client sending no-op requests through the Worker to an object (`GET /floor/http/noop`, two rounds in the",
    "middle). \"Inside workerd\" hands the same GETs to the coordinator's fetch handler from the bench Worker itself",
    "(bench/workerd-load.ts), without Node's per-request cost. Costs per read come from the servers' counters over the rounds.",
    "",
    "### Long history: restart and storage",
    "",
    historyTable(r.history),
    "",
    `One-server clusters, each filled with ${r.history.ops.toLocaleString("en-US")} puts over ${r.history.keys} keys, ${r.history.fillMode}; the fresh one`,
    `was created and left empty. Restart: POST .../servers/0/crash, then POST .../servers/0/restart plus the first`,
    `GET /clusters/{c}, timed from Node, ${r.history.restarts} times per server (median and slowest). Rows: GET /clusters/{c}/servers/0 → durable.rows.`,
    "",
    "### Targets",
    "",
    targetTable(targets),
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------------------
// `--url`: a running `wrangler dev` beside etcd.

export interface UrlResults {
  readonly meta: Record<string, unknown> & { url: string };
  readonly raft: RaftResult[];
  readonly etcd: EtcdResult;
}

export function urlMarkdown(r: UrlResults): string {
  const etcd = r.etcd.unavailable ? null : r.etcd;
  const raft = r.raft.filter((x) => !x.unavailable);
  const rows: string[][] = [];
  type V = number | null | undefined;
  const add = (name: string, pick: (x: RaftResult) => V, e: V, digits = 2) => {
    const vals = raft.map(pick);
    rows.push([name, ...vals.map((v) => fmt(v, digits)), etcd ? fmt(e, digits) : "—", ...vals.map((v) => (etcd ? ratio(v, e) : "—"))]);
  };
  const at = (x: { concurrency: readonly Phase[] }, n: number) => phaseAt(x.concurrency, n);
  add("sequential put p50 (ms)", (x) => x.sequential?.latency.p50, etcd?.sequential?.latency.p50);
  add("sequential put p99 (ms)", (x) => x.sequential?.latency.p99, etcd?.sequential?.latency.p99);
  for (const n of [1, 8, 64]) {
    add(`${n} client${n > 1 ? "s" : ""}: throughput (ops/s)`, (x) => at(x, n)?.throughput, etcd ? at(etcd, n)?.throughput : null, 0);
    add(`${n} client${n > 1 ? "s" : ""}: put p50 (ms)`, (x) => at(x, n)?.latency.p50, etcd ? at(etcd, n)?.latency.p50 : null);
    add(`${n} client${n > 1 ? "s" : ""}: put p99 (ms)`, (x) => at(x, n)?.latency.p99, etcd ? at(etcd, n)?.latency.p99 : null);
  }
  add(`Raft RPCs per op (${LOAD_CLIENTS} clients, all servers)`, (x) => x.concurrency.find((p) => p.clients === LOAD_CLIENTS)?.cost.rpcsPerOp, null, 3);
  add(`AppendEntries per op per follower (${LOAD_CLIENTS} clients)`, (x) => x.concurrency.find((p) => p.clients === LOAD_CLIENTS)?.cost.appendEntriesPerOpPerFollower, null, 3);
  add(`alarms per op (${LOAD_CLIENTS} clients, all servers)`, (x) => x.concurrency.find((p) => p.clients === LOAD_CLIENTS)?.cost.alarmsPerOp, null, 3);
  const m = r.meta as { date?: string; command?: string; seconds?: number; node?: string; cpus?: string; loadavgBefore?: number[]; loadavgAfter?: number[] };
  const notes: string[] = [];
  for (const x of r.raft) {
    if (x.unavailable) notes.push(`- raft-${x.size}: ${x.unavailable}.`);
    for (const p of x.concurrency) if (Object.keys(p.errors).length) notes.push(`- raft-${x.size}, ${p.clients} clients: non-200 answers ${JSON.stringify(p.errors)}.`);
  }
  if (etcd) for (const p of etcd.concurrency) if (Object.keys(p.errors).length) notes.push(`- etcd, ${p.clients} clients: non-200 answers ${JSON.stringify(p.errors)}.`);
  return [
    `Run ${m.date} · \`${m.command}\` · ${m.seconds} s · Node ${m.node} · ${m.cpus} · load average before ${m.loadavgBefore?.join(" ")}, after ${m.loadavgAfter?.join(" ")}`,
    "",
    `### The Worker at ${r.meta.url} beside etcd`,
    "",
    table(["figure", ...raft.map((x) => `raft-${x.size}`), etcd ? `etcd ${etcd.version} ×3` : "etcd", ...raft.map((x) => `raft-${x.size} ÷ etcd`)], rows),
    "",
    r.etcd.unavailable ? `etcd: not measured — ${r.etcd.unavailable}.` : `etcd: 3 loopback members, puts through \`POST ${r.etcd.gateway}/kv/put\` to the leader, the same client and workload.`,
    "Raft: clusters created through the API on the running Worker, `PUT /clusters/{c}/kv/{key}`, the same workload as `npm run bench`; counts from the servers' stats.",
    ...(notes.length ? ["", ...notes] : []),
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------------------
// Sleeping, waking and deploys (issue 11, item 6): bench/suites/sleep.ts.

export interface SleepGoal {
  readonly text: string;
  readonly measured: string;
  readonly goal: string;
  /** null: a figure with no goal, or not evaluated. */
  readonly met: boolean | null;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.ceil(s.length / 2) - 1]! : NaN;
};

/** Idle month of the 3-server cluster, never sleeping ("before") and with the default ("after"). */
export function sleepIdleMonths(s: SleepResult): { before: IdleMonth | null; after: IdleMonth | null } {
  return {
    before: s.awake ? idleMonth(s.size, s.awake.billedRequestsPerSec, s.awake.billedRowsPerSec) : null,
    after: s.asleep ? idleMonth(s.size, s.asleep.billedRequestsPerSec, s.asleep.billedRowsPerSec, false) : null,
  };
}

export function evaluateSleepGoals(s: SleepResult): SleepGoal[] {
  if (s.unavailable) return [];
  const goals: SleepGoal[] = [];
  const a = s.asleep;
  const w = s.awake;
  if (a) {
    const v = a.alarmsPerSec + a.rpcsPerSec;
    goals.push({
      text: `idle raft-${s.size}: alarms + Raft RPCs per second once asleep`,
      measured: `${fmt(v, 2)} (${fmt(a.alarmsPerSec, 2)} + ${fmt(a.rpcsPerSec, 2)} over ${fmt(a.seconds, 1)} s${a.reloaded ? `, ${a.reloaded} of ${s.size} objects evicted and reloaded meanwhile` : ""}${a.asleepAtEnd ? "" : "; **not asleep at the end**"}); awake (\`sleepAfterMs\` 0): ${fmt(w ? w.alarmsPerSec + w.rpcsPerSec : null, 1)} (${fmt(w?.alarmsPerSec, 1)} + ${fmt(w?.rpcsPerSec, 1)})`,
      goal: "0",
      met: v === 0 && a.asleepAtEnd,
    });
  }
  const done = s.cycles.filter((c) => c.firstStatus === 200);
  if (s.cycles.length) {
    const ratios = done.map((c) => c.ratio);
    const med = median(ratios);
    const worst = ratios.length ? Math.max(...ratios) : NaN;
    const worstCycle = done.find((c) => c.ratio === worst);
    goals.push({
      text: `first write after sleeping ÷ warm write, median of ${done.length} cycles`,
      measured: `${fmt(med)}× (first ${fmt(median(done.map((c) => c.firstMs)))} ms, warm ${fmt(median(done.map((c) => c.warmMs.p50)))} ms, medians)`,
      goal: "≤ 2×",
      met: done.length === s.cycles.length && Number.isFinite(med) ? med <= 2 : null,
    });
    goals.push({
      text: "the same, worst cycle",
      measured: worstCycle ? `${fmt(worst)}× (${fmt(worstCycle.firstMs)} ÷ ${fmt(worstCycle.warmMs.p50)} ms)${done.length < s.cycles.length ? `; ${s.cycles.length - done.length} first writes failed` : ""}` : "—",
      goal: "≤ 2×",
      met: done.length === s.cycles.length && Number.isFinite(worst) ? worst <= 2 : false,
    });
    const changed = s.cycles.filter((c) => c.termChanged).length;
    const sameLeader = done.filter((c) => c.servedBy === c.leaderBefore).length;
    goals.push({
      text: "cycles in which waking changed a term",
      measured: `${changed} of ${s.cycles.length} (terms ${s.cycles[0]!.termsBefore.join("/")} → ${s.cycles[s.cycles.length - 1]!.termsAfter.join("/")}; first write served by the leader that fell asleep in ${sameLeader} of ${done.length})`,
      goal: "0 (never)",
      met: changed === 0,
    });
  }
  const d = s.deploys;
  if (d) {
    const n = d.deploys.length;
    const notReloaded = d.deploys.filter((x) => !x.reloaded).length;
    const refused = d.deploys.filter((x) => x.evictStatus !== 200).length;
    goals.push({
      text: `${n} deploys under one sequential writer: elections caused (servers whose term changed, summed over deploys)`,
      measured: `${d.elections} (terms ${d.termsStart.join("/")} → ${d.termsEnd.join("/")}; every object reloaded in ${n - notReloaded} of ${n} deploys${refused ? `; ${refused} evict calls not 200` : ""})`,
      goal: "0",
      met: d.elections === 0 && d.termsStart.join() === d.termsEnd.join() && notReloaded === 0 && refused === 0,
    });
    const slow = d.deploys.map((x) => x.slowestWriteMs).filter((x): x is number => x !== null);
    goals.push({
      text: "slowest write across a deploy (its first try to its 200)",
      measured: `median ${fmt(median(slow))} ms, worst ${fmt(slow.length ? Math.max(...slow) : NaN)} ms over ${n} deploys (writes away from deploys: p50 ${fmt(d.calmWriteMs.p50)}, p99 ${fmt(d.calmWriteMs.p99)} ms); evict call p50 ${fmt(median(d.deploys.map((x) => x.evictMs)))} ms`,
      goal: "—",
      met: null,
    });
    const retried = Object.entries(d.retriedAnswers).map(([k, v]) => `${v}× ${k === "0" ? "no answer" : k}`).join(", ");
    goals.push({
      text: "acknowledged writes lost across the deploys",
      measured: `${d.lost} of ${d.writesAcked} (final read ${d.finalRead}; applied twice ${d.duplicated}, applied unacknowledged ${d.unacknowledgedApplied}, out of order ${d.outOfOrder ? "yes" : "no"}, given up ${d.abandoned}${retried ? `; answers retried with the same ids: ${retried}` : "; no retry needed"})`,
      goal: "0",
      met: d.lost === 0 && d.duplicated === 0 && !d.outOfOrder && d.finalRead.startsWith("200"),
    });
  }
  const m = sleepIdleMonths(s);
  if (m.before && m.after) {
    goals.push({
      text: `idle raft-${s.size}, $ per month at Cloudflare's prices: default (asleep) against never sleeping`,
      measured: `${usd(m.after.totalUsd)} against ${usd(m.before.totalUsd)}`,
      goal: "≈ $0",
      met: m.after.totalUsd === null ? null : m.after.totalUsd < 0.01,
    });
  }
  return goals;
}

function sleepCostTable(s: SleepResult): string {
  const m = sleepIdleMonths(s);
  const rows: string[][] = [];
  type V = number | null | undefined;
  const add = (name: string, before: V, after: V, f: (x: V) => string) => rows.push([name, f(before), f(after), ratio(after, before)]);
  const n = (digits: number) => (x: V) => fmt(x, digits);
  add("idle: alarms per second", s.awake?.alarmsPerSec, s.asleep?.alarmsPerSec, n(2));
  add("idle: Raft RPCs per second", s.awake?.rpcsPerSec, s.asleep?.rpcsPerSec, n(2));
  add("idle: billed rows written per second (SQL rows + setAlarm)", s.awake?.billedRowsPerSec, s.asleep?.billedRowsPerSec, n(2));
  add("idle: objects billed for duration", s.size, 0, n(0));
  add("idle, $ per month: requests", m.before?.requestsUsd, m.after?.requestsUsd, usd);
  add("idle, $ per month: rows written", m.before?.rowsUsd, m.after?.rowsUsd, usd);
  add("idle, $ per month: duration (GB-s)", m.before?.durationUsd, m.after?.durationUsd, usd);
  add("**idle, $ per month**", m.before?.totalUsd, m.after?.totalUsd, usd);
  const per = (w: WriteCost | null) => (w ? costPerMillion(s.size, w.billedRequestsPerWrite, w.billedRowsPerWrite, w.throughput) : null);
  const b = per(s.awakeWrites);
  const a = per(s.defaultWrites);
  add("back-to-back writes: throughput (writes/s)", s.awakeWrites?.throughput, s.defaultWrites?.throughput, n(1));
  add("back-to-back writes: billed requests per write", b?.requestsPerOp, a?.requestsPerOp, n(2));
  add("back-to-back writes: billed rows written per write", b?.rowsPerOp, a?.rowsPerOp, n(2));
  add("back-to-back writes: GB-s per million writes", (b?.gbSecondsPerOp ?? NaN) * 1e6, (a?.gbSecondsPerOp ?? NaN) * 1e6, n(0));
  add("**back-to-back writes: $ per million writes**", b?.totalUsd, a?.totalUsd, usd);
  const iso = s.cycles.filter((c) => c.firstStatus === 200);
  if (iso.length) {
    const req = median(iso.map((c) => c.isolated.billedRequests ?? NaN));
    const rowsW = median(iso.map((c) => c.isolated.billedRows ?? NaN));
    const awakeS = median(iso.map((c) => c.isolated.awakeSeconds));
    const gbs = s.size * PRICES.gbPerObject * awakeS;
    const usdPerMillion = req * PRICES.requestsPerMillion + rowsW * PRICES.rowsWrittenPerMillion + gbs * PRICES.gbSecondsPerMillion;
    rows.push(["one isolated write (wakes the cluster, then it sleeps again): billed requests", "—", fmt(req, 1), "—"]);
    rows.push(["one isolated write: billed rows written", "—", fmt(rowsW, 1), "—"]);
    rows.push(["one isolated write: seconds awake (write sent → seen asleep)", "—", fmt(awakeS, 2), "—"]);
    rows.push(["**one isolated write: $ per million such writes**", "—", usd(usdPerMillion), "—"]);
  }
  return table(
    [`raft-${s.size}`, "before: `sleepAfterMs` 0 (never sleeps)", `after: default (sleeps after ${fmt(s.sleepAfterMs, 0)} ms idle)`, "after ÷ before"],
    rows,
  );
}

export function sleepMarkdown(s: SleepResult, goals: readonly SleepGoal[] = evaluateSleepGoals(s)): string {
  if (s.unavailable) return `Not measured: ${s.unavailable}.\n`;
  const cycles = table(
    ["cycle", "first write after sleeping (ms)", "warm writes p50 (ms)", "ratio", "terms before → after", "served by (leader before)", "warm → asleep (ms)"],
    s.cycles.map((c, i) => [
      String(i + 1),
      `${fmt(c.firstMs)}${c.firstStatus === 200 ? "" : ` (${c.firstStatus})`}`,
      fmt(c.warmMs.p50),
      `${fmt(c.ratio)}×`,
      `${c.termsBefore.join("/")} → ${c.termsAfter.join("/")}`,
      `${c.servedBy ?? "—"} (${c.leaderBefore ?? "—"})`,
      fmt(c.fellAsleepMs, 0),
    ]),
  );
  const d = s.deploys;
  const notes = [...s.failures.map((f) => `- ${f}`)];
  if (s.awake && !s.awake.stable) notes.push("- the awake idle window saw a leader or term change.");
  if (s.asleep && !s.asleep.asleepAtStart) notes.push("- the asleep idle window did not start asleep.");
  return [
    table(
      ["goal (issue 11)", "measured", "goal", "result"],
      goals.map((g) => [g.text, g.measured, g.goal, g.met === null ? "—" : g.met ? "**met**" : "**missed**"]),
    ),
    "",
    sleepCostTable(s),
    "",
    `Idle windows: a 3-server cluster after one write, ${fmt(s.awake?.seconds, 1)} s awake (\`"sleepAfterMs": 0\`) and ${fmt(s.asleep?.seconds, 1)} s once`,
    `\`GET /clusters/{c}\` said \`asleep\` (default \`sleepAfterMs\` ${fmt(s.sleepAfterMs, 0)}; it fell asleep ${fmt(s.fellAsleepMs, 0)} ms after the last write was answered),`,
    "from every server's `stats` (an object reloaded in the window counts from its reload, by `loadedAt`) and, in a profiled run, its",
    "storage counters. Billed requests: Worker→server calls, Raft RPCs sent, alarm invocations; rows: SQL rows + one per setAlarm().",
    `Dollars at ${PRICES.url}; an asleep cluster's objects are billed no duration (nothing is due, the platform evicts them).`,
    "An isolated write: the counters around the first write after sleeping plus those from the last warm write until asleep again",
    "(the bench's own status reads taken out), its duration the 3 objects × 128 MB over that time awake (the platform may keep an",
    "idle object in memory a little longer before evicting it).",
    "",
    cycles,
    "",
    d
      ? `Deploys: \`POST /clusters/{c}/evict\` ${d.deploys.length} times, 500 ms apart, while one client appends its request id to one key`
      : "Deploys: not measured.",
    d ? "(`Client-Id`/`Request-Id` headers, `?timeoutMs=10000`; a write not answered 200 is sent again with the same ids). A write" : "",
    d ? "\"across\" a deploy was in flight between sending the evict and 250 ms after its answer. The final read must list every acknowledged id once, in order." : "",
    ...(notes.length ? ["", ...notes] : []),
    "",
  ].join("\n");
}
