// Every recorded etcd 3.4.23 watch sequence (test/etcd/fixtures/watch/*.jsonl) replayed against
// the pure model: one store, one EtcdKv and one WatchHub per file; each stream opened from the
// body text the recorder sent, each kv request through the gateway followed by notify(), and
// each stream's progress ticks at its open time + k × the interval etcd ran with, on the
// recording's own clock (sent_ms). Each step's messages are compared per watch, in order, with
// compare-lease-watch.ts's diffWatchStep (the order between the watches of a stream is Go's map
// order in etcd, so only each watch's own order counts).

import { describe, expect, it } from "vitest";
import { diffWatchStep } from "../../../etcd/compare-lease-watch.ts";
import type { StreamMessage, WatchAction, WatchFixture, WatchStep } from "../../../etcd/fixture.ts";
import { PROGRESS_NOTIFY_INTERVAL_MS } from "../../../etcd/generate-watch.ts";
import { readWatchFixtures } from "../../../etcd/read-fixtures-lease-watch.ts";
import { watchResultLine } from "../../../../src/kv/etcd/codec/watch-encode.ts";
import { handleKvText, isKvPath } from "../../../../src/kv/etcd/gateway.ts";
import { EtcdKv } from "../../../../src/kv/etcd/kv.ts";
import { MemoryMvccStore } from "../../../../src/kv/etcd/memory-store.ts";
import { openWatchStream } from "../../../../src/kv/etcd/watch-gateway.ts";
import { WatchHub, type Outgoing } from "../../../../src/kv/etcd/watch-hub.ts";

const IDS = { clusterId: "1", memberId: "1", raftTerm: "1" };
/** After the last step (and its wait) the recorder still listened this long (record-watch.ts MIN_AFTER_STEP_MS). */
const LAST_STEP_LISTEN_MS = 350;

/** Replays one fixture; answers each step as the model did it, in the fixture's own shape. */
export function replayWatchFixture(fixture: WatchFixture): WatchStep[] {
  const store = new MemoryMvccStore();
  const kv = new EtcdKv(store);
  const hub = new WatchHub<number>(store);
  /** Open streams: when each was opened, and how many progress ticks it has had. */
  const clocks = new Map<number, { openedAt: number; ticks: number }>();
  const steps = fixture.steps;
  return steps.map((step, i) => {
    const received: StreamMessage[] = [];
    const emit = (out: Outgoing<number>[]) => {
      for (const o of out) received.push({ stream: o.stream, at_ms: 0, message: JSON.parse(watchResultLine(o.response, IDS)) });
    };
    let done: WatchAction;
    switch (step.do) {
      case "open": {
        // As the recorder sent it: each message as JSON on its own line.
        const text = step.body.map((m) => `${JSON.stringify(m)}\n`).join("");
        const answer = openWatchStream(hub, step.stream, text);
        if (answer.status === 200) {
          emit(answer.out);
          clocks.set(step.stream, { openedAt: step.sent_ms, ticks: 0 });
        } else {
          received.push({ stream: step.stream, at_ms: 0, message: answer.body });
        }
        done = { do: "open", stream: step.stream, body: step.body, status: answer.status };
        break;
      }
      case "kv": {
        if (!isKvPath(step.path)) throw new Error(`${fixture.name}: kv path ${step.path} not handled`);
        const answer = handleKvText(kv, step.path, JSON.stringify(step.request), IDS);
        emit(hub.notify());
        done = { do: "kv", path: step.path, request: step.request, status: answer.status, response: answer.body };
        break;
      }
      case "close":
        if (hub.isOpen(step.stream)) hub.close(step.stream);
        clocks.delete(step.stream);
        done = { do: "close", stream: step.stream };
        break;
      case "wait":
        done = { do: "wait", ms: step.ms };
        break;
    }
    // Every progress tick that fell before the next step belongs to this one.
    const until = steps[i + 1]?.sent_ms ?? step.sent_ms + (step.do === "wait" ? step.ms : 0) + LAST_STEP_LISTEN_MS;
    for (const [stream, clock] of clocks) {
      while (clock.openedAt + (clock.ticks + 1) * PROGRESS_NOTIFY_INTERVAL_MS < until) {
        clock.ticks++;
        emit(hub.progressTick(stream));
      }
    }
    return { ...done, sent_ms: step.sent_ms, received };
  });
}

describe("etcd watch fixtures replay", () => {
  const fixtures = readWatchFixtures();

  it("has the recorded watch fixtures", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(3);
  });

  for (const fixture of fixtures) {
    it(`${fixture.name}: every step's messages equal etcd's`, () => {
      const actual = replayWatchFixture(fixture);
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
