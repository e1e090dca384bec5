// Beyond the paper's Figure 2: the optional behaviours of the core (PreVote, CheckQuorum),
// shown on the reference's own stories. Each scenario runs over several seeds; every
// invariant (PreVoteTermStable among them) is checked after every event, as everywhere.

import { describe, expect, test } from "vitest";
import type { NodeId } from "../../src/raft/types.ts";
import { type Harness, scenario } from "./harness.ts";
import { forEachSeed } from "./seeds.ts";

/** The reference's election timeout (ms): [150, 300). */
const ELECTION_TIMEOUT_MAX = 300;

/** Sleep `ms` in 5 ms steps, calling `watch` after each (to see what happens meanwhile, not just at the end). */
function sleepWatching(h: Harness, ms: number, watch: () => void): void {
  const end = h.now + ms;
  while (h.now < end) {
    h.sleep(Math.min(5, end - h.now));
    watch();
  }
}

describe("PreVote", () => {
  // ElectionFollowerComesBack (part1-elections.test.ts) with PreVote on, and the opposite
  // outcome: cut off, the follower polls and is refused (nobody hears it), so its term stays
  // put; back, it is refused again (the others hear their leader), so nobody is deposed.
  test("ElectionFollowerComesBack with PreVote", () => {
    forEachSeed((seed) =>
      scenario(3, { seed, raftOptions: { preVote: true } }, (h) => {
        const [origLeader, origTerm] = h.checkSingleLeader();
        const other = (origLeader + 1) % 3;
        h.disconnect(other);
        let polled = false;
        sleepWatching(h, 650, () => {
          const st = h.cluster.status(other)!;
          if (st.preCandidate) polled = true;
          h.check(st.term === origTerm, `cut-off follower ${other} went from term ${origTerm} to ${st.term}`);
        });
        // It did stand (its election timer fired, it polled), it just never raised its term.
        expect(polled).toBe(true);
        h.reconnect(other);
        h.sleep(150);
        const [leader, term] = h.checkSingleLeader();
        expect(leader).toBe(origLeader);
        expect(term).toBe(origTerm);
        expect(h.term(other)).toBe(origTerm);
        expect(h.cluster.status(other)!.leader).toBe(origLeader);
        // And it is a working member again.
        h.submitToLeader(leader, 42);
        h.sleep(100);
        h.checkCommittedN(42, 3);
      }),
    );
  });
});

describe("CheckQuorum", () => {
  /**
   * Partition the leader alone; returns [old leader, when it stepped down (ms after the
   * partition)]. The leader keeps the time of each follower's last answer and steps down the
   * moment fewer than a majority answered within the last election timeout (the upper
   * bound): the last answers came at the latest at the partition, so within one timeout.
   */
  function isolateLeader(h: Harness): [NodeId, NodeId[], number] {
    const [leader] = h.checkSingleLeader();
    const others = h.cluster.ids.filter((i) => i !== leader);
    h.partition([leader], others);
    const t0 = h.now;
    h.until(() => h.cluster.status(leader)!.state !== "Leader", 2 * ELECTION_TIMEOUT_MAX, `leader ${leader} to step down`);
    const after = h.now - t0;
    h.tlog(`isolated leader ${leader} stepped down ${after} ms after the partition`);
    return [leader, others, after];
  }

  test("an isolated leader steps down and refuses writes; the majority goes on", () => {
    forEachSeed((seed) =>
      scenario(3, { seed, raftOptions: { checkQuorum: true } }, (h) => {
        h.one(1, 3, true);
        const [old, others, after] = isolateLeader(h);
        expect(after).toBeLessThanOrEqual(ELECTION_TIMEOUT_MAX);
        expect(h.submit(old, "to the deposed leader").accepted).toBe(false);
        // The other two elect a leader of their own and commit without it.
        h.until(() => others.some((i) => h.cluster.status(i)!.state === "Leader"), 2 * ELECTION_TIMEOUT_MAX, "a new leader");
        const leader = others.find((i) => h.cluster.status(i)!.state === "Leader")!;
        expect(h.term(leader)).toBeGreaterThan(0);
        h.submitToLeader(leader, 2);
        h.sleep(50);
        h.checkCommittedN(2, 2);
        expect(h.cluster.applied(old).map((e) => e.command)).not.toContain(2);
        // Healed: one cluster again, the old leader caught up.
        h.heal();
        h.one(3, 3, true);
        h.checkNotCommitted("to the deposed leader");
      }),
    );
  });

  // With PreVote as well, the deposed leader's polls fail while it is cut off, so it comes
  // back at its old term and simply follows: the new leader is not disturbed.
  test("with PreVote, the deposed leader rejoins without disturbing the new one", () => {
    forEachSeed((seed) =>
      scenario(3, { seed, raftOptions: { checkQuorum: true, preVote: true } }, (h) => {
        const [, oldTerm] = h.checkSingleLeader();
        const [old, others] = isolateLeader(h);
        h.until(() => others.some((i) => h.cluster.status(i)!.state === "Leader"), 2 * ELECTION_TIMEOUT_MAX, "a new leader");
        const leader = others.find((i) => h.cluster.status(i)!.state === "Leader")!;
        const term = h.term(leader);
        h.sleep(600);
        expect(h.term(old)).toBe(oldTerm);
        h.heal();
        h.sleep(150);
        expect(h.checkSingleLeader()).toEqual([leader, term]);
        expect(h.cluster.status(old)!.leader).toBe(leader);
        h.submitToLeader(leader, 7);
        h.sleep(50 + 50); // followers learn the commit within a heartbeat
        h.checkCommittedN(7, 3);
      }),
    );
  });
});
