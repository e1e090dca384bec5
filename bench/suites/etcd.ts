// What a user would otherwise run: the same put workload to a 3-member loopback etcd (each member fsyncing),
// to its leader through the JSON gateway; CPU is its processes'. Printed beside Raft's (headline, --url table).
import { cpuOfPids } from "../lib/cpu.ts";
import { b64, ETCD_HOWTO, etcdVersion, EtcdCluster, v3Put } from "../lib/etcd.ts";
import { Http } from "../lib/http.ts";
import { concurrent, sequential, type Phase } from "../lib/load.ts";
import { round } from "../lib/stats.ts";
import type { Ctx, Suite } from "../lib/suite.ts";

let running: EtcdCluster | null = null; // so a signal handler can stop it
export const stopRunningEtcd = async (): Promise<void> => {
  const c = running;
  running = null;
  await c?.stop();
};

async function measure({ o, progress }: Ctx) {
  type EtcdPhase = Phase & { etcdCpuMsPerOp: number };
  const none = (why: string, version: string | null = null) => ({ unavailable: why as string | null, version, members: 3, gateway: null as string | null, sequential: null as EtcdPhase | null, concurrency: [] as EtcdPhase[], revisions: null as number | null });
  progress(o.noEtcd ? "etcd: skipped (--no-etcd)" : `etcd: 3 members on loopback, ${o.sequential} sequential puts, then ${o.concurrency.join("/")} clients × ${o.phaseMs} ms`);
  if (o.noEtcd) return none("skipped (--no-etcd)");
  const version = etcdVersion();
  if (version === null) return none(ETCD_HOWTO);
  try {
    running = await EtcdCluster.start(3);
  } catch (e) {
    return none(e instanceof Error ? e.message.split("\n")[0]! : String(e), version);
  }
  const cluster = running;
  try {
    const leader = await cluster.leaderUrl();
    progress(`etcd ${cluster.version}: 3 members on ${cluster.clientUrls().join(", ")}, puts to the leader ${leader} (${cluster.prefix}/kv/put)`);
    const http = new Http(leader);
    try {
      const put = v3Put(http, cluster.prefix);
      // Revisions the puts created (= puts applied): a check that every 200 was a write.
      const revision = async () => Number((await http.ok("POST", `${cluster.prefix}/kv/range`, { key: b64("ready") })).header.revision);
      const measured = async (f: () => Promise<Phase>): Promise<EtcdPhase> => {
        const cpu0 = cpuOfPids(cluster.pids());
        const p = await f();
        return { ...p, etcdCpuMsPerOp: round((cpuOfPids(cluster.pids()) - cpu0) / Math.max(1, p.ops)) };
      };
      const rev0 = await revision();
      const seq = await measured(() => sequential(put, o.sequential));
      const phases: EtcdPhase[] = [];
      for (const clients of o.concurrency) phases.push(await measured(() => concurrent(put, clients, o.phaseMs)));
      return { ...none("", cluster.version), unavailable: null, gateway: cluster.prefix, sequential: seq, concurrency: phases, revisions: (await revision()) - rev0 };
    } finally {
      await http.close();
    }
  } finally {
    await stopRunningEtcd();
  }
}

export type EtcdResult = Awaited<ReturnType<typeof measure>>;

export const etcd: Suite<EtcdResult> = { name: "etcd", full: true, url: true, about: "etcd (3 members on loopback, when `etcd` is on PATH), the same put workload", run: measure, sections: () => [] };
