// The replicated key/value state machine: what every server applies, in log order.
//
// Pure and deterministic (no clock, no randomness, no I/O): the same sequence of log
// commands gives the same results and the same snapshot on every replica. `apply` takes
// a committed entry's command as unknown JSON and never throws; entries that are not
// valid key/value commands are ignored (and ignored identically everywhere).
//
// Exactly-once: a command with a session {clientId, requestId} whose id is the last one
// applied for that client is answered with the stored result and not applied again; an
// older id is reported as stale. See sessions.ts for how the table is bounded.

import { z } from "zod";
import { ClientIdSchema, type KvCommand, operationOf, parseKvCommand, RequestIdSchema } from "./command.ts";
import { MAX_VALUE_BYTES, fitsUtf8Bytes, utf8ByteLength } from "./limits.ts";
import { operationFingerprint } from "./fingerprint.ts";
import { isRefused, type KvResult, type RefusedResult } from "./results.ts";
import {
  DEFAULT_MAX_RESULT_CHARS,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_SESSION_EXPIRY_MS,
  type SessionRecord,
  SessionTable,
} from "./sessions.ts";
import { KvStore } from "./store.ts";

export interface KvStateMachineOptions {
  /** Sessions idle longer than this (leader clock, ms) are dropped. Default 1 hour. */
  readonly sessionExpiryMs?: number;
  /** At most this many sessions are kept (least recently used dropped). Default 10 000. */
  readonly maxSessions?: number;
  /**
   * The sessions' results together are kept within this many characters of JSON (least
   * recently used forgotten first; their ids are kept). Default 8 Mi.
   */
  readonly maxResultChars?: number;
}

export type ApplyOutcome =
  /** The command was applied now; `result` is its answer. */
  | { readonly status: "applied"; readonly result: KvResult }
  /**
   * A retry of the client's last request: not applied again; `result` is the first answer and
   * `index` the log index where it was applied (absent for a session stored before the index
   * was kept).
   */
  | { readonly status: "duplicate"; readonly result: KvResult; readonly index?: number }
  /**
   * Refused on every replica alike (a result over a size limit): nothing changed. `duplicate`
   * when this is a retry of a request refused before; `index` then says where it was refused
   * (as for a duplicate).
   */
  | { readonly status: "refused"; readonly refusal: RefusedResult; readonly duplicate: boolean; readonly index?: number }
  /**
   * A retry of the client's last request, which was applied, but whose result was forgotten
   * to keep the session table within its size (sessions.ts): not applied again, answer unknown.
   */
  | { readonly status: "forgotten"; readonly requestId: number }
  /** An id older than the client's last one: not applied, and its answer is no longer known. */
  | { readonly status: "stale"; readonly lastRequestId: number }
  /** Not a (valid) key/value command: nothing happened. */
  | { readonly status: "ignored"; readonly reason: "not_kv" | "malformed"; readonly message: string };

const SNAPSHOT_FORMAT = "kv/1";

const ResultSchema = z.union([
  z.object({ found: z.boolean(), prev: z.string().nullable(), swapped: z.boolean() }),
  z.object({ found: z.boolean(), prev: z.string().nullable() }),
  z.object({ found: z.boolean(), value: z.string().nullable() }),
  z.object({ refused: z.literal("too_large"), message: z.string() }),
]);

export const KvSnapshotSchema = z.object({
  format: z.literal(SNAPSHOT_FORMAT),
  /** The session clock; null before any command was applied. */
  clock: z.number().nullable(),
  /** [key, value] in insertion order. */
  data: z.array(z.tuple([z.string(), z.string()])),
  /**
   * [clientId, requestId, lastSeen, result, fingerprint, index], least recently used first;
   * result null: forgotten; no fingerprint: a session stored before there were any (null when
   * an index follows); no index: a session stored before the applied index was kept.
   */
  sessions: z.array(
    z.tuple([
      ClientIdSchema,
      RequestIdSchema,
      z.number(),
      ResultSchema.nullable(),
      z.number().int().min(0).max(0xffffffff).nullable().optional(),
      z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
    ]),
  ),
});
/** The applied state as plain JSON, for durable storage. */
export type KvSnapshot = z.infer<typeof KvSnapshotSchema>;

export interface KvChanges {
  readonly clock: number | null;
  readonly keys: ReadonlyArray<readonly [string, string]>;
  /** In use order, least recently used first; null: the session was dropped. */
  readonly sessions: ReadonlyArray<readonly [string, SessionRecord | null]>;
  /** Sessions whose result was forgotten, in place (their use order did not change). */
  readonly forgottenResults: readonly string[];
}

export class KvStateMachine {
  private readonly store = new KvStore();
  private readonly sessions: SessionTable;

  constructor(options: KvStateMachineOptions = {}) {
    this.sessions = new SessionTable(
      options.sessionExpiryMs ?? DEFAULT_SESSION_EXPIRY_MS,
      options.maxSessions ?? DEFAULT_MAX_SESSIONS,
      options.maxResultChars ?? DEFAULT_MAX_RESULT_CHARS,
    );
  }

  /** A state machine holding `snapshot` (validated: it comes from storage as unknown JSON). */
  static fromSnapshot(snapshot: unknown, options: KvStateMachineOptions = {}): KvStateMachine {
    const machine = new KvStateMachine(options);
    machine.restore(snapshot);
    return machine;
  }

  /**
   * Applies the command of the committed log entry at `index`. Never throws. The index is
   * the log's, so equal logs still give equal snapshots; a session keeps it to answer a retry
   * with the index where its request was applied.
   */
  apply(command: unknown, index: number): ApplyOutcome {
    const parsed = parseKvCommand(command);
    if (!parsed.ok) return { status: "ignored", reason: parsed.reason, message: parsed.message };
    return this.applyCommand(parsed.command, index);
  }

  /** Applies an already validated command, from the log entry at `index`. */
  applyCommand(command: KvCommand, index: number): ApplyOutcome {
    // Time moves (and idle sessions expire) before the lookup: a client silent for longer
    // than the expiry is treated as new, which is the documented cost of the bound.
    this.sessions.advance(command.proposedAt);
    const session = command.session;
    const fingerprint = session === undefined ? undefined : operationFingerprint(operationOf(command));
    if (session !== undefined) {
      const seen = this.sessions.lookup(session.clientId, session.requestId, fingerprint);
      if (seen.kind === "duplicate") {
        const at = seen.index === undefined ? {} : { index: seen.index };
        return isRefused(seen.result)
          ? { status: "refused", refusal: seen.result, duplicate: true, ...at }
          : { status: "duplicate", result: seen.result, ...at };
      }
      if (seen.kind === "forgotten") return { status: "forgotten", requestId: session.requestId };
      if (seen.kind === "stale") return { status: "stale", lastRequestId: seen.lastRequestId };
    }
    const refusal = this.refusal(command);
    const result = refusal ?? this.store.execute(operationOf(command));
    if (session !== undefined) this.sessions.record(session.clientId, session.requestId, result, fingerprint, index);
    return refusal ? { status: "refused", refusal, duplicate: false } : { status: "applied", result: result as KvResult };
  }

  /**
   * Whether `command` would leave a value over the value limit. Only an append can: every
   * other operation stores a value the command itself carries, and commands are bounded
   * (command.ts). Decided from the replicated state alone, so every replica refuses alike,
   * and no row (value, session result, snapshot) ever outgrows what storage accepts.
   */
  private refusal(command: KvCommand): RefusedResult | null {
    if (command.op !== "append") return null;
    const prev = this.store.get(command.key);
    if (!prev.found || prev.value === null) return null;
    const grown = prev.value + command.value;
    if (fitsUtf8Bytes(grown, MAX_VALUE_BYTES)) return null;
    return {
      refused: "too_large",
      message: `the appended value would be ${utf8ByteLength(grown)} bytes, over the ${MAX_VALUE_BYTES}-byte value limit; nothing was applied`,
    };
  }

  /** The current value of `key`, read locally (not linearizable by itself: for tests and status). */
  peek(key: string): string | undefined {
    const read = this.store.get(key);
    return read.found && read.value !== null ? read.value : undefined;
  }

  /** Number of keys held. */
  get keyCount(): number {
    return this.store.size;
  }

  /** Number of exactly-once sessions held. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** The size of the sessions' results (JSON characters), within `maxResultChars`. */
  get sessionResultChars(): number {
    return this.sessions.resultChars;
  }

  /** The session's last request id and result, if the client has a live session. */
  session(clientId: string): SessionRecord | undefined {
    return this.sessions.get(clientId);
  }

  /**
   * What changed since the last call, for a host that stores the state row by row instead
   * of rewriting a snapshot after every command: keys written (with their values), sessions
   * written or dropped (null), and the session clock.
   */
  takeChanges(): KvChanges {
    const clock = this.sessions.clock;
    const sessions = this.sessions.takeChanged();
    return {
      clock: Number.isFinite(clock) ? clock : null,
      keys: this.store.takeChanged(),
      sessions: sessions.written,
      forgottenResults: sessions.forgotten,
    };
  }

  /** The whole applied state as JSON-able data. Equal logs give equal snapshots. */
  snapshot(): KvSnapshot {
    const clock = this.sessions.clock;
    return {
      format: SNAPSHOT_FORMAT,
      clock: Number.isFinite(clock) ? clock : null,
      data: this.store.entries(),
      sessions: this.sessions
        .entries()
        .map(([clientId, r]) => sessionTuple(clientId, r)),
    };
  }

  /** Replaces the state with `snapshot`. Throws on a snapshot that is not one of ours. */
  restore(snapshot: unknown): void {
    const parsed = KvSnapshotSchema.parse(snapshot);
    let previous = Number.NEGATIVE_INFINITY;
    for (const [clientId, , lastSeen] of parsed.sessions) {
      // Expiry walks the table in use order and stops at the first young session.
      if (lastSeen < previous) throw new Error(`kv snapshot: sessions out of order at ${clientId}`);
      previous = lastSeen;
    }
    this.store.load(parsed.data);
    this.sessions.load(
      parsed.clock ?? Number.NEGATIVE_INFINITY,
      parsed.sessions.map(([clientId, requestId, lastSeen, result, fingerprint, index]) => [
        clientId,
        sessionRecord(requestId, lastSeen, result, fingerprint, index),
      ]),
    );
  }
}

type SessionTuple = KvSnapshot["sessions"][number];

/**
 * A session as the snapshot's tuple. Optional elements are left out when absent, so a
 * session from before they existed is written as it was; a fingerprint is null only to
 * hold its place before an index.
 */
export function sessionTuple(clientId: string, r: SessionRecord): SessionTuple {
  const head: [string, number, number, SessionRecord["result"]] = [clientId, r.requestId, r.lastSeen, r.result];
  if (r.index !== undefined) return [...head, r.fingerprint ?? null, r.index];
  return r.fingerprint === undefined ? head : [...head, r.fingerprint];
}

/** A session's record from its stored parts (a snapshot's tuple, a host's row); null or absent: not kept. */
export function sessionRecord(
  requestId: number,
  lastSeen: number,
  result: SessionRecord["result"],
  fingerprint?: number | null,
  index?: number | null,
): SessionRecord {
  return {
    requestId,
    result,
    lastSeen,
    ...(fingerprint === undefined || fingerprint === null ? {} : { fingerprint }),
    ...(index === undefined || index === null ? {} : { index }),
  };
}
