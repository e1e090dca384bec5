// Figure 8 of the Raft paper, scripted with the harness verbs: the schedule in which a
// leader that commits an entry of an earlier term by counting replicas loses a committed
// entry. The correct core must pass it (A is never committed, B replaces it); a core whose
// isCommittable() counts earlier terms commits A in step (c), and the checkers must object in
// step (d), when a server without A is elected.
//
//   (a) S0 leads; A reaches only S1.            (b) S0 crashes; L2 (one of S2–S4) is elected
//   and takes B, which reaches nobody; L2 crashes.  (c) S0 restarts; S0 or S1 (both hold A) is
//   elected and replicates A to a majority.      (d) that leader crashes and S0/S1 leave; L2
//   restarts and, its last term being the highest, is elected by the other two.

import type { Harness } from "./harness.ts";

export function figure8Paper(h: Harness): void {
  h.check(h.n === 5, "Figure 8 needs 5 servers");
  const [s0] = h.checkSingleLeader();
  const S = [0, 1, 2, 3, 4].map((k) => (s0 + k) % 5) as [number, number, number, number, number];
  const [S0, S1] = S;
  h.submitToLeader(S0, "x");
  h.sleep(100);
  h.checkCommittedN("x", 5);

  // (a)
  h.partition([S0, S1], [S[2], S[3], S[4]]);
  const indexA = h.submitToLeader(S0, "A");
  h.sleep(10);
  h.check(h.cluster.disk(S1).entry(indexA)?.command === "A", "A did not reach S1");
  h.crash(S0);

  // (b)
  h.until(() => h.leaderAmongConnected() !== null, 8000, "a leader in step (b)");
  const L2 = h.leaderAmongConnected()!;
  h.check([S[2], S[3], S[4]].includes(L2), `leader ${L2} in step (b) is not one of S2–S4`);
  const voters = [S[2], S[3], S[4]].filter((i) => i !== L2);
  h.disconnect(L2);
  h.check(h.submitToLeader(L2, "B") === indexA, "B did not land at A's index");
  h.sleep(5);
  h.crash(L2);

  // (c)
  h.heal();
  h.restart(S0);
  // Only S0 or S1 can win; S2–S4's hopeless candidacies keep restarting their timers (see (d)).
  h.until(() => h.leaderAmongConnected() !== null, 8000, "a leader in step (c)");
  const L3 = h.leaderAmongConnected()!;
  h.check([S0, S1].includes(L3), `leader ${L3} in step (c) is not S0 or S1`);
  h.sleep(100);
  for (const v of voters) h.check(h.cluster.disk(v).entry(indexA)?.command === "A", `A did not reach ${v} in step (c)`);

  // (d)
  h.crash(L3);
  h.disconnect(L3 === S0 ? S1 : S0);
  h.restart(L2);
  const dStart = h.now;
  // Only L2 can win (its last term is the highest), once its own timer beats the others';
  // the core restarts its timer on every higher-term RequestVote it refuses, so this can take
  // several rounds (see notes/core-bugs.md).
  h.until(() => h.leaderAmongConnected() !== null, 8000, "a leader in step (d)");
  h.check(h.leaderAmongConnected() === L2, `leader ${h.leaderAmongConnected()} in step (d) is not L2=${L2}`);
  h.tlog(`step (d): L2 elected after ${(h.now - dStart).toFixed(0)} ms`);
  h.submitToLeader(L2, "C");
  h.sleep(100);
  h.checkCommittedN("C", 3);
  h.checkNotCommitted("A");

  // Everyone back: B and C everywhere, A nowhere.
  for (const i of [S0, S1]) {
    if (h.cluster.alive(i)) h.reconnect(i);
    else h.restart(i);
  }
  h.until(() => h.cluster.ids.every((i) => h.cluster.applied(i).some((e) => e.command === "C")), 3000, "C on all 5");
  h.checkCommittedN("C", 5);
  h.checkCommittedN("B", 5);
  h.checkNotCommitted("A");
}
