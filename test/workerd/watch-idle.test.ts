// An idle cluster with watchers still sleeps (issue 21 item 1): 100 WebSocket watchers spread
// over the members, no writes: once the cluster has fallen asleep, 10 s cost no alarm and no
// Raft RPC (the servers' own counters, GET /clusters/{c}/servers/{i}), and the first write
// afterwards reaches every watcher.
import { expect, test } from "vitest";
import type { ServerStatus } from "../../src/server/protocol.ts";
import { Harness, sleep } from "./harness.ts";
import { eventually } from "./kv-harness.ts";
import { b64, put, WatchSocket } from "./watch-harness.ts";

const WATCHERS = 100;

async function untilAsleep(h: Harness): Promise<void> {
  await eventually(
    "the cluster sleeps",
    async () => {
      const s = await h.statuses();
      return s.every((x) => x.asleep) || s.map((x) => `${x.id}:${x.state}${x.asleep ? " asleep" : ""}`).join(", ");
    },
    10_000,
  );
}

test(`IdleWatchersSleep: ${WATCHERS} idle WebSocket watchers, 10 s asleep cost 0 alarms and 0 RPCs, and the next write reaches all of them`, async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const written = Number((await put(h, "idle", "0")).header.revision);
  const sockets: WatchSocket[] = [];
  for (let i = 0; i < WATCHERS; i++) {
    const ws = await WatchSocket.open(h, i % 3);
    // From the revision after that put: a follower that has not applied it yet would otherwise (rightly) send it.
    await ws.create({ key: b64("idle"), start_revision: String(written + 1) });
    sockets.push(ws);
  }
  const serving = (await Promise.all([0, 1, 2].map((i) => h.server(i)))).map((s) => s.stats.watchers);
  expect(serving).toEqual([34, 33, 33]);

  await untilAsleep(h);
  // As sleep.test.ts: the alarm pending when a server fell asleep may fire once more and find nothing to do.
  await sleep(400);
  const before = await Promise.all([0, 1, 2].map((i) => h.server(i)));
  await sleep(10_000);
  const after = await Promise.all([0, 1, 2].map((i) => h.server(i)));
  let alarms = 0;
  let rpcs = 0;
  let reloaded = 0;
  for (const [i, a] of after.entries()) {
    const b: ServerStatus = before[i]!;
    const same = a.stats.loadedAt === b.stats.loadedAt;
    if (!same) reloaded++;
    alarms += a.stats.alarms - (same ? b.stats.alarms : 0);
    rpcs += a.stats.rpcsSent - (same ? b.stats.rpcsSent : 0);
  }
  console.log(`${WATCHERS} idle watchers, asleep 10 s: ${alarms} alarms, ${rpcs} RPCs, ${reloaded} of 3 objects reloaded meanwhile`);
  expect({ alarms, rpcs }).toEqual({ alarms: 0, rpcs: 0 });
  expect(after.every((s) => s.asleep)).toBe(true);
  expect(sockets.every((s) => s.closed === null)).toBe(true);

  const revision = (await put(h, "idle", "1")).header.revision;
  const started = Date.now();
  await Promise.all(sockets.map((s) => s.until("the write after the sleep", () => s.events(0).length === 1, 10_000)));
  console.log(`the first write after the sleep reached all ${WATCHERS} watchers within ${Date.now() - started} ms of its answer`);
  for (const s of sockets) expect(s.events(0)).toEqual([`PUT idle=1@${revision}`]);
  for (const s of sockets) s.close();
});
