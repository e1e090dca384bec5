// Part 4 of the reference series (eliben/raft part4kv): the key/value service on a real
// Durable Object cluster, through the coordinator's kv routes, driven by the typed client
// (src/client) in-process. Same test names as the reference (eliben/raft part4kv).
//
// No timing assertions: the reference's fixed sleeps are kept only where a scenario needs
// time to pass (an election to happen); positive checks poll or rely on the client's
// retries within its deadline.
import { expect, test } from "vitest";
import { Harness, sleep } from "./harness.ts";
import { checkGet, checkGetTimesOut, checkStored, kvClient } from "./kv-harness.ts";

test("SetupHarness", async () => {
  const h = await Harness.create(3);
  await sleep(80);
  const { leader } = await h.checkSingleLeader();
  expect(leader).toBeGreaterThanOrEqual(0);
});

// A put issued 10 ms after the cluster starts, before any leader exists: the coordinator
// looks for a leader until one is elected and answers only once the put is applied. The
// reference allows 500 ms; here the client's deadline is the bound and the time is printed.
test("ClientRequestBeforeConsensus", async () => {
  const h = await Harness.create(3);
  await sleep(10);
  const c = kvClient(h);
  const started = Date.now();
  expect(await c.put("llave", "cosa")).toEqual({ found: false, prev: null });
  console.log(`ClientRequestBeforeConsensus: put applied ${Date.now() - started} ms after it was sent`);
  await checkGet(c, "llave", "cosa");
});

test("BasicPutGetSingleClient", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const c = kvClient(h);
  await c.put("llave", "cosa");
  await checkGet(c, "llave", "cosa");
  expect(await c.get("nada")).toEqual({ found: false, value: null });
});

test("PutPrevValue", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const c = kvClient(h);
  expect(await c.put("llave", "cosa")).toEqual({ found: false, prev: null });
  expect(await c.put("llave", "frodo")).toEqual({ found: true, prev: "cosa" });
  expect(await c.put("mafteah", "davar")).toEqual({ found: false, prev: null });
  await checkGet(c, "llave", "frodo");
});

test("BasicPutGetDifferentClients", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const c1 = kvClient(h);
  const c2 = kvClient(h);
  await c1.put("k", "v");
  await checkGet(c2, "k", "v");
  expect(await c2.put("k", "w")).toEqual({ found: true, prev: "v" });
  await checkGet(c1, "k", "w");
});

test("CASBasic", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const c = kvClient(h);
  await c.put("k", "v");
  expect(await c.cas("k", "v", "newv")).toEqual({ found: true, prev: "v", swapped: true });
  await checkGet(c, "k", "newv");
  // A mismatch is a no-op that reports what is there.
  expect(await c.cas("k", "other", "x")).toEqual({ found: true, prev: "newv", swapped: false });
  await checkGet(c, "k", "newv");
  // A missing key is never created by CAS.
  expect(await c.cas("missing", "", "x")).toEqual({ found: false, prev: null, swapped: false });
  expect(await c.get("missing")).toEqual({ found: false, value: null });
});

// 20 CAS bar→bomba from one client racing a put of bar from another: the CASes that come
// before the put see "mexico" and fail, the first one after it swaps, the rest see bomba.
// The reference starts the put 50 ms into the CAS loop; here the put starts once the first
// CAS is answered (so some CASes surely come before it) and CASes 11-20 wait until the put
// is answered (so some surely come after it): the ones in between race it for real.
test("CASConcurrent", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const c = kvClient(h);
  await c.put("foo", "mexico");

  let firstCasDone!: () => void;
  const firstCas = new Promise<void>((resolve) => (firstCasDone = resolve));
  let putDone: Promise<unknown> = Promise.resolve();
  const answers: Array<{ found: boolean; prev: string | null; swapped: boolean }> = [];
  const casLoop = (async () => {
    const cc = kvClient(h);
    for (let i = 0; i < 20; i++) {
      if (i === 10) await putDone;
      answers.push(await cc.cas("foo", "bar", "bomba"));
      if (i === 0) firstCasDone();
    }
  })();
  await firstCas;
  const c2 = kvClient(h);
  putDone = c2.put("foo", "bar");
  expect(await putDone).toEqual({ found: true, prev: "mexico" });
  await casLoop;

  await checkGet(c2, "foo", "bomba");
  // The answers, in the client's order: mexico (no swap) until the put, one swap of bar, then bomba.
  const swapped = answers.filter((a) => a.swapped);
  expect(swapped, JSON.stringify(answers)).toEqual([{ found: true, prev: "bar", swapped: true }]);
  const at = answers.findIndex((a) => a.swapped);
  for (const [i, a] of answers.entries()) {
    if (i < at) expect(a).toEqual({ found: true, prev: "mexico", swapped: false });
    if (i > at) expect(a).toEqual({ found: true, prev: "bomba", swapped: false });
  }
});

// n clients put their own key at the same time, then n clients read them at the same time.
async function concurrentClientsPutsAndGets(servers: number, n: number): Promise<void> {
  const h = await Harness.create(servers);
  await h.checkSingleLeader();
  const puts = await Promise.all(Array.from({ length: n }, (_, i) => kvClient(h).put(`key${i}`, `value${i}`)));
  for (const p of puts) expect(p).toEqual({ found: false, prev: null });
  await Promise.all(Array.from({ length: n }, (_, i) => checkGet(kvClient(h), `key${i}`, `value${i}`)));
}

test("ConcurrentClientsPutsAndGets", () => concurrentClientsPutsAndGets(3, 9));

test("Test5ServerConcurrentClientsPutsAndGets", () => concurrentClientsPutsAndGets(5, 9));

async function putKeys(h: Harness, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    expect(await kvClient(h).put(`key${i}`, `value${i}`)).toEqual({ found: false, prev: null });
  }
}

async function getKeys(h: Harness, n: number, clients = 5): Promise<void> {
  for (let c = 0; c < clients; c++) {
    const client = kvClient(h);
    for (let i = 0; i < n; i++) await checkGet(client, `key${i}`, `value${i}`);
  }
}

test("DisconnectLeaderAfterPuts", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  await putKeys(h, 4);

  await h.disconnect(leader);
  await sleep(300);
  const { leader: newLeader } = await h.checkSingleLeader();
  expect(newLeader).not.toBe(leader);

  // The old leader, cut off, still believes it leads: it takes the read and never gets it
  // committed. Each request waits 300 ms at the coordinator (?timeoutMs), the client gives
  // up after 1 s.
  const pinned = kvClient(h, { server: leader, coordinatorTimeoutMs: 300, deadlineMs: 1_000 });
  const e = await checkGetTimesOut(pinned, "key1");
  expect(e.status).toBe(504);
  expect(pinned.pinnedServer).toBe(leader);

  await getKeys(h, 4);
  await h.reconnect(leader);
});

test("DisconnectLeaderAndFollower", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  await putKeys(h, 4);

  const other = (leader + 1) % 3;
  await h.disconnect(leader);
  await h.disconnect(other);
  await sleep(100);
  // No majority anywhere: nothing can be committed, reads included.
  await checkGetTimesOut(kvClient(h, { coordinatorTimeoutMs: 500, deadlineMs: 1_500 }), "key0");

  // The follower comes back: a majority without the old leader, holding every put.
  await h.reconnect(other);
  await h.checkSingleLeader();
  await getKeys(h, 4);

  await h.reconnect(leader);
  await h.checkSingleLeader();
  await getKeys(h, 4);
  await checkStored(h, leader, { key0: "value0", key1: "value1", key2: "value2", key3: "value3" });
});

test("CrashFollower", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  await putKeys(h, 3);
  await h.crash((leader + 1) % 3);
  // Talk to the leader only.
  for (let c = 0; c < 5; c++) {
    const client = kvClient(h, { server: leader });
    for (let i = 0; i < 3; i++) await checkGet(client, `key${i}`, `value${i}`);
    expect(client.pinnedServer).toBe(leader);
  }
});

test("CrashLeader", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  await putKeys(h, 3);
  await h.crash(leader);
  const { leader: newLeader } = await h.checkSingleLeader();
  expect(newLeader).not.toBe(leader);
  await getKeys(h, 3);
});

test("CrashThenRestartLeader", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  await putKeys(h, 3);
  await h.crash(leader);
  await h.checkSingleLeader();
  await getKeys(h, 3);

  await h.restart(leader);
  await getKeys(h, 3);
  // The restarted server holds the data too: it came back with its applied state from
  // storage and caught up with anything committed while it was down.
  const want = { key0: "value0", key1: "value1", key2: "value2" };
  await checkStored(h, leader, want);
  // And a write after its return reaches it.
  await kvClient(h).put("key3", "value3");
  await checkStored(h, leader, { ...want, key3: "value3" });
});
