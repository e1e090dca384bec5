// Scenario bodies from the MIT 6.5840 Raft lab that more than one test file runs: the Figure 8
// schedules (also used to hunt the Figure-8 mutant) and the churn with concurrent clients.

import type { NodeId } from "../../src/raft/types.ts";
import type { Proc } from "./cluster.ts";
import type { Harness } from "./harness.ts";
import { RELIABLE, UNRELIABLE, withLongReordering } from "./network.ts";

/** The lab's timing constant (its elections must complete well within it). */
export const RAFT_ELECTION_TIMEOUT = 1000;

export function randInt(h: Harness): number {
  return h.rng.int(0, 2 ** 31);
}

/** MIT start1 (+ connect): a fresh instance from what the old one persisted. */
export function start1(h: Harness, i: NodeId): void {
  if (h.cluster.alive(i)) h.crash(i);
  h.restart(i);
}

export function crash1(h: Harness, i: NodeId): void {
  if (h.cluster.alive(i)) h.crash(i);
}

/**
 * Figure8: 1000 rounds of "propose to everyone, wait a little (sometimes long), crash the
 * leader, restart someone if fewer than 3 are up" — the pattern in which a leader that
 * committed entries of earlier terms by counting would lose a committed entry.
 */
export function figure8(h: Harness, rounds = 1000): void {
  const n = h.n;
  h.one(randInt(h), 1, true);
  let nup = n;
  for (let iters = 0; iters < rounds; iters++) {
    let leader = -1;
    for (let i = 0; i < n; i++) {
      if (h.cluster.alive(i) && h.cluster.propose(i, randInt(h)).accepted) leader = i;
    }
    if (h.rng.int(0, 1000) < 100) h.sleep(h.rng.int(0, RAFT_ELECTION_TIMEOUT / 2));
    else h.sleep(h.rng.int(0, 13));
    if (leader !== -1) {
      crash1(h, leader);
      nup--;
    }
    if (nup < 3) {
      const s = h.rng.int(0, n);
      if (!h.cluster.alive(s)) {
        h.restart(s);
        nup++;
      }
    }
  }
  for (let i = 0; i < n; i++) if (!h.cluster.alive(i)) h.restart(i);
  h.one(randInt(h), n, true);
}

/** Figure8Unreliable: the same with disconnections on a lossy network, long reordering from round 200. */
export function figure8Unreliable(h: Harness, rounds = 1000): void {
  const n = h.n;
  h.one(randInt(h) % 10000, 1, true);
  let nup = n;
  for (let iters = 0; iters < rounds; iters++) {
    if (iters === 200) {
      h.tlog("long reordering on");
      h.cluster.net.profile = withLongReordering(UNRELIABLE);
    }
    let leader = -1;
    for (let i = 0; i < n; i++) {
      if (h.cluster.propose(i, randInt(h) % 10000).accepted && h.connected(i)) leader = i;
    }
    if (h.rng.int(0, 1000) < 100) h.sleep(h.rng.int(0, RAFT_ELECTION_TIMEOUT / 2));
    else h.sleep(h.rng.int(0, 13));
    if (leader !== -1 && h.rng.int(0, 1000) < RAFT_ELECTION_TIMEOUT / 2) {
      h.disconnect(leader);
      nup--;
    }
    if (nup < 3) {
      const s = h.rng.int(0, n);
      if (!h.connected(s)) {
        h.reconnect(s);
        nup++;
      }
    }
  }
  for (let i = 0; i < n; i++) if (!h.connected(i)) h.reconnect(i);
  h.one(randInt(h) % 10000, n, true);
}

/** MIT's internalChurn: clients keep proposing while servers are disconnected, crashed, restarted. */
export function churn(h: Harness): void {
  const n = 5;
  const stop = { now: false };
  function* client(me: number, values: number[]): Proc {
    while (!stop.now) {
      const x = randInt(h);
      let index = -1;
      let ok = false;
      // Try them all: maybe one of them is a leader.
      for (let i = 0; i < n; i++) {
        const r = h.cluster.propose(i, x);
        if (r.accepted) {
          ok = true;
          index = r.index;
        }
      }
      if (ok) {
        // Maybe the leader commits it, maybe not; don't wait forever.
        for (const to of [10, 20, 50, 100, 200]) {
          const [nd, cmd] = h.nCommitted(index);
          if (nd > 0) {
            if (cmd === x) values.push(x);
            break;
          }
          yield to;
        }
      } else {
        yield 79 + me * 17;
      }
    }
  }
  const seen: number[][] = [[], [], []];
  const clients = seen.map((values, me) => h.cluster.spawn(`client ${me}`, client(me, values)));

  for (let iters = 0; iters < 20; iters++) {
    if (h.rng.int(0, 1000) < 200) h.disconnect(h.rng.int(0, n));
    if (h.rng.int(0, 1000) < 500) {
      const i = h.rng.int(0, n);
      if (!h.cluster.alive(i)) h.restart(i);
      else h.reconnect(i);
    }
    if (h.rng.int(0, 1000) < 200) crash1(h, h.rng.int(0, n));
    // Crashes and restarts infrequent enough that the servers can still make progress.
    h.sleep((RAFT_ELECTION_TIMEOUT * 7) / 10);
  }
  h.sleep(RAFT_ELECTION_TIMEOUT);
  h.cluster.net.profile = RELIABLE;
  for (let i = 0; i < n; i++) {
    if (!h.cluster.alive(i)) h.restart(i);
    else h.reconnect(i);
  }
  stop.now = true;
  for (let k = 0; k < 100 && !clients.every((c) => c.done); k++) h.sleep(50);
  if (!clients.every((c) => c.done)) h.fail("clients did not stop");
  const values = seen.flat();

  h.sleep(RAFT_ELECTION_TIMEOUT);
  const lastIndex = h.one(randInt(h), n, true);
  const really = new Set<unknown>();
  for (let index = 1; index <= lastIndex; index++) really.add(h.wait(index, n, -1));
  for (const v of values) if (!really.has(v)) h.fail(`didn't find a value: ${v} was seen committed and is gone`);
  h.tlog(`churn: ${values.length} values seen committed, ${lastIndex} entries in the final log`);
  if (values.length === 0) h.fail("no client saw any value committed");
}
