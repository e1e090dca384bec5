// Records etcd 3.4's answers to seeded operation sequences into test/etcd/fixtures/*.jsonl.
//   npm run etcd:record                 every seed in SEEDS
//   npm run etcd:record -- 11 400       one seed, 400 ops
// Needs Debian's etcd-server (etcd 3.4.23) on PATH or in ETCD_BIN. Each sequence gets a fresh
// etcd (new data dir, revision 1, no keys) on loopback only, on ports that default etcd and
// other users of this machine do not use (ETCD_CLIENT_PORT / ETCD_PEER_PORT to change them).
// Never part of `npm test`: the fixtures are committed and replayed without etcd.

import { spawn, type ChildProcess, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GENERATOR_VERSION, generateSequence, type Observed, type Op } from "./generate.ts";
import { FIXTURE_DIR } from "./read-fixtures.ts";
import { SEEDS } from "./seeds.ts";


const ETCD_BIN = process.env.ETCD_BIN ?? "etcd";
const CLIENT_PORT = Number(process.env.ETCD_CLIENT_PORT ?? 24791);
const PEER_PORT = Number(process.env.ETCD_PEER_PORT ?? 24801);
const BASE = `http://127.0.0.1:${CLIENT_PORT}`;

interface RunningEtcd {
  child: ChildProcess;
  dataDir: string;
  log: string[];
}

async function startEtcd(): Promise<RunningEtcd> {
  const dataDir = mkdtempSync(join(tmpdir(), "etcdrec-"));
  const peer = `http://127.0.0.1:${PEER_PORT}`;
  const child = spawn(
    ETCD_BIN,
    [
      "--name", "rec",
      "--data-dir", dataDir,
      "--listen-client-urls", BASE,
      "--advertise-client-urls", BASE,
      "--listen-peer-urls", peer,
      "--initial-advertise-peer-urls", peer,
      "--initial-cluster", `rec=${peer}`,
      "--initial-cluster-state", "new",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const log: string[] = [];
  child.stdout?.on("data", (d: Buffer) => log.push(String(d)));
  child.stderr?.on("data", (d: Buffer) => log.push(String(d)));
  const etcd = { child, dataDir, log };
  // Ready when a linearizable read answers (a leader exists), polled against a deadline.
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${BASE}/v3/kv/range`, { method: "POST", body: JSON.stringify({ key: "AA==" }) });
      if (res.status === 200) return etcd;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stopEtcd(etcd);
  throw new Error(`etcd did not become ready on ${BASE}:\n${log.join("").slice(-3000)}`);
}

async function stopEtcd(etcd: RunningEtcd): Promise<void> {
  if (etcd.child.exitCode === null) {
    const exited = new Promise((resolve) => etcd.child.once("exit", resolve));
    etcd.child.kill("SIGTERM");
    await exited;
  }
  rmSync(etcd.dataDir, { recursive: true, force: true });
}

async function send(op: Op): Promise<Observed> {
  const res = await fetch(`${BASE}${op.path}`, { method: "POST", body: JSON.stringify(op.request) });
  const text = await res.text();
  let response: unknown;
  try {
    response = JSON.parse(text);
  } catch {
    throw new Error(`${op.path} ${JSON.stringify(op.request)}: answer is not JSON (${res.status}): ${text.slice(0, 300)}`);
  }
  return { status: res.status, response };
}

function etcdVersion(): string {
  const out = execFileSync(ETCD_BIN, ["--version"], { encoding: "utf8" });
  return /etcd Version: (\S+)/.exec(out)?.[1] ?? "unknown";
}

async function recordOne(seed: number, ops: number, version: string): Promise<string> {
  const etcd = await startEtcd();
  try {
    const steps = await generateSequence(seed, ops, send);
    const meta = {
      etcd: version,
      seed,
      generator: GENERATOR_VERSION,
      ops,
      note: "one fresh single-member etcd, default flags, JSON gateway at /v3/; recorded by test/etcd/record.ts",
    };
    const lines = [JSON.stringify({ meta })];
    for (const { op, observed } of steps) {
      lines.push(JSON.stringify({ path: op.path, request: op.request, status: observed.status, response: observed.response }));
    }
    mkdirSync(FIXTURE_DIR, { recursive: true });
    const file = join(FIXTURE_DIR, `seed-${seed}.jsonl`);
    writeFileSync(file, `${lines.join("\n")}\n`);
    return file;
  } finally {
    await stopEtcd(etcd);
  }
}

async function main(): Promise<void> {
  const [seedArg, opsArg] = process.argv.slice(2);
  const runs = seedArg === undefined ? SEEDS : [{ seed: Number(seedArg), ops: Number(opsArg ?? 400) }];
  const version = etcdVersion();
  if (version !== "3.4.23") console.warn(`warning: recording etcd ${version}, the fixtures say 3.4.23 elsewhere`);
  for (const { seed, ops } of runs) {
    const file = await recordOne(seed, ops, version);
    console.log(`seed ${seed}: ${ops} ops -> ${file}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
