// Part 5 of the reference series (eliben/raft part5kv): exactly-once appends. An append is
// the operation that shows a double application (the value gets the suffix twice), so a
// retried append must be answered with the first result and applied once: after a delayed
// answer, after a 504, and across a leader crash between commit and answer.
//
// Retries are the client's own (src/client re-sends the same Client-Id/Request-Id after a
// lost answer, a 503 or a 504); where a test has to make an answer go missing it does so by
// wrapping the client's fetch or by reaching into the leader's object, never by timing.
import { expect, test } from "vitest";
import type { RaftServer } from "../../src/server/raft-server.ts";
import { Harness } from "./harness.ts";
import { call, checkGet, checkStored, coordinatorFetch, entriesOfRequest, eventually, kvClient, network } from "./kv-harness.ts";
import type { FetchLike } from "../../src/client/index.ts";

test("BasicAppendSameClient", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const c = kvClient(h);
  expect(await c.put("foo", "bar")).toEqual({ found: false, prev: null });
  expect(await c.append("foo", "baz")).toEqual({ found: true, prev: "bar" });
  await checkGet(c, "foo", "barbaz");
  // Appending to a missing key creates it.
  expect(await c.append("mix", "match")).toEqual({ found: false, prev: null });
  await checkGet(c, "mix", "match");
});

test("BasicAppendDifferentClients", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const c1 = kvClient(h);
  const c2 = kvClient(h);
  await c1.put("foo", "bar");
  expect(await c2.append("foo", "baz")).toEqual({ found: true, prev: "bar" });
  await checkGet(c1, "foo", "barbaz");
  expect(await c1.append("foo", "bat")).toEqual({ found: true, prev: "barbaz" });
  await checkGet(c2, "foo", "barbazbat");
});

test("AppendDifferentLeaders", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  const c1 = kvClient(h);
  expect(await c1.append("foo", "bar")).toEqual({ found: false, prev: null });
  await checkGet(c1, "foo", "bar");

  await h.crash(leader);
  const { leader: newLeader } = await h.checkSingleLeader();
  expect(newLeader).not.toBe(leader);
  const c2 = kvClient(h);
  expect(await c2.append("foo", "baz")).toEqual({ found: true, prev: "bar" });
  await checkGet(c2, "foo", "barbaz");

  await h.restart(leader);
  await checkGet(kvClient(h), "foo", "barbaz");
  await checkStored(h, leader, { foo: "barbaz" });
});

/**
 * A fetch that, once armed, lets the next request reach the coordinator and be answered
 * but withholds the answer from the client until the client abandons the attempt (its
 * attempt timeout aborts it): the reference's DelayNextHTTPResponseFromService.
 */
function delayingFetch(): { fetch: FetchLike; arm(): void; withheld: Promise<{ status: number; body: unknown }> } {
  let armed = false;
  let resolveWithheld!: (r: { status: number; body: unknown }) => void;
  const withheld = new Promise<{ status: number; body: unknown }>((resolve) => (resolveWithheld = resolve));
  const fetch: FetchLike = async (url, init) => {
    if (!armed) return coordinatorFetch(url, init);
    armed = false;
    // The request runs to completion whatever the client does meanwhile.
    const { signal, ...rest } = init;
    const response = await coordinatorFetch(url, rest);
    resolveWithheld({ status: response.status, body: await response.json() });
    await new Promise<void>((resolve) => {
      if (signal?.aborted) resolve();
      else signal?.addEventListener("abort", () => resolve(), { once: true });
    });
    throw signal?.reason ?? new Error("aborted");
  };
  return { fetch, arm: () => (armed = true), withheld };
}

// The leader applies the append and answers, but the answer is held back until the client
// gives up on the attempt; the client retries with the same ids and is answered with the
// first result, which it never saw.
test("AppendLinearizableAfterDelay", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const delaying = delayingFetch();
  const c1 = kvClient(h, { fetch: delaying.fetch, attemptTimeoutMs: 1_000, firstRequestId: 1 });
  await c1.append("foo", "bar");
  await checkGet(c1, "foo", "bar");

  const requestId = c1.lastWrite!.requestId + 1;
  delaying.arm();
  const answer = await c1.append("foo", "baz");
  // The first attempt was applied and answered (the client never saw it)...
  const first = await delaying.withheld;
  expect(first).toEqual({ status: 200, body: { found: true, prev: "bar" } });
  // ...and the retry got that same answer, without applying the append again.
  expect(answer).toEqual({ found: true, prev: "bar" });
  await checkGet(c1, "foo", "barbaz");
  expect(c1.lastWrite!.requestId).toBe(requestId); // one id for the call, its retry included
});

// The coordinator gives up first: the network is slow (60 ms each way), the first attempt
// waits only 30 ms (?timeoutMs=30) and answers 504 while the entry is still on its way to
// being committed. The entry commits and applies on its own; the client's retry (same ids)
// proposes a second entry, which the state machine recognises as a duplicate.
test("AppendLinearizableAfterDelay (504 while the entry still commits)", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  let firstAttempt: { status: number; body: unknown } | null = null;
  // The first attempt of the armed call is pinned to the leader with a 30 ms wait (pinned:
  // it goes straight to the leader, with no leader search eating the 30 ms).
  let armed = false;
  const fetch: FetchLike = async (url, init) => {
    if (!armed) return coordinatorFetch(url, init);
    armed = false;
    const u = new URL(url);
    u.searchParams.set("server", String(leader));
    u.searchParams.set("timeoutMs", "30");
    const response = await coordinatorFetch(u.toString(), init);
    firstAttempt = { status: response.status, body: await response.clone().json() };
    return response;
  };
  const c1 = kvClient(h, { fetch });
  await c1.append("foo", "bar");
  await checkGet(c1, "foo", "bar");

  await network(h, { dropRate: 0, delayMs: [60, 60] });
  armed = true;
  const answer = await c1.append("foo", "baz");
  expect(firstAttempt).toMatchObject({ status: 504, body: { error: "timeout" } });
  expect(answer).toEqual({ found: true, prev: "bar" });
  await network(h, {});
  await checkGet(c1, "foo", "barbaz");
  await checkStored(h, leader, { foo: "barbaz" });
  // Both attempts reached the log (the 504'd one and the retry); one was applied.
  const entries = entriesOfRequest(await h.committed(leader), c1.lastWrite!.clientId, c1.lastWrite!.requestId);
  expect(entries.length, JSON.stringify(entries)).toBeGreaterThanOrEqual(2);
});

/**
 * Arms server `i` so that its next client proposal is sent to its followers but it never
 * hears back: right after the AppendEntries leave (in the same turn as the proposal), it
 * cuts its own links, so the followers' replies are dropped on arrival. The entry then sits
 * on every follower's disk — stored on a majority, that is committed — while the leader
 * waits for an answer it will never get.
 */
async function armCutAfterNextProposal(h: Harness, i: number): Promise<void> {
  await h.inside(i, (server) => {
    // Test-only access to the object's private proposal table: wait() is called by kv()
    // after propose() and just before the AppendEntries are sent (drain).
    const pending = (server as unknown as { pending: { wait: (...a: unknown[]) => Promise<unknown> } }).pending;
    const wait = pending.wait.bind(pending);
    pending.wait = (...args: unknown[]) => {
      pending.wait = wait; // once
      queueMicrotask(() => (server as RaftServer).setLinks(false, []));
      return wait(...args);
    };
  });
}

/**
 * Send an operation through `leader`, armed to cut itself off right after proposing it, and
 * wait until its followers have stored the entry: committed, though nobody knows it yet.
 * Returns the operation's pending answer and the entry's index.
 */
async function proposeThenCutLeader<T>(
  h: Harness,
  leader: number,
  followers: readonly number[],
  send: () => Promise<T>,
): Promise<{ pending: Promise<T>; index: number }> {
  const before = (await h.server(leader)).logLength;
  await armCutAfterNextProposal(h, leader);
  const pending = send();
  await eventually("the leader took the operation and cut itself off", async () => {
    const s = await h.server(leader);
    return (!s.connected && s.logLength > before) || `connected ${s.connected}, log ${s.logLength}`;
  });
  const index = (await h.server(leader)).logLength;
  await eventually("the followers stored the entry", async () => {
    const lengths = await Promise.all(followers.map(async (f) => (await h.server(f)).durable.logLength));
    return lengths.every((l) => l >= index) || `follower logs ${lengths}, entry ${index}`;
  });
  return { pending, index };
}

// The leader crashes after its append is committed (stored on a majority) and before it
// answers. The coordinator's call fails with the crash; the append is retried with the
// same ids on the new leader, which commits the first entry and recognises the retry as a
// duplicate: applied once, answered with the first result.
test("AppendLinearizableAfterCrash", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  const c1 = kvClient(h, { deadlineMs: 10_000 });
  await c1.append("foo", "bar");
  await checkGet(c1, "foo", "bar");
  const followers = [0, 1, 2].filter((i) => i !== leader);

  const { pending, index } = await proposeThenCutLeader(h, leader, followers, () => c1.append("foo", "baz"));
  expect((await h.server(leader)).commitIndex).toBeLessThan(index); // it never heard back
  await h.crash(leader);

  expect(await pending).toEqual({ found: true, prev: "bar" });
  const { leader: newLeader } = await h.checkSingleLeader();
  expect(newLeader).not.toBe(leader);
  await checkGet(kvClient(h), "foo", "barbaz");

  // The old leader comes back and agrees.
  await h.restart(leader);
  await h.reconnect(leader);
  await checkStored(h, leader, { foo: "barbaz" });
  // The entry the crashed leader proposed is the one that was applied: it sits at the
  // index it was given, in every server's log; the retry's entry (if any) came later.
  // The retry is in the log too (the new leader could commit the old entry only with an
  // entry of its own term): two entries with the same ids, one application ("barbaz").
  const entries = entriesOfRequest(await h.committed(newLeader), c1.lastWrite!.clientId, c1.lastWrite!.requestId);
  expect(entries[0]?.index, JSON.stringify(entries)).toBe(index);
  expect(entries.length, JSON.stringify(entries)).toBeGreaterThanOrEqual(2);
});

// The control: the same crash with a request that carries no exactly-once ids. The
// coordinator cannot retry it safely, so it answers 504 (unknown outcome), and the entry
// does get applied later: a blind retry then appends twice. This is what the ids prevent.
test("AppendLinearizableAfterCrash (control: without ids a blind retry applies twice)", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  const base = `/clusters/${h.name}/kv/foo`;
  expect((await call("PUT", base, { value: "bar" })).status).toBe(200);
  const followers = [0, 1, 2].filter((i) => i !== leader);

  const { pending } = await proposeThenCutLeader(h, leader, followers, () => call("POST", `${base}/append`, { value: "baz" }));
  await h.crash(leader);
  expect(await pending).toMatchObject({ status: 504, body: { error: "timeout" } });

  expect(await call("POST", `${base}/append`, { value: "baz" })).toEqual({ status: 200, body: { found: true, prev: "barbaz" } });
  expect((await call("GET", base)).body).toEqual({ found: true, value: "barbazbaz" });
});

// The same with the answer lost in the crash itself: the leader applied the append and
// answered, and crashes before the answer reaches the client (the test's fetch crashes the
// leader when the answer arrives and drops it). The client retries with the same ids on the
// new leader: answered with the first result, applied once.
test("AppendLinearizableAfterCrash (answer lost with the crashed leader)", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  let armed = false;
  let lost: { status: number; body: unknown } | null = null;
  const fetch: FetchLike = async (url, init) => {
    if (!armed) return coordinatorFetch(url, init);
    armed = false;
    const response = await coordinatorFetch(url, init);
    lost = { status: response.status, body: await response.json() };
    await h.crash(leader);
    throw new Error("connection reset: the leader crashed before its answer got out");
  };
  const c1 = kvClient(h, { fetch, deadlineMs: 10_000 });
  await c1.append("foo", "bar");
  await checkGet(c1, "foo", "bar");

  armed = true;
  expect(await c1.append("foo", "baz")).toEqual({ found: true, prev: "bar" });
  expect(lost).toEqual({ status: 200, body: { found: true, prev: "bar" } });
  await checkGet(c1, "foo", "barbaz");
  const { leader: newLeader } = await h.checkSingleLeader();
  expect(entriesOfRequest(await h.committed(newLeader), c1.lastWrite!.clientId, c1.lastWrite!.requestId).length).toBeGreaterThanOrEqual(2);
  await h.restart(leader);
  await checkStored(h, leader, { foo: "barbaz" });
});
