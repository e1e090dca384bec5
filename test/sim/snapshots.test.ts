// Log compaction and InstallSnapshot (§7), which the reference series does not cover: the
// host snapshots its state machine every few entries (compactEvery), a follower that fell
// behind the leader's snapshot is sent the snapshot, and restarts restore from it.

import { describe, expect, test } from "vitest";
import type { Harness } from "./harness.ts";
import { scenario } from "./harness.ts";
import { forEachSeed } from "./seeds.ts";

function submitMany(h: Harness, leader: number, values: readonly number[]): void {
  for (const v of values) {
    h.submitToLeader(leader, v);
    h.sleep(5);
  }
}

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, k) => from + k);

describe("snapshots", () => {
  for (const stateMachine of ["volatile", "durable"] as const) {
    test(`SnapshotCatchUp (${stateMachine} state machine)`, () => {
      forEachSeed((seed) =>
        scenario(3, { seed, compactEvery: 5, stateMachine }, (h) => {
          const [leader] = h.checkSingleLeader();
          const f = (leader + 1) % 3;
          h.disconnect(f);
          submitMany(h, leader, range(100, 30));
          h.sleep(100);
          h.checkCommittedN(129, 2);
          // The leader has compacted past everything the follower has.
          expect(h.cluster.disk(leader).snapshotIndex).toBeGreaterThanOrEqual(25);
          h.reconnect(f);
          h.sleep(400);
          h.checkSingleLeader();
          h.checkCommittedN(129, 3);
          expect(h.cluster.net.stats.snapshots).toBeGreaterThan(0);
          expect(h.cluster.disk(f).snapshotIndex).toBeGreaterThan(0);
          // New entries flow normally after the snapshot.
          const [l2] = h.checkSingleLeader();
          submitMany(h, l2, [200, 201]);
          h.sleep(150);
          h.checkCommittedN(201, 3);
        }),
      );
    });

    test(`SnapshotRestartAll (${stateMachine} state machine)`, () => {
      forEachSeed((seed) =>
        scenario(3, { seed, compactEvery: 4, stateMachine }, (h) => {
          const [leader] = h.checkSingleLeader();
          submitMany(h, leader, range(1, 18));
          h.sleep(200);
          h.checkCommittedN(18, 3);
          for (let i = 0; i < 3; i++) expect(h.cluster.disk(i).snapshotIndex).toBeGreaterThanOrEqual(12);
          for (let i = 0; i < 3; i++) h.crash(i);
          h.sleep(100);
          for (let i = 0; i < 3; i++) h.restart(i);
          // Restored from the snapshot plus the log after it, nothing lost or applied twice.
          const [l2] = h.checkSingleLeader();
          h.submitToLeader(l2, 19);
          h.sleep(200);
          h.checkCommittedN(19, 3);
          for (let i = 0; i < 3; i++) {
            expect(h.cluster.applied(i).map((e) => e.command)).toEqual(range(1, 19));
          }
        }),
      );
    });
  }
});
