// Membership changes (issue 12) in the simulator, one story at a time: Ongaro's raft-dev
// schedule (raft-dev-membership.ts) against the real core (the mutant that breaks it,
// no-own-term-commit, is in mutants.test.ts); and the two stories the random search found
// stuck (membership-stories.ts).

import { describe, expect, test } from "vitest";
import { scenario } from "./harness.ts";
import { raftDevMembership } from "./raft-dev-membership.ts";
import { removedLeaderStuck, staleVoterIgnoresCandidate } from "./membership-stories.ts";
import { forEachSeed } from "./seeds.ts";

describe("Ongaro's raft-dev schedule (bug in single-server membership changes)", () => {
  test("the real core passes it: b never appends C_abc, nothing committed is lost", () => {
    forEachSeed((seed) => {
      const h = scenario(4, { retireRemoved: false, seed }, (x) => {
        const out = raftDevMembership(x);
        expect(out.removalAccepted).toBe(false);
      });
      expect(h.cluster.checker.committedConfigs().every((c) => c.membership.voters.length !== 3)).toBe(true);
    });
  });
});

// Two core bugs of bc269bc, found by the random search: liveness, not safety. Fixed in the
// core (raft.ts: mayStand, and the RequestVote of a non-voter whose log is ahead is heard).
describe("membership stories the random search found stuck", () => {
  test("a leader that removed itself (not committed) and lost its leadership must not block the last voter (seeds 27, 72)", () => {
    forEachSeed((seed) => scenario(3, { seed }, removedLeaderStuck));
  });

  test("a voter that missed another's promotion must not ignore its RequestVote when it is the vote needed (seeds 126, 259)", () => {
    forEachSeed((seed) => scenario(3, { seed }, staleVoterIgnoresCandidate));
  });
});
