// The state machine's snapshot as plain JSON: what an InstallSnapshot carries and what a
// replica restores from. Every stored version of the store (rows, base64 bytes), its meta,
// the session clock and the exactly-once sessions. Parsed with zod: it arrives as unknown
// JSON, from another server or from storage.

import { z } from "zod";
import { ClientIdSchema, RequestIdSchema } from "./command.ts";
import { decodeBase64Go } from "./etcd/base64.ts";
import { compareBytes, encodeBase64, utf8 } from "./etcd/bytes.ts";
import type { KeyVersion } from "./etcd/store.ts";
import type { SessionRecord } from "./sessions.ts";

/** kv/2: the store's rows; kv/1 (before the MVCC store) held [key, value] pairs, still read. */
export const SNAPSHOT_FORMAT = "kv/2";
const LEGACY_FORMAT = "kv/1";

const ResultSchema = z.union([
  z.object({ status: z.number().int(), body: z.unknown() }),
  z.object({ found: z.boolean(), prev: z.string().nullable(), swapped: z.boolean() }),
  z.object({ found: z.boolean(), prev: z.string().nullable() }),
  z.object({ found: z.boolean(), value: z.string().nullable() }),
  z.object({ refused: z.literal("too_large"), message: z.string() }),
]);

const Revision = z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER);

/**
 * One version of a key, as the snapshot carries it: [key (base64), modRevision, sub,
 * createRevision, version, value (base64), lease, tombstone (0 or 1)].
 */
export const RowSchema = z.tuple([z.string(), Revision, Revision, Revision, Revision, z.string(), z.number().int(), z.union([z.literal(0), z.literal(1)])]);
export type SnapshotRow = z.infer<typeof RowSchema>;

export const SessionsSchema = z.array(
  z.tuple([
    ClientIdSchema,
    RequestIdSchema,
    z.number(),
    ResultSchema.nullable(),
    z.number().int().min(0).max(0xffffffff).nullable().optional(),
    z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  ]),
);

export const KvSnapshotSchema = z.object({
  format: z.literal(SNAPSHOT_FORMAT),
  /** The session clock; null before any command was applied. */
  clock: z.number().nullable(),
  /** The store's revision, and the revision it was compacted at (-1: never). */
  revision: Revision,
  compactedRevision: Revision,
  /** Every stored version, ascending by (key, modRevision, sub): equal logs give equal rows. */
  rows: z.array(RowSchema),
  /**
   * [clientId, requestId, lastSeen, result, fingerprint, index], least recently used first;
   * result null: forgotten; no fingerprint: a session stored before there were any (null when
   * an index follows); no index: a session stored before the applied index was kept.
   */
  sessions: SessionsSchema,
});
/** The applied state as plain JSON, for durable storage. */
export type KvSnapshot = z.infer<typeof KvSnapshotSchema>;

/** A snapshot of the format before the MVCC store: [key, value] in insertion order. */
const LegacySnapshotSchema = z.object({
  format: z.literal(LEGACY_FORMAT),
  clock: z.number().nullable(),
  data: z.array(z.tuple([z.string(), z.string()])),
  sessions: SessionsSchema,
});

/** A snapshot of this format or of kv/1 (converted: legacyRows), validated; throws on anything else. */
export function parseSnapshot(snapshot: unknown): KvSnapshot {
  const legacy = (snapshot as { format?: unknown } | null)?.format === LEGACY_FORMAT;
  return legacy ? fromLegacy(LegacySnapshotSchema.parse(snapshot)) : KvSnapshotSchema.parse(snapshot);
}

/** The sessions of a snapshot (or of a host's rows), validated. */
export function parseSessions(sessions: unknown): KvSnapshot["sessions"] {
  return SessionsSchema.parse(sessions);
}

/** The snapshot's rows as the store's versions; throws on rows out of the order allRows gives. */
export function rowsOf(snapshot: KvSnapshot): KeyVersion[] {
  const rows = snapshot.rows.map(rowOf);
  for (let i = 1; i < rows.length; i++) {
    if (compareVersions(rows[i - 1]!, rows[i]!) >= 0) throw new Error(`kv snapshot: rows out of order at row ${i}`);
  }
  return rows;
}

/**
 * The store's rows for key/value pairs written before the MVCC store (a kv/1 snapshot, an
 * older server's kv_data rows), in their order: one revision each from 2, as a fresh etcd
 * store is at 1, so every replica converting the same pairs gets the same rows.
 */
export function legacyRows(pairs: ReadonlyArray<readonly [string, string]>): KeyVersion[] {
  return pairs.map(([key, value], i) => ({
    key: utf8(key),
    modRevision: i + 2,
    sub: 0,
    createRevision: i + 2,
    version: 1,
    value: utf8(value),
    lease: 0,
    tombstone: false,
  }));
}

function fromLegacy(old: z.infer<typeof LegacySnapshotSchema>): KvSnapshot {
  const rows = legacyRows(old.data).sort(compareVersions);
  return { format: SNAPSHOT_FORMAT, clock: old.clock, revision: old.data.length + 1, compactedRevision: -1, rows: rows.map(snapshotRow), sessions: old.sessions };
}

/** The order allRows gives (by key in bytes, then revision, then sub): a store appends each key's versions oldest first. */
export function compareVersions(a: Pick<KeyVersion, "key" | "modRevision" | "sub">, b: Pick<KeyVersion, "key" | "modRevision" | "sub">): number {
  return compareBytes(a.key, b.key) || a.modRevision - b.modRevision || a.sub - b.sub;
}

export function snapshotRow(v: KeyVersion): SnapshotRow {
  return [encodeBase64(v.key), v.modRevision, v.sub, v.createRevision, v.version, encodeBase64(v.value), v.lease, v.tombstone ? 1 : 0];
}

export function rowOf([key, modRevision, sub, createRevision, version, value, lease, tombstone]: SnapshotRow): KeyVersion {
  return { key: bytesOf(key), modRevision, sub, createRevision, version, value: bytesOf(value), lease, tombstone: tombstone === 1 };
}

function bytesOf(base64: string): Uint8Array {
  const r = decodeBase64Go(base64);
  if (!r.ok) throw new Error(`kv snapshot: ${r.message}`);
  return r.bytes;
}

type SessionTuple = KvSnapshot["sessions"][number];

/** Throws unless the sessions are in use order (expiry walks the table in that order and stops at the first young session). */
export function checkSessionOrder(sessions: KvSnapshot["sessions"]): void {
  let previous = Number.NEGATIVE_INFINITY;
  for (const [clientId, , lastSeen] of sessions) {
    if (lastSeen < previous) throw new Error(`kv snapshot: sessions out of order at ${clientId}`);
    previous = lastSeen;
  }
}

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
