// Log compaction and InstallSnapshot (§7), which the reference series does not cover: the
// host snapshots its state machine every few entries (compactEvery), a follower that fell
// behind the leader's snapshot is sent the snapshot, and restarts restore from it.
//
// Each scenario runs with the three hosts the simulator has: snapshot copies taken at each
// compaction with a volatile or a durable state machine ("stored"), and the Durable Object's
// way ("live"): no copies, the InstallSnapshot carries the sender's current state machine,
// named by core.snapshotMetaAt(applied), and compaction keeps a tail of applied entries
// (and, on a leader, what its followers heard from recently and its snapshots in flight need).

import { describe, expect, test } from "vitest";
import type { SnapshotSource } from "./disk.ts";
import type { Harness, HarnessOptions } from "./harness.ts";
import { scenario } from "./harness.ts";
import { forEachSeed } from "./seeds.ts";

function submitMany(h: Harness, leader: number, values: readonly number[]): void {
  for (const v of values) {
    h.submitToLeader(leader, v);
    h.sleep(5);
  }
}

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, k) => from + k);

interface Host {
  readonly name: string;
  readonly stateMachine: "volatile" | "durable";
  readonly snapshotSource: SnapshotSource;
}

const HOSTS: readonly Host[] = [
  { name: "volatile state machine", stateMachine: "volatile", snapshotSource: "stored" },
  { name: "durable state machine", stateMachine: "durable", snapshotSource: "stored" },
  { name: "live state machine", stateMachine: "durable", snapshotSource: "live" },
];

function options(host: Host, seed: number, compactEvery: number): HarnessOptions {
  return { seed, compactEvery, stateMachine: host.stateMachine, snapshotSource: host.snapshotSource };
}

describe("snapshots", () => {
  for (const host of HOSTS) {
    const live = host.snapshotSource === "live";

    test(`SnapshotCatchUp (${host.name})`, () => {
      forEachSeed((seed) =>
        scenario(3, options(host, seed, 5), (h) => {
          const [leader] = h.checkSingleLeader();
          const f = (leader + 1) % 3;
          h.disconnect(f);
          // "live": a leader keeps what a follower it heard from within an election timeout
          // lacks (src/raft/compaction.ts); once that long has passed, f pins nothing.
          h.sleep(300);
          submitMany(h, leader, range(100, 30));
          h.sleep(100);
          h.checkCommittedN(129, 2);
          // The leader has compacted past everything the follower has ("live": it keeps at
          // most compactEvery applied entries in its log, so it reached 30 - 5 at least).
          const leaderSnapshot = h.cluster.disk(leader).snapshotIndex;
          expect(leaderSnapshot).toBeGreaterThanOrEqual(25);
          h.reconnect(f);
          h.sleep(400);
          h.checkSingleLeader();
          h.checkCommittedN(129, 3);
          expect(h.cluster.net.stats.snapshots).toBeGreaterThan(0);
          expect(h.cluster.disk(f).snapshotIndex).toBeGreaterThan(0);
          if (live) {
            // The follower got the leader's state as applied (all 30), not as of its last
            // compaction, which keeps a tail and so stopped short of it.
            expect(leaderSnapshot).toBeLessThan(30);
            expect(h.cluster.disk(f).snapshotIndex).toBe(30);
          }
          // New entries flow normally after the snapshot.
          const [l2] = h.checkSingleLeader();
          submitMany(h, l2, [200, 201]);
          h.sleep(150);
          h.checkCommittedN(201, 3);
        }),
      );
    });

    test(`SnapshotRestartAll (${host.name})`, () => {
      forEachSeed((seed) =>
        scenario(3, options(host, seed, 4), (h) => {
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

    // A follower cut off while the leader compacts again and again, and the leader crashes
    // and restarts meanwhile (so whoever leads next sends from a restored state): the
    // follower comes back to a snapshot far past its log, installs it, and catches up.
    test(`SnapshotLaggingFollowerAcrossCompactionsAndRestart (${host.name})`, () => {
      forEachSeed((seed) =>
        scenario(3, options(host, seed, 6), (h) => {
          const [leader] = h.checkSingleLeader();
          const f = (leader + 1) % 3;
          submitMany(h, leader, range(1, 3));
          h.sleep(50);
          h.checkCommittedN(3, 3);
          h.disconnect(f);
          h.sleep(300); // f is no longer "heard from recently": it keeps nothing in the leader's log
          const lagged = h.cluster.applied(f).length;

          const compactions = h.cluster.disk(leader).compactions;
          submitMany(h, leader, range(4, 20));
          h.sleep(50);
          h.checkCommittedN(23, 2);
          expect(h.cluster.disk(leader).compactions - compactions).toBeGreaterThanOrEqual(3);

          h.crash(leader);
          h.sleep(50);
          h.restart(leader);
          // The restarted server and the third one elect a leader (the follower is still away).
          const [l2] = h.checkSingleLeader();
          expect(l2).not.toBe(f);
          const before = h.cluster.disk(l2).compactions;
          submitMany(h, l2, range(24, 20));
          h.sleep(100);
          h.checkCommittedN(43, 2);
          expect(h.cluster.disk(l2).compactions - before).toBeGreaterThanOrEqual(2);
          // Far past anything the follower has: it can only catch up through a snapshot.
          expect(h.cluster.disk(l2).snapshotIndex).toBeGreaterThan(lagged);

          const snapshotsSent = h.cluster.net.stats.snapshots;
          h.reconnect(f);
          h.sleep(400);
          const [l3] = h.checkSingleLeader();
          expect(h.cluster.net.stats.snapshots).toBeGreaterThan(snapshotsSent);
          expect(h.cluster.disk(f).snapshotIndex).toBeGreaterThan(lagged);
          h.submitToLeader(l3, 44);
          h.sleep(150);
          h.checkCommittedN(44, 3);
          // Every state machine ends the same: 1..44, each once, in order.
          for (let i = 0; i < 3; i++) {
            expect(h.cluster.applied(i).map((e) => e.command)).toEqual(range(1, 44));
          }
        }),
      );
    });
  }
});
