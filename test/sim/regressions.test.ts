// Reproductions of core problems the simulator found (see /work/notes/core-bugs.md). Each one
// asserts the behaviour a correct core must have, so it stays red until the core is fixed and
// guards the fix afterwards.

import { describe, expect, test } from "vitest";
import { scenario } from "./harness.ts";
import { RELIABLE } from "./network.ts";
import { forEachSeed } from "./seeds.ts";

describe("regressions", () => {
  // core-bugs.md #2: every AppendEntries reply, duplicate or stale, used to trigger a new
  // AppendEntries, so duplicated replies multiplied the replication chains to a lagging follower.
  test("DuplicatedRepliesDoNotMultiplyTraffic", () => {
    forEachSeed((seed) =>
      scenario(3, { seed, maxEntriesPerAppend: 1 }, (h) => {
        const [leader] = h.checkSingleLeader();
        const f = (leader + 1) % 3;
        h.disconnect(f);
        const backlog = 60;
        for (let k = 0; k < backlog; k++) h.submitToLeader(leader, k);
        h.sleep(100);
        h.cluster.net.profile = { ...RELIABLE, duplicateRate: 0.2 };
        const rpcsBefore = h.cluster.net.rpcs[leader]!;
        h.reconnect(f);
        h.sleep(2000);
        h.checkCommittedN(backlog - 1, 3);
        // Catching up 60 one-entry batches, plus 40 heartbeats per follower in 2 s, plus some
        // slack for duplicates: a few hundred requests at most, not tens of thousands.
        const sent = h.cluster.net.rpcs[leader]! - rpcsBefore;
        h.tlog(`leader sent ${sent} requests while the follower caught up`);
        expect(sent).toBeLessThan(500);
      }),
    );
  });
});
