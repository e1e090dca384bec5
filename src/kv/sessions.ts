// Exactly-once bookkeeping: for each client, the last request id applied, its result and the
// log index of the entry that applied it (a retry's answer names that entry, not its own).
//
// Request ids of one client increase and a client has one request in flight at a time
// (src/client/ serializes its calls), so the last id and its result are all that is
// needed to answer a retry. An older id can no longer be answered (its result is gone):
// the caller reports it as stale rather than applying it again.
//
// The table is bounded, deterministically, so every replica drops the same sessions and
// results: every bound is decided from the applied commands alone.
//  - by idle time: a session whose last command was proposed more than `expiryMs` before
//    the latest applied command is dropped. Time is the leader's clock as written in the
//    log (`proposedAt`), made monotone by taking the maximum seen, so a leader with a
//    slower clock cannot move it backwards.
//  - by count: beyond `maxSessions`, the least recently used session is dropped.
//  - by the size of the results kept: a result is as large as the value it reports (a
//    put's `prev`, up to 64 KiB), every replica holds the table in memory and every
//    snapshot carries it, so 10,000 clients writing large values would need ~625 MiB. The
//    results together are kept within `maxResultChars` (their JSON text, in UTF-16 code
//    units: what a snapshot's text holds). Past it, the results of the least recently used
//    sessions are forgotten, but their ids are kept: a retry of such a request is still
//    never applied again, it is answered "forgotten" (applied, result no longer known).
// The trade-off: a client silent for longer than the expiry (or pushed out by many newer
// clients) loses exactly-once — a retry after that is applied again. The expiry should be
// far longer than any client's retry deadline (default: 1 hour against seconds).
//
// The Map is kept in order of last use (touching a session moves it to the end), so the
// bounds evict from the front in O(1) per dropped session. The sessions that still hold a
// result are a second Map in the same order (the first restricted to them), so forgetting
// results least recently used first is O(1) each too.

import type { StoredResult } from "./results.ts";

export const DEFAULT_SESSION_EXPIRY_MS = 60 * 60 * 1000;
export const DEFAULT_MAX_SESSIONS = 10_000;
/** 8 Mi characters of results: 128 results of 64 KiB, or ~100,000 of a small value each. */
export const DEFAULT_MAX_RESULT_CHARS = 8 * 1024 * 1024;
/**
 * One result larger than this (an etcd txn's answer can hold many values) is not kept: its
 * session keeps the id, as a forgotten result. A kv result is at most a 64 KiB value, far
 * below; the bound keeps every session row within what one SQLite row holds (2 MB).
 */
export const MAX_KEPT_RESULT_CHARS = 1024 * 1024;

export interface SessionRecord {
  readonly requestId: number;
  /** Null once forgotten to keep the results within their budget (the id still counts). */
  readonly result: StoredResult | null;
  /** The session clock when this client's last command (or retry) was applied. */
  readonly lastSeen: number;
  /**
   * The last request's operationFingerprint (fingerprint.ts): a command under the same id
   * with another digest is another request, not a retry. Absent in sessions stored before
   * it existed (any command under the id is then taken for a retry, as it was).
   */
  readonly fingerprint?: number;
  /**
   * The log index of the entry where this request was applied (not a later retry's), so a
   * retry is answered with the index where its write took effect. Absent in sessions stored
   * before it was kept.
   */
  readonly index?: number;
}

export type SessionLookup =
  | { readonly kind: "new" }
  /** `index`: where the request was applied, if the session knows it (see SessionRecord). */
  | { readonly kind: "duplicate"; readonly result: StoredResult; readonly index?: number }
  /** The client's last request, applied, whose result was forgotten (see the bounds above). */
  | { readonly kind: "forgotten" }
  | { readonly kind: "stale"; readonly lastRequestId: number };

/** What a session's result costs against the budget: its JSON text's length. */
export function resultChars(result: StoredResult | null): number {
  return result === null ? 0 : JSON.stringify(result).length;
}

export class SessionTable {
  private readonly sessions = new Map<string, SessionRecord>();
  /** The sessions holding a result, with its size, in the same use order as `sessions`. */
  private readonly results = new Map<string, number>();
  private resultTotal = 0;
  private clockMs = Number.NEGATIVE_INFINITY;
  /** Clients whose session was written (moved to the end) or dropped since the last `takeChanged`. */
  private changed = new Set<string>();
  /** Clients whose result was forgotten, in place, since the last `takeChanged`. */
  private forgotten = new Set<string>();

  constructor(
    readonly expiryMs: number = DEFAULT_SESSION_EXPIRY_MS,
    readonly maxSessions: number = DEFAULT_MAX_SESSIONS,
    readonly maxResultChars: number = DEFAULT_MAX_RESULT_CHARS,
  ) {
    if (!(expiryMs > 0)) throw new RangeError("session expiry must be > 0 ms");
    if (!(Number.isInteger(maxSessions) && maxSessions >= 1)) throw new RangeError("maxSessions must be an integer >= 1");
    if (!(Number.isInteger(maxResultChars) && maxResultChars >= 0)) throw new RangeError("maxResultChars must be an integer >= 0");
  }

  /** The session clock: the latest `proposedAt` applied (−∞ before any). */
  get clock(): number {
    return this.clockMs;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** The size of the results held (JSON characters), never above `maxResultChars`. */
  get resultChars(): number {
    return this.resultTotal;
  }

  /** Moves the clock to `proposedAt` (never backwards) and drops sessions idle for too long. */
  advance(proposedAt: number): void {
    if (proposedAt > this.clockMs) this.clockMs = proposedAt;
    const oldest = this.clockMs - this.expiryMs;
    for (const [clientId, record] of this.sessions) {
      if (record.lastSeen >= oldest) break; // ordered by lastSeen: the rest are younger
      this.drop(clientId);
    }
  }

  /**
   * What to do with request `requestId` of `clientId`, whose operation has digest
   * `fingerprint`. A duplicate refreshes the session. The same id with another operation is
   * another writer's request under a shared Client-Id: stale, as an older id would be.
   */
  lookup(clientId: string, requestId: number, fingerprint?: number): SessionLookup {
    const record = this.sessions.get(clientId);
    if (record === undefined || requestId > record.requestId) return { kind: "new" };
    if (requestId < record.requestId) return { kind: "stale", lastRequestId: record.requestId };
    const other = fingerprint !== undefined && record.fingerprint !== undefined && fingerprint !== record.fingerprint;
    if (other) return { kind: "stale", lastRequestId: record.requestId };
    this.touch(clientId, { ...record, lastSeen: this.clockMs });
    if (record.result === null) return { kind: "forgotten" };
    return record.index === undefined ? { kind: "duplicate", result: record.result } : { kind: "duplicate", result: record.result, index: record.index };
  }

  /** Records the result of a request newly applied by the log entry at `index`. */
  record(clientId: string, requestId: number, result: StoredResult, fingerprint?: number, index?: number): void {
    this.touch(clientId, {
      requestId,
      result: resultChars(result) > MAX_KEPT_RESULT_CHARS ? null : result,
      lastSeen: this.clockMs,
      ...(fingerprint === undefined ? {} : { fingerprint }),
      ...(index === undefined ? {} : { index }),
    });
    for (const clientId of this.sessions.keys()) {
      if (this.sessions.size <= this.maxSessions) break;
      this.drop(clientId); // least recently used first
    }
    for (const clientId of this.results.keys()) {
      if (this.resultTotal <= this.maxResultChars) break;
      this.forget(clientId); // least recently used first
    }
  }

  /**
   * Sessions written (with their record) or dropped (null) since the last call, in the order
   * they were last touched, so a host that stores them with an increasing sequence number
   * restores the same use order; and the sessions whose result was forgotten without their
   * place in that order changing (a host keeps their sequence number).
   */
  takeChanged(): { written: Array<[string, SessionRecord | null]>; forgotten: string[] } {
    const written: Array<[string, SessionRecord | null]> = [];
    for (const clientId of this.changed) if (!this.sessions.has(clientId)) written.push([clientId, null]);
    for (const [clientId, record] of this.sessions) if (this.changed.has(clientId)) written.push([clientId, record]);
    const forgotten = [...this.forgotten].filter((clientId) => !this.changed.has(clientId) && this.sessions.has(clientId));
    this.changed = new Set();
    this.forgotten = new Set();
    return { written, forgotten };
  }

  get(clientId: string): SessionRecord | undefined {
    return this.sessions.get(clientId);
  }

  /** Sessions from least to most recently used. */
  entries(): Array<[string, SessionRecord]> {
    return [...this.sessions.entries()];
  }

  /** Replaces the whole table (used when restoring a snapshot; entries in use order). */
  load(clock: number, entries: ReadonlyArray<readonly [string, SessionRecord]>): void {
    this.sessions.clear();
    this.results.clear();
    this.resultTotal = 0;
    this.changed.clear();
    this.forgotten.clear();
    this.clockMs = clock;
    for (const [clientId, record] of entries) this.touch(clientId, record);
    this.changed.clear();
  }

  private touch(clientId: string, record: SessionRecord): void {
    this.sessions.delete(clientId); // re-insert at the end: most recently used
    this.sessions.set(clientId, record);
    this.resultTotal -= this.results.get(clientId) ?? 0;
    this.results.delete(clientId);
    if (record.result !== null) {
      const chars = resultChars(record.result);
      this.results.set(clientId, chars);
      this.resultTotal += chars;
    }
    this.changed.add(clientId);
  }

  private drop(clientId: string): void {
    this.sessions.delete(clientId);
    this.resultTotal -= this.results.get(clientId) ?? 0;
    this.results.delete(clientId);
    this.changed.add(clientId);
  }

  /** Keeps the session (its id and place) without its result. */
  private forget(clientId: string): void {
    const record = this.sessions.get(clientId)!;
    this.sessions.set(clientId, { ...record, result: null }); // an existing key keeps its place
    this.resultTotal -= this.results.get(clientId) ?? 0;
    this.results.delete(clientId);
    this.forgotten.add(clientId);
  }
}
