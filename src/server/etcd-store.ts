// etcd's MvccStore (src/kv/etcd/store.ts) on a Durable Object's SQLite: every SQL statement of
// the etcd store lives here.
//
// Tables:
//   etcd_kv    one row per version of a key, as etcd's backend keeps one per revision. The
//              primary key (key, mod_revision, sub) is the only index: WITHOUT ROWID makes it
//              the table's own b-tree, so a new version costs one row written, not two, and
//              "the versions of one key" are adjacent, oldest first. The price: a WITHOUT ROWID
//              row keeps at most about 1,000 bytes in its b-tree page (a rowid table's row up to
//              about 4,000), so a 1 KB value spills into an overflow page of its own. Measured
//              in workerd with 20,000 keys of 1 KB: 94 MB of database against 28 MB for a rowid
//              table, whose separate primary key index would write 3 rows per put, not 2.
//              Rows written are what a write is billed and what issue 20 bounds; disk is not.
//   etcd_meta  one row: the store's revision and the revision it was compacted at, unless the
//              caller keeps them itself (a MetaCell: the server folds them into its kv_applied
//              row, which every applied batch writes anyway, so a put costs no extra row).
//   etcd_purge one row, for a store that purges in chunks (below): how far the rows a
//              compaction made invisible have been deleted.
//
// Compaction in chunks (the server's store: `purgeInChunks`). A compaction only moves the
// compacted revision (in the meta, with the apply); the rows it makes invisible are deleted
// afterwards, a chunk of rows of the primary key per transaction (purgeStep), in key order,
// across the server's drains. One DELETE of a big table would hold
// the object (every request and Raft message waits) for as long as it scans every row. Reads
// do not notice: a read at or above the compacted revision takes each key's newest version at
// or below it, which the purge never deletes, and a read below it is refused before it reads.
// A snapshot does not notice either: allRows leaves out what the purge would delete, so equal
// logs still give equal snapshots, however far each replica's purge has gone. A purge "pass"
// walks the whole key space once, for the compacted revision of when it began; a compaction
// during a pass is caught by the chunks after it (each deletes up to the compacted revision
// of its own time) and by the next pass for the keys already behind.
//
// Pacing: without an index on mod_revision (a second row written per put), a pass walks every
// row of the table, hidden or not. So a pass starts only once the compactions since the last
// one have hidden a tenth as many revisions as that pass walked rows (PASS_ROWS_PER_REVISION):
// a pass costs at most 10 rows walked per revision it purges, whatever the table's size, and
// the rows waiting to be purged stay within a tenth of the table.
//
// Keys and values are BLOBs: SQLite compares BLOBs with memcmp, then by length, which is Go's
// bytes.Compare, so `key >= ? AND key < ?` is etcd's [key, range_end) in byte order.
//
// Nothing here opens a transaction: `append`, `compact` and `writeMeta` write in the caller's
// (RaftServer.drain applies a batch of entries in one transactionSync), so a failed apply leaves
// no half-written revision. Nothing is cached in memory either, for the same reason: a rolled
// back transaction cannot leave a stale copy behind, and memory does not grow with the data.

import { compareBytes, EMPTY, type Bytes } from "../kv/etcd/bytes.ts";
import type { KeyRange, KeyVersion, MvccStore, RevisionLog, StoreMeta, VersionPosition } from "../kv/etcd/store.ts";

const kvTable = (name: string) => `CREATE TABLE IF NOT EXISTS ${name} (
     key BLOB NOT NULL,
     mod_revision INTEGER NOT NULL,
     sub INTEGER NOT NULL,
     create_revision INTEGER NOT NULL,
     version INTEGER NOT NULL,
     value BLOB,
     lease INTEGER NOT NULL,
     tombstone INTEGER NOT NULL,
     PRIMARY KEY (key, mod_revision, sub)
   ) WITHOUT ROWID`;
const KV_TABLE = kvTable("etcd_kv");
const META_TABLE = `CREATE TABLE IF NOT EXISTS etcd_meta (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     revision INTEGER NOT NULL,
     compacted_revision INTEGER NOT NULL
   )`;

const PURGE_TABLE = `CREATE TABLE IF NOT EXISTS etcd_purge (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     purged_revision INTEGER NOT NULL,
     pass_revision INTEGER,
     next_key BLOB,
     walked INTEGER NOT NULL,
     last_pass_rows INTEGER NOT NULL
   )`;

/**
 * How far the purge has gone: every key's rows are deleted up to `purged`; a pass to `pass`
 * (null: none under way) has done the keys before `next` (null: it starts at the first key),
 * walking `walked` rows so far; the last whole pass walked `lastPassRows`.
 */
interface PurgeState {
  purged: number;
  pass: number | null;
  next: Bytes | null;
  walked: number;
  lastPassRows: number;
}

const NO_PURGE: PurgeState = { purged: -1, pass: null, next: null, walked: 0, lastPassRows: 0 };

/**
 * Rows a pass may walk per revision it purges: the next pass is due once the compacted
 * revision is (rows the last pass walked) / 10 revisions past what that pass purged.
 */
export const PASS_ROWS_PER_REVISION = 10;

/** Where the store's meta lives when not in etcd_meta: the caller reads and writes it with its own rows. */
export interface MetaCell {
  read(): StoreMeta;
  write(meta: StoreMeta): void;
}

const COLUMNS = "key, mod_revision, sub, create_revision, version, value, lease, tombstone";

type Row = {
  key: ArrayBuffer;
  mod_revision: number;
  sub: number;
  create_revision: number;
  version: number;
  /** NULL only if a zero-length value was ever bound as NULL; read back as empty either way. */
  value: ArrayBuffer | null;
  lease: number;
  tombstone: number;
};

// "v is its key's newest version at or below revision R": no version of the same key is newer
// than v and still at or below R. The subquery is one seek on the primary key to the row just
// after (v.key, v.mod_revision, v.sub), so a key costs about two rows read per version at or
// below R, and the outer scan walks the primary key in key order: with a LIMIT, SQLite stops
// after enough keys, never sorting or reading the rest of the range. A tombstone newest
// version hides the key: the outer `tombstone = 0` drops it, and the older versions below it
// fail NOT EXISTS because the tombstone is newer. ?1 is R; the key bounds come after.
const NEWEST_AT = `v.mod_revision <= ?1 AND v.tombstone = 0 AND NOT EXISTS (
     SELECT 1 FROM etcd_kv AS w
     WHERE w.key = v.key AND (w.mod_revision, w.sub) > (v.mod_revision, v.sub) AND w.mod_revision <= ?1)`;

// A version no read at or above revision ?1 can see: a tombstone at or below ?1 (a deleted
// key's history ends there, so nothing at or above it can see it), or a version at or below ?1
// that a newer version, also at or below ?1, supersedes. What stays of each key is its newest
// version at or below ?1 if live, and everything above.
const COMPACTED_AWAY = `v.mod_revision <= ?1 AND (v.tombstone = 1 OR EXISTS (
     SELECT 1 FROM etcd_kv AS w
     WHERE w.key = v.key AND (w.mod_revision, w.sub) > (v.mod_revision, v.sub) AND w.mod_revision <= ?1))`;

/** The reading and compacting statements, exported so a test can ask SQLite for their query plans. */
export const ETCD_SQL = {
  // The limit is written into the text, clamped to 2^53: an etcd limit is an int64, and a
  // bigger JS number would print as a literal SQLite reads as REAL, which LIMIT refuses.
  latest: (keys: string, limit: number) =>
    `SELECT ${COLUMNS} FROM etcd_kv AS v WHERE ${keys} AND ${NEWEST_AT} ORDER BY v.key` +
    (limit > 0 ? ` LIMIT ${Math.min(Math.floor(limit), Number.MAX_SAFE_INTEGER)}` : ""),
  // One key's newest version at or below ?1: one seek to the end of its versions, walking back
  // one row, where `latest` on one key visits every version with a seek each (a key put 1,000
  // times within the retention read ~2,000 rows per put's prev_kv). A tombstone answers "none".
  latestOfKey: `SELECT ${COLUMNS} FROM etcd_kv WHERE key = ?2 AND mod_revision <= ?1 ORDER BY mod_revision DESC, sub DESC LIMIT 1`,
  countLatest: (keys: string) => `SELECT COUNT(*) AS n FROM etcd_kv AS v WHERE ${keys} AND ${NEWEST_AT}`,
  // Every version compacted away at ?1, in one statement. SQLite evaluates the WHERE of every
  // row before it deletes any, so the subquery sees the table as it was.
  compact: `DELETE FROM etcd_kv AS v WHERE ${COMPACTED_AWAY}`,
  // One chunk of the purge: the same rows, within a range of keys (keyBounds: ?2, ?3).
  purgeChunk: (keys: string) => `DELETE FROM etcd_kv AS v WHERE ${keys} AND ${COMPACTED_AWAY}`,
  // The key of the row `?2` rows past the first row of key ?1 or above, in primary-key order:
  // where a chunk of about ?2 rows that starts at ?1 ends. Walks ?2 rows of the primary key.
  chunkEnd: "SELECT key FROM etcd_kv WHERE key >= ?1 ORDER BY key, mod_revision, sub LIMIT 1 OFFSET ?2",
  // Every row a read at or above ?1 can see, in primary-key order: a snapshot's rows.
  visibleRows: `SELECT ${COLUMNS} FROM etcd_kv AS v WHERE NOT (${COMPACTED_AWAY}) ORDER BY key, mod_revision, sub`,
  // A snapshot's next rows (versionsAfter): ?1 the snapshot's revision, ?2 the limit, ?3..?5 the position after which to start.
  versionsFromStart: `SELECT ${COLUMNS} FROM etcd_kv WHERE mod_revision <= ?1 ORDER BY key, mod_revision, sub LIMIT ?2`,
  versionsAfter: `SELECT ${COLUMNS} FROM etcd_kv WHERE (key, mod_revision, sub) > (?3, ?4, ?5) AND mod_revision <= ?1 ORDER BY key, mod_revision, sub LIMIT ?2`,
};

/** How many rows SQLite read and wrote for this store, summed over every statement (its cursors' figures). */
export interface SqlRowCounts {
  rowsRead: number;
  rowsWritten: number;
}

export class SqliteMvccStore implements MvccStore, RevisionLog {
  /** Rows read and written so far: what each operation costs, for tests and the bench. */
  readonly rows: SqlRowCounts = { rowsRead: 0, rowsWritten: 0 };

  /**
   * The purge's progress as etcd_purge holds it (read once, then kept in step with every
   * write of the row). Should a transaction that wrote the row roll back, this copy is ahead
   * of the disk: the object then resets (a failed write is a crash, raft-server.ts), and at
   * worst rows stay until the next pass, invisible meanwhile.
   */
  private purge: PurgeState | null = null;

  /**
   * `purgeInChunks`: compact() only moves the compacted revision, and purgeStep deletes the
   * rows it made invisible, chunk by chunk (the top of the file). Otherwise compact() deletes
   * them all at once.
   */
  constructor(
    private readonly sql: SqlStorage,
    private readonly meta: MetaCell | null = null,
    private readonly purgeInChunks = false,
  ) {
    sql.exec(KV_TABLE);
    if (meta === null) sql.exec(META_TABLE);
    if (purgeInChunks) sql.exec(PURGE_TABLE);
  }

  latest(range: KeyRange, atRevision: number, limit: number): KeyVersion[] {
    if (range.end === null) return this.latestOfKey(range.start, atRevision);
    const bounds = keyBounds(range);
    if (bounds === null) return [];
    const cursor = this.sql.exec<Row>(ETCD_SQL.latest(bounds.where, limit), atRevision, ...bounds.args);
    const out = cursor.toArray().map(toKeyVersion);
    this.count(cursor);
    return out;
  }

  /** `latest` of a single key (every put asks it): its newest row, unless that is a tombstone. */
  private latestOfKey(key: Bytes, atRevision: number): KeyVersion[] {
    const cursor = this.sql.exec<Row>(ETCD_SQL.latestOfKey, atRevision, blob(key));
    const row = cursor.toArray()[0];
    this.count(cursor);
    return row === undefined || row.tombstone !== 0 ? [] : [toKeyVersion(row)];
  }

  countLatest(range: KeyRange, atRevision: number): number {
    const bounds = keyBounds(range);
    if (bounds === null) return 0;
    const cursor = this.sql.exec<{ n: number }>(ETCD_SQL.countLatest(bounds.where), atRevision, ...bounds.args);
    const n = cursor.one().n;
    this.count(cursor);
    return n;
  }

  append(rows: readonly KeyVersion[]): void {
    // One statement per row: 8 bindings each stays far below SQLite's bound-parameter limit
    // whatever a deleteRange tombstones. A (key, mod_revision, sub) already stored fails the
    // primary key, which refuses a version written twice.
    for (const r of rows) this.count(insertRow(this.sql, "etcd_kv", r));
  }

  compact(revision: number): void {
    // In chunks: nothing to delete now; purgeStep follows the compacted revision the caller
    // writes into the meta. At once: one DELETE (ETCD_SQL.compact). Either way the whole
    // table is scanned, as etcd's compaction walks its whole key index: mod_revision is not
    // an index prefix, and an index on it would cost a second row written per put.
    if (!this.purgeInChunks) this.count(this.sql.exec(ETCD_SQL.compact, revision));
  }

  /**
   * Whether purgeStep has work at `compacted` (the store's compacted revision): a pass under
   * way, or one due (pacing, at the top of the file).
   */
  purgePending(compacted: number): boolean {
    const p = this.purgeState();
    return p.pass !== null || compacted - p.purged >= Math.max(1, Math.floor(p.lastPassRows / PASS_ROWS_PER_REVISION));
  }

  /**
   * Delete one chunk of what compaction to `compacted` made invisible: the rows of the next
   * keys, about `chunkRows` rows of the primary key (more only when one key alone has more
   * versions), starting a pass if none is under way and one is due. Writes in the caller's
   * transaction. Answers whether more is pending.
   */
  purgeStep(compacted: number, chunkRows: number): boolean {
    let p = this.purgeState();
    if (p.pass === null) {
      if (!this.purgePending(compacted)) return false;
      p = { ...p, pass: compacted, next: null, walked: 0 };
    }
    const first = p.next ?? this.keyAfter(null);
    let next: Bytes | null = null;
    let walked = 0;
    if (first !== null) {
      const { end, rowsRead } = this.chunkEnd(first, chunkRows);
      walked = rowsRead;
      let range: KeyRange;
      if (end === null) range = { start: first, end: EMPTY }; // the rest of the table
      else if (compareBytes(end, first) === 0) {
        range = { start: first, end: null }; // one key with more versions than a chunk
        next = this.keyAfter(first);
      } else {
        range = { start: first, end };
        next = end;
      }
      const bounds = keyBounds(range)!;
      this.count(this.sql.exec(ETCD_SQL.purgeChunk(bounds.where), compacted, ...bounds.args));
    }
    walked += p.walked;
    this.writePurge(
      next === null ? { purged: p.pass!, pass: null, next: null, walked: 0, lastPassRows: walked } : { ...p, next, walked },
    );
    return this.purgePending(compacted);
  }

  readMeta(): StoreMeta {
    if (this.meta !== null) return this.meta.read();
    const cursor = this.sql.exec<{ revision: number; compacted_revision: number }>(
      "SELECT revision, compacted_revision FROM etcd_meta WHERE id = 1",
    );
    const row = cursor.toArray()[0];
    this.count(cursor);
    // A new store is etcd's fresh one: revision 1, never compacted.
    return row === undefined ? { revision: 1, compactedRevision: -1 } : { revision: row.revision, compactedRevision: row.compacted_revision };
  }

  writeMeta(meta: StoreMeta): void {
    if (this.meta !== null) return this.meta.write(meta);
    this.count(
      this.sql.exec(
        `INSERT INTO etcd_meta (id, revision, compacted_revision) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET revision = ?1, compacted_revision = ?2`,
        meta.revision,
        meta.compactedRevision,
      ),
    );
  }

  versionsAfter(after: VersionPosition | null, atRevision: number, limit: number): KeyVersion[] {
    // The row value comparison is a seek on the primary key to just after `after`, then a walk
    // in key order that stops after `limit` rows; versions above the revision are skipped.
    const n = Math.max(1, Math.floor(limit));
    const cursor =
      after === null
        ? this.sql.exec<Row>(ETCD_SQL.versionsFromStart, atRevision, n)
        : this.sql.exec<Row>(ETCD_SQL.versionsAfter, atRevision, n, blob(after.key), after.modRevision, after.sub);
    const out = cursor.toArray().map(toKeyVersion);
    this.count(cursor);
    return out;
  }

  /** Every row a read at or above the compacted revision can see: not those a purge has yet to delete. */
  allRows(): KeyVersion[] {
    const cursor = this.sql.exec<Row>(ETCD_SQL.visibleRows, this.readMeta().compactedRevision);
    const out = cursor.toArray().map(toKeyVersion);
    this.count(cursor);
    return out;
  }

  clear(): void {
    this.count(this.sql.exec("DELETE FROM etcd_kv"));
    // The rows that replace these (a snapshot's) may hold what their sender had yet to purge.
    if (this.purgeInChunks) this.writePurge(NO_PURGE);
  }

  /**
   * The rows were replaced from outside (a snapshot's staging table swapped in: they come
   * compacted already): any purge under way is for the rows that are gone.
   */
  rowsReplaced(): void {
    if (this.purgeInChunks) this.writePurge(NO_PURGE);
  }

  // --- RevisionLog (watches) --------------------------------------------------------------
  // The rows of a span of revisions, for a watch catching up (a watch from the past, a watcher
  // moved from another server). There is no index on mod_revision: it would write a second row
  // per version (measured: a put 3 rows instead of 2, test/workerd/watch-revision-index.test.ts),
  // and issue 20 bounds rows written per put. So this walks the primary key over the watcher's
  // key range (one key: its versions; a prefix: the prefix's versions; every key: the table)
  // and keeps the span. Live watchers never come here: they get the rows the apply just wrote
  // (recent-changes.ts), so a write costs a watcher nothing read.

  changes(range: KeyRange, from: number, to: number): KeyVersion[] {
    const bounds = keyBounds(range);
    if (bounds === null || from > to) return [];
    const toParam = `?${2 + bounds.args.length}`;
    const cursor = this.sql.exec<Row>(
      `SELECT ${COLUMNS} FROM etcd_kv AS v WHERE ${bounds.where} AND v.mod_revision >= ?1 AND v.mod_revision <= ${toParam}
       ORDER BY v.mod_revision, v.sub`,
      from,
      ...bounds.args,
      to,
    );
    const out = cursor.toArray().map(toKeyVersion);
    this.count(cursor);
    return out;
  }

  // -----------------------------------------------------------------------------------------

  /** Every stored version (tests check what compaction keeps). Reads every row: not for the apply path. */
  rowCount(): number {
    const cursor = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM etcd_kv");
    const n = cursor.one().n;
    this.count(cursor);
    return n;
  }

  private purgeState(): PurgeState {
    if (this.purge === null) {
      const cursor = this.sql.exec<{
        purged_revision: number;
        pass_revision: number | null;
        next_key: ArrayBuffer | null;
        walked: number;
        last_pass_rows: number;
      }>("SELECT purged_revision, pass_revision, next_key, walked, last_pass_rows FROM etcd_purge WHERE id = 1");
      const row = cursor.toArray()[0];
      this.count(cursor);
      this.purge =
        row === undefined
          ? NO_PURGE
          : {
              purged: row.purged_revision,
              pass: row.pass_revision,
              next: row.next_key === null ? null : new Uint8Array(row.next_key),
              walked: row.walked,
              lastPassRows: row.last_pass_rows,
            };
    }
    return this.purge;
  }

  private writePurge(p: PurgeState): void {
    this.count(
      this.sql.exec(
        `INSERT INTO etcd_purge (id, purged_revision, pass_revision, next_key, walked, last_pass_rows) VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET purged_revision = ?1, pass_revision = ?2, next_key = ?3, walked = ?4, last_pass_rows = ?5`,
        p.purged,
        p.pass,
        p.next === null ? null : blob(p.next),
        p.walked,
        p.lastPassRows,
      ),
    );
    this.purge = p;
  }

  /** The first stored key after `key` (null: from the start), or null when there is none. */
  private keyAfter(key: Bytes | null): Bytes | null {
    const cursor =
      key === null
        ? this.sql.exec<{ key: ArrayBuffer }>("SELECT key FROM etcd_kv ORDER BY key, mod_revision, sub LIMIT 1")
        : this.sql.exec<{ key: ArrayBuffer }>("SELECT key FROM etcd_kv WHERE key > ?1 ORDER BY key, mod_revision, sub LIMIT 1", blob(key));
    const row = cursor.toArray()[0];
    this.count(cursor);
    return row === undefined ? null : new Uint8Array(row.key);
  }

  /**
   * The key `rows` rows of the primary key past the first row of `first` (null when the table
   * ends before), and the rows walked to find it: the chunk's size.
   */
  private chunkEnd(first: Bytes, rows: number): { end: Bytes | null; rowsRead: number } {
    const cursor = this.sql.exec<{ key: ArrayBuffer }>(ETCD_SQL.chunkEnd, blob(first), rows);
    const row = cursor.toArray()[0];
    this.count(cursor);
    return { end: row === undefined ? null : new Uint8Array(row.key), rowsRead: cursor.rowsRead };
  }

  /** A cursor's figures are final once it is consumed; every caller consumes it first. */
  private count(cursor: SqlStorageCursor<Record<string, SqlStorageValue>>): void {
    this.rows.rowsRead += cursor.rowsRead;
    this.rows.rowsWritten += cursor.rowsWritten;
  }
}

const STAGING_TABLE = "etcd_kv_staging";

/**
 * A follower's staging table for a snapshot that arrives in chunks (src/kv/snapshot-stream.ts
 * validates them): each chunk's rows are written here as it arrives, so memory holds one chunk,
 * never the table. The install swaps the table in for etcd_kv in the drain's transaction, with
 * the Raft state that accepted it: a DROP and a RENAME, no row copied, and SQLite's DDL rolls
 * back with the transaction if anything of it fails. Same schema as etcd_kv, so the primary
 * key refuses a version staged twice.
 */
export class SqliteSnapshotStaging {
  constructor(private readonly sql: SqlStorage) {}

  /** An empty staging table: the rows of an earlier transfer, if any, are dropped. */
  reset(): void {
    this.discard();
    this.sql.exec(kvTable(STAGING_TABLE));
  }

  append(rows: readonly KeyVersion[]): void {
    for (const r of rows) insertRow(this.sql, STAGING_TABLE, r);
  }

  /** Drop the staged rows (a transfer refused, replaced, or cut by a reset). Idempotent. */
  discard(): void {
    this.sql.exec(`DROP TABLE IF EXISTS ${STAGING_TABLE}`);
  }

  /** etcd_kv becomes the staged rows. Inside the caller's transaction; the staging table is gone after. */
  swapIn(): void {
    this.sql.exec("DROP TABLE etcd_kv");
    this.sql.exec(`ALTER TABLE ${STAGING_TABLE} RENAME TO etcd_kv`);
  }
}

/** One version as a row of `table` (etcd_kv or the staging table). */
function insertRow(sql: SqlStorage, table: string, r: KeyVersion): SqlStorageCursor<Record<string, SqlStorageValue>> {
  return sql.exec(
    `INSERT INTO ${table} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    blob(r.key),
    r.modRevision,
    r.sub,
    r.createRevision,
    r.version,
    blob(r.value),
    r.lease,
    r.tombstone ? 1 : 0,
  );
}

/**
 * The WHERE on v.key for a KeyRange, with its bindings (numbered from ?2: ?1 is the revision);
 * null when the range is empty. An empty start has no lower bound (every key is ≥ it), which
 * also avoids binding a zero-length BLOB.
 */
export function keyBounds(range: KeyRange): { where: string; args: ArrayBuffer[] } | null {
  if (range.end === null) return { where: "v.key = ?2", args: [blob(range.start)] };
  const lower = range.start.length > 0;
  if (range.end.length === 0) return lower ? { where: "v.key >= ?2", args: [blob(range.start)] } : { where: "1", args: [] };
  if (!lower) return { where: "v.key < ?2", args: [blob(range.end)] };
  return { where: "v.key >= ?2 AND v.key < ?3", args: [blob(range.start), blob(range.end)] };
}

/** The bytes as an ArrayBuffer of exactly their length: what SQLite binds as a BLOB. */
function blob(b: Bytes): ArrayBuffer {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer
    ? b.buffer
    : (b.slice().buffer as ArrayBuffer);
}

function toKeyVersion(r: Row): KeyVersion {
  return {
    key: new Uint8Array(r.key),
    modRevision: r.mod_revision,
    sub: r.sub,
    createRevision: r.create_revision,
    version: r.version,
    value: r.value === null ? new Uint8Array(0) : new Uint8Array(r.value),
    lease: r.lease,
    tombstone: r.tombstone !== 0,
  };
}
