// A typed client for the key/value routes of the coordinator's API (../shared/API.md,
// "Key/value service"): get, put, cas, append, delete and list.
//
// Usable from Node and from another Worker: it needs only `fetch`, `AbortController`,
// `setTimeout` and `crypto.randomUUID`, which both have. Writes (put, cas, append, delete)
// are exactly-once: they carry Client-Id and Request-Id headers and a retry re-sends the
// same ids; one client runs its writes one at a time, in call order, and its reads
// concurrently. transport.ts says how, and which ids.

import type { CasResult, PutResult } from "../kv/results.ts";
import type { DeleteResult, GetAnswer, ListAllOptions, ListedKey, ListOptions, ListResult } from "./kv-types.ts";
import { KvError } from "./errors.ts";
import { type CallOptions, type CallSpec, type KvClientOptions, Transport, type WriteIds } from "./transport.ts";

export type { CallOptions, FetchLike, KvClientOptions, WriteIds } from "./transport.ts";

export class KvClient {
  private readonly transport: Transport;

  constructor(options: KvClientOptions) {
    this.transport = new Transport(options);
  }

  /** The Client-Id of every write, or undefined: each write leases one from the pool. */
  get clientId(): string | undefined {
    return this.transport.clientId;
  }

  /** The ids of the last write this client started (null before any): a retry keeps them. */
  get lastWrite(): WriteIds | null {
    return this.transport.lastWrite;
  }

  /** The server requests are pinned to, if any (it follows 421 answers). */
  get pinnedServer(): number | undefined {
    return this.transport.pinnedServer;
  }

  get(key: string, options?: CallOptions): Promise<GetAnswer> {
    return this.transport.read(keyCall("GET", key, "", undefined, "get", isGetResult), options);
  }

  put(key: string, value: string, options?: CallOptions): Promise<PutResult> {
    return this.transport.write(keyCall("PUT", key, "", { value }, "put", isPutResult), options);
  }

  /** Sets `key` to `value` only if it exists and holds `compare`. */
  cas(key: string, compare: string, value: string, options?: CallOptions): Promise<CasResult> {
    return this.transport.write(keyCall("POST", key, "/cas", { compare, value }, "cas", isCasResult), options);
  }

  /** Adds `value` at the end (a missing key is created holding `value`). */
  append(key: string, value: string, options?: CallOptions): Promise<PutResult> {
    return this.transport.write(keyCall("POST", key, "/append", { value }, "append", isPutResult), options);
  }

  /** Removes `key` (a missing key is not an error: `found: false`). Exactly-once, as put. */
  delete(key: string, options?: CallOptions): Promise<DeleteResult> {
    return this.transport.write(keyCall("DELETE", key, "", undefined, "delete", isPutResult), options);
  }

  /**
   * One page of keys in byte order, all read at one revision (`revision` in the answer):
   * those starting with `prefix`, strictly after `after`, at most `limit`. `more` says
   * whether keys follow the last one listed; pass it as `after` for the next page.
   */
  list(query: ListOptions = {}, options?: CallOptions): Promise<ListResult> {
    if (query.limit !== undefined && !(Number.isSafeInteger(query.limit) && query.limit >= 1)) return Promise.reject(new RangeError("limit must be an integer >= 1"));
    const params: string[] = [];
    if (query.prefix !== undefined && query.prefix !== "") params.push(`prefix=${encodeURIComponent(query.prefix)}`);
    if (query.after !== undefined) params.push(`after=${encodeURIComponent(query.after)}`);
    if (query.limit !== undefined) params.push(`limit=${query.limit}`);
    const describe = `list ${JSON.stringify(query)}`;
    return this.transport.read({ method: "GET", path: "/kv", query: params.join("&"), describe, decode: decodeList }, options);
  }

  /**
   * Every key starting with `prefix`, in byte order, read page by page (`pageSize` keys per
   * request, each page after the last key of the one before). Each page is read at its own
   * revision: a key written while the iteration runs may or may not be seen, and the keys
   * seen together are not one snapshot of the store. For one snapshot, use `list` with a
   * `limit` that covers the whole prefix, or etcd's `range` at a fixed `revision`. `options`
   * (deadline, signal) apply to each page's request.
   */
  async *listAll(query: ListAllOptions = {}, options?: CallOptions): AsyncGenerator<ListedKey, void, undefined> {
    if (query.pageSize !== undefined && !(Number.isSafeInteger(query.pageSize) && query.pageSize >= 1)) throw new RangeError("pageSize must be an integer >= 1");
    let after: string | undefined;
    for (;;) {
      const page = await this.list({ ...(query.prefix === undefined ? {} : { prefix: query.prefix }), ...(after === undefined ? {} : { after }), ...(query.pageSize === undefined ? {} : { limit: query.pageSize }) }, options);
      yield* page.keys;
      if (!page.more) return;
      const last = page.keys.at(-1);
      // A page that says "more" but lists nothing would have us ask the same question forever.
      if (last === undefined) throw new KvError({ status: 200, code: "bad_response", message: "a list page with more: true and no keys", maybeApplied: false, attempts: 1 });
      after = last.key;
    }
  }
}

/** A request to /kv/{key}[suffix]: the key is one path segment, so "/" and the rest are escaped. */
function keyCall<R>(method: CallSpec<R>["method"], key: string, suffix: string, body: Record<string, string> | undefined, op: string, accept: (b: unknown) => b is R): CallSpec<R> {
  return {
    method,
    path: `/kv/${encodeURIComponent(key)}${suffix}`,
    ...(body === undefined ? {} : { body }),
    describe: `${op} ${JSON.stringify(key)}`,
    decode: (b) => {
      if (!accept(b)) throw new Error(`not a ${op} answer`);
      return b;
    },
  };
}

type Fields = Record<string, unknown>;
const isObject = (v: unknown): v is Fields => typeof v === "object" && v !== null && !Array.isArray(v);
const nullableString = (v: unknown): boolean => v === null || typeof v === "string";
const isCounter = (v: unknown): boolean => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

function isGetResult(b: unknown): b is GetAnswer {
  return isObject(b) && typeof b.found === "boolean" && nullableString(b.value) && (b.modRevision === undefined || isCounter(b.modRevision));
}

function isPutResult(b: unknown): b is PutResult {
  return isObject(b) && typeof b.found === "boolean" && nullableString(b.prev);
}

function isCasResult(b: unknown): b is CasResult {
  return isPutResult(b) && typeof (b as unknown as Fields).swapped === "boolean";
}

function isListedKey(k: unknown): k is ListedKey {
  return isObject(k) && typeof k.key === "string" && typeof k.value === "string" && isCounter(k.createRevision) && isCounter(k.modRevision) && isCounter(k.version);
}

function decodeList(b: unknown): ListResult {
  if (!isObject(b) || !Array.isArray(b.keys) || typeof b.more !== "boolean" || !isCounter(b.revision)) throw new Error("not a list answer");
  const bad = b.keys.findIndex((k) => !isListedKey(k));
  if (bad >= 0) throw new Error(`keys[${bad}] is not {key, value, createRevision, modRevision, version}`);
  return b as unknown as ListResult;
}
