// Key/value helpers for the workerd tests of Parts 4 and 5, the nemesis and the bad-input
// tests: clients of src/client that talk to the coordinator in-process, and looks at what a
// server's state machine holds on disk.
//
// The reference's kv harness gives each test "clients" (NewClient, NewClientSingleService)
// and Check* verbs; here a client is the real typed client (KvClient), whose `fetch` is the
// coordinator Worker's own fetch handler, so a request never leaves the process but goes
// through the whole HTTP path: routing, validation, leader finding.
//
// Why the handler is called directly and not through `exports.default.fetch`: under
// @cloudflare/vitest-pool-workers 0.15.1 every call through `exports.default` (or SELF)
// constructs a wrapper whose constructor wraps the wrapper class's prototype in one more
// Proxy (createProxyPrototypeClass, upstream cloudflare/workers-sdk#15092, fixed by #15106
// in later releases; #15446). The N-th call then runs N nested proxy traps: measured here,
// /healthz went from ~10 ms to ~80 ms a call within 300 calls, and to ~250 ms within 600.
// A kv test makes thousands of calls; through exports.default a file slows to a crawl
// (and the nemesis measures the harness, not the service). The direct call runs the same
// Worker code with the same bindings; only the pool's wrapper is skipped.
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { expect } from "vitest";
import { KvClient, KvError, type FetchLike, type KvClientOptions } from "../../src/client/index.ts";
import worker from "../../src/coordinator/index.ts";
import type { Entry } from "../../src/raft/types.ts";
import { type Harness } from "./harness.ts";

/**
 * The coordinator Worker's fetch handler, in-process, as the client's `fetch`. Honours the
 * request's abort signal as a network would: the caller stops waiting (the Worker's work,
 * like a real server's, carries on).
 */
export const coordinatorFetch: FetchLike = (url, init) => {
  const request = new Request(url, init);
  const answer = Promise.resolve(
    worker.fetch(request as Parameters<typeof worker.fetch>[0], env as Parameters<typeof worker.fetch>[1], createExecutionContext()),
  );
  const signal = init.signal;
  if (!signal) return answer;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<Response>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    answer.then(
      (r) => (signal.removeEventListener("abort", onAbort), resolve(r)),
      (e: unknown) => (signal.removeEventListener("abort", onAbort), reject(e)),
    );
  });
};

export interface Answer<T = any> {
  status: number;
  body: T;
}

/** One request to the coordinator, as harness.ts's `api` but through `coordinatorFetch`. */
export async function call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
  const { status, body: answer } = await request<T>(method, path, body, headers);
  return { status, body: answer };
}

/** An answer with its headers (Raft-Server, Raft-Index). */
export interface FullAnswer<T = any> extends Answer<T> {
  headers: Headers;
}

/** `call`, keeping the answer's headers. */
export async function request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<FullAnswer<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const res = await coordinatorFetch(`http://coordinator${path}`, init);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as T) : (null as T), headers: res.headers };
}

export interface TestClientOptions extends Partial<Omit<KvClientOptions, "cluster" | "baseUrl">> {
  /**
   * `?timeoutMs=` on every request: how long the coordinator keeps trying one request
   * before it answers 503/504 (its default is 3000 ms). The client's own deadline
   * (`deadlineMs`) spans its retries.
   */
  readonly coordinatorTimeoutMs?: number;
}

/**
 * A KvClient for `h`'s cluster, in-process. Defaults suit a test: a short backoff, a
 * deadline of several elections. `fetch` may wrap the coordinator (see `withQuery`).
 */
export function kvClient(h: Harness, options: TestClientOptions = {}): KvClient {
  const { coordinatorTimeoutMs, fetch, ...rest } = options;
  let fetchFn: FetchLike = fetch ?? coordinatorFetch;
  if (coordinatorTimeoutMs !== undefined) fetchFn = withQuery(fetchFn, { timeoutMs: String(coordinatorTimeoutMs) });
  return new KvClient({
    baseUrl: "http://coordinator",
    cluster: h.name,
    fetch: fetchFn,
    deadlineMs: 5_000,
    backoff: { initialMs: 10, maxMs: 200 },
    ...rest,
  });
}

/** Adds query parameters to every request `inner` makes (the client only ever adds `?server=`). */
export function withQuery(inner: FetchLike, params: Record<string, string>): FetchLike {
  return (url, init) => {
    const u = new URL(url);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return inner(u.toString(), init);
  };
}

/** POST /clusters/{c}/network: `{}` makes the network reliable again. */
export async function network(h: Harness, settings: { dropRate?: number; delayMs?: [number, number] }): Promise<void> {
  const r = await call("POST", `/clusters/${h.name}/network`, settings);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

/** The reference's CheckGet: the value is there (found, equal). */
export async function checkGet(c: KvClient, key: string, want: string): Promise<void> {
  expect(await c.get(key), `get ${key}`).toEqual({ found: true, value: want });
}

/** The reference's CheckPut: the put is applied; returns what it answered. */
export async function checkPut(c: KvClient, key: string, value: string): Promise<{ found: boolean; prev: string | null }> {
  return c.put(key, value);
}

/**
 * The reference's CheckGetTimesOut: the call fails with "no answer in time": 504 (a leader
 * took it and never answered) or 503 (no leader took it). Nothing else counts.
 */
export async function checkGetTimesOut(c: KvClient, key: string): Promise<KvError> {
  const error = await c.get(key).then(
    (r) => new Error(`get ${key} answered ${JSON.stringify(r)}; a timeout was expected`),
    (e: unknown) => e,
  );
  expect(error, String(error)).toBeInstanceOf(KvError);
  const e = error as KvError;
  expect([503, 504], `${e.status} ${e.code}: ${e.message}`).toContain(e.status);
  return e;
}

/**
 * What server `i` has applied, read from its durable state machine rows (etcd_kv: each key's
 * newest version, unless it is a delete's tombstone), in one turn of its object. A restarted
 * server answers from storage alone.
 */
export async function storedData(h: Harness, i: number): Promise<Record<string, string>> {
  return h.inside(i, (_, state) => storedLiveKeys(state.storage.sql));
}

/** The live keys in a server's etcd_kv rows, as UTF-8 text (src/server/etcd-store.ts). */
export function storedLiveKeys(sql: SqlStorage): Record<string, string> {
  const rows = sql
    .exec<{ key: ArrayBuffer; value: ArrayBuffer | null }>(
      `SELECT key, value FROM etcd_kv AS v WHERE v.tombstone = 0 AND NOT EXISTS (
         SELECT 1 FROM etcd_kv AS w WHERE w.key = v.key AND (w.mod_revision, w.sub) > (v.mod_revision, v.sub))`,
    )
    .toArray();
  const text = (b: ArrayBuffer | null) => new TextDecoder().decode(b ?? new ArrayBuffer(0));
  return Object.fromEntries(rows.map((r) => [text(r.key), text(r.value)]));
}

/** Polls until `check` returns true, failing with `what` (and the last detail) at the deadline. */
export async function eventually(what: string, check: () => Promise<boolean | string>, deadlineMs = 5_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const r = await check();
    if (r === true) return;
    if (Date.now() > until) throw new Error(`${what}: not within ${deadlineMs} ms${typeof r === "string" ? ` (${r})` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Server `i`'s stored data equals `want` on the given keys (polls: a follower catches up). */
export async function checkStored(h: Harness, i: number, want: Record<string, string>, deadlineMs = 5_000): Promise<void> {
  await eventually(`server ${i} holds ${JSON.stringify(want)}`, async () => {
    const data = await storedData(h, i);
    const diff = Object.entries(want).filter(([k, v]) => data[k] !== v);
    return diff.length === 0 || `differs on ${diff.map(([k]) => `${k}=${JSON.stringify(data[k] ?? null)}`).join(", ")}`;
  }, deadlineMs);
}

/** The kv commands among `entries` that carry the exactly-once ids (clientId, requestId). */
export function entriesOfRequest(entries: readonly Entry[], clientId: string, requestId: number): Entry[] {
  return entries.filter((e) => {
    const s = (e.command as { kind?: unknown; session?: { clientId?: unknown; requestId?: unknown } } | null)?.session;
    return (e.command as { kind?: unknown } | null)?.kind === "kv" && s?.clientId === clientId && s.requestId === requestId;
  });
}

/** The key/value commands (not raw submits, not no-ops) among `entries`. */
export function kvEntries(entries: readonly Entry[]): Entry[] {
  return entries.filter((e) => (e.command as { kind?: unknown } | null)?.kind === "kv");
}
