// `npm run bench -- [options]`: each numeric option's default, --quick value and help line in one table.
import { URL } from "node:url";
import { parseArgs } from "node:util";

const NUMBERS = {
  "phase-ms": [4000, 1200, "length of each 1/8/64-client phase"],
  sequential: [300, 100, "sequential puts"],
  trials: [20, 5, "failover trials per cluster"],
  "idle-ms": [5000, 2000, "idle window"],
  "floor-ms": [1500, 600, "per floor measurement, split over 3 rounds"],
  "read-round-ms": [2000, 800, "one round of 64-client reads"],
  "history-ops": [100_000, 20_000, "puts applied to each long-history server"],
  restarts: [7, 3, "restarts timed per history server; resets of every server per scale cluster"],
  cycles: [8, 3, "sleep suite: sleep/wake cycles"],
  deploys: [20, 5, "sleep suite: deploys (every server evicted) under a writer"],
  "asleep-ms": [10_000, 3000, "sleep suite: idle window once asleep"],
  "scale-keys": [200_000, 20_000, "scale suite: keys of 1 KB filling a 3-server cluster"],
} as const;

const USAGE = `npm run bench -- [options]
  --quick            short phases (about 1 minute in all)
  --out <file>       JSON results (default bench/results.json; --only X: bench/results-X.json; --url: bench/results-url.json)
NUMBERS
  --sizes <a,b>      raft cluster sizes (default 3,5)
  --no-etcd          skip the etcd side by side (by default it runs when \`etcd\` is on PATH)
  --url <origin>     drive a running \`npm run dev\` (e.g. http://127.0.0.1:8787) instead of Miniflare, with
                     the suites that can (raft without failover or storage counts, etcd; --only regions)
  --only <suite>     run one suite alone, printing its sections only:
SUITES
  --keep             keep the temporary bundle and storage
  --help`;

export type Options = ReturnType<typeof parseOptions>;

/** `suites`: every suite's name and what it does, for `--only` and `--help`. */
export function parseOptions(argv: string[], suites: ReadonlyArray<{ name: string; about: string }>) {
  const usage = USAGE.replace("NUMBERS", Object.entries(NUMBERS).map(([k, [normal, quick, help]]) => `  ${`--${k} <n>`.padEnd(18)} ${help} (default ${normal}; quick ${quick})`).join("\n"))
    .replace("SUITES", suites.map((s) => `                       ${s.name.padEnd(11)}${s.about}`).join("\n"));
  const [text, flag] = [{ type: "string" } as const, { type: "boolean", default: false } as const];
  const options = { ...Object.fromEntries([...Object.keys(NUMBERS), "url", "only", "out"].map((k) => [k, text])), sizes: { type: "string", default: "3,5" } as const, ...Object.fromEntries(["quick", "keep", "no-etcd", "help"].map((k) => [k, flag])) };
  const { values } = parseArgs({ args: argv, strict: true, options }) as { values: Record<string, string | boolean | undefined> };
  if (values.help) process.exit((console.log(usage), 0));
  const fail = (what: string): never => {
    throw new Error(`${what}\n${usage}`);
  };
  const quick = values.quick === true;
  const n = (name: keyof typeof NUMBERS): number => {
    const raw = values[name] as string | undefined;
    const x = raw === undefined ? NUMBERS[name][quick ? 1 : 0] : Number(raw);
    return Number.isFinite(x) && x > 0 ? x : fail(`--${name} must be a positive number, not ${raw}`);
  };
  const u = typeof values.url === "string" && URL.canParse(values.url) ? new URL(values.url) : null;
  const url = values.url === undefined ? null : u && /^https?:$/.test(u.protocol) ? u.origin : fail(`--url must be an http(s) origin such as http://127.0.0.1:8787, not ${values.url}`);
  const only = (values.only as string | undefined) ?? null;
  if (only !== null && !suites.some((s) => s.name === only)) fail(`--only takes one of ${suites.map((s) => s.name).join(", ")}, not ${only}`);
  const sizes = (values.sizes as string).split(",").map((s) => Number(s.trim()));
  if (sizes.some((x) => !Number.isInteger(x) || x < 1 || x > 9)) fail("--sizes must list sizes 1..9");
  return {
    out: (values.out as string | undefined) ?? (only ? `bench/results-${only}.json` : url ? "bench/results-url.json" : "bench/results.json"),
    floorMs: n("floor-ms"),
    httpFloorCalls: quick ? 150 : 450, // Node→Worker calls timed for the HTTP floor
    sequential: Math.round(n("sequential")),
    phaseMs: n("phase-ms"),
    concurrency: [1, 8, 64] as readonly number[],
    sizes,
    trials: Math.round(n("trials")),
    idleMs: n("idle-ms"),
    anatomyPuts: quick ? 20 : 50, // sequential puts traced stage by stage
    readRoundMs: n("read-round-ms"),
    historyOps: Math.round(n("history-ops")),
    restarts: Math.round(n("restarts")),
    cycles: Math.round(n("cycles")),
    deploys: Math.round(n("deploys")),
    asleepMs: n("asleep-ms"),
    scaleKeys: Math.round(n("scale-keys")),
    keep: values.keep === true,
    noEtcd: values["no-etcd"] === true,
    quick,
    url,
    only,
  };
}
