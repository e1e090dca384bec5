// Membership changes (issue 12) in the simulator, one story at a time: Ongaro's raft-dev
// schedule (raft-dev-membership.ts) against the real core and against a core that changes the
// membership before committing an entry of its own term (the mutant no-own-term-commit, which
// the random search does not find: it needs that exact schedule); and the two stories the
// random search found stuck (membership-stories.ts).

import { describe, expect, test } from "vitest";
import { Harness, scenario, type HarnessOptions } from "./harness.ts";
import { InvariantViolation, type InvariantName } from "./invariants.ts";
import { NoOwnTermCommit } from "./mutants.ts";
import { raftDevMembership } from "./raft-dev-membership.ts";
import { removedLeaderStuck, staleVoterIgnoresCandidate } from "./membership-stories.ts";
import { forEachSeed } from "./seeds.ts";

const RAFT_DEV: HarnessOptions = { retireRemoved: false };

describe("Ongaro's raft-dev schedule (bug in single-server membership changes)", () => {
  test("the real core passes it: b never appends C_abc, nothing committed is lost", () => {
    forEachSeed((seed) => {
      const h = scenario(4, { ...RAFT_DEV, seed }, raftDevMembership);
      expect(h.cluster.checker.committedConfigs().every((c) => c.membership.voters.length !== 3)).toBe(true);
    });
  });

  function firstViolation(disabled: InvariantName[]): InvariantName | null {
    for (let seed = 1; seed <= 8; seed++) {
      const h = new Harness(4, { ...RAFT_DEV, seed, narrate: false, disabled, raftFactory: (c, r, n) => new NoOwnTermCommit(c, r, n) });
      try {
        raftDevMembership(h);
      } catch (e) {
        if (e instanceof InvariantViolation) return e.invariant;
      }
    }
    return null;
  }

  test("no-own-term-commit: a leader elected without the committed C_abc (LeaderCompleteness)", () => {
    expect(firstViolation([])).toBe("LeaderCompleteness");
  });

  test("no-own-term-commit: two configurations committed at one index (ConfigAgreement, LeaderCompleteness off)", () => {
    expect(firstViolation(["LeaderCompleteness"])).toBe("ConfigAgreement");
  });

  test("no-own-term-commit: servers apply different entries there (StateMachineSafety, both off)", () => {
    expect(firstViolation(["LeaderCompleteness", "ConfigAgreement"])).toBe("StateMachineSafety");
  });
});

// Known core bugs (bc269bc), found by the random search: liveness, not safety. `test.fails`
// pins that the core of today gets stuck; once the core is fixed these fail, and `.fails`
// must go. Both pass with the two fixes described in membership-stories.ts (validated on a
// patched subclass: these stories, and 600 random seeds with none stuck).
describe("membership stories the random search found stuck", () => {
  test.fails("a leader that removed itself (not committed) and lost its leadership must not block the last voter (seeds 27, 72)", () => {
    forEachSeed((seed) => scenario(3, { seed }, removedLeaderStuck));
  });

  test.fails("a voter that missed another's promotion must not ignore its RequestVote when it is the vote needed (seeds 126, 259)", () => {
    forEachSeed((seed) => scenario(3, { seed }, staleVoterIgnoresCandidate));
  });
});
