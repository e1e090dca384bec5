// An etcd cluster on loopback (the `etcd` on PATH), its data in one temporary directory that stop() deletes.
// Writes go through its JSON gateway: POST {prefix}/kv/put, base64 key and value; prefix /v3 (≥ 3.4), /v3beta (3.3) or /v3alpha (3.2).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Http, sleep } from "./http.ts";
import { keyOf, valueOf, type PutFn } from "./load.ts";

export const ETCD_HOWTO =
  "etcd is not on PATH: install it (Debian/Ubuntu: `sudo apt-get install etcd-server`; elsewhere a release from https://github.com/etcd-io/etcd/releases) and run the bench again";

/** `etcd --version`'s first line, or null when there is no etcd to run. */
export function etcdVersion(bin = "etcd"): string | null {
  const r = spawnSync(bin, ["--version"], { encoding: "utf8" });
  return r.status !== 0 || !r.stdout ? null : r.stdout.split("\n")[0]!.replace(/^etcd Version:\s*/, "").trim();
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().unref().on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

type Member = { readonly name: string; readonly clientUrl: string; readonly peerUrl: string; proc: ChildProcess | null };

export class EtcdCluster {
  private constructor(readonly dir: string, readonly version: string, private readonly members: Member[], readonly prefix: string) {}

  /** The members' process ids (for their CPU time). */
  pids = () => this.members.flatMap((m) => (m.proc?.pid === undefined ? [] : [m.proc.pid]));
  clientUrls = () => this.members.map((m) => m.clientUrl);

  /** Start `size` members and wait until a put is accepted; throws (after cleaning up) if not within `deadlineMs`. */
  static async start(size = 3, bin = "etcd", deadlineMs = 20_000): Promise<EtcdCluster> {
    const version = etcdVersion(bin);
    if (version === null) throw new Error(ETCD_HOWTO);
    const dir = mkdtempSync(join(tmpdir(), "raft-bench-etcd-"));
    const members: Member[] = [];
    for (let i = 0; i < size; i++) members.push({ name: `m${i}`, clientUrl: `http://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}`, proc: null });
    const cluster = new EtcdCluster(dir, version, members, "/v3");
    try {
      const initial = members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
      for (const m of members) {
        const log = openSync(join(dir, `${m.name}.log`), "a");
        const flags = { name: m.name, "data-dir": join(dir, m.name), "listen-client-urls": m.clientUrl, "advertise-client-urls": m.clientUrl, "listen-peer-urls": m.peerUrl, "initial-advertise-peer-urls": m.peerUrl };
        const joining = { "initial-cluster": initial, "initial-cluster-state": "new", "initial-cluster-token": `raft-bench-${process.pid}`, "log-outputs": "stderr" };
        m.proc = spawn(bin, Object.entries({ ...flags, ...joining }).flatMap(([k, v]) => [`--${k}`, v]), { stdio: ["ignore", log, log] });
      }
      const ready = await cluster.waitReady(deadlineMs);
      return new EtcdCluster(dir, version, members, ready);
    } catch (e) {
      await cluster.stop();
      const tail = (m: Member) => (existsSync(join(dir, `${m.name}.log`)) ? readFileSync(join(dir, `${m.name}.log`), "utf8").split("\n").slice(-5).join("\n") : "");
      const logs = members.map((m) => `--- ${m.name}\n${tail(m)}`);
      throw new Error(`etcd did not start: ${e instanceof Error ? e.message : String(e)}\n${logs.join("\n")}`);
    }
  }

  /** Until every member answers and a put through the gateway succeeds; returns the gateway prefix that works. */
  private async waitReady(deadlineMs: number): Promise<string> {
    const deadline = performance.now() + deadlineMs;
    let last = "";
    const http = new Http(this.members[0]!.clientUrl);
    try {
      while (performance.now() < deadline) {
        const dead = this.members.find((m) => m.proc && m.proc.exitCode !== null);
        if (dead) throw new Error(`${dead.name} exited with ${dead.proc!.exitCode}`);
        for (const prefix of ["/v3", "/v3beta", "/v3alpha"]) {
          const a = await http.call("POST", `${prefix}/kv/put`, { key: b64("ready"), value: b64("1") }, 2_000);
          if (a.status === 200 && a.body?.header) return prefix;
          last = `${prefix}: ${a.status} ${JSON.stringify(a.body)}`;
          if (a.status !== 404) break; // the right prefix, not ready yet
        }
        await sleep(100);
      }
    } finally {
      await http.close();
    }
    throw new Error(`no put accepted within ${deadlineMs} ms (last: ${last})`);
  }

  /** The leader's client URL (from the maintenance status of each member), else the first member's. */
  async leaderUrl(): Promise<string> {
    for (const m of this.members) {
      const http = new Http(m.clientUrl);
      const a = await http.call("POST", `${this.prefix}/maintenance/status`, {}, 2_000).finally(() => http.close());
      if (a.status === 200 && a.body?.leader && a.body.leader === a.body.header?.member_id) return m.clientUrl;
    }
    return this.members[0]!.clientUrl;
  }

  /** Stop every member (SIGTERM, then SIGKILL after 3 s) and delete the data directory. */
  async stop(): Promise<void> {
    const stopping = this.members.map((m) => m.proc).filter((p) => p && p.exitCode === null && p.signalCode === null);
    await Promise.all(stopping.map((p) => new Promise((resolve) => (p!.once("exit", resolve).kill("SIGTERM"), setTimeout(() => p!.kill("SIGKILL"), 3_000).unref()))));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");

/** The put workload in etcd's JSON gateway encoding, `POST {prefix}/kv/put`: etcd's own gateway, or a cluster's `/clusters/{c}/v3`. */
export const v3Put = (http: Http, prefix: string): PutFn => (c, i) => http.call("POST", `${prefix}/kv/put`, { key: b64(keyOf(c, i)), value: b64(valueOf(i)) });
