// Every recorded etcd 3.4.23 watch sequence (test/etcd/fixtures/watch/*.jsonl) replayed against
// the pure model (watch-replayer.ts), each step's messages compared per watch, in order, with
// compare-lease-watch.ts's diffWatchStep (the order between the watches of a stream is Go's map
// order in etcd, so only each watch's own order counts).

import { describe, expect, it } from "vitest";
import { diffWatchStep } from "../../../etcd/compare-lease-watch.ts";
import { readWatchFixtures } from "../../../etcd/read-fixtures-lease-watch.ts";
import { replayWatchSteps } from "./watch-replayer.ts";

describe("etcd watch fixtures replay", () => {
  const fixtures = readWatchFixtures();

  it("has the recorded watch fixtures", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(3);
  });

  for (const fixture of fixtures) {
    it(`${fixture.name}: every step's messages equal etcd's`, () => {
      const actual = replayWatchSteps(fixture.steps);
      const differences: string[] = [];
      fixture.steps.forEach((step, i) => {
        const d = diffWatchStep(step, actual[i]!);
        if (d !== null) differences.push(`${fixture.name} step ${i + 1} (${step.do}): ${d}`);
      });
      expect(differences.slice(0, 10).join("\n"), `${differences.length} steps differ`).toBe("");
    });
  }

  it("counts what it compared", () => {
    const messages = fixtures.reduce((n, f) => n + f.steps.reduce((m, s) => m + s.received.length, 0), 0);
    const steps = fixtures.reduce((n, f) => n + f.steps.length, 0);
    expect(steps).toBe(240);
    expect(messages).toBeGreaterThan(200);
  });
});
