// Records etcd 3.4's watch streams for seeded sequences into test/etcd/fixtures/watch/watch-<n>.jsonl.
//   npx tsx test/etcd/record-watch.ts             every seed in WATCH_SEEDS
//   npx tsx test/etcd/record-watch.ts 11 80       one seed, 80 steps
// Each stream is one POST /v3/watch over HTTP/1.1 whose body holds the client's messages and then
// ends (etcd 3.4's gateway reads the whole body before its first answer: see README.md). After
// each step the recorder reads every stream until it has been quiet (watch-streams.ts), so each message
// is recorded after the step that caused it. One fresh etcd per sequence, loopback, ports
// 24891/24901, default flags except a 2 s progress-notify interval. Never part of `npm test`.

import { join } from "node:path";
import { postJson, recordSeeds, startEtcd, stopEtcd, writeFixture } from "./etcd-process.ts";
import type { WatchAction, WatchStep } from "./fixture.ts";
import { generateWatchSequence, PROGRESS_NOTIFY_INTERVAL_MS, WATCH_GENERATOR_VERSION, type WatchOp } from "./generate-watch.ts";
import { WATCH_FIXTURE_DIR } from "./read-fixtures-lease-watch.ts";
import { WATCH_SEEDS } from "./seeds.ts";
import { sleep, StreamRecorder } from "./watch-streams.ts";

const CLIENT_PORT = Number(process.env.ETCD_CLIENT_PORT ?? 24891);
const PEER_PORT = Number(process.env.ETCD_PEER_PORT ?? 24901);
/** Where the files go; another folder (FIXTURE_OUT_DIR) to check that a re-recording gives the same answers. */
const OUT_DIR = process.env.FIXTURE_OUT_DIR ?? WATCH_FIXTURE_DIR;

async function recordOne(seed: number, ops: number, version: string): Promise<string> {
  const etcd = await startEtcd(CLIENT_PORT, PEER_PORT, ["--experimental-watch-progress-notify-interval", `${PROGRESS_NOTIFY_INTERVAL_MS}ms`]);
  const t0 = performance.now();
  const since = (): number => Math.round(performance.now() - t0);
  const streams = new StreamRecorder(CLIENT_PORT, since);
  const steps: WatchStep[] = [];
  try {
    const run = async (op: WatchOp): Promise<WatchAction> => {
      const started = performance.now();
      const sent_ms = since();
      let done: WatchAction;
      switch (op.do) {
        case "open":
          streams.open(op.stream, op.body);
          done = { ...op, status: 0 };
          break;
        case "kv": {
          const answer = await postJson(etcd.base, op.path, op.request);
          done = { ...op, status: answer.status, response: answer.response };
          break;
        }
        case "close":
          streams.close(op.stream);
          done = op;
          break;
        case "wait":
          await sleep(op.ms);
          done = op;
          break;
      }
      const received = await streams.settle(started);
      if (done.do === "open") done.status = streams.status(done.stream);
      steps.push({ ...done, sent_ms, received });
      return done;
    };
    await generateWatchSequence(seed, ops, run);
  } finally {
    streams.closeAll();
    await stopEtcd(etcd);
  }
  const meta = {
    etcd: version,
    seed,
    generator: WATCH_GENERATOR_VERSION,
    ops,
    note: `watch sequence; one fresh single-member etcd, default flags but --experimental-watch-progress-notify-interval ${PROGRESS_NOTIFY_INTERVAL_MS}ms, JSON gateway at /v3/ over HTTP/1.1; recorded by test/etcd/record-watch.ts`,
  };
  return writeFixture(OUT_DIR, `watch-${seed}.jsonl`, meta, steps);
}

recordSeeds("watch", WATCH_SEEDS, 80, recordOne);
