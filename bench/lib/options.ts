// Command-line options of `npm run bench` (pass them after `--`: `npm run bench -- --quick`).
import { parseArgs } from "node:util";
import { CLIENT_KINDS, type ClientKind } from "./http.ts";

export interface Options {
  /** Where the JSON results go. */
  readonly out: string;
  /** Per floor measurement (each of rpc, rpcWrite, write, writeAlarm, commit), ms, over three rounds. */
  readonly floorMs: number;
  /** Node→Worker→object calls timed for the HTTP floor. */
  readonly httpFloorCalls: number;
  /** Sequential puts timed (one client, one after another). */
  readonly sequential: number;
  /** Length of each concurrency phase (1, 8, 64 clients), ms. */
  readonly phaseMs: number;
  readonly concurrency: readonly number[];
  /** Raft cluster sizes. */
  readonly sizes: readonly number[];
  /** Leader-crash → first successful write trials per cluster. */
  readonly trials: number;
  /** Idle window for the per-second costs, ms. */
  readonly idleMs: number;
  /** Sequential puts traced stage by stage through the narration. */
  readonly anatomyPuts: number;
  /** One round of 64-client reads, ms (each kind of read: two rounds from Node, two inside workerd). */
  readonly readRoundMs: number;
  /** Puts applied to each long-history server (compaction suite). */
  readonly historyOps: number;
  /** Restarts timed per history server. */
  readonly restarts: number;
  /** Run the plain RaftServer instead of ProfiledRaftServer (no storage counters). */
  readonly plain: boolean;
  /** Keep the temporary directory (bundle and Durable Object storage). */
  readonly keep: boolean;
  readonly quick: boolean;
  /** How Node sends its requests (bench/lib/http.ts; bench/client-cost.ts compares the two). */
  readonly client: ClientKind;
  /** Skip the etcd side-by-side even when etcd is on PATH. */
  readonly noEtcd: boolean;
  /** Drive a running `wrangler dev` (`npm run dev`) at this origin instead of Miniflare: the put workload only. */
  readonly url: string | null;
  /** Sleep suite: sleep/wake cycles, deploys under a writer, the asleep idle window (ms). */
  readonly cycles: number;
  readonly deploys: number;
  readonly asleepMs: number;
  /** Run only this suite ("sleep", "regions"), printing its section alone. */
  readonly only: "sleep" | "regions" | null;
}

const USAGE = `npm run bench -- [options]
  --quick            short phases (about 1 minute in all)
  --out <file>       JSON results (default bench/results.json)
  --phase-ms <n>     length of each 1/8/64-client phase (default 4000; quick 1200)
  --sequential <n>   sequential puts (default 300; quick 100)
  --trials <n>       failover trials per cluster (default 20; quick 5)
  --idle-ms <n>      idle window (default 5000; quick 2000)
  --floor-ms <n>     per floor measurement, split over 3 rounds (default 1500; quick 600)
  --sizes <a,b>      raft cluster sizes (default 3,5)
  --read-round-ms <n> one round of 64-client reads (default 2000; quick 800)
  --history-ops <n>  puts applied to each long-history server (default 100000; quick 20000)
  --restarts <n>     restarts timed per history server (default 7; quick 3)
  --client <kind>    how Node sends requests: undici (default; keep-alive Pool on Miniflare's
                     HTTP address) or dispatch (Miniflare's dispatchFetch, the client before)
  --no-etcd          skip the etcd side by side (by default it runs when \`etcd\` is on PATH:
                     a 3-member loopback cluster in a temporary directory)
  --url <origin>     drive a running \`npm run dev\` (e.g. http://127.0.0.1:8787) instead of
                     Miniflare: raft clusters created through the API, the same put workload,
                     etcd beside it; no floor, single object, reads, history or storage counts
  --cycles <n>       sleep suite: sleep/wake cycles (default 8; quick 3)
  --deploys <n>      sleep suite: deploys (every server evicted) under a writer (default 20; quick 5)
  --asleep-ms <n>    sleep suite: idle window once asleep (default 10000; quick 3000)
  --only sleep       run the sleep suite alone (about 1 minute; its section only)
  --only regions     commit latency of raft-3 and raft-5 spread over regions (POST .../network
                     regionRttMs) against the round trip to the nearest majority: 100 sequential
                     puts per placement (quick 40; about 2 minutes); with --url, against \`npm run dev\`
  --plain            unmodified RaftServer: no storage-transaction counts
  --keep             keep the temporary bundle and storage
  --help`;

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      out: { type: "string", default: "bench/results.json" },
      "phase-ms": { type: "string" },
      sequential: { type: "string" },
      trials: { type: "string" },
      "idle-ms": { type: "string" },
      "floor-ms": { type: "string" },
      sizes: { type: "string", default: "3,5" },
      "read-round-ms": { type: "string" },
      "history-ops": { type: "string" },
      restarts: { type: "string" },
      client: { type: "string", default: "undici" },
      plain: { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
      "no-etcd": { type: "boolean", default: false },
      url: { type: "string" },
      cycles: { type: "string" },
      deploys: { type: "string" },
      "asleep-ms": { type: "string" },
      only: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick;
  const num = (name: string, raw: string | undefined, normal: number, short: number): number => {
    if (raw === undefined) return quick ? short : normal;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, not ${raw}\n${USAGE}`);
    return n;
  };
  const client = values.client as ClientKind;
  if (!CLIENT_KINDS.includes(client)) throw new Error(`--client must be one of ${CLIENT_KINDS.join(", ")}, not ${values.client}\n${USAGE}`);
  let url: string | null = null;
  if (values.url !== undefined) {
    try {
      const u = new URL(values.url);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("not http");
      url = u.origin;
    } catch {
      throw new Error(`--url must be an http(s) origin such as http://127.0.0.1:8787, not ${values.url}\n${USAGE}`);
    }
  }
  if (values.only !== undefined && values.only !== "sleep" && values.only !== "regions") {
    throw new Error(`--only takes "sleep" or "regions", not ${values.only}\n${USAGE}`);
  }
  const only = values.only === "sleep" || values.only === "regions" ? values.only : null;
  const sizes = values.sizes.split(",").map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 9)) throw new Error(`--sizes must list sizes 1..9\n${USAGE}`);
  return {
    out: values.out,
    floorMs: num("floor-ms", values["floor-ms"], 1500, 600),
    httpFloorCalls: quick ? 150 : 450,
    sequential: Math.round(num("sequential", values.sequential, 300, 100)),
    phaseMs: num("phase-ms", values["phase-ms"], 4000, 1200),
    concurrency: [1, 8, 64],
    sizes,
    trials: Math.round(num("trials", values.trials, 20, 5)),
    idleMs: num("idle-ms", values["idle-ms"], 5000, 2000),
    anatomyPuts: quick ? 20 : 50,
    readRoundMs: num("read-round-ms", values["read-round-ms"], 2000, 800),
    historyOps: Math.round(num("history-ops", values["history-ops"], 100_000, 20_000)),
    restarts: Math.round(num("restarts", values.restarts, 7, 3)),
    plain: values.plain,
    keep: values.keep,
    quick,
    client,
    noEtcd: values["no-etcd"],
    url,
    cycles: Math.round(num("cycles", values.cycles, 8, 3)),
    deploys: Math.round(num("deploys", values.deploys, 20, 5)),
    asleepMs: num("asleep-ms", values["asleep-ms"], 10_000, 3000),
    only,
  };
}
