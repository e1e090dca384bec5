// The client against a scripted fetch: request shapes, ids kept across retries, deadlines,
// 421 leader hints and the mapping of error answers to KvError.
import { describe, expect, test } from "vitest";
import { KvClient, type KvClientOptions } from "../../../src/client/index.ts";
import { KvError } from "../../../src/client/errors.ts";
import { fakeClock, fakeFetch, json, type Step } from "./fake-fetch.ts";

function setup(script: Step[], options: Partial<KvClientOptions> = {}) {
  const f = fakeFetch(script);
  const c = fakeClock();
  const client = new KvClient({
    baseUrl: "http://kv.test/",
    cluster: "c1",
    fetch: f.fetch,
    clock: c.clock,
    random: () => 1, // no jitter: backoff is the exponential ceiling
    deadlineMs: 1_000,
    firstRequestId: 1, // ids 1, 2, ... under a client id of its own (request-ids.test.ts tests the default)
    ...options,
  });
  return { client, requests: f.requests, time: c.state };
}

async function caught(p: Promise<unknown>): Promise<KvError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(KvError);
    return error as KvError;
  }
  throw new Error("expected the call to fail");
}

describe("requests", () => {
  test("each operation uses the API's method, path and body, and returns its result", async () => {
    const { client, requests } = setup(
      [
        json(200, { found: false, value: null }),
        json(200, { found: false, prev: null }),
        json(200, { found: true, prev: "v", swapped: true }),
        json(200, { found: true, prev: "w" }),
      ],
      { token: "s3cret", clientId: "me", firstRequestId: 7 },
    );
    expect(await client.get("a/b c")).toEqual({ found: false, value: null });
    expect(await client.put("k", "v")).toEqual({ found: false, prev: null });
    expect(await client.cas("k", "v", "w")).toEqual({ found: true, prev: "v", swapped: true });
    expect(await client.append("k", "x")).toEqual({ found: true, prev: "w" });
    expect(requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ["GET", "http://kv.test/clusters/c1/kv/a%2Fb%20c", undefined],
      ["PUT", "http://kv.test/clusters/c1/kv/k", { value: "v" }],
      ["POST", "http://kv.test/clusters/c1/kv/k/cas", { compare: "v", value: "w" }],
      ["POST", "http://kv.test/clusters/c1/kv/k/append", { value: "x" }],
    ]);
    expect(requests.every((r) => r.headers.authorization === "Bearer s3cret")).toBe(true);
    expect(requests[0]!.headers["client-id"]).toBeUndefined(); // reads carry no ids
    expect(requests.slice(1).map((r) => [r.headers["client-id"], r.headers["request-id"], r.headers["content-type"]])).toEqual([
      ["me", "7", "application/json"],
      ["me", "8", "application/json"],
      ["me", "9", "application/json"],
    ]);
  });

  test("with firstRequestId and no client id: a random client id of its own, different per client, ids from firstRequestId", async () => {
    const a = setup([json(200, { found: false, prev: null })]);
    const b = setup([]);
    expect(a.client.clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.client.clientId).not.toBe(a.client.clientId);
    await a.client.put("k", "v");
    expect(a.requests[0]!.headers["request-id"]).toBe("1");
    expect(a.client.lastWrite).toEqual({ clientId: a.client.clientId, requestId: 1 });
  });

  test("writes of one client go one at a time, in call order, with increasing ids", async () => {
    let inFlight = 0;
    let most = 0;
    const answer = async (): Promise<Response> => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return json(200, { found: true, prev: "x" });
    };
    const { client, requests } = setup([answer, answer, answer]);
    await Promise.all([client.append("k", "1"), client.append("k", "2"), client.put("k", "3")]);
    expect(most).toBe(1);
    expect(requests.map((r) => [r.body, r.headers["request-id"]])).toEqual([
      [{ value: "1" }, "1"],
      [{ value: "2" }, "2"],
      [{ value: "3" }, "3"],
    ]);
  });

  test("a failed write does not block the ones queued behind it", async () => {
    const { client, requests } = setup([json(400, { error: "bad_request", message: "no" }), json(200, { found: false, prev: null })]);
    const [first, second] = await Promise.allSettled([client.put("k", "v"), client.put("k", "w")]);
    expect(first.status).toBe("rejected");
    expect(second).toEqual({ status: "fulfilled", value: { found: false, prev: null } });
    expect(requests.map((r) => r.headers["request-id"])).toEqual(["1", "2"]);
  });
});

describe("retries", () => {
  test("503, 504, 502 and a lost connection are retried with the SAME ids, with growing backoff", async () => {
    const { client, requests, time } = setup([
      json(503, { error: "unavailable", message: "no leader" }),
      json(504, { error: "timeout", message: "unknown" }),
      new TypeError("fetch failed"),
      new Response("<html>bad gateway</html>", { status: 502 }),
      json(200, { found: true, prev: "bar" }),
    ]);
    expect(await client.append("k", "baz")).toEqual({ found: true, prev: "bar" });
    expect(requests).toHaveLength(5);
    expect(new Set(requests.map((r) => `${r.headers["client-id"]}/${r.headers["request-id"]}`)).size).toBe(1);
    expect(requests.every((r) => JSON.stringify(r.body) === JSON.stringify({ value: "baz" }))).toBe(true);
    expect(time.sleeps).toEqual([20, 40, 80, 160]);
    expect(client.lastWrite?.requestId).toBe(1); // five attempts, one request: one id used
  });

  test("the deadline bounds the retries: only 503s means not applied (503 unavailable)", async () => {
    const script: Step[] = Array.from({ length: 100 }, () => json(503, { error: "unavailable", message: "x" }));
    const { client, requests, time } = setup(script, { deadlineMs: 1_000, backoff: { initialMs: 50, maxMs: 200 } });
    const start = time.t;
    const error = await caught(client.put("k", "v"));
    expect(error).toMatchObject({ status: 503, code: "unavailable", maybeApplied: false });
    expect(time.t - start).toBe(1_000); // the last pause is cut to the deadline, not beyond
    expect(error.attempts).toBe(requests.length);
    expect(requests.length).toBeGreaterThan(3);
    expect(Math.max(...time.sleeps)).toBeLessThanOrEqual(200);
  });

  test("once an attempt may have been applied, running out of time is a 504 with maybeApplied", async () => {
    const script: Step[] = [json(504, { error: "timeout", message: "x" })];
    for (let i = 0; i < 100; i++) script.push(json(503, { error: "unavailable", message: "x" }));
    const { client } = setup(script, { deadlineMs: 500 });
    const error = await caught(client.append("k", "v"));
    expect(error).toMatchObject({ status: 504, code: "timeout", maybeApplied: true });
    expect(error.message).toContain("503 unavailable");
  });

  test("a hanging attempt is abandoned at the attempt timeout and retried with the same ids (real time)", async () => {
    const f = fakeFetch(["hang", json(200, { found: false, prev: null })]);
    const client = new KvClient({ baseUrl: "http://kv.test", cluster: "c", fetch: f.fetch, attemptTimeoutMs: 30, deadlineMs: 2_000 });
    const started = Date.now();
    expect(await client.put("k", "v")).toEqual({ found: false, prev: null });
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    const ids = f.requests.map((r) => `${r.headers["client-id"]}/${r.headers["request-id"]}`);
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBe(ids[0]);
  });

  test("a call never outlives its deadline even when every attempt hangs (real time)", async () => {
    const f = fakeFetch(Array.from({ length: 50 }, (): Step => "hang"));
    const client = new KvClient({ baseUrl: "http://kv.test", cluster: "c", fetch: f.fetch, deadlineMs: 120 });
    const started = Date.now();
    const error = await caught(client.append("k", "v"));
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ status: 504, code: "timeout", maybeApplied: true });
    expect(elapsed).toBeGreaterThanOrEqual(115);
    expect(elapsed).toBeLessThan(600);
  });

  test("an abort signal ends the call with code aborted", async () => {
    const f = fakeFetch(["hang"]);
    const client = new KvClient({ baseUrl: "http://kv.test", cluster: "c", fetch: f.fetch, deadlineMs: 5_000 });
    const controller = new AbortController();
    const call = client.put("k", "v", { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    const error = await caught(call);
    expect(error).toMatchObject({ code: "aborted", maybeApplied: true, attempts: 1 });
  });

  test("a per-call deadline overrides the client's", async () => {
    const script: Step[] = Array.from({ length: 100 }, () => json(503, { error: "unavailable", message: "x" }));
    const { client, time } = setup(script, { deadlineMs: 60_000 });
    const start = time.t;
    await caught(client.get("k", { deadlineMs: 300 }));
    expect(time.t - start).toBe(300);
  });
});

describe("421 not_leader", () => {
  test("a pinned client follows the leader named by 421 at once, keeping the ids", async () => {
    const { client, requests, time } = setup(
      [json(421, { error: "not_leader", leader: 2 }), json(200, { found: false, prev: null })],
      { server: 0, clientId: "c", firstRequestId: 5 },
    );
    await client.put("k", "v");
    expect(requests.map((r) => r.url)).toEqual(["http://kv.test/clusters/c1/kv/k?server=0", "http://kv.test/clusters/c1/kv/k?server=2"]);
    expect(requests.map((r) => r.headers["request-id"])).toEqual(["5", "5"]);
    expect(time.sleeps).toEqual([]);
    expect(client.pinnedServer).toBe(2);
  });

  test("two servers naming each other: the second hint in a row is followed only after a backoff", async () => {
    const { client, requests, time } = setup(
      [
        json(421, { error: "not_leader", leader: 1 }),
        json(421, { error: "not_leader", leader: 0 }),
        json(421, { error: "not_leader", leader: 1 }),
        json(200, { found: false, prev: null }),
      ],
      { server: 0 },
    );
    await client.put("k", "v");
    expect(requests.map((r) => r.url.slice(-9))).toEqual(["?server=0", "?server=1", "?server=0", "?server=1"]);
    expect(time.sleeps).toEqual([40, 80]);
  });

  test("without a known leader it backs off and asks again; out of time it is unavailable", async () => {
    const script: Step[] = Array.from({ length: 100 }, () => json(421, { error: "not_leader", leader: null }));
    const { client, requests } = setup(script, { server: 1, deadlineMs: 400 });
    const error = await caught(client.put("k", "v"));
    expect(error).toMatchObject({ status: 503, code: "unavailable", maybeApplied: false });
    expect(requests.length).toBeGreaterThan(1);
    expect(requests.every((r) => r.url.endsWith("?server=1"))).toBe(true);
  });
});

describe("errors", () => {
  test.each([
    [400, "bad_request", "key must not be empty"],
    [401, "unauthorized", "missing token"],
    [403, "forbidden", "wrong token"],
    [404, "not_found", "unknown cluster"],
    [405, "method_not_allowed", "no"],
    [413, "too_large", "value is 70000 bytes"],
  ])("%i is thrown at once as KvError(%s) and not retried", async (status, code, message) => {
    const { client, requests } = setup([json(status, { error: code, message })]);
    const error = await caught(client.put("k", "v"));
    expect(error).toMatchObject({ name: "KvError", status, code, message, maybeApplied: false, attempts: 1 });
    expect(requests).toHaveLength(1);
  });

  test("an error after an uncertain attempt keeps maybeApplied", async () => {
    const { client } = setup([json(504, { error: "timeout", message: "?" }), json(404, { error: "not_found", message: "cluster deleted" })]);
    expect(await caught(client.append("k", "v"))).toMatchObject({ status: 404, maybeApplied: true });
  });

  test("a 500 is not retried and may have been applied; a non-JSON body still gives a message", async () => {
    const { client } = setup([new Response("Internal oops", { status: 500 })]);
    expect(await caught(client.put("k", "v"))).toMatchObject({ status: 500, code: "http_500", message: "Internal oops", maybeApplied: true });
  });

  test("a 200 with the wrong shape is a bad_response", async () => {
    const { client } = setup([json(200, { found: "yes" }), json(200, { found: true, prev: "x" })]);
    expect(await caught(client.cas("k", "a", "b"))).toMatchObject({ status: 200, code: "bad_response" });
    expect(await caught(client.get("k"))).toMatchObject({ code: "bad_response" }); // wrong fields for a get
  });

  test("bad options are refused", () => {
    expect(() => new KvClient({ baseUrl: "x", cluster: "c", clientId: "" })).toThrow(RangeError);
    expect(() => new KvClient({ baseUrl: "x", cluster: "c", clientId: "x".repeat(65) })).toThrow(RangeError);
    expect(() => new KvClient({ baseUrl: "x", cluster: "c", firstRequestId: -1 })).toThrow(RangeError);
  });
});
