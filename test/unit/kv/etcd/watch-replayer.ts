// Replays a recorded watch sequence (steps as test/etcd/fixture.ts has them) against the pure
// model: one store, one EtcdKv and one WatchHub; each stream opened from the body text the
// recorder sent, each kv request through the gateway followed by notify(), and each stream's
// progress ticks at its open time + k × the interval etcd ran with, on the recording's own clock
// (sent_ms). Answers each step as the model did it, in the same shape, for diffWatchStep.

import type { StreamMessage, WatchAction, WatchStep } from "../../../etcd/fixture.ts";
import { PROGRESS_NOTIFY_INTERVAL_MS } from "../../../etcd/generate-watch.ts";
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
export function replayWatchSteps(steps: readonly WatchStep[], progressIntervalMs = PROGRESS_NOTIFY_INTERVAL_MS): WatchStep[] {
  const store = new MemoryMvccStore();
  const kv = new EtcdKv(store);
  const hub = new WatchHub<number>(store);
  /** Open streams: when each was opened, and how many progress ticks it has had. */
  const clocks = new Map<number, { openedAt: number; ticks: number }>();
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
        if (!isKvPath(step.path)) throw new Error(`kv path ${step.path} not handled`);
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
    // etcd's sync rounds (every 100 ms) finish a catch-up well within a step's 350 ms.
    for (let rounds = 0; hub.hasUnsynced(); rounds++) {
      if (rounds > 1000) throw new Error("catch-up does not end");
      emit(hub.sync());
    }
    // Every progress tick that fell before the next step belongs to this one.
    const until = steps[i + 1]?.sent_ms ?? step.sent_ms + (step.do === "wait" ? step.ms : 0) + LAST_STEP_LISTEN_MS;
    for (const [stream, clock] of clocks) {
      while (clock.openedAt + (clock.ticks + 1) * progressIntervalMs < until) {
        clock.ticks++;
        emit(hub.progressTick(stream));
      }
    }
    return { ...done, sent_ms: step.sent_ms, received };
  });
}

