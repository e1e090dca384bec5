// Command-line options of `npm run bench` (pass them after `--`: `npm run bench -- --quick`).
import { parseArgs } from "node:util";
import { CLIENT_KINDS, type ClientKind } from "./http.ts";

const USAGE = `npm run bench -- [options]
  --quick            short phases (about 1 minute in all)
  --out <file>       JSON results (default bench/results.json; --only X: bench/results-X.json; --url: bench/results-url.json)
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
                     Miniflare: the suites that can (raft without failover or storage counts,
                     etcd beside it; with --only regions, the regions suite)
  --cycles <n>       sleep suite: sleep/wake cycles (default 8; quick 3)
  --deploys <n>      sleep suite: deploys (every server evicted) under a writer (default 20; quick 5)
  --asleep-ms <n>    sleep suite: idle window once asleep (default 10000; quick 3000)
  --only <suite>     run one suite alone, printing its sections only:
SUITES
  --plain            unmodified RaftServer: no storage-transaction counts
  --keep             keep the temporary bundle and storage
  --help`;

export type Options = ReturnType<typeof parseOptions>;

/** `suites`: every suite's name and what it does, for `--only` and `--help`. */
export function parseOptions(argv: string[], suites: ReadonlyArray<{ name: string; about: string }>) {
  const usage = USAGE.replace("SUITES", suites.map((s) => `                       ${s.name.padEnd(11)}${s.about}`).join("\n"));
  const string = { type: "string" } as const;
  const flag = { type: "boolean", default: false } as const;
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...Object.fromEntries(["phase-ms", "sequential", "trials", "idle-ms", "floor-ms", "read-round-ms", "history-ops", "restarts", "url", "cycles", "deploys", "asleep-ms", "only"].map((k) => [k, string])),
      out: string,
      sizes: { type: "string", default: "3,5" },
      client: { type: "string", default: "undici" },
      ...Object.fromEntries(["quick", "plain", "keep", "no-etcd", "help"].map((k) => [k, flag])),
    } as const,
  }) as { values: Record<string, string | boolean | undefined> };
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const quick = values.quick === true;
  const fail = (what: string): never => {
    throw new Error(`${what}\n${usage}`);
  };
  const num = (name: string, normal: number, short: number): number => {
    const raw = values[name] as string | undefined;
    if (raw === undefined) return quick ? short : normal;
    const n = Number(raw);
    return Number.isFinite(n) && n > 0 ? n : fail(`--${name} must be a positive number, not ${raw}`);
  };
  const count = (name: string, normal: number, short: number) => Math.round(num(name, normal, short));
  const client = values.client as ClientKind;
  if (!CLIENT_KINDS.includes(client)) fail(`--client must be one of ${CLIENT_KINDS.join(", ")}, not ${client}`);
  let url: string | null = null;
  if (typeof values.url === "string") {
    let u: URL | null = null;
    try {
      u = new URL(values.url);
    } catch {
      // not a URL: said below
    }
    url = u && (u.protocol === "http:" || u.protocol === "https:") ? u.origin : fail(`--url must be an http(s) origin such as http://127.0.0.1:8787, not ${values.url}`);
  }
  const only = (values.only as string | undefined) ?? null;
  if (only !== null && !suites.some((s) => s.name === only)) fail(`--only takes one of ${suites.map((s) => s.name).join(", ")}, not ${only}`);
  const sizes = (values.sizes as string).split(",").map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 9)) fail("--sizes must list sizes 1..9");
  return {
    out: (values.out as string | undefined) ?? (only ? `bench/results-${only}.json` : url ? "bench/results-url.json" : "bench/results.json"),
    /** Per floor measurement (each of rpc, rpcWrite, write, writeAlarm, commit), ms, over three rounds. */
    floorMs: num("floor-ms", 1500, 600),
    /** Node→Worker calls timed for the HTTP floor. */
    httpFloorCalls: quick ? 150 : 450,
    sequential: count("sequential", 300, 100),
    phaseMs: num("phase-ms", 4000, 1200),
    concurrency: [1, 8, 64] as readonly number[],
    sizes,
    trials: count("trials", 20, 5),
    idleMs: num("idle-ms", 5000, 2000),
    /** Sequential puts traced stage by stage through the narration. */
    anatomyPuts: quick ? 20 : 50,
    readRoundMs: num("read-round-ms", 2000, 800),
    historyOps: count("history-ops", 100_000, 20_000),
    restarts: count("restarts", 7, 3),
    plain: values.plain === true,
    keep: values.keep === true,
    quick,
    client,
    noEtcd: values["no-etcd"] === true,
    url,
    cycles: count("cycles", 8, 3),
    deploys: count("deploys", 20, 5),
    asleepMs: num("asleep-ms", 10_000, 3000),
    only,
  };
}
