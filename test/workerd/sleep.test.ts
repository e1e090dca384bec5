// Serverless for real (issue 11) on workerd: an idle cluster sleeps and costs (almost)
// nothing; a write wakes it without an election; deploys (every object reset at once) under
// writes cost no election and lose nothing; a leader lost while the cluster slept is found
// by the next write. Default settings: sleep after 5 × 300 ms without a client.
import { expect, test } from "vitest";
import { serverStub } from "../../src/server/rpc.ts";
import type { ServerStatus } from "../../src/server/protocol.ts";
import { env } from "cloudflare:workers";
import { Harness, api, sleep } from "./harness.ts";
import { checkStored, eventually, request } from "./kv-harness.ts";

/** When each server's object was last loaded. */
const loadTimes = (servers: readonly ServerStatus[]) => servers.map((s) => s.stats.loadedAt);

async function untilAsleep(h: Harness, deadlineMs = 6000): Promise<ServerStatus[]> {
  let last: ServerStatus[] = [];
  await eventually(
    "the cluster sleeps",
    async () => {
      last = await h.statuses();
      return last.every((s) => s.asleep) || last.map((s) => `${s.id}:${s.state}${s.asleep ? " asleep" : ""}`).join(", ");
    },
    deadlineMs,
  );
  return last;
}

/** The one leader among servers that all sleep, and its term. */
function onlyLeader(servers: readonly ServerStatus[]): { leader: number; term: number } {
  const leaders = servers.filter((s) => s.state === "Leader");
  expect(leaders).toHaveLength(1);
  return { leader: leaders[0]!.id, term: leaders[0]!.term };
}

const put = (h: Harness, key: string, value: string, id: number) =>
  request("PUT", `/clusters/${h.name}/kv/${key}?timeoutMs=10000`, { value }, { "Client-Id": "sleep-test", "Request-Id": String(id) });

test("IdleClusterSleeps: after a write and an idle spell every server sleeps, and 10 s asleep cost a handful of alarms and RPCs", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  expect((await put(h, "k", "v", 1)).status).toBe(200);
  const asleep = await untilAsleep(h);
  // The pending alarm of each server may fire once more after it fell asleep, and finds nothing to do.
  await sleep(400);
  const before = await h.statuses();
  await sleep(10_000);
  const after = await h.statuses();
  // Per server: what it did in the window. An object reloaded meanwhile (workerd drops idle
  // objects: a sleeping cluster can be evicted, which is the point) counts from its reload.
  let alarms = 0;
  let rpcs = 0;
  let reloaded = 0;
  for (const [i, a] of after.entries()) {
    const b = before[i]!;
    const same = a.stats.loadedAt === b.stats.loadedAt;
    if (!same) reloaded++;
    alarms += a.stats.alarms - (same ? b.stats.alarms : 0);
    rpcs += a.stats.rpcsSent - (same ? b.stats.rpcsSent : 0);
  }
  console.log(`asleep 10 s: ${alarms} alarms, ${rpcs} RPCs, ${reloaded} of 3 objects evicted and reloaded meanwhile (awake: ~28 alarms and ~39 RPCs a second)`);
  expect(alarms + rpcs).toBeLessThanOrEqual(3);
  // Reading the status (as this test did all along) never woke it.
  expect((await h.statuses()).every((s) => s.asleep)).toBe(true);
  const view = await api("GET", `/clusters/${h.name}`);
  expect(view.body.asleep).toBe(true);
  expect(asleep.filter((s) => s.state === "Leader")).toHaveLength(1);
});

test("WriteAfterSleep: a write wakes the cluster and is served by the same leader in the same term", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  expect((await put(h, "a", "1", 1)).status).toBe(200);
  // The leader and term the cluster fell asleep with: an election before it slept (a heartbeat
  // late on a loaded machine) is not what this test is about.
  const asleep = await untilAsleep(h);
  const { leader, term } = onlyLeader(asleep);
  const r = await put(h, "a", "2", 2);
  expect(r.status).toBe(200);
  expect(r.body).toEqual({ found: true, prev: "1" });
  expect(Number(r.headers.get("Raft-Server"))).toBe(leader);
  const after = await h.statuses();
  expect(after.map((s) => s.term)).toEqual([term, term, term]);
  expect(after.every((s) => !s.asleep)).toBe(true);
});

// Every write puts a key of its own (w1, w2, ...), so every acknowledged write can be read
// back on its own: one lost in a reset (answered before it was durable, or not reloaded) is
// missing at the end, on the leader that answers the reads and on every server's disk.
// (Writing one key over and over would only show the last write.)
test("DeploysUnderWrites: evicting every server three times under writes causes no election and loses nothing", async () => {
  const h = await Harness.create(3);
  const { term } = await h.checkSingleLeader();
  let stop = false;
  const acked: number[] = [];
  const failures: string[] = [];
  const writer = (async () => {
    for (let i = 1; !stop; i++) {
      const r = await put(h, `w${i}`, String(i), i);
      if (r.status !== 200) failures.push(`${i}: ${r.status} ${JSON.stringify(r.body)}`);
      else if (r.body?.found !== false) failures.push(`${i}: a fresh key answered ${JSON.stringify(r.body)}`);
      else acked.push(i);
    }
  })();
  for (let deploy = 0; deploy < 3; deploy++) {
    await sleep(300);
    const before = loadTimes(await h.statuses());
    const r = await api("POST", `/clusters/${h.name}/evict`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const after = loadTimes(await h.statuses());
    // Every object really reloaded (a new instance has a new load time).
    for (let i = 0; i < 3; i++) expect(after[i]!, `server ${i} reloaded`).toBeGreaterThan(before[i]!);
  }
  await sleep(300);
  stop = true;
  await writer;
  console.log(`DeploysUnderWrites: ${acked.length} writes acknowledged across 3 deploys`);
  expect(failures).toEqual([]);
  expect(acked.length).toBeGreaterThan(3);
  const statuses = await h.statuses();
  expect(statuses.map((s) => s.term), "no election: every server still in the first term").toEqual([term, term, term]);
  // Every acknowledged write, read back through the service...
  const lost: string[] = [];
  for (const i of acked) {
    const read = await request("GET", `/clusters/${h.name}/kv/w${i}?timeoutMs=10000`);
    if (read.status !== 200 || read.body?.value !== String(i)) lost.push(`w${i}: ${read.status} ${JSON.stringify(read.body)}`);
  }
  expect(lost, "acknowledged writes not read back").toEqual([]);
  // ...and on every server's disk.
  const want = Object.fromEntries(acked.map((i) => [`w${i}`, String(i)]));
  for (let i = 0; i < 3; i++) await checkStored(h, i, want);
  const narration = await h.narration();
  expect(narration).toMatch(/becomes Leader again after a reload/);
});

test("SleepingLeaderLost: a leader lost while the cluster slept is replaced by the next write within 3 s", async () => {
  const h = await Harness.create(3);
  const { leader, term } = await h.checkSingleLeader();
  expect((await put(h, "x", "before", 1)).status).toBe(200);
  await untilAsleep(h);
  // Lost behind the coordinator's back (not through a fault route, which would wake the
  // cluster): only the next client operation can notice.
  await serverStub(env.RAFT_SERVER, h.name, leader)
    .crash()
    .catch(() => {});
  await sleep(500);
  expect((await h.statuses()).filter((s) => s.id !== leader).every((s) => s.asleep), "nobody noticed").toBe(true);
  const started = Date.now();
  const r = await put(h, "x", "after", 2);
  const took = Date.now() - started;
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  console.log(`a write found the lost leader and was served by a new one in ${took} ms`);
  expect(took).toBeLessThan(3000);
  const now = await h.checkSingleLeader();
  expect(now.leader).not.toBe(leader);
  expect(now.term).toBeGreaterThan(term);
  await h.restart(leader);
});
