// The randomized search inside the test suite: SIM_SEEDS (default 300) random schedules of
// partitions, one-way links, crashes (also mid-Ready), restarts, loss, duplication, long
// delays and proposals, each followed by the liveness phase. The CLI (npm run sim) runs the
// same runs for any number of seeds. Each seed also draws the core's options (PreVote for
// about half) and the snapshot host ("live", the Durable Object's way, for about a quarter);
// about half get disks that refuse writes (full, too large, transient), each refusal resetting
// its server as the Durable Object does; about half run sleeping cores, and every seed's faults
// include evictions and deploys (a reset leader resumes its term); about three quarters run
// membership changes (servers added as learners, promoted, removed, the leader too, driven
// as the coordinator will); the last test checks that the seeds did exercise all of these.

import { describe, expect, test } from "vitest";
import { randomRun, type RandomRunResult } from "./random-run.ts";

const SEEDS = Number(process.env["SIM_SEEDS"] ?? 300);
const BATCH = 50;

/** What the seeds exercised, summed over the batches (checked by the last test). */
const total = {
  seeds: 0,
  preVote: 0,
  live: 0,
  storedSnapshots: 0,
  liveSnapshots: 0,
  refusingSeeds: 0,
  refused: { full: 0, tooLarge: 0, transient: 0 },
  sleepSeeds: 0,
  evictions: 0,
  deploys: 0,
  resumes: 0,
  sleeps: 0,
  wakes: 0,
  sleepChecks: 0,
  membershipSeeds: 0,
  adds: 0,
  promotes: 0,
  removes: 0,
  leaderRemovals: 0,
  shrankToTwo: 0,
};

function describeFailure(r: RandomRunResult): string {
  return `seed ${r.seed}: ${r.message}\n${r.tail.join("\n")}\nreplay: ${r.replay}`;
}

describe("randomized search", () => {
  test("a seed replays exactly (narrated or not)", () => {
    const a = randomRun({ seed: 42, narrate: true, tailLines: 200 });
    const b = randomRun({ seed: 42, narrate: true, tailLines: 200 });
    const quiet = randomRun({ seed: 42 });
    expect(a.ok).toBe(true);
    expect(b.tail).toEqual(a.tail);
    expect(a.tail).toHaveLength(200);
    for (const r of [b, quiet]) {
      expect([r.events, r.virtualMs, r.committed, r.proposalsAccepted, r.leaders]).toEqual([
        a.events,
        a.virtualMs,
        a.committed,
        a.proposalsAccepted,
        a.leaders,
      ]);
    }
    // Different seeds are different runs.
    expect(randomRun({ seed: 43 }).events).not.toBe(a.events);
  });

  for (let from = 1; from <= SEEDS; from += BATCH) {
    const to = Math.min(SEEDS, from + BATCH - 1);
    test(`seeds ${from}..${to}`, () => {
      const failures: string[] = [];
      let events = 0;
      let committed = 0;
      for (let seed = from; seed <= to; seed++) {
        const r = randomRun({ seed });
        events += r.events;
        committed += r.committed;
        total.seeds++;
        if (r.preVote) total.preVote++;
        if (r.snapshotSource === "live") {
          total.live++;
          total.liveSnapshots += r.snapshots;
        } else total.storedSnapshots += r.snapshots;
        if (r.refused.full + r.refused.tooLarge + r.refused.transient > 0) total.refusingSeeds++;
        for (const k of ["full", "tooLarge", "transient"] as const) total.refused[k] += r.refused[k];
        if (r.sleepAfterMs !== null) total.sleepSeeds++;
        if (r.slowestOperationMs !== null) total.sleepChecks++;
        total.evictions += r.evictions;
        total.deploys += r.deploys;
        total.resumes += r.resumes;
        total.sleeps += r.sleeps;
        total.wakes += r.wakes;
        if (r.membership) {
          total.membershipSeeds++;
          total.adds += r.membership.adds;
          total.promotes += r.membership.promotes;
          total.removes += r.membership.removes;
          total.leaderRemovals += r.membership.leaderRemovals;
          if (r.membership.minVoters <= 2) total.shrankToTwo++;
        }
        if (!r.ok) failures.push(describeFailure(r));
      }
      expect(failures).toEqual([]);
      // Substance, not just absence of failure: thousands of events and real progress per seed.
      expect(events / (to - from + 1)).toBeGreaterThan(1000);
      expect(committed).toBeGreaterThan(0);
    });
  }

  test("the seeds exercised PreVote, both snapshot hosts, failing disks, sleep, evictions and membership changes", () => {
    expect(total.seeds).toBe(SEEDS);
    // Drawn per seed: PreVote for about half, live snapshots for about a quarter.
    expect(total.preVote).toBeGreaterThan(SEEDS / 4);
    expect(total.live).toBeGreaterThan(SEEDS / 10);
    expect(total.liveSnapshots).toBeGreaterThan(0);
    expect(total.storedSnapshots).toBeGreaterThan(0);
    // At least a quarter of the seeds had writes refused, of every kind.
    expect(total.refusingSeeds).toBeGreaterThanOrEqual(SEEDS / 4);
    expect(total.refused.full).toBeGreaterThan(0);
    expect(total.refused.tooLarge).toBeGreaterThan(0);
    expect(total.refused.transient).toBeGreaterThan(0);
    // Sleep for about half; every seed with sleep went through the sleep checks after healing.
    expect(total.sleepSeeds).toBeGreaterThan(SEEDS / 4);
    expect(total.sleepChecks).toBe(total.sleepSeeds);
    expect(total.sleeps).toBeGreaterThan(total.sleepSeeds);
    expect(total.wakes).toBeGreaterThan(0);
    // Evictions in every schedule, deploys among them, and reset leaders resuming.
    expect(total.evictions).toBeGreaterThan(SEEDS);
    expect(total.deploys).toBeGreaterThan(SEEDS / 10);
    expect(total.resumes).toBeGreaterThan(SEEDS / 4);
    // Membership changes for about three quarters: every kind committed, many times, and
    // clusters that shrank to two voters or fewer.
    expect(total.membershipSeeds).toBeGreaterThan(SEEDS / 2);
    expect(total.adds).toBeGreaterThan(total.membershipSeeds);
    expect(total.promotes).toBeGreaterThan(total.membershipSeeds);
    expect(total.removes).toBeGreaterThan(total.membershipSeeds);
    expect(total.leaderRemovals).toBeGreaterThan(total.membershipSeeds / 4);
    expect(total.shrankToTwo).toBeGreaterThan(total.membershipSeeds / 10);
  });
});
