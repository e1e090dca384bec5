// Schedules of leader-lives.test.ts (issue 19) that a mutant test replays too, as
// figure8-paper.ts does for Figure 8: the bug put back must break its invariant here.

import { expect } from "vitest";
import type { Message, NodeId } from "../../src/raft/types.ts";
import type { Harness, HarnessOptions } from "./harness.ts";

/** Capture every message `pick` selects; `drop`: and lose it (else the network routes it as usual). */
export function capture(h: Harness, pick: (m: Message) => boolean, drop = false): Message[] {
  const held: Message[] = [];
  h.cluster.net.tamper = (m) => {
    if (!pick(m)) return m;
    held.push(m);
    return drop ? null : m;
  };
  return held;
}

/** Lose every message `pick` selects. */
export function drop(h: Harness, pick: (m: Message) => boolean): void {
  h.cluster.net.tamper = (m) => (pick(m) ? null : m);
}

export function others(h: Harness, id: NodeId): NodeId[] {
  return h.cluster.ids.filter((i) => i !== id);
}

/**
 * Bug 4: an "asleep" answer to an earlier quiesce round, arriving in a later one. Round 1:
 * F's answer is held, G's lost. A write wakes everyone; once idle again the leader's quiesce
 * heartbeats to F are lost, G agrees, and F's held answer arrives. Counted, the leader would
 * sleep while F is awake with its election timer running. 3 servers, sleepAfterMs 200.
 */
export function staleAsleepAnswer(h: Harness): void {
  const c = h.cluster;
  const [leader] = h.checkSingleLeader();
  const [f, g] = others(h, leader) as [NodeId, NodeId];
  h.submitToLeader(leader, "x");
  h.sleep(100);
  const held = capture(h, (m) => m.type === "AppendEntriesReply" && m.asleep === true && m.to === leader, true);
  h.until(() => held.some((m) => m.from === f), 2000, "F answered asleep");
  const stale = held.find((m) => m.from === f)!;
  c.net.tamper = null;
  h.submitToLeader(leader, "y");
  h.until(() => [f, g].every((i) => c.applied(i).length === 2), 2000, "y applied on F and G");
  drop(h, (m) => m.type === "AppendEntries" && m.quiesce !== undefined && m.to === f);
  h.until(() => c.status(g)!.asleep, 2000, "G asleep");
  h.sleep(5); // G's answer reaches the leader
  expect(c.status(f)!.asleep).toBe(false);
  c.inject(leader, stale);
  h.sleep(5);
  expect(c.status(leader)!.asleep && !c.status(f)!.asleep, "the leader asleep while F is awake").toBe(false);
  c.net.tamper = null;
}

/** The lossy network of the sleep bound's story: sleepAfterMs 1000, election timeout [150, 300], a fifth of messages lost. */
export const LOSSY = {
  stateMachine: "durable",
  sleepAfterMs: 1000,
  electionTimeoutMs: [150, 300],
  network: { dropRate: 0.2, delayMs: [0, 50] },
} as const satisfies HarnessOptions;

/**
 * The lossy-network sleep bound (API.md: asleep at most ten election timeouts after the idle
 * time). One put; then every server must be asleep within sleepAfterMs + 10 * 300 ms of it.
 */
export function sleepsOnLossyNetwork(h: Harness): void {
  const c = h.cluster;
  const bound = LOSSY.sleepAfterMs + 10 * LOSSY.electionTimeoutMs[1];
  let putAt: number | null = null;
  h.until(
    () => {
      const leader = c.ids.find((i) => c.status(i)!.state === "Leader");
      if (putAt === null && leader !== undefined && c.propose(leader, "put").accepted) putAt = c.now;
      return putAt !== null && c.ids.every((i) => c.applied(i).some((e) => e.command === "put"));
    },
    5000,
    "the put applied everywhere",
  );
  const from = putAt!;
  const allAsleep = () => c.ids.every((i) => !c.alive(i) || c.status(i)!.asleep);
  h.until(allAsleep, bound - (c.now - from), `every server asleep within ${bound} ms of the put`);
  h.tlog(`asleep ${(c.now - from).toFixed(0)} ms after the put`);
}
