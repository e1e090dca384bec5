// Reads on raft-3 at 64 clients: ReadIndex (one heartbeat round for all waiting reads) against
// ?consistency=log, in rounds A B B A against drift, from Node (with its ceiling, no-op requests) and inside workerd.
import { cpuNow, cpuPer } from "../lib/cpu.ts";
import { between, Cluster, type Snapshot } from "../lib/cluster.ts";
import { closedLoop, pooled, type PhaseSamples, type PutFn } from "../lib/load.ts";
import { errorNote, fmt, ratio, table } from "../lib/render.ts";
import { round, sum, summarize } from "../lib/stats.ts";
import type { Ctx, Suite } from "../lib/suite.ts";

const [SIZE, CLIENTS, KEYS] = [3, 64, 64]; // KEYS: distinct keys read, all written first
const CONSISTENCIES = ["readindex", "log"] as const;
type Consistency = (typeof CONSISTENCIES)[number];
const ORDER: Consistency[] = ["readindex", "log", "log", "readindex"];

const keyOf = (i: number) => `rk-${i % KEYS}`;

async function measure({ http, o, profiled, progress }: Ctx) {
  progress(`reads on raft-3: ReadIndex and log reads, ${CLIENTS} clients, rounds of ${o.readRoundMs} ms, from Node and inside workerd`);
  const name = `reads${SIZE}-${Date.now().toString(36)}`;
  const result = (unavailable: string | null, modes: ReturnType<typeof mode>[] = [], nodeCeiling: ReturnType<typeof pooled> | null = null) =>
    ({ size: SIZE, cluster: name, clients: CLIENTS, roundMs: o.readRoundMs, unavailable, modes, nodeCeiling });
  const r = await Cluster.with(http, name, { size: SIZE }, profiled, async (c) => {
    await c.stable();
    for (let i = 0; i < KEYS; i += 8) await Promise.all(Array.from({ length: 8 }, (_, k) => http.ok("PUT", `/clusters/${c.name}/kv/${keyOf(i + k)}`, { value: `value-${i + k}`.padEnd(32, ".") })));
    for (const m of CONSISTENCIES) {
      const a = await http.call("GET", `/clusters/${c.name}/kv/${keyOf(0)}?consistency=${m}`);
      if (a.status !== 200 || a.body?.found !== true) return result(`GET ?consistency=${m} answered ${a.status} ${JSON.stringify(a.body)}`);
    }
    const get = (m: Consistency): PutFn => (client, i) => http.call("GET", `/clusters/${c.name}/kv/${keyOf(client * 7 + i)}?consistency=${m}`);
    const rounds = () => new Map(CONSISTENCIES.map((m): [Consistency, Rounds] => [m, { parts: [], costs: [] }]));
    const node = rounds();
    const ceiling: PhaseSamples[] = [];
    for (const [k, m] of ORDER.entries()) {
      if (k === ORDER.length / 2) {
        for (let n = 0; n < 2; n++) {
          progress(`reads, from Node: ${CLIENTS} clients, no-op requests (the ceiling), ${o.readRoundMs} ms`);
          ceiling.push(await closedLoop(() => http.call("GET", "/floor/http/noop"), CLIENTS, { durationMs: o.readRoundMs }));
        }
      }
      progress(`reads, from Node: ${CLIENTS} clients, ${m}, ${o.readRoundMs} ms`);
      await c.stable();
      const before = await c.snapshot();
      const part = await closedLoop(get(m), CLIENTS, { durationMs: o.readRoundMs });
      node.get(m)!.parts.push(part);
      node.get(m)!.costs.push(delta(before, await c.snapshot(), part.phase.ops));
    }
    const inside = rounds();
    for (const m of ORDER) {
      progress(`reads, inside workerd: ${CLIENTS} clients, ${m}, ${o.readRoundMs} ms`);
      await c.stable();
      const before = await c.snapshot();
      const cpu0 = cpuNow();
      const a = await http.call("GET", `/drive/${c.name}/reads?consistency=${m}&clients=${CLIENTS}&ms=${o.readRoundMs}&keys=${KEYS}`, undefined, o.readRoundMs + 60_000);
      if (a.status !== 200) return result(`GET /drive/${c.name}/reads answered ${a.status} ${JSON.stringify(a.body)}`);
      const { ops, errors, ms, latencies } = a.body as { ops: number; errors: Record<string, number>; ms: number; latencies: number[] };
      const cpu = cpuPer(cpu0, cpuNow(), Math.max(1, ops));
      const cpuPerOp = { workerdMs: cpu.workerdMs === null ? null : round(cpu.workerdMs), nodeMs: round(cpu.nodeMs) };
      const phase = { clients: CLIENTS, ops, errors, seconds: round(ms / 1000), throughput: round(ops / (ms / 1000)), latency: summarize([]), cpuPerOp }; // latency: pooled from the samples
      inside.get(m)!.parts.push({ phase, latencies });
      inside.get(m)!.costs.push(delta(before, await c.snapshot(), ops));
    }
    return result(null, CONSISTENCIES.map((m) => mode(m, node.get(m)!, inside.get(m)!)), pooled(ceiling));
  });
  return typeof r === "string" ? result(r) : r;
}

type Rounds = { parts: PhaseSamples[]; costs: Delta[] };

/** One kind of read, its rounds pooled: from Node and inside workerd, with what each read cost. */
const mode = (consistency: Consistency, n: Rounds, i: Rounds) => ({ consistency, fromNode: pooled(n.parts), fromNodeCost: readCost(n.costs), inWorkerd: pooled(i.parts), inWorkerdCost: readCost(i.costs) });

/** Counter changes over one round: reads, Raft RPCs, entries committed, storage transactions (profiled). */
type Delta = ReturnType<typeof delta>;
function delta(before: Snapshot, after: Snapshot, reads: number) {
  const w = between(before, after);
  const leader = w.servers.find((s) => s.id === after.view.leader);
  const followers = w.servers.filter((s) => s !== leader);
  const counted = w.billedRows !== null && leader !== undefined;
  return { reads, rpcs: w.rpcsSent, entries: w.committed, leaderTx: counted ? leader.storage!.transactions : null, followerTx: counted ? sum(followers.map((s) => s.storage!.transactions)) / Math.max(1, followers.length) : null };
}

/** What one read costs the cluster, from the servers' counters over a mode's rounds. */
function readCost(deltas: readonly Delta[]) {
  const reads = sum(deltas.map((d) => d.reads));
  const per = (f: (d: Delta) => number | null): number | null => (deltas.some((d) => f(d) === null) ? null : round(reads > 0 ? sum(deltas.map((d) => f(d)!)) / reads : NaN));
  return { reads, rpcsPerRead: per((d) => d.rpcs) ?? NaN, entriesPerRead: per((d) => d.entries) ?? NaN, leaderTransactionsPerRead: per((d) => d.leaderTx), followerTransactionsPerRead: per((d) => d.followerTx) };
}

export type ReadsResult = Awaited<ReturnType<typeof measure>>;
type ReadMode = ReadsResult["modes"][number];

function readsTable(r: ReadsResult): string {
  const [ri, log, top] = [r.modes.find((m) => m.consistency === "readindex"), r.modes.find((m) => m.consistency === "log"), r.nodeCeiling];
  if (!ri || !log) return `Not measured: ${r.unavailable ?? "no results"}.`;
  const rows: string[][] = [];
  /** `ceiling`: the same figure for the no-op requests (from-Node rows only). */
  const add = (name: string, f: (m: ReadMode) => number | null | undefined, digits = 2, ceiling?: number | null) =>
    rows.push([name, fmt(f(log), digits), fmt(f(ri), digits), ratio(f(ri), f(log)), fmt(ceiling, digits), ceiling === undefined ? "—" : ratio(f(ri), ceiling)]);
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
  const notes = [
    ...r.modes.flatMap((m) => [...errorNote(`reads (${m.consistency}, from Node)`, m.fromNode.errors), ...errorNote(`reads (${m.consistency}, inside workerd)`, m.inWorkerd.errors)]),
    ...(top ? errorNote("reads, no-op ceiling", top.errors) : []),
  ];
  const header = [`raft-${r.size}, ${r.clients} clients`, "log reads (`?consistency=log`)", "ReadIndex (default)", "×log", "no-op request (ceiling)", "ReadIndex ×ceiling"];
  const caption = `${r.clients} clients over ${KEYS} keys, two rounds of ${r.roundMs} ms per kind and driver (ReadIndex, log, log, ReadIndex), pooled.`;
  return [table(header, rows), caption, ...(notes.length ? [notes.join("\n")] : [])].join("\n\n");
}

export const reads: Suite<ReadsResult> = { name: "reads", full: true, url: false, about: "ReadIndex reads against reads through the log on raft-3, 64 clients, from Node and inside workerd", run: measure, sections: (r) => [["Reads", readsTable(r)]] };
