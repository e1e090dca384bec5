// The replicated key/value state machine: what every server applies, in log order.
//
// Pure and deterministic (no clock, no randomness, no I/O): the same sequence of log
// commands gives the same results and the same snapshot on every replica. `apply` takes
// a committed entry's command as unknown JSON and never throws; entries that are not
// valid key/value commands are ignored (and ignored identically everywhere).
//
// The data is etcd's model (src/kv/etcd/): one MVCC store, one revision counter, given at
// construction (in memory by default, as the simulator uses it; SQLite in a Durable Object:
// src/server/kv-state.ts). Two kinds of commands write it: the key/value routes' operations
// (command.ts, each write one revision, store.ts) and etcd's writes (etcd-command.ts).
//
// Exactly-once: a command with a session {clientId, requestId} whose id is the last one
// applied for that client is answered with the stored result and not applied again; an
// older id is reported as stale. See sessions.ts for how the table is bounded.

import { type KvCommand, operationOf, parseKvCommand, type Session } from "./command.ts";
import { answerEtcd, isEtcdCommandKind, parseEtcdCommand, type EtcdCommand } from "./etcd-command.ts";
import { EtcdKv } from "./etcd/kv.ts";
import { MemoryMvccStore } from "./etcd/memory-store.ts";
import { PinnedCompactionStore, withoutCompacted } from "./etcd/compaction-pins.ts";
import type { MvccStore } from "./etcd/store.ts";
import { MAX_VALUE_BYTES, fitsUtf8Bytes, utf8ByteLength } from "./limits.ts";
import { etcdFingerprint, operationFingerprint } from "./fingerprint.ts";
import { isRefused, type EtcdAnswer, type MachineResult, type RefusedResult, type StoredResult } from "./results.ts";
import {
  DEFAULT_MAX_RESULT_CHARS,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_SESSION_EXPIRY_MS,
  type SessionRecord,
  SessionTable,
} from "./sessions.ts";
import { checkSessionOrder, type KvSnapshot, parseSessions, parseSnapshot, rowsOf, sessionRecord, sessionTuple, SNAPSHOT_FORMAT, snapshotRow } from "./snapshot.ts";
import { KvStore, type KvListing } from "./store.ts";
import { snapshotHead, SnapshotReader, type SnapshotHead, type StagedSnapshot } from "./snapshot-stream.ts";

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
  /** Where the data lives. Default: a new store in memory (etcd's fresh store: revision 1, no keys). */
  readonly store?: MvccStore;
}

export type ApplyOutcome =
  /** The command was applied now; `result` is its answer. */
  | { readonly status: "applied"; readonly result: MachineResult }
  /**
   * A retry of the client's last request: not applied again; `result` is the first answer and
   * `index` the log index where it was applied (absent for a session stored before the index
   * was kept).
   */
  | { readonly status: "duplicate"; readonly result: MachineResult; readonly index?: number }
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
  /** Not a (valid) key/value or etcd command: nothing happened. */
  | { readonly status: "ignored"; readonly reason: "not_kv" | "malformed"; readonly message: string };

/**
 * The sessions' changes since the last call. Keys are not here: the store writes them itself
 * (a host gives the machine a store on its own storage).
 */
export interface KvChanges {
  readonly clock: number | null;
  /** In use order, least recently used first; null: the session was dropped. */
  readonly sessions: ReadonlyArray<readonly [string, SessionRecord | null]>;
  /** Sessions whose result was forgotten, in place (their use order did not change). */
  readonly forgottenResults: readonly string[];
}

export class KvStateMachine {
  /** The store, whose compactions wait for the snapshots being read (compaction-pins.ts). */
  private readonly mvcc: PinnedCompactionStore;
  private readonly kv: EtcdKv;
  private readonly store: KvStore;
  private readonly sessions: SessionTable;

  constructor(options: KvStateMachineOptions = {}) {
    this.mvcc = new PinnedCompactionStore(options.store ?? new MemoryMvccStore());
    this.kv = new EtcdKv(this.mvcc);
    this.store = new KvStore(this.kv, this.mvcc);
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
    if (isEtcdCommandKind(command)) {
      const parsed = parseEtcdCommand(command);
      if (!parsed.ok) return { status: "ignored", reason: parsed.reason, message: parsed.message };
      return this.applyEtcdCommand(parsed.command, index);
    }
    const parsed = parseKvCommand(command);
    if (!parsed.ok) return { status: "ignored", reason: parsed.reason, message: parsed.message };
    return this.applyCommand(parsed.command, index);
  }

  /** Applies an already validated key/value command, from the log entry at `index`. */
  applyCommand(command: KvCommand, index: number): ApplyOutcome {
    const operation = operationOf(command);
    return this.once(command.proposedAt, command.session, () => operationFingerprint(operation), index, () => {
      const refusal = this.refusal(command);
      return refusal ?? this.store.execute(operation);
    });
  }

  /** Applies an already validated etcd write, from the log entry at `index`: the gateway's answer. */
  applyEtcdCommand(command: EtcdCommand, index: number): ApplyOutcome {
    return this.once(command.proposedAt, command.session, () => etcdFingerprint(command.op, command.request), index, () =>
      answerEtcd(this.kv, `/v3/kv/${command.op}`, command.request),
    );
  }

  /**
   * Exactly-once around `run`: time moves, a retry of the client's last request is answered
   * from its session without running anything, a new request runs and its result is kept.
   */
  private once(
    proposedAt: number,
    session: Session | undefined,
    fingerprintOf: () => number,
    index: number,
    run: () => StoredResult,
  ): ApplyOutcome {
    // Time moves (and idle sessions expire) before the lookup: a client silent for longer
    // than the expiry is treated as new, which is the documented cost of the bound.
    this.sessions.advance(proposedAt);
    const fingerprint = session === undefined ? undefined : fingerprintOf();
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
    const result = run();
    if (session !== undefined) this.sessions.record(session.clientId, session.requestId, result, fingerprint, index);
    return isRefused(result) ? { status: "refused", refusal: result, duplicate: false } : { status: "applied", result };
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

  /** `GET /kv/{key}`'s answer from the local state (the caller knows it is recent enough). */
  get(key: string) {
    return this.store.get(key);
  }

  /**
   * etcd's range on the local state, answered as the gateway does (header holding only the
   * revision): for a linearizable read once ReadIndex says the state is recent enough, and for
   * a serializable one. `body` is the decoded JSON body.
   */
  range(body: unknown): EtcdAnswer {
    return answerEtcd(this.kv, "/v3/kv/range", body);
  }

  /** `GET /kv?prefix=&after=&limit=`'s answer from the local state, at one revision (store.ts). */
  list(prefix: string, after: string | null, limit: number): KvListing {
    return this.store.list(prefix, after, limit);
  }

  /** Number of live keys at the current revision (counts them: for status, not the apply path). */
  get keyCount(): number {
    return this.mvcc.countLatest({ start: new Uint8Array(0), end: new Uint8Array(0) }, this.revision);
  }

  /** The store's revision: etcd's, bumped once by every write that changes something. */
  get revision(): number {
    return this.mvcc.readMeta().revision;
  }

  /** The revision the store was compacted at, -1 before any compaction. */
  get compactedRevision(): number {
    return this.mvcc.readMeta().compactedRevision;
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
   * What changed in the sessions since the last call, for a host that stores them row by row
   * instead of rewriting a snapshot after every command: sessions written or dropped (null),
   * and the session clock. (The data is written by the store itself.)
   */
  takeChanges(): KvChanges {
    const clock = this.sessions.clock;
    const sessions = this.sessions.takeChanged();
    return {
      clock: Number.isFinite(clock) ? clock : null,
      sessions: sessions.written,
      forgottenResults: sessions.forgotten,
    };
  }

  /** The whole applied state as JSON-able data. Equal logs give equal snapshots. */
  snapshot(): KvSnapshot {
    const clock = this.sessions.clock;
    const meta = this.mvcc.readMeta();
    return {
      format: SNAPSHOT_FORMAT,
      clock: Number.isFinite(clock) ? clock : null,
      revision: meta.revision,
      compactedRevision: meta.compactedRevision,
      // Rows a compaction left for a transfer in flight (compaction-pins.ts) are not the state's.
      rows: withoutCompacted(this.mvcc.allRows(), meta.compactedRevision).map(snapshotRow),
      sessions: this.sessionTuples(),
    };
  }

  /** The sessions as the snapshot's tuples, least recently used first. */
  sessionTuples(): KvSnapshot["sessions"] {
    return this.sessions.entries().map(([clientId, r]) => sessionTuple(clientId, r));
  }

  /** The snapshot as it streams (snapshot-stream.ts): its head now, its rows read from the store chunk by chunk. */
  snapshotReader(): SnapshotReader {
    return new SnapshotReader(this.mvcc, this.snapshotHead(), this.mvcc.pin());
  }

  /**
   * The rows under this machine's store were replaced from outside (a host swapped a staged
   * snapshot in): its readers abort, a compaction it deferred is dropped.
   */
  storeReplaced(): void {
    this.mvcc.replaced();
  }

  /** The small parts of a snapshot at the current state: the store's point, the clock, the sessions. */
  snapshotHead(): SnapshotHead {
    const clock = this.sessions.clock;
    return snapshotHead(Number.isFinite(clock) ? clock : null, this.mvcc.readMeta(), this.sessionTuples());
  }

  /**
   * A machine on a streamed snapshot's staged store (the simulator's install; a Durable Object
   * swaps its staging table in and calls adoptHead on its own store). Checked as it arrived.
   */
  static fromStaged(staged: StagedSnapshot<MvccStore>, options: KvStateMachineOptions = {}): KvStateMachine {
    const machine = new KvStateMachine({ ...options, store: staged.staging });
    machine.adoptHead(staged.head);
    return machine;
  }

  /** This machine's store already holds a streamed snapshot's rows: take its sessions and point. */
  adoptHead(head: SnapshotHead): void {
    this.restoreSessions(head.clock, head.sessions);
    this.mvcc.writeMeta({ revision: head.revision, compactedRevision: head.compactedRevision });
  }

  /** Replaces the state with `snapshot` (this format or kv/1). Throws on a snapshot that is not one of ours. */
  restore(snapshot: unknown): void {
    const parsed = parseSnapshot(snapshot);
    const rows = rowsOf(parsed);
    this.restoreSessions(parsed.clock, parsed.sessions);
    this.mvcc.clear();
    this.mvcc.append(rows);
    this.mvcc.writeMeta({ revision: parsed.revision, compactedRevision: parsed.compactedRevision });
  }

  /**
   * Replaces the sessions alone (a host whose store already holds the data loads them at
   * boot). Throws on sessions out of use order.
   */
  restoreSessions(clock: number | null, sessions: unknown): void {
    const parsed = parseSessions(sessions);
    checkSessionOrder(parsed);
    this.sessions.load(
      clock ?? Number.NEGATIVE_INFINITY,
      parsed.map(([clientId, requestId, lastSeen, result, fingerprint, index]) => [
        clientId,
        sessionRecord(requestId, lastSeen, result, fingerprint, index),
      ]),
    );
  }
}

