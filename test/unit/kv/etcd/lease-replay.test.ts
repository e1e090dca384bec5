// Every recorded etcd 3.4.23 lease sequence (test/etcd/fixtures/lease/) replayed against the pure
// model (lease-replay.ts): every answer equal, with compare-lease-watch.ts's forgiveness.

import { describe, expect, it } from "vitest";
import { readLeaseFixtures } from "../../../etcd/read-fixtures-lease-watch.ts";
import { replayLeaseFixture } from "./lease-replay.ts";

describe("etcd lease fixtures replay", () => {
  const fixtures = readLeaseFixtures();

  it("has lease fixtures", () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  for (const fixture of fixtures) {
    it(`${fixture.name}: every answer equals etcd's`, () => {
      const { differences, ttlAnswers, ttlExact } = replayLeaseFixture(fixture);
      expect(differences.slice(0, 10).join("\n"), `${differences.length} answers differ`).toBe("");
      // The slack is for rounding at a second's edge, not for a model that drifts.
      expect(ttlExact, `${ttlExact} of ${ttlAnswers} TTLs exact`).toBeGreaterThanOrEqual(ttlAnswers - 1);
    });
  }
});
