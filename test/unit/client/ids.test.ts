// Exactly-once, honestly bounded (issue 23, item 6): the client's ids fit serverless use.
// Default clients lease Client-Ids from a pool the process shares (a client per request
// costs no new session), Request-Ids increase across instances and never repeat within a
// process, two writers sharing a fixed Client-Id never send one id for two requests (not
// even in the same millisecond), and a client whose clock stepped back is not locked out.
// Each simulated process gets its own `shared` (pool, ids, lanes), as a process has its own module.
import { describe, expect, test } from "vitest";
import { KvClient, type KvClientOptions } from "../../../src/client/index.ts";
import { ClientIdPool, WriteLanes } from "../../../src/client/client-ids.ts";
import { KvError } from "../../../src/client/errors.ts";
import { CounterIds, TAGS_PER_TICK, TimeIds } from "../../../src/client/request-ids.ts";
import { fakeFetch, json } from "./fake-fetch.ts";
import { fakeKvServer } from "./fake-server.ts";

const T = Date.UTC(2026, 11, 7, 12);

/** One process: its own pool, lanes and time-based ids on `now`, with the given tag. */
function processOf(now: () => number, tag?: number) {
  return { pool: new ClientIdPool(), lanes: new WriteLanes(), ids: new TimeIds(now, tag) };
}

function client(fetch: KvClientOptions["fetch"], shared: KvClientOptions["shared"], options: Partial<KvClientOptions> = {}): KvClient {
  return new KvClient({ baseUrl: "http://kv.test", cluster: "c", fetch, shared, backoff: { initialMs: 1, maxMs: 2 }, deadlineMs: 2_000, ...options });
}

/** Every appended piece occurs exactly once in `value`. */
function eachOnce(value: string | null, pieces: string[]): void {
  for (const p of pieces) expect(value?.split(p).length, `${p} in ${value}`).toBe(2);
}

describe("time-based request ids", () => {
  test("increase strictly whatever the clock does, and keep their tag", () => {
    let now = T;
    const ids = new TimeIds(() => now, 77);
    const seen = [ids.next(), ids.next()];
    now -= 3_600_000; // the clock steps back an hour
    seen.push(ids.next(), ids.next());
    now += 7_200_000;
    seen.push(ids.next());
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
    expect(seen.every((id) => id % TAGS_PER_TICK === 77 && Number.isSafeInteger(id))).toBe(true);
  });

  test("two sources with different tags never give the same id, even on one frozen millisecond", () => {
    const a = new TimeIds(() => T, 1);
    const b = new TimeIds(() => T, 2);
    const fromA = new Set(Array.from({ length: 1000 }, () => a.next()));
    expect(Array.from({ length: 1000 }, () => b.next()).filter((id) => fromA.has(id))).toEqual([]);
  });

  test("passing(floor) makes the next id greater than floor, in both kinds of source", () => {
    const time = new TimeIds(() => T, 5);
    const floor = time.next() + 10 * TAGS_PER_TICK + 3;
    time.passing(floor);
    expect(time.next()).toBeGreaterThan(floor);
    const counter = new CounterIds(1);
    counter.passing(41);
    expect(counter.next()).toBe(42);
    expect(() => new CounterIds(-1)).toThrow(RangeError);
    expect(() => new TimeIds(() => T, TAGS_PER_TICK)).toThrow(RangeError);
  });
});

describe("default clients share the process's pool of client ids", () => {
  test("a client per request, one after another: one session in all", async () => {
    const server = fakeKvServer();
    const shared = processOf(() => Date.now());
    const pieces: string[] = [];
    for (let i = 0; i < 200; i++) {
      const c = client(server.fetch, shared);
      expect(c.clientId).toBeUndefined();
      pieces.push(`<${i}>`);
      await c.append("k", `<${i}>`);
    }
    expect(server.machine.sessionCount).toBe(1); // it was 200: a random id per client
    eachOnce(server.machine.peek("k") ?? null, pieces);
  });

  test("clients writing at once: as many sessions as writes at once, each write exactly once", async () => {
    const server = fakeKvServer({ fault: () => (Math.random() < 0.2 ? "lost-answer" : "none") });
    const shared = processOf(() => Date.now());
    const pieces: string[] = [];
    await Promise.all(
      Array.from({ length: 10 }, async (_, w) => {
        for (let i = 0; i < 20; i++) {
          pieces.push(`<${w}.${i}>`);
          await client(server.fetch, shared).append("k", `<${w}.${i}>`); // a new client each time
        }
      }),
    );
    expect(server.machine.sessionCount).toBeLessThanOrEqual(10);
    expect(shared.pool.idleCount).toBe(server.machine.sessionCount);
    eachOnce(server.machine.peek("k") ?? null, pieces);
  });
});

describe("a fixed client id shared by several writers", () => {
  test("in one process, in one millisecond: no two writes carry one id, all are applied once", async () => {
    const server = fakeKvServer({ now: () => T });
    const shared = processOf(() => T); // a frozen clock: every id is taken in the same millisecond
    const writers = [client(server.fetch, shared, { clientId: "shared" }), client(server.fetch, shared, { clientId: "shared" })];
    const pieces: string[] = [];
    const sent = new Set<string>();
    await Promise.all(
      writers.map(async (c, w) => {
        for (let i = 0; i < 30; i++) {
          pieces.push(`<${w}.${i}>`);
          await c.append("k", `<${w}.${i}>`);
          const id = String(c.lastWrite!.requestId);
          expect(sent.has(id), `id ${id} sent twice`).toBe(false);
          sent.add(id);
        }
      }),
    );
    eachOnce(server.machine.peek("k") ?? null, pieces);
  });

  test("in two processes, in one millisecond: ids never meet, and a stale answer is retried past the session's id", async () => {
    const server = fakeKvServer({ now: () => T });
    const [p1, p2] = [processOf(() => T, 1), processOf(() => T, 2)];
    const pieces: string[] = [];
    await Promise.all(
      [p1, p2].map(async (shared, w) => {
        const c = client(server.fetch, shared, { clientId: "shared" });
        for (let i = 0; i < 30; i++) {
          pieces.push(`<${w}.${i}>`);
          await c.append("k", `<${w}.${i}>`);
        }
      }),
    );
    eachOnce(server.machine.peek("k") ?? null, pieces);
  });

  test("in two processes that drew the same tag (1 in 4096), in one millisecond: ids meet, yet no write is answered with another's result", async () => {
    const server = fakeKvServer({ now: () => T });
    const [p1, p2] = [processOf(() => T, 9), processOf(() => T, 9)];
    const pieces: string[] = [];
    const answers: Array<{ piece: string; prev: string | null }> = [];
    await Promise.all(
      [p1, p2].map(async (shared, w) => {
        const c = client(server.fetch, shared, { clientId: "shared" });
        for (let i = 0; i < 30; i++) {
          pieces.push(`<${w}.${i}>`);
          answers.push({ piece: `<${w}.${i}>`, prev: (await c.append("k", `<${w}.${i}>`)).prev });
        }
      }),
    );
    const value = server.machine.peek("k") ?? null;
    eachOnce(value, pieces);
    // Each append's prev is the value just before its own piece: its own application's answer.
    for (const { piece, prev } of answers) expect(value!.slice(0, value!.indexOf(piece))).toBe(prev ?? "");
  });

  test("a process whose clock stepped back an hour is not locked out until its clock catches up", async () => {
    const server = fakeKvServer({ now: () => T });
    await client(server.fetch, processOf(() => T), { clientId: "me" }).put("k", "before");
    const behind = client(server.fetch, processOf(() => T - 3_600_000), { clientId: "me" });
    expect(await behind.put("k", "after")).toEqual({ found: true, prev: "before" });
    expect(await behind.put("k", "again")).toEqual({ found: true, prev: "after" });
    expect(server.machine.peek("k")).toBe("again");
  });
});

describe("answers that say a request was applied, or may have been", () => {
  test("stale after an attempt that may have applied: not sent again under a new id, outcome unknown", async () => {
    const f = fakeFetch([
      json(504, { error: "timeout", message: "unknown" }),
      json(400, { error: "stale_request", message: "older", lastRequestId: 1e12 }),
    ]);
    const c = client(f.fetch, processOf(() => T), { clientId: "me" });
    const error = await c.put("k", "v").catch((e: unknown) => e as KvError);
    expect(error).toMatchObject({ status: 400, code: "stale_request", maybeApplied: true });
    expect(new Set(f.requests.map((r) => r.headers["request-id"])).size).toBe(1);
  });

  test("a forgotten result is reported as applied (maybeApplied), not retried", async () => {
    const f = fakeFetch([json(400, { error: "result_forgotten", message: "applied, result gone" })]);
    const error = await client(f.fetch, processOf(() => T)).put("k", "v").catch((e: unknown) => e as KvError);
    expect(error).toMatchObject({ status: 400, code: "result_forgotten", maybeApplied: true });
    expect(f.requests).toHaveLength(1);
  });
});
