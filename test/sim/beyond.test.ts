// Beyond the reference: tests from the MIT 6.5840 Raft lab (3A–3C), with its helpers
// (checkOneLeader, one, nCommitted, wait) and its timing constant RaftElectionTimeout = 1 s.
// Its crash1/start1 map to crash/restart (a restart reconnects, as the lab's connect() after
// start1 does). Concurrent clients are simulated processes interleaved in virtual time.

import { describe, expect, test } from "vitest";
import { scenario } from "./harness.ts";
import { churn, crash1, figure8, figure8Unreliable, RAFT_ELECTION_TIMEOUT, randInt, start1 } from "./mit-scenarios.ts";
import { RELIABLE, UNRELIABLE } from "./network.ts";
import { forEachSeed } from "./seeds.ts";

describe("Beyond the reference (MIT 6.5840)", () => {
  test("ManyElections", () => {
    forEachSeed(
      (seed) =>
        scenario(7, { seed }, (h) => {
          h.checkOneLeader();
          for (let ii = 1; ii < 10; ii++) {
            // Disconnect three servers (maybe the same one twice): four or more remain.
            const [i1, i2, i3] = [h.rng.int(0, 7), h.rng.int(0, 7), h.rng.int(0, 7)];
            h.disconnect(i1);
            h.disconnect(i2);
            h.disconnect(i3);
            // Either the leader is still connected, or the rest elect a new one.
            h.checkOneLeader();
            h.reconnect(i1);
            h.reconnect(i2);
            h.reconnect(i3);
          }
          h.checkOneLeader();
        }),
      [1, 2, 3, 4],
    );
  });

  test("Backup", () => {
    forEachSeed(
      (seed) =>
        scenario(5, { seed }, (h) => {
          const n = 5;
          h.one(randInt(h), n, true);
          // The leader and one follower in a minority partition.
          const leader1 = h.checkOneLeader();
          h.disconnect((leader1 + 2) % n);
          h.disconnect((leader1 + 3) % n);
          h.disconnect((leader1 + 4) % n);
          // Lots of commands that won't commit.
          for (let i = 0; i < 50; i++) h.cluster.propose(leader1, randInt(h));
          h.sleep(RAFT_ELECTION_TIMEOUT / 2);
          h.disconnect((leader1 + 0) % n);
          h.disconnect((leader1 + 1) % n);
          // The other partition recovers and commits lots.
          h.reconnect((leader1 + 2) % n);
          h.reconnect((leader1 + 3) % n);
          h.reconnect((leader1 + 4) % n);
          for (let i = 0; i < 50; i++) h.one(randInt(h), 3, true);
          // Now another partitioned leader and one follower.
          const leader2 = h.checkOneLeader();
          let other = (leader1 + 2) % n;
          if (leader2 === other) other = (leader2 + 1) % n;
          h.disconnect(other);
          for (let i = 0; i < 50; i++) h.cluster.propose(leader2, randInt(h));
          h.sleep(RAFT_ELECTION_TIMEOUT / 2);
          // Bring the original leader back to life; its 50 stale entries must be replaced.
          for (let i = 0; i < n; i++) h.disconnect(i);
          h.reconnect((leader1 + 0) % n);
          h.reconnect((leader1 + 1) % n);
          h.reconnect(other);
          const rejectionsBefore = h.cluster.net.stats.appendRejections;
          for (let i = 0; i < 50; i++) h.one(randInt(h), 3, true);
          // Everyone.
          for (let i = 0; i < n; i++) h.reconnect(i);
          h.one(randInt(h), n, true);
          // Fast backtracking skips a whole conflicting term per rejection: backing up
          // 50 entries one at a time would take at least 50 rejections per lagging follower.
          const rejections = h.cluster.net.stats.appendRejections - rejectionsBefore;
          h.tlog(`AppendEntries rejections while backing up: ${rejections}`);
          expect(rejections).toBeLessThan(25);
        }),
      [1, 2, 3],
    );
  });

  test("Count", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const servers = 3;
        h.checkOneLeader();
        let total1 = h.rpcTotal();
        if (total1 > 30 || total1 < 1) h.fail(`too many or few RPCs (${total1}) to elect initial leader`);

        let total2 = 0;
        let success = false;
        attempts: for (let attempt = 0; attempt < 5; attempt++) {
          if (attempt > 0) h.sleep(3000); // give the solution some time to settle
          const leader = h.checkOneLeader();
          total1 = h.rpcTotal();
          const iters = 10;
          const first = h.cluster.propose(leader, 1);
          if (!first.accepted) continue;
          const cmds: number[] = [];
          for (let i = 1; i < iters + 2; i++) {
            const x = randInt(h);
            cmds.push(x);
            const r = h.cluster.propose(leader, x);
            if (!r.accepted || r.term !== first.term) continue attempts;
            if (first.index + i !== r.index) h.fail("Start() failed");
          }
          for (let i = 1; i < iters + 1; i++) {
            const cmd = h.wait(first.index + i, servers, first.term);
            if (cmd === -1) continue attempts; // term changed: try again
            if (cmd !== cmds[i - 1]) h.fail(`wrong value ${cmd} committed for index ${first.index + i}`);
          }
          if (h.cluster.ids.some((j) => h.term(j) !== first.term)) continue; // term changed
          total2 = h.rpcTotal();
          if (total2 - total1 > (iters + 1 + 3) * 3) h.fail(`too many RPCs (${total2 - total1}) for ${iters} entries`);
          h.tlog(`RPCs for ${iters} agreements: ${total2 - total1}`);
          success = true;
          break;
        }
        if (!success) h.fail("term changed too often");

        h.sleep(RAFT_ELECTION_TIMEOUT);
        const total3 = h.rpcTotal();
        if (total3 - total2 > 3 * 20) h.fail(`too many RPCs (${total3 - total2}) for 1 second of idleness`);
      }),
    );
  });

  test("Persist1", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        const n = 3;
        h.one(11, n, true);
        // Crash and restart all.
        for (let i = 0; i < n; i++) start1(h, i);
        h.one(12, n, true);

        const leader1 = h.checkOneLeader();
        h.disconnect(leader1);
        start1(h, leader1);
        h.one(13, n, true);

        const leader2 = h.checkOneLeader();
        h.disconnect(leader2);
        h.one(14, n - 1, true);
        start1(h, leader2);
        h.wait(4, n, -1); // wait for leader2 to join before killing i3

        const i3 = (h.checkOneLeader() + 1) % n;
        h.disconnect(i3);
        h.one(15, n - 1, true);
        start1(h, i3);
        h.one(16, n, true);
      }),
    );
  });

  test("Persist2", () => {
    forEachSeed(
      (seed) =>
        scenario(5, { seed }, (h) => {
          const n = 5;
          let index = 1;
          for (let iters = 0; iters < 5; iters++) {
            h.one(10 + index++, n, true);
            const leader1 = h.checkOneLeader();
            h.disconnect((leader1 + 1) % n);
            h.disconnect((leader1 + 2) % n);
            h.one(10 + index++, n - 2, true);
            h.disconnect((leader1 + 0) % n);
            h.disconnect((leader1 + 3) % n);
            h.disconnect((leader1 + 4) % n);
            start1(h, (leader1 + 1) % n);
            start1(h, (leader1 + 2) % n);
            h.sleep(RAFT_ELECTION_TIMEOUT);
            start1(h, (leader1 + 3) % n);
            h.one(10 + index++, n - 2, true);
            h.reconnect((leader1 + 4) % n);
            h.reconnect((leader1 + 0) % n);
          }
          h.one(1000, n, true);
        }),
      [1, 2, 3, 4],
    );
  });

  test("Persist3", () => {
    forEachSeed((seed) =>
      scenario(3, { seed }, (h) => {
        h.one(101, 3, true);
        const leader = h.checkOneLeader();
        h.disconnect((leader + 2) % 3);
        h.one(102, 2, true);
        crash1(h, (leader + 0) % 3);
        crash1(h, (leader + 1) % 3);
        h.reconnect((leader + 2) % 3);
        start1(h, (leader + 0) % 3);
        h.one(103, 2, true);
        start1(h, (leader + 1) % 3);
        h.one(104, 3, true);
      }),
    );
  });

  test("Figure8", () => {
    forEachSeed((seed) => scenario(5, { seed }, (h) => figure8(h)), [1, 2]);
  });

  test("Figure8Unreliable", () => {
    forEachSeed((seed) => scenario(5, { seed, network: UNRELIABLE }, (h) => figure8Unreliable(h)), [1, 2]);
  });

  test("UnreliableAgree", () => {
    forEachSeed(
      (seed) =>
        scenario(5, { seed, network: UNRELIABLE }, (h) => {
          const clients = [];
          for (let iters = 1; iters < 50; iters++) {
            for (let j = 0; j < 4; j++) clients.push(h.cluster.spawn(`one ${iters}.${j}`, h.oneProc(100 * iters + j, 1, true)));
            h.one(iters, 1, true);
          }
          h.cluster.net.profile = RELIABLE;
          for (let k = 0; k < 200 && !clients.every((c) => c.done); k++) h.sleep(100);
          expect(clients.every((c) => c.done)).toBe(true);
          h.one(100, 5, true);
        }),
      [1, 2, 3, 4],
    );
  });

  for (const unreliable of [false, true]) {
    test(unreliable ? "UnreliableChurn" : "ReliableChurn", () => {
      forEachSeed(
        (seed) =>
          scenario(5, { seed, ...(unreliable ? { network: UNRELIABLE } : {}) }, (h) => churn(h)),
        [1, 2, 3, 4],
      );
    });
  }
});
