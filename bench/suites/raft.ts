// Raft clusters: the project's kv service, through PUT /clusters/{c}/kv/{key}, with the same
// workload as the single object; plus what it costs in Raft RPCs, alarms and (in a profiled
// run) storage transactions per committed operation, what it costs per second when idle,
// and how long a leader crash keeps writes away.
import { cpuNow, cpuPer } from "../lib/cpu.ts";
import type { Http } from "../lib/http.ts";
import { sleep } from "../lib/http.ts";
import { concurrent, keyOf, sequential, valueOf, type Phase, type PutFn } from "../lib/load.ts";
import { round, roundSummary, summarize, type Summary } from "../lib/stats.ts";
import type { StorageCounters } from "../profiled-raft-server.ts";
import { waitSettled } from "../lib/settle.ts";
import { putAnatomy, type Anatomy } from "./anatomy.ts";

interface Stats {
  alarms: number;
  rpcsSent: number;
  rpcsReceived: number;
}

export interface ServerView {
  id: number;
  state: string;
  term: number;
  commitIndex: number;
  lastApplied: number;
  stats: Stats;
}

export interface ClusterView {
  size: number;
  electionTimeoutMs: [number, number];
  heartbeatMs: number;
  leader: number | null;
  servers: ServerView[];
}

/** Every server's counters at one moment. */
export interface Snapshot {
  readonly at: number;
  readonly view: ClusterView;
  readonly storage: StorageCounters[] | null;
  /** Calls the bench Worker's coordinator made on server stubs so far (null: not the bench Worker). */
  readonly stubCalls: number | null;
}

export interface StorageCost {
  /** Storage transactions per committed op: the leader's, and the mean of the followers'. */
  readonly leaderTransactionsPerOp: number;
  readonly followerTransactionsPerOp: number;
  /** Follower transactions per AppendEntries it accepted (1 = one transaction per batch). */
  readonly followerTransactionsPerAppendEntries: number;
  readonly leaderSqlWritesPerOp: number;
  readonly followerSqlWritesPerOp: number;
  /** setAlarm() calls per op, all servers together. */
  readonly setAlarmsPerOp: number;
  /** Storage transactions per op, all servers together. */
  readonly transactionsPerOp: number;
  /** SQL rows written per op (SQLite's count, what Cloudflare bills), all servers together, and by table. */
  readonly rowsWrittenPerOp: number;
  readonly rowsWrittenByTablePerOp: Record<string, number>;
  /** The leader's alone, by statement kind and table ("INSERT log", "DELETE log", …). */
  readonly leaderRowsWrittenByStatementPerOp: Record<string, number>;
  readonly leaderRowsWrittenPerOp: number;
  /** Mean over followers. */
  readonly followerRowsWrittenPerOp: number;
  /** Billed rows written per op: SQL rows + setAlarm() (one row each) + KV put/delete, all servers. */
  readonly billedRowsWrittenPerOp: number;
}

export interface LoadCost {
  readonly clients: number;
  readonly ops: number;
  /** Same leader, same term, nobody down from start to end: the counters are comparable. */
  readonly stable: boolean;
  /** Raft requests sent per committed op, all servers together. */
  readonly rpcsPerOp: number;
  /** The leader's requests per op per follower (all AppendEntries while it stays leader). */
  readonly appendEntriesPerOpPerFollower: number;
  /**
   * The same, after taking away what the leader sends when idle (its heartbeats) over the
   * phase's length: the AppendEntries the load itself added.
   */
  readonly appendEntriesAboveIdlePerOpPerFollower: number;
  /** alarm() invocations per op, all servers together. */
  readonly alarmsPerOp: number;
  /** Calls from the Worker to server objects per op (null when not counted: --url). */
  readonly workerCallsPerOp: number | null;
  /**
   * Billed Durable Object requests per op: the Worker's calls into servers, Raft RPCs and alarm
   * invocations (null when the Worker's calls are not counted).
   */
  readonly billedRequestsPerOp: number | null;
  readonly storage: StorageCost | null;
}

export interface IdleCost {
  readonly seconds: number;
  /** Billed Durable Object requests per second of the idle cluster: Raft RPCs and alarms, all servers. */
  readonly billedRequestsPerSec: number;
  /** Billed rows written per second idle (SQL rows + setAlarm + KV writes), all servers; null when not counted. */
  readonly billedRowsWrittenPerSec: number | null;
  /** CPU ms per second of the idle cluster, all of workerd (nothing else runs there then). */
  readonly workerdCpuMsPerSec: number | null;
  readonly leader: { readonly alarmsPerSec: number; readonly rpcsSentPerSec: number; readonly transactionsPerSec: number | null };
  readonly followers: {
    /** Mean over followers, and the busiest one. */
    readonly alarmsPerSec: number;
    readonly maxAlarmsPerSec: number;
    readonly rpcsReceivedPerSec: number;
    readonly transactionsPerSec: number | null;
  };
}

export interface Failover {
  readonly trials: number;
  /** Crash sent → first put answered 200, ms, one per successful trial. */
  readonly samplesMs: number[];
  readonly ms: Summary;
  /** Puts sent per trial until one succeeded. */
  readonly putsPerTrial: Summary;
  /** Non-200 answers seen meanwhile, by status. */
  readonly errors: Record<string, number>;
  /** Trials that did not complete, and why. */
  readonly failures: string[];
}

export interface RaftResult {
  readonly size: number;
  readonly cluster: string;
  readonly electionTimeoutMs: [number, number];
  readonly heartbeatMs: number;
  /** Null when the kv routes work; otherwise why the put measurements were skipped. */
  readonly unavailable: string | null;
  readonly idle: IdleCost;
  readonly sequential: (Phase & { cost: LoadCost }) | null;
  /** Where a sequential put's time goes (from the narration); null if it could not be traced. */
  readonly anatomy: Anatomy | null;
  readonly concurrency: Array<Phase & { cost: LoadCost }>;
  readonly failover: Failover | null;
}

export interface RaftOptions {
  readonly sequential: number;
  readonly phaseMs: number;
  readonly concurrency: readonly number[];
  readonly trials: number;
  readonly idleMs: number;
  /** Sequential puts traced through the narration (see anatomy.ts). */
  readonly anatomyPuts: number;
  readonly profiled: boolean;
}

const LEADER_DEADLINE_MS = 10_000;
const FAILOVER_DEADLINE_MS = 10_000;

export async function measureRaft(http: Http, size: number, o: RaftOptions): Promise<RaftResult> {
  const name = `raft${size}-${Date.now().toString(36)}`;
  // sleepAfterMs 0: never sleeps, so the idle window and the heartbeat rate the per-op figures
  // subtract are those of an awake cluster (as in every run before issue 11); sleeping is the
  // sleep suite's (bench/suites/sleep.ts).
  await http.ok("POST", `/clusters/${name}`, { size, sleepAfterMs: 0 }, [201]);
  const r = new RaftBench(http, name, size, o.profiled);
  try {
    await r.waitStable();
    await sleep(500); // let the first election's aftermath (vote replies, first heartbeats) pass
    const idle = await r.idle(o.idleMs);
    const unavailable = await r.probeKv();
    if (unavailable) {
      const view = await r.view();
      return { size, cluster: name, electionTimeoutMs: view.electionTimeoutMs, heartbeatMs: view.heartbeatMs, unavailable, idle, sequential: null, anatomy: null, concurrency: [], failover: null };
    }
    const seqBefore = await r.snapshot();
    const seqPhase = await sequential(r.put, o.sequential);
    const seq = { ...seqPhase, cost: r.loadCost(1, seqBefore, await r.snapshot(true), idle.leader.rpcsSentPerSec) };
    const steady = await r.waitStable();
    const anatomy = o.anatomyPuts > 0 ? await putAnatomy(http, name, size, steady.leader!, o.anatomyPuts) : null;
    const phases: Array<Phase & { cost: LoadCost }> = [];
    for (const clients of o.concurrency) {
      await r.waitStable();
      const before = await r.snapshot();
      const phase = await concurrent(r.put, clients, o.phaseMs);
      const after = await r.snapshot(true);
      phases.push({ ...phase, cost: r.loadCost(clients, before, after, idle.leader.rpcsSentPerSec) });
    }
    const failover = o.trials > 0 ? await r.failover(o.trials) : null;
    const view = await r.view();
    return { size, cluster: name, electionTimeoutMs: view.electionTimeoutMs, heartbeatMs: view.heartbeatMs, unavailable: null, idle, sequential: seq, anatomy, concurrency: phases, failover };
  } finally {
    // Stop the cluster's timers, so they do not run under the next measurement.
    await http.call("DELETE", `/clusters/${name}`);
  }
}

/** One cluster under measurement: its status, counters, steady state, and a put. */
export class RaftBench {
  constructor(
    private readonly http: Http,
    private readonly name: string,
    private readonly size: number,
    private readonly profiled: boolean,
  ) {}

  /** Whether the Worker serves /counters/worker (the bench Worker does; a `wrangler dev` of the project does not). */
  private countsStubCalls: boolean | null = null;

  readonly put: PutFn = (c, i) => this.http.call("PUT", `/clusters/${this.name}/kv/${keyOf(c, i)}`, { value: valueOf(i) });

  view(): Promise<ClusterView> {
    return this.http.ok<ClusterView>("GET", `/clusters/${this.name}`);
  }

  private async stubCalls(): Promise<number | null> {
    if (this.countsStubCalls === false) return null;
    const a = await this.http.call("GET", "/counters/worker");
    this.countsStubCalls = a.status === 200 && typeof a.body?.stubCalls === "number";
    return this.countsStubCalls ? (a.body.stubCalls as number) : null;
  }

  /**
   * Every server's counters. The Worker's stub-call counter is read last in the snapshot that
   * opens a window and first in the one that closes it (`closing`), so the status requests the
   * bench itself makes stay outside the window.
   */
  async snapshot(closing = false): Promise<Snapshot> {
    const first = closing ? await this.stubCalls() : null;
    const [view, profile] = await Promise.all([
      this.view(),
      this.profiled ? this.http.ok<{ servers: Array<{ storage: StorageCounters }> }>("GET", `/profile/${this.name}?size=${this.size}`) : null,
    ]);
    const at = performance.now();
    const stubCalls = closing ? first : await this.stubCalls();
    return { at, view, storage: profile ? profile.servers.map((s) => s.storage) : null, stubCalls };
  }

  /**
   * A leader, nobody down, and every follower's commit index caught up with the leader's:
   * the steady state each measurement starts from.
   */
  waitStable(): Promise<ClusterView> {
    return waitSettled(this.name, () => this.view(), LEADER_DEADLINE_MS);
  }

  /** Null if a put works; otherwise why not ("kv routes missing" when the route is not there). */
  async probeKv(): Promise<string | null> {
    const deadline = performance.now() + 5_000;
    let last = "";
    while (performance.now() < deadline) {
      const a = await this.http.call("PUT", `/clusters/${this.name}/kv/probe`, { value: "probe" });
      if (a.status === 200) return null;
      const message = String(a.body?.message ?? "");
      if ((a.status === 404 && /no route/i.test(message)) || a.status === 405) {
        return `kv routes missing: PUT /clusters/{c}/kv/{key} answered ${a.status} ${JSON.stringify(a.body)}`;
      }
      last = `${a.status} ${JSON.stringify(a.body)}`;
      await sleep(100);
    }
    return `kv put failing: PUT /clusters/{c}/kv/{key} kept answering ${last}`;
  }

  loadCost(clients: number, before: Snapshot, after: Snapshot, idleLeaderRpcsPerSec: number): LoadCost {
    const ops = committedBetween(before, after);
    const leader = before.view.leader;
    const stable =
      leader !== null &&
      after.view.leader === leader &&
      before.view.servers.every((s, i) => s.state !== "Dead" && s.term === after.view.servers[i]!.term && after.view.servers[i]!.state === s.state);
    const delta = (id: number, k: keyof Stats) => after.view.servers[id]!.stats[k] - before.view.servers[id]!.stats[k];
    const sum = (k: keyof Stats) => before.view.servers.reduce((a, s) => a + delta(s.id, k), 0);
    const followers = before.view.servers.filter((s) => s.id !== leader).map((s) => s.id);
    const perOp = (x: number) => round(ops > 0 ? x / ops : NaN);
    let storage: StorageCost | null = null;
    if (before.storage && after.storage && leader !== null) {
      type Count = Exclude<keyof StorageCounters, "rowsWrittenByTable" | "rowsWrittenByStatement">;
      const sd = (id: number, k: Count) => after.storage![id]![k] - before.storage![id]![k];
      const followerMean = (k: Count) => followers.reduce((a, id) => a + sd(id, k), 0) / Math.max(1, followers.length);
      const followerAe = followers.reduce((a, id) => a + delta(id, "rpcsReceived"), 0) / Math.max(1, followers.length);
      const all = (k: "transactions" | "rowsWritten" | "setAlarms" | "kvWrites") => before.view.servers.reduce((a, s) => a + sd(s.id, k), 0);
      const tables = (ids: number[], by: "rowsWrittenByTable" | "rowsWrittenByStatement" = "rowsWrittenByTable"): Record<string, number> => {
        const out: Record<string, number> = {};
        for (const id of ids) {
          const b = before.storage![id]![by] ?? {};
          for (const [table, n] of Object.entries(after.storage![id]![by] ?? {})) {
            const d = n - (b[table] ?? 0);
            if (d) out[table] = (out[table] ?? 0) + d;
          }
        }
        return Object.fromEntries(Object.entries(out).map(([t, n]) => [t, perOp(n)]));
      };
      storage = {
        leaderTransactionsPerOp: perOp(sd(leader, "transactions")),
        followerTransactionsPerOp: perOp(followerMean("transactions")),
        followerTransactionsPerAppendEntries: round(followerAe > 0 ? followerMean("transactions") / followerAe : NaN),
        leaderSqlWritesPerOp: perOp(sd(leader, "sqlWrites")),
        followerSqlWritesPerOp: perOp(followerMean("sqlWrites")),
        setAlarmsPerOp: perOp(all("setAlarms")),
        transactionsPerOp: perOp(all("transactions")),
        rowsWrittenPerOp: perOp(all("rowsWritten")),
        rowsWrittenByTablePerOp: tables(before.view.servers.map((s) => s.id)),
        leaderRowsWrittenByStatementPerOp: tables([leader], "rowsWrittenByStatement"),
        leaderRowsWrittenPerOp: perOp(sd(leader, "rowsWritten")),
        followerRowsWrittenPerOp: perOp(followerMean("rowsWritten")),
        billedRowsWrittenPerOp: perOp(all("rowsWritten") + all("setAlarms") + all("kvWrites")),
      };
    }
    const workerCalls = before.stubCalls !== null && after.stubCalls !== null ? after.stubCalls - before.stubCalls : null;
    return {
      clients,
      ops,
      stable,
      rpcsPerOp: perOp(sum("rpcsSent")),
      appendEntriesPerOpPerFollower: leader === null ? NaN : round(perOp(delta(leader, "rpcsSent")) / Math.max(1, this.size - 1)),
      appendEntriesAboveIdlePerOpPerFollower:
        leader === null
          ? NaN
          : round(perOp(delta(leader, "rpcsSent") - (idleLeaderRpcsPerSec * (after.at - before.at)) / 1000) / Math.max(1, this.size - 1)),
      alarmsPerOp: perOp(sum("alarms")),
      workerCallsPerOp: workerCalls === null ? null : perOp(workerCalls),
      billedRequestsPerOp: workerCalls === null ? null : perOp(workerCalls + sum("rpcsSent") + sum("alarms")),
      storage,
    };
  }

  /** Counters over `ms` of a cluster doing nothing. */
  async idle(ms: number): Promise<IdleCost> {
    const v = await this.waitStable();
    const before = await this.snapshot();
    const cpu0 = cpuNow();
    await sleep(ms);
    const cpu1 = cpuNow();
    const after = await this.snapshot();
    const seconds = (after.at - before.at) / 1000;
    const cpu = cpuPer(cpu0, cpu1, ms / 1000).workerdMs;
    const leader = v.leader!;
    const rate = (id: number, k: keyof Stats) => round((after.view.servers[id]!.stats[k] - before.view.servers[id]!.stats[k]) / seconds);
    const txRate = (id: number) =>
      before.storage && after.storage ? round((after.storage[id]!.transactions - before.storage[id]!.transactions) / seconds) : null;
    const followers = v.servers.filter((s) => s.id !== leader).map((s) => s.id);
    const mean = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
    const followerTx = followers.map(txRate);
    const total = (k: keyof Stats) => v.servers.reduce((a, s) => a + after.view.servers[s.id]!.stats[k] - before.view.servers[s.id]!.stats[k], 0);
    const rows =
      before.storage && after.storage
        ? v.servers.reduce((a, s) => {
            const d = (k: "rowsWritten" | "setAlarms" | "kvWrites") => after.storage![s.id]![k] - before.storage![s.id]![k];
            return a + d("rowsWritten") + d("setAlarms") + d("kvWrites");
          }, 0)
        : null;
    return {
      seconds: round(seconds),
      billedRequestsPerSec: round((total("rpcsSent") + total("alarms")) / seconds),
      billedRowsWrittenPerSec: rows === null ? null : round(rows / seconds),
      workerdCpuMsPerSec: cpu === null ? null : round(cpu),
      leader: { alarmsPerSec: rate(leader, "alarms"), rpcsSentPerSec: rate(leader, "rpcsSent"), transactionsPerSec: txRate(leader) },
      followers: {
        alarmsPerSec: mean(followers.map((id) => rate(id, "alarms"))),
        maxAlarmsPerSec: Math.max(...followers.map((id) => rate(id, "alarms"))),
        rpcsReceivedPerSec: mean(followers.map((id) => rate(id, "rpcsReceived"))),
        transactionsPerSec: followerTx.every((x) => x !== null) ? mean(followerTx as number[]) : null,
      },
    };
  }

  /**
   * Crash the leader, then put until a put succeeds; time from sending the crash to that
   * success. The crashed server is restarted and the cluster left to settle between trials.
   */
  async failover(trials: number): Promise<Failover> {
    const samples: number[] = [];
    const puts: number[] = [];
    const errors: Record<string, number> = {};
    const failures: string[] = [];
    for (let t = 0; t < trials; t++) {
      let leader: number;
      try {
        leader = (await this.waitStable()).leader!;
      } catch (e) {
        failures.push(`trial ${t}: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      const warm = await this.put(0, t); // the cluster serves before the crash
      if (warm.status !== 200) {
        failures.push(`trial ${t}: a put before the crash answered ${warm.status}`);
        continue;
      }
      const t0 = performance.now();
      const crash = await this.http.call("POST", `/clusters/${this.name}/servers/${leader}/crash`);
      if (crash.status !== 200) {
        failures.push(`trial ${t}: crash answered ${crash.status} ${JSON.stringify(crash.body)}`);
        continue;
      }
      let n = 0;
      let done = false;
      while (performance.now() - t0 < FAILOVER_DEADLINE_MS) {
        const a = await this.put(1, t * 1000 + n);
        n++;
        if (a.status === 200) {
          samples.push(performance.now() - t0);
          puts.push(n);
          done = true;
          break;
        }
        errors[String(a.status)] = (errors[String(a.status)] ?? 0) + 1;
        if (a.ms < 5) await sleep(5); // a quick refusal: do not spin
      }
      if (!done) failures.push(`trial ${t}: no put succeeded within ${FAILOVER_DEADLINE_MS} ms of the crash`);
      await this.http.ok("POST", `/clusters/${this.name}/servers/${leader}/restart`);
    }
    return {
      trials,
      samplesMs: samples.map(round),
      ms: roundSummary(summarize(samples)),
      putsPerTrial: roundSummary(summarize(puts)),
      errors,
      failures,
    };
  }
}

/** Entries committed between two snapshots, by the leader's commit index. */
function committedBetween(before: Snapshot, after: Snapshot): number {
  const commit = (s: Snapshot) => Math.max(...s.view.servers.map((v) => v.commitIndex));
  return commit(after) - commit(before);
}
