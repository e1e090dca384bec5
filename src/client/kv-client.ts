// A typed client for the key/value routes of the coordinator's API (../shared/API.md).
//
// Usable from Node and from another Worker: it needs only `fetch`, `AbortController`,
// `setTimeout` and `crypto.randomUUID`, which both have. It gives exactly-once
// semantics to writes: every put/cas/append carries Client-Id and Request-Id headers, and
// a retry after a 503, a 504, a 502 or a lost connection re-sends the SAME ids, so the
// cluster applies the operation at most once and answers the retry with the first result.
//
// Request ids of one Client-Id must increase, and the service remembers only each client's
// last one: so one KvClient runs its writes one at a time, in call order (a write called
// while another is in flight waits for it). For parallel writes use several clients.
// Reads carry no ids (a repeated read is harmless) and run concurrently.
//
// Which ids (client-ids.ts, request-ids.ts): by default a write leases a Client-Id from a
// pool the whole process shares, so a process holds as many sessions as it runs writes at
// once however many clients it makes (a client per request is fine), and Request-Ids come
// from one time-based source per process, so they increase across instances and restarts.
// A given `clientId` is shared with every client of the process that gives the same one.
// A "stale" answer for a request that was certainly not applied (a clock that stepped back,
// a writer elsewhere sharing the Client-Id) is retried under an id past the session's last.

import type { KvOpName } from "../kv/command.ts";
import type { CasResult, GetResult, KvResult, PutResult } from "../kv/results.ts";
import { ClientIdPool, DEFAULT_LANES, DEFAULT_POOL, WriteLanes } from "./client-ids.ts";
import { KvError } from "./errors.ts";
import { CounterIds, DEFAULT_IDS, type RequestIds } from "./request-ids.ts";

/** The part of `fetch` the client uses (global fetch, a service binding's fetch, a fake). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface KvClientOptions {
  /** Where the coordinator Worker answers, e.g. "http://127.0.0.1:8787". */
  readonly baseUrl: string;
  readonly cluster: string;
  /** Default: the global fetch. From a Worker, `(u, i) => env.COORDINATOR.fetch(u, i)` works too. */
  readonly fetch?: FetchLike;
  /** Sent as `Authorization: Bearer <token>` (the Worker's CLIENT_TOKEN). */
  readonly token?: string;
  /**
   * 1–64 characters, for a caller that wants its writes under one stable id. Default: none,
   * each write leases an id from the process's pool (client-ids.ts); with `firstRequestId`
   * and no `clientId`, the client makes a random UUID of its own.
   */
  readonly clientId?: string;
  /**
   * Request ids firstRequestId, firstRequestId + 1, ... for this client alone. Default: the
   * process's time-based ids (request-ids.ts), which increase across restarts and instances
   * and never repeat within the process.
   */
  readonly firstRequestId?: number;
  /**
   * What the clients of one process share: the id pool, the time-based ids, the write lanes
   * of given client ids. Tests give each simulated process its own. Default: the module's.
   */
  readonly shared?: { readonly pool?: ClientIdPool; readonly ids?: RequestIds; readonly lanes?: WriteLanes };
  /** How long one call may take, retries included (ms). Default 10 000. */
  readonly deadlineMs?: number;
  /** How long one HTTP attempt may take before it is abandoned and retried (ms). Default 5 000. */
  readonly attemptTimeoutMs?: number;
  /** Pin requests to this server (`?server=i`); a 421 answer moves the pin to the leader it names. */
  readonly server?: number;
  /** Exponential backoff with full jitter between attempts. Default 20 ms doubling to 1 000 ms. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Time source and sleep, for tests (default: Date.now and setTimeout). */
  readonly clock?: { now(): number; sleep(ms: number): Promise<void> };
  /** Randomness for jitter, for tests (default Math.random). */
  readonly random?: () => number;
}

export interface CallOptions {
  /** Overrides the client's deadline for this call. */
  readonly deadlineMs?: number;
  /** Abandons the call (KvError code "aborted"; it may still have been applied). */
  readonly signal?: AbortSignal;
}

interface Request {
  readonly op: KvOpName;
  readonly key: string;
  readonly body?: Record<string, string>;
}

const RETRYABLE_NOT_APPLIED = new Set([503]);
const RETRYABLE_MAYBE_APPLIED = new Set([502, 504]);

/** The exactly-once ids a write carries. */
export interface WriteIds {
  readonly clientId: string;
  readonly requestId: number;
}

export class KvClient {
  /** The Client-Id of every write, or undefined: each write leases one from the pool. */
  readonly clientId: string | undefined;
  private readonly ids: RequestIds;
  private readonly pool: ClientIdPool;
  private readonly lanes: WriteLanes;
  private last: WriteIds | null = null;
  private server: number | undefined;
  private writes: Promise<unknown> = Promise.resolve();
  private readonly options: KvClientOptions;
  private readonly fetchFn: FetchLike;
  private readonly clock: { now(): number; sleep(ms: number): Promise<void> };
  private readonly random: () => number;

  constructor(options: KvClientOptions) {
    this.options = options;
    this.clientId = options.clientId ?? (options.firstRequestId === undefined ? undefined : crypto.randomUUID());
    if (this.clientId !== undefined && (this.clientId.length < 1 || this.clientId.length > 64)) throw new RangeError("clientId must be 1-64 characters");
    this.ids = options.firstRequestId === undefined ? (options.shared?.ids ?? DEFAULT_IDS) : new CounterIds(options.firstRequestId);
    this.pool = options.shared?.pool ?? DEFAULT_POOL;
    this.lanes = options.shared?.lanes ?? DEFAULT_LANES;
    this.server = options.server;
    // Calling the global fetch detached from globalThis throws "Illegal invocation" in Workers.
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.clock = options.clock ?? { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
    this.random = options.random ?? Math.random;
  }

  /** The ids of the last write this client started (null before any): a retry keeps them. */
  get lastWrite(): WriteIds | null {
    return this.last;
  }

  /** The server requests are pinned to, if any (it follows 421 answers). */
  get pinnedServer(): number | undefined {
    return this.server;
  }

  get(key: string, options?: CallOptions): Promise<GetResult> {
    return this.call<GetResult>({ op: "get", key }, undefined, options);
  }

  put(key: string, value: string, options?: CallOptions): Promise<PutResult> {
    return this.write<PutResult>({ op: "put", key, body: { value } }, options);
  }

  /** Sets `key` to `value` only if it exists and holds `compare`. */
  cas(key: string, compare: string, value: string, options?: CallOptions): Promise<CasResult> {
    return this.write<CasResult>({ op: "cas", key, body: { compare, value } }, options);
  }

  /** Adds `value` at the end (a missing key is created holding `value`). */
  append(key: string, value: string, options?: CallOptions): Promise<PutResult> {
    return this.write<PutResult>({ op: "append", key, body: { value } }, options);
  }

  /** Queues a write behind the previous ones; it takes its ids when its turn comes. */
  private write<R extends KvResult>(request: Request, options?: CallOptions): Promise<R> {
    const run = this.writes.then(() => this.underClientId<R>(request, options));
    this.writes = run.catch(() => undefined);
    return run;
  }

  /** Runs a write under its Client-Id: the given one (one write of the process at a time), or a leased one. */
  private underClientId<R extends KvResult>(request: Request, options?: CallOptions): Promise<R> {
    const fixed = this.clientId;
    if (fixed !== undefined) return this.lanes.run(fixed, () => this.call<R>(request, fixed, options));
    const leased = this.pool.lease();
    return this.call<R>(request, leased, options).finally(() => this.pool.release(leased));
  }

  private async call<R extends KvResult>(request: Request, clientId: string | undefined, options?: CallOptions): Promise<R> {
    let ids: WriteIds | undefined = clientId === undefined ? undefined : { clientId, requestId: this.ids.next() };
    if (ids !== undefined) this.last = ids;
    const deadline = this.clock.now() + (options?.deadlineMs ?? this.options.deadlineMs ?? 10_000);
    const signal = options?.signal;
    let attempts = 0;
    let maybeApplied = false;
    let lastProblem = "no attempt was made";
    let followedHint = false; // the previous attempt followed a 421's leader hint
    for (;;) {
      const remaining = deadline - this.clock.now();
      if (remaining <= 0) break;
      if (isAborted(signal)) throw this.aborted(attempts, maybeApplied, signal?.reason);
      attempts++;
      const answer = await this.attempt(request, ids, Math.min(remaining, this.options.attemptTimeoutMs ?? 5_000), signal);
      if (answer.kind === "lost") {
        if (isAborted(signal)) throw this.aborted(attempts, true, signal?.reason);
        maybeApplied = true; // the request may have reached the leader
        lastProblem = answer.problem;
      } else if (answer.status === 200) {
        if (isResult(request.op, answer.body)) return answer.body as R;
        throw new KvError({ status: 200, code: "bad_response", message: `unexpected answer: ${answer.text.slice(0, 200)}`, maybeApplied: true, attempts });
      } else if (answer.status === 421) {
        const leader = (answer.body as { leader?: unknown } | undefined)?.leader;
        lastProblem = `421 not_leader (server ${this.server ?? "?"}, leader ${String(leader ?? null)})`;
        if (typeof leader === "number" && leader !== this.server) {
          this.server = leader;
          // Follow a hint at once (nothing was applied), but not hint after hint: during
          // an election two servers can name each other; then back off like any retry.
          if (!followedHint) {
            followedHint = true;
            continue;
          }
        }
      } else if (ids !== undefined && !maybeApplied && staleFloor(answer.status, answer.body) !== null) {
        // Not applied, under an id below the session's last (this process's clock is behind
        // the one that wrote it, or another writer shares the Client-Id): nothing of this
        // request was applied anywhere, so it goes again under an id past the session's.
        this.ids.passing(staleFloor(answer.status, answer.body)!);
        ids = { clientId: ids.clientId, requestId: this.ids.next() };
        this.last = ids;
        lastProblem = `400 stale_request`;
      } else if (RETRYABLE_NOT_APPLIED.has(answer.status) || RETRYABLE_MAYBE_APPLIED.has(answer.status)) {
        if (RETRYABLE_MAYBE_APPLIED.has(answer.status)) maybeApplied = true;
        lastProblem = `${answer.status} ${errorCode(answer.body, answer.status)}`;
      } else {
        throw new KvError({
          status: answer.status,
          code: errorCode(answer.body, answer.status),
          message: errorMessage(answer.body, answer.text, answer.status),
          // result_forgotten: it was applied, its answer is no longer held.
          maybeApplied: maybeApplied || answer.status >= 500 || errorCode(answer.body, answer.status) === "result_forgotten",
          attempts,
        });
      }
      if (answer.kind === "lost" || answer.status !== 421) followedHint = false;
      const backoff = this.backoff(attempts);
      const pause = Math.min(backoff, deadline - this.clock.now());
      if (pause > 0) await this.clock.sleep(pause);
    }
    // Out of time: say what the API would say. 504 if any attempt may have been applied.
    const message = `${request.op} ${JSON.stringify(request.key)}: no answer within the deadline after ${attempts} attempts (last: ${lastProblem})`;
    throw maybeApplied
      ? new KvError({ status: 504, code: "timeout", message, maybeApplied: true, attempts })
      : new KvError({ status: 503, code: "unavailable", message, maybeApplied: false, attempts });
  }

  private async attempt(
    request: Request,
    ids: WriteIds | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ kind: "answer"; status: number; body: unknown; text: string } | { kind: "lost"; problem: string }> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`attempt timed out after ${timeoutMs} ms`)), timeoutMs);
    const forward = (): void => controller.abort(signal?.reason);
    signal?.addEventListener("abort", forward);
    try {
      const response = await this.fetchFn(this.url(request), {
        method: request.op === "get" ? "GET" : request.op === "put" ? "PUT" : "POST",
        headers: this.headers(request, ids),
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: controller.signal,
      });
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined; // e.g. an HTML error page from a proxy
      }
      return { kind: "answer", status: response.status, body, text };
    } catch (error) {
      return { kind: "lost", problem: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", forward);
    }
  }

  private url(request: Request): string {
    const base = this.options.baseUrl.replace(/\/+$/, "");
    const suffix = request.op === "cas" || request.op === "append" ? `/${request.op}` : "";
    const pin = this.server === undefined ? "" : `?server=${this.server}`;
    return `${base}/clusters/${encodeURIComponent(this.options.cluster)}/kv/${encodeURIComponent(request.key)}${suffix}${pin}`;
  }

  private headers(request: Request, ids: WriteIds | undefined): Record<string, string> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (request.body !== undefined) headers["content-type"] = "application/json";
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    if (ids !== undefined) {
      headers["client-id"] = ids.clientId;
      headers["request-id"] = String(ids.requestId);
    }
    return headers;
  }

  private backoff(attempt: number): number {
    const initial = this.options.backoff?.initialMs ?? 20;
    const max = this.options.backoff?.maxMs ?? 1_000;
    const ceiling = Math.min(max, initial * 2 ** Math.min(attempt - 1, 30));
    return Math.max(1, this.random() * ceiling); // full jitter: clients retrying together spread out
  }

  private aborted(attempts: number, maybeApplied: boolean, reason: unknown): KvError {
    return new KvError({ status: 0, code: "aborted", message: "the call was aborted", maybeApplied, attempts, cause: reason });
  }
}

/** A function, not an inline test: TypeScript would keep the narrowing across awaits. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function isResult(op: KvOpName, body: unknown): boolean {
  if (typeof body !== "object" || body === null) return false;
  const b = body as Record<string, unknown>;
  const nullableString = (v: unknown): boolean => v === null || typeof v === "string";
  if (typeof b.found !== "boolean") return false;
  switch (op) {
    case "get":
      return nullableString(b.value);
    case "put":
    case "append":
    case "delete":
      return nullableString(b.prev);
    case "cas":
      return nullableString(b.prev) && typeof b.swapped === "boolean";
  }
}

/** The session's last id of a 400 stale_request answer (the coordinator says it), else null. */
function staleFloor(status: number, body: unknown): number | null {
  if (status !== 400 || errorCode(body, status) !== "stale_request") return null;
  const last = (body as { lastRequestId?: unknown }).lastRequestId;
  return typeof last === "number" && Number.isSafeInteger(last) && last >= 0 ? last : null;
}

function errorCode(body: unknown, status: number): string {
  const code = (body as { error?: unknown } | undefined)?.error;
  return typeof code === "string" ? code : `http_${status}`;
}

function errorMessage(body: unknown, text: string, status: number): string {
  const message = (body as { message?: unknown } | undefined)?.message;
  if (typeof message === "string") return message;
  return text.length > 0 ? text.slice(0, 200) : `HTTP ${status}`;
}
