// A snapshot as a stream of chunks: what an InstallSnapshot carries, read from the store a
// chunk at a time on the leader and staged a chunk at a time on the follower, so neither
// holds the whole state in memory (issue 20.1; issue 23.3: an install must not need the
// state several times over).
//
// The leader fixes the snapshot point when a transfer starts: the store's revision R and
// compacted revision at its applied index, with the small parts (session clock, sessions) as
// the head. Each chunk then carries the next stored versions with mod_revision ≤ R in
// (key, mod_revision, sub) order, after the last one sent, read from the store for that chunk.
// Why the rows need no copy: versions at or below R never change while the leader applies
// later entries (a write adds versions above R), except by compaction, which drops some. So a
// reader holds a pin (etcd/compaction-pins.ts): a compaction applied meanwhile moves the
// compacted revision but deletes its rows only once the transfer ends, and the reader applies
// the compaction rule at the snapshot's own compacted revision as it reads. If rows were
// deleted or replaced under it all the same (no pin, or the store was replaced by a snapshot
// installed over it), the reader aborts; the core asks again and a new transfer starts.
//
// Chunk text (JSON): {"head"?: SnapshotHead, "rows": [SnapshotRow...], "end"?: rows in all}.
// The first chunk has the head (and rows, if the budget leaves room), the last one `end`; the
// follower checks every row as it arrives (schema, order, at or below R, the count), so once
// its core accepts the snapshot, installing it cannot fail.
//
// Pure: over the MvccStore interface (SQLite in a Durable Object, memory in the simulator),
// and a staging interface for the follower's side.

import { z } from "zod";
import { compactedAway, type CompactionPin } from "./etcd/compaction-pins.ts";
import type { KeyVersion, MvccStore, VersionPosition } from "./etcd/store.ts";
import { checkSessionOrder, compareVersions, RowSchema, rowOf, SessionsSchema, snapshotRow, type KvSnapshot } from "./snapshot.ts";

export const SNAPSHOT_STREAM_FORMAT = "kv/2-stream";

const Revision = z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER);

const HeadSchema = z.object({
  format: z.literal(SNAPSHOT_STREAM_FORMAT),
  /** The session clock; null before any command was applied. */
  clock: z.number().nullable(),
  /** The snapshot point: every version at or below it is in the stream. */
  revision: Revision,
  compactedRevision: Revision,
  sessions: SessionsSchema,
});

/** What a snapshot carries besides the rows: its point in the store's history and the sessions. */
export type SnapshotHead = z.infer<typeof HeadSchema>;

const ChunkSchema = z.object({
  head: HeadSchema.optional(),
  rows: z.array(RowSchema),
  end: z.number().int().min(0).optional(),
});

/** One chunk to send, or why the transfer cannot go on. */
export type SnapshotPiece =
  | { readonly text: string; readonly last: boolean; readonly rows: number }
  | { readonly aborted: string };

/** Versions asked of the store per read at first; later reads are sized by the rows seen. */
const FIRST_BATCH = 16;
const MAX_BATCH = 512;

/** The head of a snapshot of `sessions`, `clock` and the store's meta: the transfer's fixed point. */
export function snapshotHead(clock: number | null, meta: { revision: number; compactedRevision: number }, sessions: KvSnapshot["sessions"]): SnapshotHead {
  return { format: SNAPSHOT_STREAM_FORMAT, clock, revision: meta.revision, compactedRevision: meta.compactedRevision, sessions };
}

/** The leader's side: the next chunk of one transfer, read from the store when asked. */
export class SnapshotReader {
  /** The last version read from the store (the next read starts after it). */
  private after: VersionPosition | null = null;
  /** Read from the store, not yet looked at. */
  private batch: KeyVersion[] = [];
  private batchAt = 0;
  private storeDone = false;
  /** Looked at, waiting for the version after it to say whether compaction keeps it. */
  private held: KeyVersion | null = null;
  /** Kept, but past the last chunk's budget: the first row of the next. */
  private carried: KeyVersion | null = null;
  private headSent = false;
  private sent = 0;
  private finished = false;
  /** Rows taken and their encoded characters so far: size the next read to the budget. */
  private rowsTaken = 0;
  private rowChars = 0;

  /**
   * `pin` holds the store's rows while the transfer lasts (compaction-pins.ts); without one
   * (a store nobody compacts under the reader), any move of the compacted revision aborts.
   */
  constructor(
    private readonly store: MvccStore,
    readonly head: SnapshotHead,
    private readonly pin: CompactionPin | null = null,
  ) {}

  /** Rows sent so far. */
  get rowsSent(): number {
    return this.sent;
  }

  /**
   * The transfer is over (sent, refused, aborted or cut): the store may delete rows again, and
   * runs the compactions that waited (a write: a host calls this inside its transaction).
   * Idempotent; the reader's owner calls it on every ending.
   */
  close(): void {
    this.pin?.release();
  }

  /**
   * The next chunk: the head first, then versions up to `maxChars` characters of encoded rows
   * (at least one row, unless the chunk carries the head), the last one marked. Aborted if
   * rows were deleted or replaced under the transfer since it started.
   */
  next(maxChars: number): SnapshotPiece {
    if (this.finished) throw new Error("snapshot stream: read past the last chunk");
    const meta = this.store.readMeta();
    const moved = this.pin === null ? meta.compactedRevision !== this.head.compactedRevision : !this.pin.intact();
    if (moved || meta.revision < this.head.revision) {
      return {
        aborted:
          `the store's rows changed under the transfer: now compacted at ${meta.compactedRevision} (revision ${meta.revision}), ` +
          `the snapshot was taken compacted at ${this.head.compactedRevision} (revision ${this.head.revision})`,
      };
    }
    const withHead = !this.headSent;
    const rows: string[] = [];
    let chars = 0;
    let exhausted = false;
    for (;;) {
      const v = this.nextVersion(maxChars - chars);
      if (v === null) {
        exhausted = true;
        break;
      }
      const text = JSON.stringify(snapshotRow(v));
      const cost = text.length + (rows.length > 0 ? 1 : 0); // and the comma before it
      if ((rows.length > 0 || withHead) && chars + cost > maxChars) {
        this.carried = v;
        break;
      }
      rows.push(text);
      chars += cost;
      this.rowsTaken++;
      this.rowChars += text.length;
    }
    this.sent += rows.length;
    this.headSent = true;
    this.finished = exhausted;
    const parts = [...(withHead ? [`"head":${JSON.stringify(this.head)}`] : []), `"rows":[${rows.join(",")}]`, ...(exhausted ? [`"end":${this.sent}`] : [])];
    return { text: `{${parts.join(",")}}`, last: exhausted, rows: rows.length };
  }

  /**
   * The next version the snapshot holds, null after the last: the stored versions at or below
   * the snapshot's revision, less those its compacted revision C drops (a compaction deferred
   * by a pin left them in the table): of each key's versions at or below C only the newest
   * stays, and not even that one if it is a tombstone (etcd's rule, as MvccStore.compact).
   * Deciding a version takes the one after it, so one is held back.
   */
  private nextVersion(budget: number): KeyVersion | null {
    if (this.carried !== null) {
      const v = this.carried;
      this.carried = null;
      return v;
    }
    for (;;) {
      const v = this.held;
      const next = this.readVersion(budget);
      this.held = next;
      if (v === null) {
        if (next === null) return null;
        continue;
      }
      if (!compactedAway(v, next, this.head.compactedRevision)) return v;
      if (next === null) return null;
    }
  }

  /** The next stored version at or below the snapshot's revision, read a batch at a time. */
  private readVersion(budget: number): KeyVersion | null {
    if (this.batchAt >= this.batch.length) {
      if (this.storeDone) return null;
      const want = this.batchSize(budget);
      this.batch = this.store.versionsAfter(this.after, this.head.revision, want);
      this.batchAt = 0;
      this.storeDone = this.batch.length < want;
      const last = this.batch[this.batch.length - 1];
      if (last !== undefined) this.after = { key: last.key, modRevision: last.modRevision, sub: last.sub };
      if (this.batch.length === 0) return null;
    }
    return this.batch[this.batchAt++]!;
  }

  /** How many versions to read for `budget` more characters: by the rows seen so far, one extra to find the end. */
  private batchSize(budget: number): number {
    if (this.rowsTaken === 0) return FIRST_BATCH;
    if (!Number.isFinite(budget)) return MAX_BATCH;
    const perRow = Math.max(1, this.rowChars / this.rowsTaken);
    return Math.min(MAX_BATCH, Math.max(1, Math.ceil(budget / perRow) + 1));
  }
}

/** Where a follower puts a snapshot's rows as they arrive (a staging table; a fresh store in memory). */
export interface SnapshotStaging {
  append(rows: readonly KeyVersion[]): void;
}

/** A snapshot whose every chunk arrived and was checked: its head, and its rows in `staging`. */
export interface StagedSnapshot<S extends SnapshotStaging = SnapshotStaging> {
  readonly head: SnapshotHead;
  readonly rows: number;
  readonly staging: S;
}

/** The follower's side of one transfer: each chunk checked and its rows staged as it arrives. */
export class SnapshotIntake<S extends SnapshotStaging> {
  private head: SnapshotHead | null = null;
  private last: VersionPosition | null = null;
  private rows = 0;
  private ended = false;

  constructor(private readonly staging: S) {}

  /** Take the next chunk; throws on anything out of place (the transfer is then refused). */
  add(text: string): void {
    if (this.ended) throw new Error("kv snapshot stream: a chunk after the last");
    const chunk = ChunkSchema.parse(JSON.parse(text));
    if ((chunk.head !== undefined) !== (this.head === null)) throw new Error("kv snapshot stream: the head comes first, once");
    if (chunk.head !== undefined) {
      checkSessionOrder(chunk.head.sessions);
      this.head = chunk.head;
    }
    const head = this.head!;
    const versions = chunk.rows.map(rowOf);
    for (const v of versions) {
      if (v.modRevision > head.revision) throw new Error(`kv snapshot stream: a version at ${v.modRevision}, past the snapshot's revision ${head.revision}`);
      if (this.last !== null && compareVersions(this.last, v) >= 0) throw new Error(`kv snapshot stream: rows out of order at row ${this.rows}`);
      this.last = v;
      this.rows++;
    }
    if (chunk.end !== undefined && chunk.end !== this.rows) throw new Error(`kv snapshot stream: ${this.rows} rows arrived, the leader sent ${chunk.end}`);
    this.staging.append(versions);
    this.ended = chunk.end !== undefined;
  }

  /** The whole snapshot, once the chunk with `end` was taken; throws before. */
  finish(): StagedSnapshot<S> {
    if (!this.ended || this.head === null) throw new Error("kv snapshot stream: incomplete");
    return { head: this.head, rows: this.rows, staging: this.staging };
  }
}
