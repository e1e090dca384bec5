// Reads on a 3-server cluster at 64 clients: GET /clusters/{c}/kv/{key} (ReadIndex: the
// leader confirms it still leads with a heartbeat round, batched over the reads waiting,
// and writes nothing) against GET ...?consistency=log (the get goes through the log like a
// put: an entry, its replication and its storage transactions on every server).
//
// Both in the same run, in rounds ordered A B B A so drift of the shared machine weighs on
// both alike, and each measured twice:
//   - from Node, like every other figure of the bench (each request also costs Node CPU —
//     ~0.4 ms with the undici client, ~2.5–4 ms with dispatchFetch — which can cap both and
//     shrink their ratio; bench/client-cost.ts); the ceiling of that path is
//     measured alongside, in the middle rounds: 64 clients of no-op requests through the
//     Worker to an object (the floor's "Node→Worker→object, no-op", under the same load);
//   - inside workerd (bench/workerd-load.ts): the same requests handed to the coordinator's
//     fetch handler by the bench Worker itself, no Node client in the way.
import { cpuNow, cpuPer } from "../lib/cpu.ts";
import type { Http } from "../lib/http.ts";
import { concurrentSamples, pooled, type Phase, type PhaseSamples, type PutFn } from "../lib/load.ts";
import { round } from "../lib/stats.ts";
import { RaftBench, type Snapshot } from "./raft.ts";

export type Consistency = "readindex" | "log";
export const CONSISTENCIES: readonly Consistency[] = ["readindex", "log"];

/** What one read costs the cluster, from the servers' counters over the mode's rounds. */
export interface ReadCost {
  readonly reads: number;
  /** Raft requests sent per read, all servers together. */
  readonly rpcsPerRead: number;
  /** Log entries committed per read (≈ 1 for log reads, 0 for ReadIndex). */
  readonly entriesPerRead: number;
  /** Storage transactions per read: the leader's, the mean follower's (profiled runs only). */
  readonly leaderTransactionsPerRead: number | null;
  readonly followerTransactionsPerRead: number | null;
}

export interface ReadMode {
  readonly consistency: Consistency;
  /** From Node, rounds pooled. */
  readonly fromNode: Phase;
  readonly fromNodeCost: ReadCost;
  /** Inside workerd, rounds pooled (Node CPU there is only the bench's own polling). */
  readonly inWorkerd: Phase;
  readonly inWorkerdCost: ReadCost;
}

export interface ReadsResult {
  readonly size: number;
  readonly cluster: string;
  readonly clients: number;
  /** Length of one round, ms; each mode runs two rounds per driver. */
  readonly roundMs: number;
  /** Null when both kinds of read work; otherwise why the suite was skipped. */
  readonly unavailable: string | null;
  readonly modes: ReadMode[];
  /** From Node: no-op requests through the Worker to an object (GET /floor/http/noop), rounds pooled. */
  readonly nodeCeiling: Phase | null;
}

export interface ReadsOptions {
  readonly clients: number;
  readonly roundMs: number;
  readonly profiled: boolean;
}

const SIZE = 3;
/** Distinct keys read, all written before the first round. */
const KEYS = 64;

const keyOf = (i: number) => `rk-${i % KEYS}`;

export async function measureReads(http: Http, o: ReadsOptions, progress: (line: string) => void): Promise<ReadsResult> {
  const name = `reads${SIZE}-${Date.now().toString(36)}`;
  await http.ok("POST", `/clusters/${name}`, { size: SIZE }, [201]);
  const r = new RaftBench(http, name, SIZE, o.profiled);
  const empty = (unavailable: string): ReadsResult => ({ size: SIZE, cluster: name, clients: o.clients, roundMs: o.roundMs, unavailable, modes: [], nodeCeiling: null });
  try {
    await r.waitStable();
    for (let i = 0; i < KEYS; i += 8) {
      await Promise.all(Array.from({ length: 8 }, (_, k) => http.ok("PUT", `/clusters/${name}/kv/${keyOf(i + k)}`, { value: `value-${i + k}`.padEnd(32, ".") })));
    }
    for (const mode of CONSISTENCIES) {
      const a = await http.call("GET", `/clusters/${name}/kv/${keyOf(0)}?consistency=${mode}`);
      if (a.status !== 200 || a.body?.found !== true) return empty(`GET ?consistency=${mode} answered ${a.status} ${JSON.stringify(a.body)}`);
    }
    const get = (mode: Consistency): PutFn => (c, i) => http.call("GET", `/clusters/${name}/kv/${keyOf(c * 7 + i)}?consistency=${mode}`);
    const noop: PutFn = () => http.call("GET", "/floor/http/noop");
    const order: Consistency[] = ["readindex", "log", "log", "readindex"];

    const node = new Map<Consistency, { parts: PhaseSamples[]; costs: CostDelta[] }>(CONSISTENCIES.map((m) => [m, { parts: [], costs: [] }]));
    const ceiling: PhaseSamples[] = [];
    for (const [k, mode] of order.entries()) {
      if (k === order.length / 2) {
        for (let n = 0; n < 2; n++) {
          progress(`reads, from Node: ${o.clients} clients, no-op requests (the ceiling), ${o.roundMs} ms`);
          ceiling.push(await concurrentSamples(noop, o.clients, o.roundMs));
        }
      }
      progress(`reads, from Node: ${o.clients} clients, ${mode}, ${o.roundMs} ms`);
      await r.waitStable();
      const before = await r.snapshot();
      const part = await concurrentSamples(get(mode), o.clients, o.roundMs);
      node.get(mode)!.parts.push(part);
      node.get(mode)!.costs.push(costDelta(before, await r.snapshot(), part.phase.ops));
    }

    const inside = new Map<Consistency, { parts: PhaseSamples[]; costs: CostDelta[] }>(CONSISTENCIES.map((m) => [m, { parts: [], costs: [] }]));
    for (const mode of order) {
      progress(`reads, inside workerd: ${o.clients} clients, ${mode}, ${o.roundMs} ms`);
      await r.waitStable();
      const before = await r.snapshot();
      const cpu0 = cpuNow();
      const a = await http.call("GET", `/drive/${name}/reads?consistency=${mode}&clients=${o.clients}&ms=${o.roundMs}&keys=${KEYS}`, undefined, o.roundMs + 60_000);
      const cpu1 = cpuNow();
      if (a.status !== 200) return empty(`GET /drive/${name}/reads answered ${a.status} ${JSON.stringify(a.body)}`);
      const body = a.body as { ops: number; errors: Record<string, number>; ms: number; latencies: number[] };
      const cpu = cpuPer(cpu0, cpu1, Math.max(1, body.ops));
      const seconds = body.ms / 1000;
      const phase: Phase = {
        clients: o.clients,
        ops: body.ops,
        errors: body.errors,
        seconds: round(seconds),
        throughput: round(body.ops / seconds),
        latency: { n: 0, p50: NaN, p99: NaN, mean: NaN, max: NaN }, // pooled below from the samples
        cpuPerOp: { workerdMs: cpu.workerdMs === null ? null : round(cpu.workerdMs), nodeMs: round(cpu.nodeMs) },
      };
      inside.get(mode)!.parts.push({ phase, latencies: body.latencies });
      inside.get(mode)!.costs.push(costDelta(before, await r.snapshot(), body.ops));
    }

    const modes = CONSISTENCIES.map((consistency): ReadMode => ({
      consistency,
      fromNode: pooled(node.get(consistency)!.parts),
      fromNodeCost: readCost(node.get(consistency)!.costs),
      inWorkerd: pooled(inside.get(consistency)!.parts),
      inWorkerdCost: readCost(inside.get(consistency)!.costs),
    }));
    return { size: SIZE, cluster: name, clients: o.clients, roundMs: o.roundMs, unavailable: null, modes, nodeCeiling: pooled(ceiling) };
  } finally {
    await http.call("DELETE", `/clusters/${name}`);
  }
}

/** Counter changes over one round. */
interface CostDelta {
  readonly reads: number;
  readonly rpcs: number;
  readonly entries: number;
  readonly leaderTx: number | null;
  readonly followerTx: number | null;
}

function costDelta(before: Snapshot, after: Snapshot, reads: number): CostDelta {
  const servers = before.view.servers;
  const rpcs = servers.reduce((a, s) => a + after.view.servers[s.id]!.stats.rpcsSent - s.stats.rpcsSent, 0);
  const commit = (x: Snapshot) => Math.max(...x.view.servers.map((s) => s.commitIndex));
  const leader = after.view.leader;
  let leaderTx: number | null = null;
  let followerTx: number | null = null;
  if (before.storage && after.storage && leader !== null) {
    const tx = (id: number) => after.storage![id]!.transactions - before.storage![id]!.transactions;
    const followers = servers.filter((s) => s.id !== leader).map((s) => tx(s.id));
    leaderTx = tx(leader);
    followerTx = followers.reduce((a, b) => a + b, 0) / Math.max(1, followers.length);
  }
  return { reads, rpcs, entries: commit(after) - commit(before), leaderTx, followerTx };
}

function readCost(deltas: readonly CostDelta[]): ReadCost {
  const reads = deltas.reduce((a, d) => a + d.reads, 0);
  const per = (f: (d: CostDelta) => number | null): number | null =>
    deltas.some((d) => f(d) === null) ? null : round(reads > 0 ? deltas.reduce((a, d) => a + f(d)!, 0) / reads : NaN);
  return {
    reads,
    rpcsPerRead: per((d) => d.rpcs) ?? NaN,
    entriesPerRead: per((d) => d.entries) ?? NaN,
    leaderTransactionsPerRead: per((d) => d.leaderTx),
    followerTransactionsPerRead: per((d) => d.followerTx),
  };
}
