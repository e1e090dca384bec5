// etcd, side by side: the same put workload as the single object's and Raft's (the same keys,
// 32-byte values, sequential then 1/8/64 closed-loop clients, the same client in Node), sent
// to a 3-member loopback etcd through its JSON gateway, in the same run. etcd is what a user
// would otherwise run for a replicated key/value store: a Raft of 3 Go processes, each
// fsyncing its write-ahead log before acknowledging.
//
// Puts go to the leader's client URL, as the coordinator sends Raft puts to the leader. The
// CPU figures are the three etcd processes together (from /proc), beside workerd's for Raft.
import type { EtcdCluster } from "../lib/etcd.ts";
import { b64, ETCD_HOWTO, etcdVersion, EtcdCluster as Etcd } from "../lib/etcd.ts";
import { cpuOfPids } from "../lib/cpu.ts";
import { Http } from "../lib/http.ts";
import { concurrent, keyOf, sequential, valueOf, type Phase, type PutFn } from "../lib/load.ts";
import { round } from "../lib/stats.ts";

export interface EtcdPhase extends Phase {
  /** CPU ms of the etcd members together per successful put. */
  readonly etcdCpuMsPerOp: number;
}

export interface EtcdResult {
  /** Null when measured; otherwise why not (no etcd on PATH: how to get it). */
  readonly unavailable: string | null;
  readonly version: string | null;
  readonly members: number;
  readonly gateway: string | null;
  readonly sequential: EtcdPhase | null;
  readonly concurrency: EtcdPhase[];
  /** Revisions the puts created (= puts applied), a check that every 200 was a write. */
  readonly revisions: number | null;
}

export interface EtcdOptions {
  readonly sequential: number;
  readonly phaseMs: number;
  readonly concurrency: readonly number[];
  /** Skip etcd even if installed. */
  readonly skip: boolean;
}

const none = (why: string, version: string | null = null): EtcdResult => ({
  unavailable: why,
  version,
  members: 3,
  gateway: null,
  sequential: null,
  concurrency: [],
  revisions: null,
});

/** The etcd cluster being measured, so a signal handler can stop it. */
let running: EtcdCluster | null = null;
export const stopRunningEtcd = async (): Promise<void> => {
  const c = running;
  running = null;
  if (c) await c.stop();
};

export async function measureEtcd(o: EtcdOptions, progress: (line: string) => void): Promise<EtcdResult> {
  if (o.skip) return none("skipped (--no-etcd)");
  const version = etcdVersion();
  if (version === null) return none(ETCD_HOWTO);
  let cluster: EtcdCluster;
  try {
    cluster = await Etcd.start(3);
  } catch (e) {
    return none(e instanceof Error ? e.message.split("\n")[0]! : String(e), version);
  }
  running = cluster;
  try {
    const leader = await cluster.leaderUrl();
    progress(`etcd ${cluster.version}: 3 members on ${cluster.clientUrls.join(", ")}, puts to the leader ${leader} (${cluster.prefix}/kv/put)`);
    const http = Http.connect(leader);
    try {
      const put: PutFn = (c, i) => http.call("POST", `${cluster.prefix}/kv/put`, { key: b64(keyOf(c, i)), value: b64(valueOf(i)) });
      const revision = async () => Number((await http.ok("POST", `${cluster.prefix}/kv/range`, { key: b64("ready") })).header.revision);
      const measured = async (f: () => Promise<Phase>): Promise<EtcdPhase> => {
        const cpu0 = cpuOfPids(cluster.pids);
        const p = await f();
        const cpu1 = cpuOfPids(cluster.pids);
        return { ...p, etcdCpuMsPerOp: round((cpu1 - cpu0) / Math.max(1, p.ops)) };
      };
      const rev0 = await revision();
      const seq = await measured(() => sequential(put, o.sequential));
      const phases: EtcdPhase[] = [];
      for (const clients of o.concurrency) phases.push(await measured(() => concurrent(put, clients, o.phaseMs)));
      const rev1 = await revision();
      return { unavailable: null, version: cluster.version, members: 3, gateway: cluster.prefix, sequential: seq, concurrency: phases, revisions: rev1 - rev0 };
    } finally {
      await http.close();
    }
  } finally {
    await stopRunningEtcd();
  }
}
