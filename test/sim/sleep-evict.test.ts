// Sleep, evictions and deploys (issue 11) as scenarios: the stories the random search mixes
// into every schedule, told one at a time, each under several seeds. The host wakes servers
// where the real coordinator does (a fault call; an operation that finds no leader, at most
// once per election timeout); `op` below is a client operation as kv-forward.ts makes it.

import { describe, expect, test } from "vitest";
import type { NodeId } from "../../src/raft/types.ts";
import { Harness, scenario } from "./harness.ts";
import { forEachSeed } from "./seeds.ts";

const SLEEP_AFTER = 300;
const ELECTION_MAX = 300;

interface OpOptions {
  /** The coordinator wakes every server when it finds no leader (it does). */
  readonly wakeOnNoLeader?: boolean;
  /** The coordinator wakes every server when an attempt at a leader times out (it does not). */
  readonly wakeOnTimeout?: boolean;
  readonly budgetMs?: number;
}

/** The leader of the highest term among servers that are up and connected (kv-forward's findLeader). */
function findLeader(h: Harness): NodeId | null {
  let best: NodeId | null = null;
  for (const i of h.cluster.ids) {
    const st = h.cluster.status(i);
    if (st?.state === "Leader" && h.cluster.net.connected[i] && (best === null || st.term > h.cluster.status(best)!.term)) best = i;
  }
  return best;
}

/**
 * One client operation: find the leader (none: wake everyone, at most once per election
 * timeout), propose, wait up to two election timeouts for the leader to apply it; retry.
 * Answers the virtual ms it took, or null if it did not complete within the budget.
 */
function op(h: Harness, command: string, o: OpOptions = {}): number | null {
  const c = h.cluster;
  const t0 = c.now;
  const deadline = t0 + (o.budgetMs ?? 3000);
  let nextWake = 0;
  const wake = (why: string): void => {
    if (c.now < nextWake) return;
    nextWake = c.now + ELECTION_MAX;
    c.wakeAll(why);
  };
  while (c.now < deadline) {
    const leader = findLeader(h);
    if (leader === null) {
      if (o.wakeOnNoLeader ?? true) wake("an operation found no leader");
      h.sleep(10);
      continue;
    }
    const r = c.propose(leader, command);
    if (!r.accepted) {
      h.sleep(10);
      continue;
    }
    const attemptEnd = Math.min(deadline, c.now + 2 * ELECTION_MAX);
    while (c.now < attemptEnd) {
      h.sleep(5);
      const e = c.applied(leader)[r.index - 1];
      if (e && e.term === r.term && e.command === command) return c.now - t0;
    }
    if (o.wakeOnTimeout) wake("an attempt at the leader timed out");
  }
  return null;
}

function untilAsleep(h: Harness): void {
  h.until(() => h.cluster.ids.every((i) => !h.cluster.alive(i) || h.cluster.status(i)!.asleep), SLEEP_AFTER + 2000, "every server asleep");
}

function sleepy(seed: number, extra: Record<string, unknown> = {}) {
  return { seed, sleepAfterMs: SLEEP_AFTER, stateMachine: "durable" as const, ...extra };
}

describe("sleep, evictions and deploys", () => {
  test("an idle cluster sleeps; an operation wakes it in the same term", () => {
    forEachSeed((seed) =>
      scenario(3, sleepy(seed), (h) => {
        const [, term] = h.checkSingleLeader();
        expect(op(h, "a")).not.toBeNull();
        untilAsleep(h);
        const sent = h.cluster.net.stats.sent;
        h.sleep(5000);
        expect(h.cluster.net.stats.sent, "nothing is sent while asleep").toBe(sent);
        expect(op(h, "b")).toBeLessThan(50);
        expect(h.checkSingleLeader()[1]).toBe(term);
      }),
    );
  });

  test("an evicted leader resumes its term; a deploy (awake or asleep) costs no election", () => {
    forEachSeed((seed) =>
      scenario(3, sleepy(seed), (h) => {
        const [leader, term] = h.checkSingleLeader();
        expect(op(h, "a")).not.toBeNull();
        h.cluster.evict(leader);
        expect(h.cluster.status(leader)).toMatchObject({ state: "Leader", term });
        expect(op(h, "b")).toBeLessThan(50);
        h.cluster.evictAll((i) => i); // each reloads 0, 1, 2 ms later
        h.sleep(5);
        expect(op(h, "c")).not.toBeNull();
        untilAsleep(h);
        h.cluster.evictAll();
        expect(h.cluster.status(leader)).toMatchObject({ state: "Leader", term, asleep: true });
        expect(op(h, "d")).toBeLessThan(50);
        expect(h.checkSingleLeader()).toEqual([leader, term]);
        expect(h.cluster.resumes).toBeGreaterThanOrEqual(3);
      }),
    );
  });

  test("a crash and restart of a leader brings it back as a follower", () => {
    forEachSeed((seed) =>
      scenario(3, sleepy(seed), (h) => {
        const [leader] = h.checkSingleLeader();
        h.crash(leader);
        h.restart(leader);
        expect(h.cluster.status(leader)!.state).toBe("Follower");
      }),
    );
  });

  test("a leader lost while the cluster sleeps is replaced when an operation arrives (the host wakes the followers)", () => {
    forEachSeed((seed) =>
      scenario(3, sleepy(seed), (h) => {
        const [leader, term] = h.checkSingleLeader();
        expect(op(h, "a")).not.toBeNull();
        untilAsleep(h);
        h.cluster.crash(leader); // silently: nobody is woken
        h.sleep(3000);
        expect(h.cluster.ids.filter((i) => i !== leader).every((i) => h.cluster.status(i)!.asleep)).toBe(true);
        // A host that never wakes them would wait forever...
        expect(op(h, "b", { wakeOnNoLeader: false, budgetMs: 2000 })).toBeNull();
        // ...the coordinator wakes them, and they elect a leader of a later term.
        expect(op(h, "c")).toBeLessThan(2000);
        expect(h.checkSingleLeader()[1]).toBeGreaterThan(term);
      }),
    );
  });

  test("a partition or a disconnect during sleep (a fault call: it wakes everyone) does not leave the cluster stuck", () => {
    forEachSeed((seed) =>
      scenario(5, sleepy(seed), (h) => {
        const [leader, term] = h.checkSingleLeader();
        expect(op(h, "a")).not.toBeNull();
        untilAsleep(h);
        // The leader with one follower on the minority side, while everyone sleeps.
        const others = h.cluster.ids.filter((i) => i !== leader);
        h.cluster.net.partition([[leader, others[0]!], others.slice(1)]);
        h.cluster.wakeAll("fault: partition");
        expect(op(h, "b")).toBeLessThan(2000);
        expect(findLeader(h)).not.toBe(leader);
        h.cluster.net.healAllLinks();
        h.cluster.wakeAll("fault: heal");
        expect(op(h, "c")).not.toBeNull();
        untilAsleep(h);
        const [now] = h.checkSingleLeader();
        h.disconnect(now);
        h.cluster.wakeAll("fault: disconnect");
        expect(op(h, "d")).toBeLessThan(2000);
        expect(h.checkSingleLeader()[1]).toBeGreaterThan(term);
      }),
    );
  });

  // Not a fault call: the network itself cuts the leader off while its followers sleep (the
  // random search's silent faults). Nobody wakes the followers, so nobody times out.
  test("a silent partition during sleep: CheckQuorum deposes the cut-off leader, and the next operation finds no leader and wakes the rest", () => {
    forEachSeed((seed) =>
      scenario(3, sleepy(seed, { raftOptions: { checkQuorum: true } }), (h) => {
        const [leader, term] = h.checkSingleLeader();
        expect(op(h, "a")).not.toBeNull();
        untilAsleep(h);
        h.cluster.net.partition([[leader], h.cluster.ids.filter((i) => i !== leader)]);
        expect(op(h, "b")).toBeLessThan(2 * ELECTION_MAX + 2000);
        expect(findLeader(h)).not.toBe(leader);
        expect(h.cluster.status(findLeader(h)!)!.term).toBeGreaterThan(term);
      }),
    );
  });

  test("a silent partition during sleep without CheckQuorum: the cut-off leader keeps its sleeping followers asleep until something wakes them", () => {
    forEachSeed((seed) =>
      scenario(3, sleepy(seed), (h) => {
        const [leader] = h.checkSingleLeader();
        expect(op(h, "a")).not.toBeNull();
        untilAsleep(h);
        h.cluster.net.partition([[leader], h.cluster.ids.filter((i) => i !== leader)]);
        // The operation wakes the leader, whose heartbeats are lost; it still says it leads,
        // so a coordinator that wakes only when it finds no leader waits as long as the cut lasts.
        expect(op(h, "b", { budgetMs: 5000 })).toBeNull();
        expect(h.cluster.ids.filter((i) => i !== leader).every((i) => h.cluster.status(i)!.asleep)).toBe(true);
        // The coordinator (kv-forward.ts) also wakes everyone when an attempt at the leader
        // times out: the majority then elects, and the operation is served.
        expect(op(h, "c", { wakeOnTimeout: true })).not.toBeNull();
        expect(findLeader(h)).not.toBe(leader);
      }),
    );
  });
});
