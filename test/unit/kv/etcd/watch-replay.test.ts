// Every recorded etcd 3.4.23 watch sequence (test/etcd/fixtures/watch/*.jsonl, generated; and
// fixtures/watch-probe/*.jsonl, hand-written edge cases from probe-watch.ts) replayed against
// the pure model (watch-replayer.ts), each step's messages compared per watch, in order, with
// compare-lease-watch.ts's diffWatchStep (the order between the watches of a stream is Go's map
// order in etcd, so only each watch's own order counts).

import { describe, expect, it } from "vitest";
import { diffWatchStep } from "../../../etcd/compare-lease-watch.ts";
import type { WatchFixture } from "../../../etcd/fixture.ts";
import { readWatchFixtures, WATCH_PROBE_DIR } from "../../../etcd/read-fixtures-lease-watch.ts";
import { replayWatchSteps } from "./watch-replayer.ts";

/** The steps where the model does not answer as the recording did, one line each. */
function differences(fixture: WatchFixture): string[] {
  const actual = replayWatchSteps(fixture.steps);
  return fixture.steps.flatMap((step, i) => {
    const d = diffWatchStep(step, actual[i]!);
    return d === null ? [] : [`${fixture.name} step ${i + 1} (${step.do}): ${d}`];
  });
}

const received = (fixtures: WatchFixture[]) => fixtures.reduce((n, f) => n + f.steps.reduce((m, s) => m + s.received.length, 0), 0);

describe("etcd watch fixtures replay", () => {
  const fixtures = readWatchFixtures();

  it("has the recorded watch fixtures", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(3);
    expect(fixtures.reduce((n, f) => n + f.steps.length, 0)).toBe(240);
    expect(received(fixtures)).toBeGreaterThan(200);
  });

  for (const fixture of fixtures) {
    it(`${fixture.name}: every step's messages equal etcd's`, () => {
      const d = differences(fixture);
      expect(d.slice(0, 10).join("\n"), `${d.length} steps differ`).toBe("");
    });
  }
});

describe("etcd watch edge cases replay (probe-watch.ts)", () => {
  const fixtures = readWatchFixtures(WATCH_PROBE_DIR);

  it("has the recorded edge cases", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(14);
    expect(received(fixtures)).toBeGreaterThan(40);
  });

  for (const fixture of fixtures) {
    it(`${fixture.name}: every step's messages equal etcd's`, () => {
      const d = differences(fixture);
      expect(d.slice(0, 10).join("\n"), `${d.length} steps differ`).toBe("");
    });
  }
});
