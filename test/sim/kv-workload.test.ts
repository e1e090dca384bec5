// The key/value service under random faults, in virtual time, over many seeds (kv-workload.ts):
// Raft cores plus a KvStateMachine per server, 4–6 exactly-once clients through a simulated
// coordinator, random-run.ts's faults, and 2–4 etcd clients (ranges, puts, deletes, txns,
// compactions: kv-etcd-calls.ts). Every seed must end with a linearizable /kv history, a
// history that passes the revision check (every write to the store and every etcd call), the
// compaction rule, no value applied twice, and equal replicas. KV_SIM_SEEDS (default 150) sets how many seeds;
// `npx tsx test/sim/kv-cli.ts --seeds 2000` runs as many as wanted.

import { describe, expect, test } from "vitest";
import { type CoordinatorKind, emptyTally, kvRun, type KvProblemKind, type KvRunResult, type KvTally } from "./kv-workload.ts";

const SEEDS = Number(process.env["KV_SIM_SEEDS"] ?? 150);
const BATCH = 50;

function describeFailure(r: KvRunResult): string {
  return `seed ${r.seed}:\n${r.problems.map((p) => `[${p.kind}] ${p.message}`).join("\n")}\n${r.tail.join("\n")}\nreplay: ${r.replay}`;
}

/** Everything a run decides, without wall-clock times. */
function fingerprint(r: KvRunResult): unknown {
  const problems = r.problems.map((p) => `${p.kind}: ${p.message.replace(/^verdict: (\w+) \(\d+ ms, /, "verdict: $1 (")}`);
  return [r.tally, r.events, r.virtualMs, r.historySize, r.verdict, r.revisionHistorySize, r.revisionVerdict, r.rebuilds, r.outcomes, problems];
}

describe("kv workload in the simulator", () => {
  test("a seed replays exactly (narrated or not)", () => {
    const a = kvRun({ seed: 7 });
    const b = kvRun({ seed: 7 });
    const narrated = kvRun({ seed: 7, narrate: true });
    expect(a.ok, describeFailure(a)).toBe(true);
    expect(fingerprint(b)).toEqual(fingerprint(a));
    expect(fingerprint(narrated)).toEqual(fingerprint(a));
    expect(fingerprint(kvRun({ seed: 8 }))).not.toEqual(fingerprint(a));
  });

  const total: KvTally & Record<"seeds" | "rebuilds" | "snapshotRestores" | "threeServers" | "fiveServers" | "durable" | "volatile" | "sessionDuplicates" | "sessionStale" | "compactions" | "compactingSeeds", number> = {
    seeds: 0,
    compactions: 0,
    compactingSeeds: 0,
    sessionDuplicates: 0,
    sessionStale: 0,
    durable: 0,
    volatile: 0,
    rebuilds: 0,
    snapshotRestores: 0,
    threeServers: 0,
    fiveServers: 0,
    ...emptyTally(),
  };

  for (let from = 1; from <= SEEDS; from += BATCH) {
    const to = Math.min(SEEDS, from + BATCH - 1);
    test(`seeds ${from}..${to}: linearizable, exactly-once, replicas equal`, () => {
      const failures: string[] = [];
      for (let seed = from; seed <= to; seed++) {
        const r = kvRun({ seed });
        if (!r.ok) failures.push(describeFailure(r));
        expect(r.verdict === null || r.checkMs < 5_000, `seed ${seed}: checker took ${r.checkMs} ms`).toBe(true);
        expect(r.revisionVerdict === null || r.revisionCheckMs < 5_000, `seed ${seed}: revision checker took ${r.revisionCheckMs} ms`).toBe(true);
        total.seeds++;
        total.rebuilds += r.rebuilds;
        total.snapshotRestores += r.snapshotRestores;
        total.sessionDuplicates += r.outcomes.duplicate;
        total.sessionStale += r.outcomes.stale;
        total.compactions += r.compactions;
        if (r.compactions > 0) total.compactingSeeds++;
        total[r.stateMachine]++;
        if (r.servers === 3) total.threeServers++;
        else total.fiveServers++;
        for (const k of Object.keys(r.tally) as (keyof KvTally)[]) total[k] += r.tally[k];
      }
      expect(failures).toEqual([]);
    });
  }

  // Substance, not just absence of failure: the faults disturbed the clients in every way the
  // coordinator has to handle, and most calls were still answered.
  test("the seeds exercised every path of the coordinator and the sessions", () => {
    expect(total.seeds).toBe(SEEDS);
    const perSeed = total.ok / total.seeds;
    expect(perSeed).toBeGreaterThan(30);
    expect(total.ok / total.calls).toBeGreaterThan(0.9);
    expect(total.threeServers).toBeGreaterThan(0);
    expect(total.fiveServers).toBeGreaterThan(0);
    expect(total.durable).toBeGreaterThan(0);
    expect(total.volatile).toBeGreaterThan(0);
    for (const path of [
      "unknown",
      "failed",
      "notLeader",
      "notApplied",
      "unknownAttempts",
      "lostAnswers",
      "duplicatedRequests",
      "lateRequests",
      "answeredFromSession",
      // The etcd side: every kind of call answered, txns down both branches, reads refused as compacted.
      "etcdRanges",
      "etcdWrites",
      "etcdTxns",
      "txnFailures",
      "etcdCompactions",
      "compactedReads",
    ] as const) {
      expect(total[path], path).toBeGreaterThan(0);
    }
    expect(total.rebuilds).toBeGreaterThan(0);
    // Live snapshots went through the real path: snapshot() as text, pieces, fromSnapshot().
    expect(total.snapshotRestores).toBeGreaterThan(0);
    // The session table turned away second copies of requests: retried ones ("duplicate")
    // and ones that arrived after the client's next request ("stale").
    expect(total.sessionDuplicates).toBeGreaterThan(0);
    expect(total.sessionStale).toBeGreaterThan(0);
    // Leaders compacted the store automatically (retention drawn per seed), and the replicas
    // still agreed (their snapshots, rows included, are compared at the end of every seed).
    expect(total.compactingSeeds).toBeGreaterThan(total.seeds / 2);
    console.log(`kv workload, ${total.seeds} seeds: ${JSON.stringify(total)}`);
  });
});

describe("live snapshots (the Durable Object's way) under the etcd workload", () => {
  test("seeds 1..20 with --snapshot-source live pass, and restore the real snapshots", () => {
    const failures: string[] = [];
    let restores = 0;
    let compactions = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const r = kvRun({ seed, snapshotSource: "live" });
      if (!r.ok) failures.push(describeFailure(r));
      restores += r.snapshotRestores;
      compactions += r.tally.etcdCompactions;
      expect(r.replay).toContain("--snapshot-source live");
    }
    expect(failures).toEqual([]);
    expect(restores).toBeGreaterThan(0);
    expect(compactions).toBeGreaterThan(0);
  });
});

describe("mutant coordinators and stores are caught", () => {
  const firstCaught = (coordinator: CoordinatorKind, kind: KvProblemKind, maxSeeds: number): KvRunResult | null => {
    for (let seed = 1; seed <= maxSeeds; seed++) {
      const r = kvRun({ seed, coordinator });
      if (r.problems.some((p) => p.kind === kind)) return r;
    }
    return null;
  };

  const cases = [
    // Retrying an unknown outcome with a new request id: an append applied twice shows in the
    // final value, and the history stops being linearizable.
    { coordinator: "new-id-on-unknown", kind: "duplicate-append" },
    { coordinator: "new-id-on-unknown", kind: "linearizability" },
    // Answering gets from a server's local state: stale reads.
    { coordinator: "local-reads", kind: "linearizability" },
    // Linearizable etcd ranges answered from whichever server was reached: stale reads by revision.
    { coordinator: "stale-ranges", kind: "revisions" },
    // A store whose compaction drops live versions: keys vanish from later reads.
    { coordinator: "compaction-drops-live", kind: "revisions" },
    // A store that forgets its compacted revision: a read below it answers data instead of etcd's error.
    { coordinator: "compaction-forgotten", kind: "compaction" },
  ] as const;
  for (const { coordinator, kind } of cases) {
    test(`${coordinator}, by the ${kind} check`, () => {
      const r = firstCaught(coordinator, kind, 40);
      expect(r, `${coordinator} not caught by ${kind} within 40 seeds`).not.toBeNull();
      // The same seed with the correct coordinator passes: the mutant, not the seed, is at fault.
      const fine = kvRun({ seed: r!.seed });
      expect(fine.ok, describeFailure(fine)).toBe(true);
      // The report says how to replay it, and the replay fails the same way.
      expect(r!.replay).toContain(`--seed ${r!.seed} `);
      expect(r!.replay).toContain(`--mutant ${coordinator}`);
      expect(fingerprint(kvRun({ seed: r!.seed, coordinator }))).toEqual(fingerprint(r!));
    });
  }
});
