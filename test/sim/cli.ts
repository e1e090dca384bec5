// Randomized search from the command line:
//
//   npm run sim -- --seeds N [--seed S] [--servers 3|5|7] [--snapshot-source stored|live] [--disk-faults on|off] [--sleep on|off] [--verbose] [--mutant NAME]
//
// Runs seeds S, S+1, ..., S+N-1 (S defaults to 1). Each seed is one random schedule of faults
// and proposals with every invariant checked after every event, then a liveness phase. A
// failure prints the seed, the violated invariant, the last narrated lines and the one-line
// command that replays it; the exit code is then 1. --verbose narrates every run as it goes
// (use it with --seeds 1 to replay one seed). --mutant NAME runs a deliberately broken core or
// host from mutants.ts instead (to watch a checker fire); --mutant list names them.
// --snapshot-source forces how InstallSnapshot is filled (otherwise drawn per seed): "live" is
// the Durable Object's way (the current state machine, renamed by core.snapshotMetaAt).
// --disk-faults forces disks that refuse writes on or off (otherwise drawn per seed, about half);
// the summary counts the seeds whose disks refused writes, the writes refused and the resets.
// --sleep forces sleeping cores on or off (otherwise drawn per seed, about half); the summary
// counts the seeds with sleep on, the evictions and deploys (every seed's faults include them),
// the boots that resumed leading, the servers that fell asleep and were woken, the host's
// wake() calls, and the slowest operation of the sleep checks that follow the liveness phase.
// --membership forces membership changes on or off (otherwise drawn per seed, about three
// quarters); the summary counts the changes committed (learners added, promoted, members
// removed, leaders removed), the refusals the coordinator retried, the servers created and
// stopped, and the range of voters the configurations had.

import { MUTANTS, mutantByName, type Mutant } from "./mutants.ts";
import type { SnapshotSource } from "./disk.ts";
import { emptyMembershipStats, randomRun, type RandomRunResult } from "./random-run.ts";
import { exitWithFailures, runSeeds } from "./seed-loop.ts";

interface Args {
  seeds: number;
  seed: number;
  servers: number | undefined;
  snapshotSource: SnapshotSource | undefined;
  diskFaults: boolean | undefined;
  sleep: boolean | undefined;
  membership: boolean | undefined;
  verbose: boolean;
  mutant: Mutant | null;
  /** Print the details of at most this many failures (all are listed). */
  show: number;
}

const USAGE =
  "usage: npm run sim -- --seeds N [--seed S] [--servers 3|5|7] [--snapshot-source stored|live] [--disk-faults on|off] [--sleep on|off] [--membership on|off] [--verbose] [--mutant NAME|list]";

function usage(problem: string): never {
  console.error(`${problem}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    seeds: 1,
    seed: 1,
    servers: undefined,
    snapshotSource: undefined,
    diskFaults: undefined,
    sleep: undefined,
    membership: undefined,
    verbose: false,
    mutant: null,
    show: 3,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) usage(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === "--help" || a === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else if (a === "--seeds") args.seeds = value();
    else if (a === "--seed") args.seed = value();
    else if (a === "--servers") {
      args.servers = value();
      if (![3, 5, 7].includes(args.servers)) usage("--servers must be 3, 5 or 7");
    } else if (a === "--snapshot-source") {
      const v = argv[++i];
      if (v !== "stored" && v !== "live") usage("--snapshot-source must be stored or live");
      args.snapshotSource = v;
    } else if (a === "--disk-faults") {
      const v = argv[++i];
      if (v !== "on" && v !== "off") usage("--disk-faults must be on or off");
      args.diskFaults = v === "on";
    } else if (a === "--sleep") {
      const v = argv[++i];
      if (v !== "on" && v !== "off") usage("--sleep must be on or off");
      args.sleep = v === "on";
    } else if (a === "--membership") {
      const v = argv[++i];
      if (v !== "on" && v !== "off") usage("--membership must be on or off");
      args.membership = v === "on";
    } else if (a === "--verbose") args.verbose = true;
    else if (a === "--show") args.show = value();
    else if (a === "--mutant") {
      const name = argv[++i] ?? "";
      if (name === "list") {
        for (const m of MUTANTS) console.log(`${m.name.padEnd(36)} caught by ${m.caughtBy.padEnd(20)} ${m.what}`);
        process.exit(0);
      }
      args.mutant = mutantByName(name) ?? usage(`unknown mutant ${name} (try --mutant list)`);
    }
    else usage(`unknown argument ${a}`);
  }
  return args;
}

function report(r: RandomRunResult): void {
  console.log(`\n=== FAIL seed ${r.seed} (${r.servers} servers) ===`);
  console.log(`invariant: ${r.invariant ?? "(none: a harness or simulator error)"}`);
  console.log(r.message);
  if (r.tail.length > 0) {
    console.log(`--- last ${r.tail.length} narrated lines ---`);
    console.log(r.tail.join("\n"));
  }
  console.log(`--- replay with: ${r.replay}`);
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  let events = 0;
  let virtualMs = 0;
  let committed = 0;
  let maxHeal = 0;
  let live = 0;
  let preVote = 0;
  let snapshots = 0;
  const transfers = { started: 0, completed: 0, busy: 0, chunks: 0 };
  let diskSeeds = 0;
  let refusingSeeds = 0;
  const refused = { full: 0, tooLarge: 0, transient: 0 };
  let resets = 0;
  const ms = emptyMembershipStats();
  let membershipSeeds = 0;
  let shrankToTwo = 0;
  let learnersDecisive = 0;
  let lateRetire = 0;
  const sleepy = { seeds: 0, evictions: 0, deploys: 0, resumes: 0, sleeps: 0, wakes: 0, hostWakes: 0, slowestOperationMs: 0 };
  const replayArgs = [
    ...(args.snapshotSource ? [`--snapshot-source ${args.snapshotSource}`] : []),
    ...(args.diskFaults !== undefined ? [`--disk-faults ${args.diskFaults ? "on" : "off"}`] : []),
    ...(args.sleep !== undefined ? [`--sleep ${args.sleep ? "on" : "off"}`] : []),
    ...(args.membership !== undefined ? [`--membership ${args.membership ? "on" : "off"}`] : []),
    ...(args.mutant ? [`--mutant ${args.mutant.name}`] : []),
  ].join(" ");
  const { failures, wallSeconds } = runSeeds<RandomRunResult>({
    first: args.seed,
    count: args.seeds,
    show: args.show,
    verbose: args.verbose,
    run: (seed) => {
      const r = randomRun({
        ...(args.mutant ? args.mutant.options : {}),
        seed,
        replayArgs,
        ...(args.servers !== undefined ? { servers: args.servers } : {}),
        ...(args.snapshotSource !== undefined ? { snapshotSource: args.snapshotSource } : {}),
        ...(args.diskFaults !== undefined ? { diskFaults: args.diskFaults } : {}),
        ...(args.sleep !== undefined ? { sleep: args.sleep } : {}),
        ...(args.membership !== undefined ? { membership: args.membership } : {}),
        ...(args.verbose ? { narrate: true, echo: (line: string) => console.log(line) } : {}),
      });
      events += r.events;
      virtualMs += r.virtualMs;
      committed += r.committed;
      if (r.healMs !== null) maxHeal = Math.max(maxHeal, r.healMs);
      if (r.snapshotSource === "live") live++;
      if (r.preVote) preVote++;
      snapshots += r.snapshots;
      for (const k of Object.keys(transfers) as (keyof typeof transfers)[]) transfers[k] += r.transfers[k];
      if (r.diskFailures) diskSeeds++;
      const n = r.refused.full + r.refused.tooLarge + r.refused.transient;
      if (n > 0) refusingSeeds++;
      refused.full += r.refused.full;
      refused.tooLarge += r.refused.tooLarge;
      refused.transient += r.refused.transient;
      resets += r.resets;
      if (r.sleepAfterMs !== null) sleepy.seeds++;
      sleepy.evictions += r.evictions;
      sleepy.deploys += r.deploys;
      sleepy.resumes += r.resumes;
      sleepy.sleeps += r.sleeps;
      sleepy.wakes += r.wakes;
      sleepy.hostWakes += r.hostWakes;
      sleepy.slowestOperationMs = Math.max(sleepy.slowestOperationMs, r.slowestOperationMs ?? 0);
      if (r.membership) {
        const m = r.membership;
        membershipSeeds++;
        for (const k of ["adds", "promotes", "removes", "leaderRemovals", "asked", "abandoned", "created", "retired"] as const) ms[k] += m[k];
        for (const k of Object.keys(ms.refused) as (keyof typeof ms.refused)[]) ms.refused[k] += m.refused[k];
        ms.minVoters = Math.min(ms.minVoters, m.minVoters);
        ms.maxVoters = Math.max(ms.maxVoters, m.maxVoters);
        ms.maxLearners = Math.max(ms.maxLearners, m.maxLearners);
        if (m.minVoters <= 2) shrankToTwo++;
        if (m.learnersDecisive) learnersDecisive++;
        if (m.lateRetire) lateRetire++;
      }
      return r;
    },
    ok: (r) => r.ok,
    report,
    oneLine: (r) => `FAIL seed ${r.seed}: ${r.invariant ?? "error"} — ${r.replay}`,
  });
  console.log(
    `\n${args.mutant ? `[mutant ${args.mutant.name}] ` : ""}${args.seeds - failures.length}/${args.seeds} seeds passed (seeds ${args.seed}..${args.seed + args.seeds - 1}` +
      `${args.servers !== undefined ? `, ${args.servers} servers` : ""}): ` +
      `${events} events, ${(virtualMs / 1000).toFixed(0)} s virtual, ${committed} entries committed, ` +
      `slowest recovery after healing ${maxHeal.toFixed(0)} ms virtual; ${preVote} seeds with PreVote, ` +
      `${live} with live snapshots, ${snapshots} InstallSnapshots sent (live: ${transfers.started} transfers started, ${transfers.completed} completed, ${transfers.busy} refused as one was under way, ${transfers.chunks} pieces); wall ${wallSeconds.toFixed(1)} s`,
  );
  const totalRefused = refused.full + refused.tooLarge + refused.transient;
  console.log(
    `disk failures: ${diskSeeds} seeds with failing disks, ${refusingSeeds} of them refused writes: ${totalRefused} writes refused ` +
      `(full ${refused.full}, too large ${refused.tooLarge}, transient ${refused.transient}), ${resets} servers reset`,
  );
  console.log(
    `sleep and evictions: ${sleepy.seeds} seeds with sleep on; ${sleepy.evictions} evictions (${sleepy.deploys} deploys), ` +
      `${sleepy.resumes} boots resumed leading; ${sleepy.sleeps} servers fell asleep, ${sleepy.wakes} woke, ${sleepy.hostWakes} wake() calls by the host; ` +
      `slowest operation after the liveness phase ${sleepy.slowestOperationMs.toFixed(0)} ms virtual`,
  );
  console.log(
    `membership: ${membershipSeeds} seeds with changes; committed: ${ms.adds} learners added, ${ms.promotes} promoted, ` +
      `${ms.removes} members removed, ${ms.leaderRemovals} leaders removed; ${ms.asked} requests, refused: ` +
      `${Object.entries(ms.refused).map(([k, v]) => `${k} ${v}`).join(", ")}; ${ms.abandoned} given up; ` +
      `${ms.created} servers created, ${ms.retired} stopped; voters ${membershipSeeds > 0 ? ms.minVoters : "-"}..${ms.maxVoters}, ` +
      `learners up to ${ms.maxLearners}; ${shrankToTwo} seeds went down to 2 voters or fewer, ` +
      `${learnersDecisive} committed a configuration whose learners could complete a quorum, ` +
      `${lateRetire} left removed servers running for seconds`,
  );
  exitWithFailures(failures.map((f) => f.seed));
}

main();
