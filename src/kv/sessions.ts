// Exactly-once bookkeeping: for each client, the last request id applied and its result.
//
// Request ids of one client increase and a client has one request in flight at a time
// (src/client/ serializes its calls), so the last id and its result are all that is
// needed to answer a retry. An older id can no longer be answered (its result is gone):
// the caller reports it as stale rather than applying it again.
//
// The table is bounded, deterministically, so every replica drops the same sessions:
//  - by idle time: a session whose last command was proposed more than `expiryMs` before
//    the latest applied command is dropped. Time is the leader's clock as written in the
//    log (`proposedAt`), made monotone by taking the maximum seen, so a leader with a
//    slower clock cannot move it backwards.
//  - by count: beyond `maxSessions`, the least recently used session is dropped.
// The trade-off: a client silent for longer than the expiry (or pushed out by many newer
// clients) loses exactly-once — a retry after that is applied again. The expiry should be
// far longer than any client's retry deadline (default: 1 hour against seconds).
//
// The Map is kept in order of last use (touching a session moves it to the end), so both
// bounds evict from the front in O(1) per dropped session.

import type { StoredResult } from "./results.ts";

export const DEFAULT_SESSION_EXPIRY_MS = 60 * 60 * 1000;
export const DEFAULT_MAX_SESSIONS = 10_000;

export interface SessionRecord {
  readonly requestId: number;
  readonly result: StoredResult;
  /** The session clock when this client's last command (or retry) was applied. */
  readonly lastSeen: number;
}

export type SessionLookup =
  | { readonly kind: "new" }
  | { readonly kind: "duplicate"; readonly result: StoredResult }
  | { readonly kind: "stale"; readonly lastRequestId: number };

export class SessionTable {
  private readonly sessions = new Map<string, SessionRecord>();
  private clockMs = Number.NEGATIVE_INFINITY;
  /** Clients whose session was written or dropped since the last `takeChanged`. */
  private changed = new Set<string>();

  constructor(
    readonly expiryMs: number = DEFAULT_SESSION_EXPIRY_MS,
    readonly maxSessions: number = DEFAULT_MAX_SESSIONS,
  ) {
    if (!(expiryMs > 0)) throw new RangeError("session expiry must be > 0 ms");
    if (!(Number.isInteger(maxSessions) && maxSessions >= 1)) throw new RangeError("maxSessions must be an integer >= 1");
  }

  /** The session clock: the latest `proposedAt` applied (−∞ before any). */
  get clock(): number {
    return this.clockMs;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Moves the clock to `proposedAt` (never backwards) and drops sessions idle for too long. */
  advance(proposedAt: number): void {
    if (proposedAt > this.clockMs) this.clockMs = proposedAt;
    const oldest = this.clockMs - this.expiryMs;
    for (const [clientId, record] of this.sessions) {
      if (record.lastSeen >= oldest) break; // ordered by lastSeen: the rest are younger
      this.sessions.delete(clientId);
      this.changed.add(clientId);
    }
  }

  /** What to do with request `requestId` of `clientId`. A duplicate refreshes the session. */
  lookup(clientId: string, requestId: number): SessionLookup {
    const record = this.sessions.get(clientId);
    if (record === undefined || requestId > record.requestId) return { kind: "new" };
    if (requestId < record.requestId) return { kind: "stale", lastRequestId: record.requestId };
    this.touch(clientId, { ...record, lastSeen: this.clockMs });
    return { kind: "duplicate", result: record.result };
  }

  /** Records the result of a newly applied request. */
  record(clientId: string, requestId: number, result: StoredResult): void {
    this.touch(clientId, { requestId, result, lastSeen: this.clockMs });
    for (const clientId of this.sessions.keys()) {
      if (this.sessions.size <= this.maxSessions) break;
      this.sessions.delete(clientId); // least recently used first
      this.changed.add(clientId);
    }
  }

  /**
   * Sessions written (with their record) or dropped (null) since the last call, in the order
   * they were last touched, so a host that stores them with an increasing sequence number
   * restores the same use order.
   */
  takeChanged(): Array<[string, SessionRecord | null]> {
    const out: Array<[string, SessionRecord | null]> = [];
    for (const clientId of this.changed) if (!this.sessions.has(clientId)) out.push([clientId, null]);
    for (const [clientId, record] of this.sessions) if (this.changed.has(clientId)) out.push([clientId, record]);
    this.changed = new Set();
    return out;
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
    this.changed.clear();
    this.clockMs = clock;
    for (const [clientId, record] of entries) this.sessions.set(clientId, record);
  }

  private touch(clientId: string, record: SessionRecord): void {
    this.sessions.delete(clientId); // re-insert at the end: most recently used
    this.sessions.set(clientId, record);
    this.changed.add(clientId);
  }
}
