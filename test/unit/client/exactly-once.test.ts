// The client, the state machine and the checker together: clients write and read through
// a fake server that drops answers after applying, times out after applying and refuses
// requests. Every acknowledged append must appear exactly once, none twice, and the
// recorded history must be linearizable.
import { expect, test } from "vitest";
import { KvClient } from "../../../src/client/index.ts";
import { KvError } from "../../../src/client/errors.ts";
import type { KvOperation } from "../../../src/kv/command.ts";
import type { KvResult } from "../../../src/kv/results.ts";
import { checkKvHistory, explainReport } from "../../lin/checker.ts";
import { HistoryRecorder } from "../../lin/history.ts";
import { kvModel } from "../../lin/kv-model.ts";
import { mulberry32, pick } from "../../lin/random.ts";
import { type Fault, fakeKvServer } from "./fake-server.ts";

test("faulty answers: appends applied exactly once, history linearizable", async () => {
  const rand = mulberry32(42);
  const server = fakeKvServer({
    fault: () => pick<Fault>(rand, ["none", "none", "none", "unavailable", "lost-answer", "timeout-after-apply", "delay"]),
  });
  const recorder = new HistoryRecorder<KvOperation, KvResult>();
  const keys = ["a", "b", "c"];
  const acknowledged: string[] = [];
  const uncertain: string[] = [];

  const run = async (c: number): Promise<void> => {
    const client = new KvClient({
      baseUrl: "http://kv.test",
      cluster: "x",
      fetch: server.fetch,
      backoff: { initialMs: 1, maxMs: 4 },
      deadlineMs: 3_000,
    });
    for (let n = 0; n < 25; n++) {
      const key = pick(rand, keys);
      const r = rand();
      const input: KvOperation =
        r < 0.3 ? { op: "get", key } : r < 0.8 ? { op: "append", key, value: `<${c}.${n}>` } : r < 0.9 ? { op: "put", key, value: `<${c}.${n}>` } : { op: "cas", key, compare: "", value: `<${c}.${n}>` };
      const h = recorder.invoke(c, input);
      try {
        const output =
          input.op === "get"
            ? await client.get(key)
            : input.op === "append"
              ? await client.append(key, input.value)
              : input.op === "put"
                ? await client.put(key, input.value)
                : await client.cas(key, input.compare, input.value);
        recorder.ok(h, output);
        if (input.op === "append") acknowledged.push(input.value);
      } catch (error) {
        if (!(error instanceof KvError)) throw error;
        if (error.maybeApplied) {
          recorder.unknown(h);
          if (input.op === "append") uncertain.push(input.value);
        } else recorder.fail(h);
      }
    }
  };
  await Promise.all([0, 1, 2, 3, 4, 5].map(run));

  // Count how often each append's token was applied, by replaying the committed log.
  const applied = new Map<string, number>();
  const replay = fakeKvServer().machine;
  for (const [i, command] of server.log.entries()) {
    const outcome = replay.apply(command, i + 1);
    const c = command as { op: string; value?: string };
    if (outcome.status === "applied" && c.op === "append") applied.set(c.value!, (applied.get(c.value!) ?? 0) + 1);
  }
  for (const token of acknowledged) expect(applied.get(token), token).toBe(1);
  for (const token of uncertain) expect(applied.get(token) ?? 0, token).toBeLessThanOrEqual(1);
  // The faults really happened: some requests were committed more than once (and deduplicated).
  expect(server.log.length).toBeGreaterThan(recorder.history().length);

  const history = recorder.history();
  const report = checkKvHistory(history);
  expect(report.verdict, explainReport(kvModel, history, report)).toBe("ok");
});
