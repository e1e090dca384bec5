// Issue 19: the lives of one leader (a reset leader resumes its term), told one story at a
// time. Each story is the schedule a review found to break a rule of resuming, reading or
// sleeping; the invariants check every event, and each story also asserts what a client
// would see. `life` below is one load of a server's object (the sim's eviction).

import { describe, expect, test } from "vitest";
import type { AppendEntriesReply, NodeId } from "../../src/raft/types.ts";
import { Harness, scenario } from "./harness.ts";
import { capture, LOSSY, others, sleepsOnLossyNetwork, staleAsleepAnswer } from "./leader-lives-stories.ts";
import { forEachSeed } from "./seeds.ts";


describe("leader lives", () => {
  // Bug 1. Two lives of one leader numbered their ReadIndex rounds from the clock, so a
  // reply to the first life's round N confirmed the second life's round N.
  test("a reply to a read round of an earlier life does not confirm a round of this life", () => {
    forEachSeed((seed) =>
      scenario(3, { seed, stateMachine: "durable" }, (h) => {
        const c = h.cluster;
        const [leader] = h.checkSingleLeader();
        const [f, g] = others(h, leader) as [NodeId, NodeId];
        h.submitToLeader(leader, "x");
        h.sleep(100);
        // Life 2 asks for a read; its round's answers are kept from it (F's is held).
        c.evict(leader);
        h.cutLink(f, leader);
        h.cutLink(g, leader);
        const held = capture(h, (m) => m.type === "AppendEntriesReply" && m.from === f && m.to === leader && m.readSeq !== undefined);
        expect(c.readIndex(leader, "r1").accepted).toBe(true);
        // Life 3, in the same instant (a reset after a refused write reloads at once).
        c.evict(leader);
        h.sleep(20);
        c.net.tamper = null;
        expect(held.length).toBeGreaterThan(0);
        // The leader is cut off; F and G elect a leader of a later term, which commits "w".
        h.disconnect(leader);
        h.heal();
        h.until(() => others(h, leader).some((i) => c.status(i)!.state === "Leader"), 3000, "a new leader among F and G");
        const next = others(h, leader).find((i) => c.status(i)!.state === "Leader")!;
        h.submitToLeader(next, "w");
        h.until(() => c.applied(next).some((e) => e.command === "w"), 2000, "w applied on the new leader");
        // A read reaches the old leader's third life; F's late answers arrive.
        expect(c.status(leader)).toMatchObject({ state: "Leader" });
        const confirmed = c.readsConfirmed;
        expect(c.readIndex(leader, "r2").accepted).toBe(true);
        for (const m of held) c.inject(leader, m as AppendEntriesReply);
        h.sleep(1);
        // ReadIndexSafety would have fired at a confirmation; the read must still be waiting.
        expect(c.readsConfirmed).toBe(confirmed);
      }),
    );
  });

  // Bug 2. A removed leader hands over (TimeoutNow) and steps down; evicted before the
  // coordinator retires it, it reloaded as the leader of its old term and led on.
  test("a removed leader that handed over comes back as a follower after an eviction", () => {
    forEachSeed((seed) =>
      scenario(3, { seed, stateMachine: "durable", retireRemoved: false }, (h) => {
        const c = h.cluster;
        const [leader, term] = h.checkSingleLeader();
        h.submitToLeader(leader, "x");
        h.sleep(100);
        expect(c.changeMembership(leader, { op: "remove", id: leader }).accepted).toBe(true);
        // Its appends are on their way; from now on every request it sends is lost (the TimeoutNow among them).
        c.net.dropCallsAfterN(leader, 0);
        h.until(() => c.status(leader)!.state !== "Leader", 1000, "the removed leader steps down");
        c.evict(leader);
        c.net.dontDropCalls(leader);
        expect(c.status(leader)!.state).not.toBe("Leader");
        h.sleep(2000);
        expect(c.status(leader)!.state).not.toBe("Leader");
        const [next, nextTerm] = h.checkSingleLeader();
        expect(next).not.toBe(leader);
        expect(nextTerm).toBeGreaterThan(term);
      }),
    );
  });

  test("a leader whose own removal is not committed yet resumes after an eviction and finishes it", () => {
    forEachSeed((seed) =>
      scenario(3, { seed, stateMachine: "durable", retireRemoved: false }, (h) => {
        const c = h.cluster;
        const [leader, term] = h.checkSingleLeader();
        h.submitToLeader(leader, "x");
        h.sleep(100);
        for (const i of others(h, leader)) h.cutLink(i, leader); // no answer: the removal cannot commit
        const r = c.changeMembership(leader, { op: "remove", id: leader });
        expect(r.accepted).toBe(true);
        h.sleep(20);
        c.evict(leader);
        expect(c.status(leader)).toMatchObject({ state: "Leader", term });
        h.heal();
        h.until(() => others(h, leader).some((i) => c.status(i)!.state === "Leader"), 2000, "a remaining voter leads");
        expect(c.status(leader)!.state).not.toBe("Leader");
        expect(c.status(leader)!.commitIndex).toBeGreaterThanOrEqual(r.accepted ? r.index : 0);
      }),
    );
  });

  // Bug 3. Followers woken from sleep by a returning server's PreVote counted their leader as
  // unheard since the quiesce heartbeat and granted it; the returning server deposed the leader.
  /** G cut off while the leader and F fall asleep (F reset while asleep if `resetF`), then G comes back asking PreVotes. */
  const returnToSleepingCluster = (resetF: boolean) =>
    forEachSeed((seed) =>
      scenario(3, { seed, stateMachine: "durable", sleepAfterMs: 300, raftOptions: { preVote: true } }, (h) => {
        const c = h.cluster;
        const [leader, term] = h.checkSingleLeader();
        const [f, g] = others(h, leader) as [NodeId, NodeId];
        h.submitToLeader(leader, "x");
        h.sleep(100); // G holds x too: its log is as good as anyone's
        h.disconnect(g);
        h.until(() => c.status(leader)!.asleep && c.status(f)!.asleep, 3000, "the leader and F asleep");
        if (resetF) {
          c.evict(f);
          expect(c.status(f)!.asleep).toBe(true);
        }
        h.sleep(1000);
        h.reconnect(g);
        h.sleep(2000);
        expect(h.checkSingleLeader()).toEqual([leader, term]);
      }),
    );

  test("a server returning to a sleeping cluster does not depose its leader (PreVote)", () => returnToSleepingCluster(false));

  test("a follower reset while asleep does not depose its leader either", () => returnToSleepingCluster(true));

  // Bug 4. An "asleep" answer to an earlier quiesce round counted in a later one: the leader
  // slept while a follower, woken in between, was awake with its election timer running.
  test("an asleep answer to an earlier quiesce round does not count in a later one", () => {
    forEachSeed((seed) =>
      scenario(3, { seed, stateMachine: "durable", sleepAfterMs: 200 }, staleAsleepAnswer),
    );
  });

  // The lossy-network sleep bound (API.md: asleep at most ten election timeouts after the
  // idle time). A lost quiesce message restarted the whole idle wait.
  test("on a lossy network the idle cluster sleeps within ten election timeouts of the idle time", () => {
    forEachSeed((seed) => scenario(3, { seed, ...LOSSY }, sleepsOnLossyNetwork));
  });
});
