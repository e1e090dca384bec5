// Records etcd 3.4's answers to seeded lease sequences into test/etcd/fixtures/lease/lease-<n>.jsonl.
//   npx tsx test/etcd/record-lease.ts             every seed in LEASE_SEEDS
//   npx tsx test/etcd/record-lease.ts 11 150      one seed, 150 ops
// Each request's send and answer times are recorded (ms since the sequence started) so that a
// replay can compare TTLs within the time the sequence took. One fresh etcd per sequence, default
// flags, loopback, ports 24891/24901 (ETCD_CLIENT_PORT / ETCD_PEER_PORT). Never part of `npm test`.

import { postJson, recordSeeds, startEtcd, stopEtcd, writeFixture } from "./etcd-process.ts";
import { LEASE_GENERATOR_VERSION, generateLeaseSequence, type LeaseObserved, type LeaseOp } from "./generate-lease.ts";
import { LEASE_FIXTURE_DIR } from "./read-fixtures-lease-watch.ts";
import { LEASE_SEEDS } from "./seeds.ts";

const CLIENT_PORT = Number(process.env.ETCD_CLIENT_PORT ?? 24891);
const PEER_PORT = Number(process.env.ETCD_PEER_PORT ?? 24901);
/** Where the files go; another folder (FIXTURE_OUT_DIR) to check that a re-recording gives the same answers. */
const OUT_DIR = process.env.FIXTURE_OUT_DIR ?? LEASE_FIXTURE_DIR;

async function recordOne(seed: number, ops: number, version: string): Promise<string> {
  const etcd = await startEtcd(CLIENT_PORT, PEER_PORT);
  try {
    const t0 = performance.now();
    const since = (): number => Math.round(performance.now() - t0);
    const timings: Array<{ sent_ms: number; answered_ms: number }> = [];
    const send = async (op: LeaseOp): Promise<LeaseObserved> => {
      if (op.wait_ms > 0) await new Promise((resolve) => setTimeout(resolve, op.wait_ms));
      const sent_ms = since();
      const observed = await postJson(etcd.base, op.path, op.request);
      timings.push({ sent_ms, answered_ms: since() });
      return observed;
    };
    const steps = await generateLeaseSequence(seed, ops, send);
    const meta = {
      etcd: version,
      seed,
      generator: LEASE_GENERATOR_VERSION,
      ops,
      note: "lease sequence; one fresh single-member etcd, default flags (minimum TTL 2 s), JSON gateway at /v3/; recorded by test/etcd/record-lease.ts",
    };
    const rows = steps.map(({ op, observed }, i) => ({ path: op.path, request: op.request, wait_ms: op.wait_ms, ...timings[i]!, status: observed.status, response: observed.response }));
    return writeFixture(OUT_DIR, `lease-${seed}.jsonl`, meta, rows);
  } finally {
    await stopEtcd(etcd);
  }
}

recordSeeds("lease", LEASE_SEEDS, 150, recordOne);
