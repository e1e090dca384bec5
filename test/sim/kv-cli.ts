// The simulated key/value workload from the command line (see kv-workload.ts):
//
//   npx tsx test/sim/kv-cli.ts --seeds N [--seed S] [--servers 3|5] [--clients C] [--keys K]
//                              [--fault-ms MS] [--snapshot-source stored|live] [--mutant NAME] [--verbose] [--show N]
//
// Runs seeds S..S+N-1 (S defaults to 1; N to 1). A failing seed prints what broke (the Raft
// invariant, the non-linearizable key with its longest linearizable prefix, the duplicated
// value...) and the one-line command that replays it; the exit code is then 1. --verbose
// narrates every run as it goes (use it with one seed). --mutant runs a broken coordinator
// (new-id-on-unknown: retries an unknown outcome with a new request id; local-reads: answers
// gets from a server's local state; stale-ranges: answers linearizable etcd ranges from a
// server's local state) or a broken store (compaction-drops-live: compaction also drops each
// key's live version): failures are then expected, and the summary counts which check caught
// how many seeds. --snapshot-source forces what InstallSnapshot carries ("live": the Durable
// Object's way, the real KvStateMachine snapshot; drawn per seed otherwise).

import type { SnapshotSource } from "./disk.ts";
import { type CoordinatorKind, type KvProblemKind, kvRun, type KvRunResult, MUTANT_COORDINATORS } from "./kv-workload.ts";
import { exitWithFailures, runSeeds } from "./seed-loop.ts";

interface Args {
  seeds: number;
  seed: number;
  servers: 3 | 5 | undefined;
  clients: number | undefined;
  keys: number | undefined;
  faultMs: number | undefined;
  coordinator: CoordinatorKind;
  snapshotSource: SnapshotSource | undefined;
  verbose: boolean;
  show: number;
}

function usage(problem: string): never {
  console.error(
    `${problem}\nusage: npx tsx test/sim/kv-cli.ts --seeds N [--seed S] [--servers 3|5] [--clients C] [--keys K] ` +
      `[--fault-ms MS] [--snapshot-source stored|live] [--mutant ${MUTANT_COORDINATORS.join("|")}] [--verbose] [--show N]`,
  );
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    seeds: 1,
    seed: 1,
    servers: undefined,
    clients: undefined,
    keys: undefined,
    faultMs: undefined,
    coordinator: "exactly-once",
    snapshotSource: undefined,
    verbose: false,
    show: 3,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (min: number): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < min) usage(`${a} needs an integer >= ${min}`);
      return v;
    };
    if (a === "--seeds") args.seeds = value(1);
    else if (a === "--seed") args.seed = value(0);
    else if (a === "--servers") {
      const n = value(1);
      if (n !== 3 && n !== 5) usage("--servers must be 3 or 5");
      args.servers = n;
    } else if (a === "--clients") args.clients = value(1);
    else if (a === "--keys") args.keys = value(1);
    else if (a === "--fault-ms") args.faultMs = value(0);
    else if (a === "--verbose") args.verbose = true;
    else if (a === "--snapshot-source") {
      const v = argv[++i];
      if (v !== "stored" && v !== "live") usage("--snapshot-source must be stored or live");
      args.snapshotSource = v;
    }
    else if (a === "--show") args.show = value(0);
    else if (a === "--mutant") {
      const name = argv[++i];
      const mutant = MUTANT_COORDINATORS.find((m) => m === name);
      if (mutant === undefined) usage(`the mutants are ${MUTANT_COORDINATORS.join(", ")}`);
      args.coordinator = mutant;
    } else usage(`unknown argument ${a}`);
  }
  return args;
}

function report(r: KvRunResult): void {
  console.log(`\n=== FAIL seed ${r.seed} (${r.servers} servers, ${r.clients} clients, ${r.keys} keys) ===`);
  for (const p of r.problems) console.log(`[${p.kind}] ${p.message}`);
  if (r.tail.length > 0) console.log(`--- last ${r.tail.length} narrated lines ---\n${r.tail.join("\n")}`);
  console.log(`--- replay with: ${r.replay}`);
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const caughtBy = new Map<KvProblemKind, number>();
  const durable = { durable: 0, volatile: 0 };
  const sum = { calls: 0, ok: 0, unknown: 0, failed: 0, history: 0, events: 0, checkMs: 0, maxCheckMs: 0, fromSession: 0, revHistory: 0, revCheckMs: 0, maxRevCheckMs: 0, ranges: 0, txns: 0, txnFailures: 0, compactions: 0, autoCompactions: 0, compactedReads: 0, restores: 0 };
  const { failures, wallSeconds } = runSeeds<KvRunResult>({
    first: args.seed,
    count: args.seeds,
    show: args.show,
    verbose: args.verbose,
    run: (seed) => {
      const r = kvRun({
        seed,
        coordinator: args.coordinator,
        ...(args.servers !== undefined ? { servers: args.servers } : {}),
        ...(args.clients !== undefined ? { clients: args.clients } : {}),
        ...(args.keys !== undefined ? { keys: args.keys } : {}),
        ...(args.faultMs !== undefined ? { faultMs: args.faultMs } : {}),
        ...(args.snapshotSource !== undefined ? { snapshotSource: args.snapshotSource } : {}),
        ...(args.verbose ? { narrate: true, echo: (line: string) => console.log(line) } : {}),
      });
      durable[r.stateMachine]++;
      sum.calls += r.tally.calls;
      sum.ok += r.tally.ok;
      sum.unknown += r.tally.unknown;
      sum.failed += r.tally.failed;
      sum.history += r.historySize;
      sum.events += r.events;
      sum.checkMs += r.checkMs;
      sum.maxCheckMs = Math.max(sum.maxCheckMs, r.checkMs);
      sum.fromSession += r.tally.answeredFromSession;
      sum.revHistory += r.revisionHistorySize;
      sum.revCheckMs += r.revisionCheckMs;
      sum.maxRevCheckMs = Math.max(sum.maxRevCheckMs, r.revisionCheckMs);
      sum.ranges += r.tally.etcdRanges;
      sum.txns += r.tally.etcdTxns;
      sum.txnFailures += r.tally.txnFailures;
      sum.compactions += r.tally.etcdCompactions;
      sum.compactedReads += r.tally.compactedReads;
      sum.restores += r.snapshotRestores;
      sum.autoCompactions += r.compactions;
      if (args.verbose || args.seeds === 1) {
        console.log(
          `seed ${seed}: ${r.ok ? "ok" : "FAIL"}; ${r.servers} servers (${r.stateMachine} state machines), ${r.clients} clients, ${r.keys} keys; calls ${JSON.stringify(r.tally)}; ` +
            `history ${r.historySize} ops, verdict ${r.verdict} in ${r.checkMs} ms; revision history ${r.revisionHistorySize} ops (${r.etcdClients} etcd clients), verdict ${r.revisionVerdict} in ${r.revisionCheckMs} ms; ` +
            `${r.rebuilds} replica rebuilds, ${r.snapshotRestores} live snapshots restored; ` +
            `${r.compactions} automatic compactions (retention ${r.compactionRetention}); ${r.events} events`,
        );
      }
      if (!r.ok) for (const kind of new Set(r.problems.map((p) => p.kind))) caughtBy.set(kind, (caughtBy.get(kind) ?? 0) + 1);
      return r;
    },
    ok: (r) => r.ok,
    report,
    oneLine: (r) => `FAIL seed ${r.seed}: ${r.problems.map((p) => p.kind).join(", ")} — ${r.replay}`,
  });
  console.log(
    `\n${args.coordinator !== "exactly-once" ? `[mutant ${args.coordinator}] ` : ""}${args.seeds - failures.length}/${args.seeds} seeds passed ` +
      `(seeds ${args.seed}..${args.seed + args.seeds - 1}): ${sum.calls} calls, ${sum.ok} ok, ${sum.unknown} unknown, ${sum.failed} failed, ` +
      `${sum.fromSession} answered from the session table; ${sum.autoCompactions} automatic compactions; state machines durable in ${durable.durable} seeds, volatile in ${durable.volatile}; ${sum.history} operations checked in ${(sum.checkMs / 1000).toFixed(1)} s ` +
      `(slowest ${sum.maxCheckMs} ms); by revision ${sum.revHistory} operations (${sum.ranges} etcd ranges, ${sum.txns} txns of which ${sum.txnFailures} took the failure branch, ` +
      `${sum.compactions} compactions answered, ${sum.compactedReads} reads refused as compacted) checked in ${(sum.revCheckMs / 1000).toFixed(1)} s (slowest ${sum.maxRevCheckMs} ms); ` +
      `${sum.restores} live snapshots restored; ${sum.events} events; wall ${wallSeconds.toFixed(1)} s`,
  );
  exitWithFailures(
    failures.map((f) => f.seed),
    [`caught by: ${[...caughtBy].map(([k, n]) => `${k} ${n}`).join(", ")}`],
  );
}

main();
