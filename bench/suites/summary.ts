// Figures across suites: `head` (the headline, issue 13's goals, the cost per write) before the suites,
// `tail` (the targets of issues 5 and 6) after.
import { costPerMillion, idleMonth, PRICES } from "../cost.ts";
import { phaseAt, PUT_FIGURES } from "../lib/load.ts";
import { errorNote, fmt, ratio, short, table, usd, verdict, type Value } from "../lib/render.ts";
import type { Results, Section } from "../lib/suite.ts";
import { historyCases } from "./history.ts";
import type { RaftResult } from "./raft.ts";
import { sleepIdleMonths } from "./sleep.ts";

const LOAD = 64;
type Goal = [text: string, measured: string, goal: string, met: boolean | null, bounds: string];

const at64 = (x: RaftResult | undefined) => phaseAt(x?.concurrency, LOAD);
const raftOf = (r: Results, size: number) => r.raft?.find((x) => x.size === size && !x.unavailable);

/** "log 1.19, kv_data 1.00, …": rows written per op by table, largest first. */
const byTable = (t: Record<string, number> | undefined): string =>
  t ? Object.entries(t).filter(([, n]) => Math.abs(n) >= 0.0005).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${fmt(n, 2)}`).join(", ") : "—";

/** The goals of issue 13 (item 2), as ratios. */
export function goals(r: Results): Goal[] {
  const out: Goal[] = [];
  const [raft3, raft5] = [raftOf(r, 3), raftOf(r, 5)];
  const s = r.single!;
  const s64 = phaseAt(s.concurrency, LOAD);
  const why = raft3 ? "—" : (short(r.raft?.find((x) => x.size === 3)?.unavailable ?? "raft-3 not run") ?? "—");
  const [got, single, c3] = [at64(raft3)?.throughput, s64?.throughput, at64(raft3)];
  const tr = got !== undefined && single !== undefined && single > 0 ? got / single : null;
  const st3 = c3?.cost.storage;
  out.push([`raft-3 throughput at ${LOAD} clients ÷ single object`, tr === null ? why : `${fmt(tr)} (${fmt(got, 0)} ÷ ${fmt(single, 0)} ops/s)`, "≥ 0.75", tr === null ? null : tr >= 0.75, c3 ? `workerd CPU per put ${fmt(c3.cpuPerOp.workerdMs)} ms against the single object's ${fmt(s64?.cpuPerOp.workerdMs)} ms, one workerd thread for every object here; per put: ${fmt(c3.cost.billedRequestsPerOp, 2)} billed requests (${fmt(c3.cost.rpcsPerOp, 2)} Raft RPCs) against 1, ${fmt(st3?.transactionsPerOp, 2)} storage transactions against ${fmt(s64?.cost?.transactionsPerOp, 2)}, ${fmt(st3?.rowsWrittenPerOp, 2)} SQL rows against ${fmt(s64?.cost?.rowsWrittenPerOp, 2)}` : "—"]);
  const [a, b, seq] = [raft3?.sequential?.latency.p50, s.sequential.latency.p50, raft3?.sequential];
  const v = a !== undefined && b > 0 ? a / b : null;
  const st = seq?.cost.storage;
  const an = raft3?.anatomy?.medianMs;
  out.push(["raft-3 sequential put p50 ÷ single object", v === null ? why : `${fmt(v)} (${fmt(a)} ÷ ${fmt(b)} ms)`, "≤ 2.0", v === null ? null : v <= 2, seq ? `per sequential put: ${fmt(st?.leaderTransactionsPerOp, 2)} transactions on the leader and ${fmt(st?.followerTransactionsPerOp, 2)} on each follower, ${fmt(seq.cost.rpcsPerOp, 2)} Raft RPCs (${fmt(seq.cost.appendEntriesAboveIdlePerOpPerFollower, 2)} AppendEntries per follower above heartbeats), ${fmt(seq.cost.workerCallsPerOp, 2)} Worker→server calls; workerd CPU ${fmt(seq.cpuPerOp.workerdMs)} ms against ${fmt(s.sequential.cpuPerOp.workerdMs)}` + (an ? `; inside workerd ${fmt(an.inWorker, 1)} ms against ${fmt(s.anatomy.medianMs.inWorker, 1)} (medians, 1 ms clock)` : "") : "—"]);
  for (const x of [raft3, raft5].filter((x) => x !== undefined)) {
    const c = at64(x)?.cost;
    const v = c?.appendEntriesPerOpPerFollower ?? null;
    const heartbeats = c ? c.appendEntriesPerOpPerFollower - c.appendEntriesAboveIdlePerOpPerFollower : NaN;
    const load = c && c.appendEntriesAboveIdlePerOpPerFollower > 0 ? `${fmt(c.appendEntriesAboveIdlePerOpPerFollower, 3)} caused by the load (batches of ${fmt(1 / c.appendEntriesAboveIdlePerOpPerFollower, 1)} entries)` : "none above the idle heartbeat rate (the load's entries all rode on heartbeats)";
    out.push([`raft-${x.size}: AppendEntries per committed op per follower at ${LOAD} clients`, v === null ? "—" : `${fmt(v, 3)}${c!.stable ? "" : " (leader changed)"}`, "≤ 0.2", v === null ? null : v <= 0.2, c ? `${load} + ${fmt(Math.min(heartbeats, c.appendEntriesPerOpPerFollower), 3)} heartbeats (idle rate ${fmt(x.idle.leader.rpcsSentPerSec / Math.max(1, x.size - 1), 0)}/s per follower, against ${fmt(at64(x)?.throughput, 0)} ops/s)` : "—"]);
  }
  for (const x of [raft3, raft5].filter((x) => x !== undefined)) {
    const st = at64(x)?.cost.storage;
    const v = st?.rowsWrittenPerOp ?? null;
    out.push([`raft-${x.size}: SQL rows written per committed op, all servers together, at ${LOAD} clients`, v === null ? "—" : fmt(v, 2), "≤ 5", v === null ? null : v <= 5, st ? `by table: ${byTable(st.rowsWrittenByTablePerOp)}; leader ${fmt(st.leaderRowsWrittenPerOp, 2)} (${byTable(st.leaderRowsWrittenByStatementPerOp)}), each follower ${fmt(st.followerRowsWrittenPerOp, 2)}; ${fmt(st.transactionsPerOp, 2)} transactions per op in all (leader ${fmt(st.leaderTransactionsPerOp, 2)}, follower ${fmt(st.followerTransactionsPerOp, 2)}); single object: ${fmt(s64?.cost?.rowsWrittenPerOp, 2)}` : "—"]);
  }
  return out;
}

/** Cost per million committed writes at 64 clients, and idle per month never sleeping, per system. */
export function costs(r: Results) {
  const s = phaseAt(r.single?.concurrency, LOAD);
  return [
    ...(s ? [{ name: "single", cost: costPerMillion(1, s.cost ? s.cost.workerCallsPerOp : null, s.cost?.rowsWrittenPerOp, s.throughput), idle: { requestsUsd: 0, rowsUsd: 0, durationUsd: 0, totalUsd: 0 } }] : []),
    ...(r.raft ?? []).flatMap((x) => {
      const p = at64(x);
      return p ? [{ name: `raft-${x.size}`, cost: costPerMillion(x.size, p.cost.billedRequestsPerOp, p.cost.storage?.billedRowsWrittenPerOp, p.throughput), idle: idleMonth(x.size, x.idle.billedRequestsPerSec, x.idle.billedRowsWrittenPerSec) }] : [];
    }),
  ];
}

function headline(r: Results): string | null {
  const s = r.single;
  if (!s || !r.raft) return null;
  const s64 = phaseAt(s.concurrency, LOAD);
  const raft = [raftOf(r, 3), raftOf(r, 5)];
  const etcd = r.etcd && !r.etcd.unavailable ? r.etcd : null;
  const e64 = phaseAt(etcd?.concurrency, LOAD);
  const cost = costs(r);
  const costOf = (name: string) => cost.find((c) => c.name === name);
  const rows: string[][] = [];
  const add = (name: string, single: Value, pick: (x: RaftResult) => Value, e: Value, digits = 2, money = false) => {
    const f = money ? usd : (x: Value) => fmt(x, digits);
    const vals = raft.map((x) => (x ? pick(x) : undefined));
    rows.push([name, f(single), ...vals.map(f), etcd ? f(e) : "—", ...vals.flatMap((v) => [ratio(v, single), etcd ? ratio(v, e) : "—"])]);
  };
  const raftCost = (x: RaftResult) => costOf(`raft-${x.size}`);
  // The put figures but 1 client's latencies and 8 clients'.
  for (const [name, digits, pick] of PUT_FIGURES.filter(([name]) => !/^(1 client: put|8 clients)/.test(name))) add(name, pick(s), pick, pick(etcd), digits);
  add(`${LOAD} clients: server CPU per put (ms)`, s64?.cpuPerOp.workerdMs, (x) => at64(x)?.cpuPerOp.workerdMs, e64?.etcdCpuMsPerOp);
  add(`${LOAD} clients: billed requests per write`, costOf("single")?.cost.requestsPerOp, (x) => raftCost(x)?.cost.requestsPerOp, null);
  add(`${LOAD} clients: billed rows written per write`, costOf("single")?.cost.rowsPerOp, (x) => raftCost(x)?.cost.rowsPerOp, null);
  add(`${LOAD} clients: GB-s per million writes`, (costOf("single")?.cost.gbSecondsPerOp ?? NaN) * 1e6, (x) => (raftCost(x)?.cost.gbSecondsPerOp ?? NaN) * 1e6, null, 0);
  add("$ per million writes (requests + rows + GB-s)", costOf("single")?.cost.totalUsd, (x) => raftCost(x)?.cost.totalUsd, null, 2, true);
  add("$ per month, idle, never sleeping (`sleepAfterMs` 0)", costOf("single")?.idle.totalUsd, (x) => raftCost(x)?.idle.totalUsd, null, 2, true);
  const asleep = r.sleep && !r.sleep.unavailable ? sleepIdleMonths(r.sleep).after : null;
  add("$ per month, idle (default: asleep)", costOf("single")?.idle.totalUsd, (x) => (x.size === r.sleep?.size ? asleep?.totalUsd : null), null, 2, true);
  const e = r.etcd;
  return [
    table(["figure", "single", "raft-3", "raft-5", etcd ? `etcd ${etcd.version} ×3` : "etcd", "raft-3 ÷ single", "raft-3 ÷ etcd", "raft-5 ÷ single", "raft-5 ÷ etcd"], rows),
    "",
    "Ratios within this run; latency and throughput from Node through one client for all four. Server CPU: workerd (every object on one",
    "thread) or the etcd processes. Billed requests: Worker→object calls, Raft RPCs, alarms; rows: SQL rows + one per setAlarm(); dollars",
    `at ${PRICES.url}, duration at this machine's 64-client throughput; idle asleep: the sleep suite's raft-3.`,
    !e ? "etcd: not run." : e.unavailable ? `etcd: not measured — ${e.unavailable}.` : `etcd: ${e.members} members of etcd ${e.version} on loopback (WAL fsync as shipped), the same puts through \`POST ${e.gateway}/kv/put\` to the leader; CPU of its three processes.`,
    "",
    table(["goal (issue 13)", "measured", "goal", "result", "what the counters say bounds it"], goals(r).map(([text, measured, goal, met, bounds]) => [text, measured, goal, verdict(met), bounds])),
  ].join("\n");
}

function costTable(r: Results): string | null {
  if (!r.single) return null;
  const gbs = (c: { gbSecondsPerOp: number | null }) => fmt(c.gbSecondsPerOp === null ? null : c.gbSecondsPerOp * 1e6, 0);
  const idleText = (i: { totalUsd: number | null; requestsUsd: number; rowsUsd: number | null; durationUsd: number }) => `${usd(i.totalUsd)} (${usd(i.requestsUsd)} + ${usd(i.rowsUsd)} + ${usd(i.durationUsd)})`;
  const rows = costs(r).map(({ name, cost: c, idle }) => [name, String(c.objects), fmt(c.requestsPerOp, 3), fmt(c.rowsPerOp, 3), gbs(c), usd(c.requestsUsd), usd(c.rowsUsd), usd(c.durationUsd), `**${usd(c.totalUsd)}**`, idleText(idle)]);
  return table(["at 64 clients", "objects", "billed requests / write", "billed rows written / write", "GB-s per million writes", "requests $", "rows $", "duration $", "$ per million writes", "idle never sleeping, $ per month (requests + rows + duration)"], rows);
}

/** `--url`: the Worker's Raft clusters beside etcd. */
function urlTable(r: Results): string | null {
  if (!r.meta.url || !r.raft) return null;
  const etcd = r.etcd && !r.etcd.unavailable ? r.etcd : null;
  const raft = r.raft.filter((x) => !x.unavailable);
  const rows: string[][] = [];
  const add = (name: string, pick: (x: RaftResult) => Value, e: Value, digits = 2) =>
    rows.push([name, ...raft.map((x) => fmt(pick(x), digits)), etcd ? fmt(e, digits) : "—", ...raft.map((x) => (etcd ? ratio(pick(x), e) : "—"))]);
  for (const [name, digits, pick] of PUT_FIGURES) add(name, pick, pick(etcd), digits);
  add(`Raft RPCs per op (${LOAD} clients, all servers)`, (x) => at64(x)?.cost.rpcsPerOp, null, 3);
  add(`AppendEntries per op per follower (${LOAD} clients)`, (x) => at64(x)?.cost.appendEntriesPerOpPerFollower, null, 3);
  add(`alarms per op (${LOAD} clients, all servers)`, (x) => at64(x)?.cost.alarmsPerOp, null, 3);
  const notes = [
    ...r.raft.flatMap((x) => [...(x.unavailable ? [`- raft-${x.size}: ${x.unavailable}.`] : []), ...x.concurrency.flatMap((p) => errorNote(`raft-${x.size}, ${p.clients} clients`, p.errors))]),
    ...(etcd?.concurrency ?? []).flatMap((p) => errorNote(`etcd, ${p.clients} clients`, p.errors)),
  ];
  const header = ["figure", ...raft.map((x) => `raft-${x.size}`), etcd ? `etcd ${etcd.version} ×3` : "etcd", ...raft.map((x) => `raft-${x.size} ÷ etcd`)];
  const caption = `Raft: clusters created through the API of the running Worker, the same workload; etcd: ${r.etcd?.unavailable ?? "3 loopback members"}.`;
  return [table(header, rows), caption, ...(notes.length ? [notes.join("\n")] : [])].join("\n\n");
}

/** The targets of issues 5 and 6: [text, threshold, measured, met]. */
export function targets(r: Results): Array<[string, string, string, boolean | null]> {
  const out: Array<[string, string, string, boolean | null]> = [];
  const { floor, single: s, reads, history } = r;
  if (!floor || !s) return out;
  const rpcWrite = floor.inWorkerd.rpcWrite.p50;
  const raft3 = r.raft?.find((x) => x.size === 3);
  const missing = raft3 ? (short(raft3.unavailable) ?? "—") : "raft-3 not run";
  const limit = s.sequential.latency.p50 + 3 * rpcWrite;
  const seq = raft3?.sequential?.latency.p50;
  out.push(["raft-3 sequential put p50 ≤ single p50 + 3× floor RPC+write", `≤ ${fmt(limit)} ms (${fmt(s.sequential.latency.p50)} + 3×${fmt(rpcWrite, 3)})`, seq === undefined ? missing : `${fmt(seq)} ms`, seq === undefined ? null : seq <= limit]);
  const [single64, got] = [phaseAt(s.concurrency, LOAD)?.throughput, at64(raft3)?.throughput];
  out.push([`raft-3 throughput at ${LOAD} clients ≥ 50% of single`, single64 === undefined ? "—" : `≥ ${fmt(single64 / 2)} ops/s`, got === undefined || single64 === undefined ? missing : `${fmt(got)} ops/s (${fmt((100 * got) / single64, 0)}%)`, got === undefined || single64 === undefined ? null : got >= single64 / 2]);
  for (const x of r.raft ?? []) {
    const label = `raft-${x.size}`;
    const load = at64(x)?.cost;
    const why = short(x.unavailable) ?? "no load phase";
    out.push([`${label}: AppendEntries per committed op per follower under load (${LOAD} clients)`, "≤ 0.25", load ? `${fmt(load.appendEntriesPerOpPerFollower, 3)}${load.stable ? "" : " (leader changed during the phase)"}` : why, load ? load.appendEntriesPerOpPerFollower <= 0.25 : null]);
    const st = load?.storage;
    out.push([`${label}: storage transactions per committed op under load, per server (one per batch, not per entry)`, "≤ 0.25 on the leader and on each follower", st ? `leader ${fmt(st.leaderTransactionsPerOp, 3)}, follower ${fmt(st.followerTransactionsPerOp, 3)} (${fmt(st.followerTransactionsPerAppendEntries)} per AppendEntries)` : why, st ? st.leaderTransactionsPerOp <= 0.25 && st.followerTransactionsPerOp <= 0.25 : null]);
    const f = x.failover;
    const failLimit = x.electionTimeoutMs[1] + 100;
    out.push([`${label}: leader crash → first successful write, p50`, `≤ ${failLimit} ms (election timeout upper bound + 100)`, f ? `${fmt(f.ms.p50)} ms (p99 ${fmt(f.ms.p99)}, ${f.ms.n}/${f.trials} trials)` : why, f && f.ms.n > 0 ? f.ms.p50 <= failLimit : null]);
    const alarmLimit = 1000 / x.electionTimeoutMs[0];
    out.push([`${label}: idle follower alarms per second (mean over followers)`, `≤ ${fmt(alarmLimit)}/s (one per shortest election timeout; one per heartbeat would be ${fmt(1000 / x.heartbeatMs)}/s)`, `${fmt(x.idle.followers.alarmsPerSec)}/s (busiest follower ${fmt(x.idle.followers.maxAlarmsPerSec)}/s, over ${fmt(x.idle.seconds, 1)} s)`, x.idle.followers.alarmsPerSec <= alarmLimit]);
  }
  if (reads) {
    const [ri, log] = [reads.modes.find((m) => m.consistency === "readindex"), reads.modes.find((m) => m.consistency === "log")];
    for (const [where, pick, ceiling] of [["from Node", (m: typeof ri) => m!.fromNode.throughput, reads.nodeCeiling?.throughput], ["driven inside workerd", (m: typeof ri) => m!.inWorkerd.throughput, undefined]] as const) {
      const text = `raft-${reads.size} reads at ${reads.clients} clients, ${where}: ReadIndex throughput ≥ 2× reads through the log`;
      if (!ri || !log) {
        out.push([text, "≥ 2×", short(reads.unavailable) ?? "—", null]);
        continue;
      }
      const [a, b] = [pick(ri), pick(log)];
      out.push([text, `≥ 2× (≥ ${fmt(2 * b)} ops/s)`, `${fmt(a)} against ${fmt(b)} ops/s (${ratio(a, b)})${ceiling === undefined ? "" : `; no-op requests by the same client: ${fmt(ceiling)} ops/s`}`, Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a >= 2 * b : null]);
    }
  }
  if (history) {
    const { fresh, never, compacted } = historyCases(history);
    const text = `restart + first status of a server holding ${history.ops.toLocaleString("en-US")} applied puts, compacted (snapshotThreshold ${compacted?.snapshotThreshold ?? 1000}), median ≤ 2× a fresh server's`;
    if (!fresh?.restartMs.n || !compacted?.restartMs.n) out.push([text, "≤ 2×", short(history.unavailable) ?? "restarts failed", null]);
    else {
      const [a, b] = [compacted.restartMs.p50, fresh.restartMs.p50];
      const uncompacted = never?.restartMs.n ? `; never compacting: ${fmt(never.restartMs.p50)} ms (${ratio(never.restartMs.p50, b)})` : "";
      out.push([text, `≤ 2× (≤ ${fmt(2 * b)} ms; fresh ${fmt(b)} ms)`, `${fmt(a)} ms (${ratio(a, b)})${uncompacted}`, a <= 2 * b]);
    }
  }
  return out;
}

export const head = (r: Results): Section[] => [
  ["Headline", headline(r)],
  ["Cost per committed write", costTable(r)],
  [`The Worker at ${r.meta.url} beside etcd`, urlTable(r)],
];

export const tail = (r: Results): Section[] => {
  const t = targets(r);
  return [["Targets", t.length ? table(["target", "threshold", "measured", "result"], t.map(([text, threshold, measured, met]) => [text, threshold, measured, verdict(met)])) : null]];
};
