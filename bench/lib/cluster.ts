// One cluster under measurement: its status, every server's counters at a moment, the steady state a measurement starts from, a put.
import type { StorageCounters } from "../profiled-raft-server.ts";
import { sleep, type Http } from "./http.ts";
import { keyOf, valueOf, type PutFn } from "./load.ts";
import { sum } from "./stats.ts";

/** GET /clusters/{c}, the parts the bench reads; `loadedAt`: when the server's object was (re)loaded, its counters count from then. */
export interface ClusterView {
  leader: number | null;
  asleep?: boolean;
  sleepAfterMs?: number;
  electionTimeoutMs: [number, number];
  heartbeatMs: number;
  servers: Array<{ id: number; state: string; term: number; commitIndex: number; stats: { alarms: number; rpcsSent: number; rpcsReceived: number; loadedAt: number } }>;
}

/** Every server's counters at one moment; storage only profiled; stubCalls: the bench Worker's calls on server stubs so far (null: not the bench Worker). */
export type Snapshot = { readonly at: number; readonly view: ClusterView; readonly storage: Array<StorageCounters & { loadedAt: number }> | null; readonly stubCalls: number | null };

const COUNTS = ["transactions", "sqlWrites", "rowsWritten", "setAlarms", "kvWrites"] as const;
export type Count = (typeof COUNTS)[number];

/** `b` − `a`, key by key. */
const minus = (b: Record<string, number>, a: Record<string, number> = {}) => Object.fromEntries(Object.entries(b).map(([k, n]) => [k, n - (a[k] ?? 0)]).filter(([, n]) => n !== 0));

/** What changed between two snapshots, server by server (a server reloaded meanwhile counts from its reload). */
export function between(a: Snapshot, b: Snapshot) {
  const servers = b.view.servers.map((s, i) => {
    const p = a.view.servers[i]!;
    const same = p.stats.loadedAt === s.stats.loadedAt;
    const d = (x: number, y: number) => x - (same ? y : 0);
    const [sa, sb] = [a.storage?.[i], b.storage?.[i]];
    const storage = sa && sb ? { ...(Object.fromEntries(COUNTS.map((k) => [k, d(sb[k], sa[k])])) as Record<Count, number>), byTable: minus(sb.rowsWrittenByTable, same ? sa.rowsWrittenByTable : {}), byStatement: minus(sb.rowsWrittenByStatement, same ? sa.rowsWrittenByStatement : {}) } : null;
    return { id: s.id, reloaded: !same, alarms: d(s.stats.alarms, p.stats.alarms), rpcsSent: d(s.stats.rpcsSent, p.stats.rpcsSent), rpcsReceived: d(s.stats.rpcsReceived, p.stats.rpcsReceived), storage };
  });
  const counted = servers.every((s) => s.storage !== null);
  return {
    seconds: (b.at - a.at) / 1000,
    servers,
    committed: committed(b) - committed(a),
    reloaded: servers.filter((s) => s.reloaded).length,
    alarms: sum(servers.map((s) => s.alarms)),
    rpcsSent: sum(servers.map((s) => s.rpcsSent)),
    // null: not counted (not the bench Worker). Billed rows: SQL rows + setAlarm() + KV writes, all servers.
    workerCalls: a.stubCalls !== null && b.stubCalls !== null ? b.stubCalls - a.stubCalls : null,
    billedRows: counted ? sum(servers.map((s) => s.storage!.rowsWritten + s.storage!.setAlarms + s.storage!.kvWrites)) : null,
  };
}
export type Window = ReturnType<typeof between>;

export const terms = (v: ClusterView): number[] => v.servers.map((s) => s.term);
/** The highest commit index: the leader's. */
export const committed = (s: Snapshot): number => Math.max(...s.view.servers.map((v) => v.commitIndex));
export const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class Cluster {
  constructor(readonly http: Http, readonly name: string, readonly size: number, private readonly profiled: boolean) {}

  /** Creates the cluster (`config` as POST /clusters/{name} takes it), runs `f` on it, and deletes it, so its timers do not run under the next measurement; why not when refused. */
  static async with<T>(http: Http, name: string, config: { size: number } & Record<string, unknown>, profiled: boolean, f: (c: Cluster) => Promise<T>): Promise<T | string> {
    const a = await http.call("POST", `/clusters/${name}`, config);
    if (a.status !== 201) return `POST /clusters/${name} ${JSON.stringify(config)} answered ${a.status} ${JSON.stringify(a.body)}`;
    try {
      return await f(new Cluster(http, name, config.size, profiled));
    } finally {
      await http.call("DELETE", `/clusters/${name}`, undefined, 120_000);
    }
  }

  readonly put: PutFn = (c, i) => this.http.call("PUT", `/clusters/${this.name}/kv/${keyOf(c, i)}`, { value: valueOf(i) });

  view = (): Promise<ClusterView> => this.http.ok<ClusterView>("GET", `/clusters/${this.name}`);

  async stubCalls(): Promise<number | null> {
    const a = await this.http.call("GET", "/counters/worker");
    return a.status === 200 && typeof a.body?.stubCalls === "number" ? (a.body.stubCalls as number) : null;
  }

  /** Every server's counters; the Worker's stub calls read last when opening a window, first when `closing` it, so the bench's own status requests stay outside. */
  async snapshot(closing = false): Promise<Snapshot> {
    const first = closing ? await this.stubCalls() : null;
    type Profile = { servers: Array<{ storage: StorageCounters; status: { stats: { loadedAt: number } } }> };
    const [view, profile] = await Promise.all([this.view(), this.profiled ? this.http.ok<Profile>("GET", `/profile/${this.name}?size=${this.size}`) : null]);
    const [at, storage] = [performance.now(), profile ? profile.servers.map((s) => ({ ...s.storage, loadedAt: s.status.stats.loadedAt })) : null];
    return { at, view, storage, stubCalls: closing ? first : await this.stubCalls() };
  }

  /** Until there is a leader, nobody is down, and every commit index equals the leader's: where a measurement starts. */
  async stable(deadlineMs = 10_000): Promise<ClusterView> {
    const deadline = performance.now() + deadlineMs;
    let last: ClusterView | null = null;
    while (performance.now() < deadline) {
      const v = (last = await this.view());
      const leader = v.servers.find((s) => s.id === v.leader);
      if (leader && v.servers.every((s) => s.state !== "Dead" && s.commitIndex === leader.commitIndex)) return v;
      await sleep(20);
    }
    throw new Error(`cluster ${this.name} did not settle within ${deadlineMs} ms: ${JSON.stringify(last)}`);
  }

  /** Polls until the cluster sleeps: how long that took, and the Worker → server calls the polls made (taken out of windows). */
  async untilAsleep(deadlineMs = 15_000): Promise<{ ms: number; pollCalls: number }> {
    const t0 = performance.now();
    let pollCalls = 0;
    while (performance.now() - t0 < deadlineMs) {
      const [a, v, b] = [await this.stubCalls(), await this.view(), await this.stubCalls()];
      if (a !== null && b !== null) pollCalls += b - a;
      if (v.asleep === true) return { ms: performance.now() - t0, pollCalls };
      await sleep(50);
    }
    throw new Error(`cluster ${this.name} did not fall asleep within ${deadlineMs} ms`);
  }
}
