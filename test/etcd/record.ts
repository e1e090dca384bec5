// Records etcd 3.4's answers to seeded operation sequences into test/etcd/fixtures/*.jsonl.
//   npm run etcd:record                 every seed in SEEDS
//   npm run etcd:record -- 11 400       one seed, 400 ops
// Needs Debian's etcd-server (etcd 3.4.23) on PATH or in ETCD_BIN. Each sequence gets a fresh
// etcd (new data dir, revision 1, no keys) on loopback only, on ports that default etcd and
// other users of this machine do not use (ETCD_CLIENT_PORT / ETCD_PEER_PORT to change them).
// Never part of `npm test`: the fixtures are committed and replayed without etcd.

import { postJson, recordSeeds, startEtcd, stopEtcd, writeFixture } from "./etcd-process.ts";
import { GENERATOR_VERSION, generateSequence, type Observed, type Op } from "./generate.ts";
import { FIXTURE_DIR } from "./read-fixtures.ts";
import { SEEDS } from "./seeds.ts";

const CLIENT_PORT = Number(process.env.ETCD_CLIENT_PORT ?? 24791);
const PEER_PORT = Number(process.env.ETCD_PEER_PORT ?? 24801);

async function recordOne(seed: number, ops: number, version: string): Promise<string> {
  const etcd = await startEtcd(CLIENT_PORT, PEER_PORT);
  try {
    const send = (op: Op): Promise<Observed> => postJson(etcd.base, op.path, op.request);
    const steps = await generateSequence(seed, ops, send);
    const meta = {
      etcd: version,
      seed,
      generator: GENERATOR_VERSION,
      ops,
      note: "one fresh single-member etcd, default flags, JSON gateway at /v3/; recorded by test/etcd/record.ts",
    };
    const rows = steps.map(({ op, observed }) => ({ path: op.path, request: op.request, status: observed.status, response: observed.response }));
    return writeFixture(FIXTURE_DIR, `seed-${seed}.jsonl`, meta, rows);
  } finally {
    await stopEtcd(etcd);
  }
}

recordSeeds("kv", SEEDS, 400, recordOne);
