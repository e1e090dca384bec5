// Starts and stops a throwaway single-member etcd for the recorders (record.ts, record-lease.ts,
// record-watch.ts): a fresh data dir each time, loopback only, ports chosen by the caller so
// that default etcd and other users of this machine are left alone. Never used by `npm test`.

import { spawn, type ChildProcess, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ETCD_BIN = process.env.ETCD_BIN ?? "etcd";

export interface RunningEtcd {
  child: ChildProcess;
  dataDir: string;
  log: string[];
  /** The client URL, e.g. http://127.0.0.1:24791 (the JSON gateway is under /v3/). */
  base: string;
}

/** Starts etcd and waits (against a deadline) until a linearizable read answers: a leader exists. */
export async function startEtcd(clientPort: number, peerPort: number, extraFlags: readonly string[] = []): Promise<RunningEtcd> {
  const base = `http://127.0.0.1:${clientPort}`;
  // Someone else's etcd on the port would answer the readiness check below, and take our writes.
  if (await answers(base)) throw new Error(`something already answers on ${base}: choose other ports (ETCD_CLIENT_PORT, ETCD_PEER_PORT)`);
  const dataDir = mkdtempSync(join(tmpdir(), "etcdrec-"));
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    ETCD_BIN,
    [
      "--name", "rec",
      "--data-dir", dataDir,
      "--listen-client-urls", base,
      "--advertise-client-urls", base,
      "--listen-peer-urls", peer,
      "--initial-advertise-peer-urls", peer,
      "--initial-cluster", `rec=${peer}`,
      "--initial-cluster-state", "new",
      ...extraFlags,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const log: string[] = [];
  child.stdout?.on("data", (d: Buffer) => log.push(String(d)));
  child.stderr?.on("data", (d: Buffer) => log.push(String(d)));
  const etcd = { child, dataDir, log, base };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${base}/v3/kv/range`, { method: "POST", body: JSON.stringify({ key: "AA==" }) });
      if (res.status === 200) return etcd;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stopEtcd(etcd);
  throw new Error(`etcd did not become ready on ${base}:\n${log.join("").slice(-3000)}`);
}

async function answers(base: string): Promise<boolean> {
  try {
    await fetch(`${base}/v3/kv/range`, { method: "POST", body: "{}" });
    return true;
  } catch {
    return false;
  }
}

export async function stopEtcd(etcd: RunningEtcd): Promise<void> {
  if (etcd.child.exitCode === null) {
    const exited = new Promise((resolve) => etcd.child.once("exit", resolve));
    etcd.child.kill("SIGTERM");
    await exited;
  }
  rmSync(etcd.dataDir, { recursive: true, force: true });
}

export function etcdVersion(): string {
  const out = execFileSync(ETCD_BIN, ["--version"], { encoding: "utf8" });
  return /etcd Version: (\S+)/.exec(out)?.[1] ?? "unknown";
}

/** One POST to the gateway; the answer parsed (a stream's single `{"result": ...}` line included). */
export async function postJson(base: string, path: string, request: unknown): Promise<{ status: number; response: unknown }> {
  const res = await fetch(`${base}${path}`, { method: "POST", body: JSON.stringify(request) });
  const text = await res.text();
  try {
    return { status: res.status, response: JSON.parse(text) };
  } catch {
    throw new Error(`${path} ${JSON.stringify(request)}: answer is not JSON (${res.status}): ${text.slice(0, 300)}`);
  }
}

/** Writes one fixture: the meta line, then a JSON line per step. Answers the file's path. */
export function writeFixture(dir: string, name: string, meta: object, steps: readonly unknown[]): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, `${[JSON.stringify({ meta }), ...steps.map((s) => JSON.stringify(s))].join("\n")}\n`);
  return file;
}

/**
 * A recorder's command line: `[seed [ops]]` records one sequence, nothing records every seed
 * of `seeds`; each sequence by `recordOne(seed, ops, etcdVersion)`.
 */
export function recordSeeds(
  what: string,
  seeds: ReadonlyArray<{ seed: number; ops: number }>,
  defaultOps: number,
  recordOne: (seed: number, ops: number, version: string) => Promise<string>,
): void {
  const run = async (): Promise<void> => {
    const [seedArg, opsArg] = process.argv.slice(2);
    const runs = seedArg === undefined ? seeds : [{ seed: Number(seedArg), ops: Number(opsArg ?? defaultOps) }];
    const version = etcdVersion();
    if (version !== "3.4.23") console.warn(`warning: recording etcd ${version}, the fixtures say 3.4.23 elsewhere`);
    for (const { seed, ops } of runs) console.log(`${what} seed ${seed}: ${ops} ops -> ${await recordOne(seed, ops, version)}`);
  };
  run().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
