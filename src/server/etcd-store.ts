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
//
// Keys and values are BLOBs: SQLite compares BLOBs with memcmp, then by length, which is Go's
// bytes.Compare, so `key >= ? AND key < ?` is etcd's [key, range_end) in byte order.
//
// Nothing here opens a transaction: `append`, `compact` and `writeMeta` write in the caller's
// (RaftServer.drain applies a batch of entries in one transactionSync), so a failed apply leaves
// no half-written revision. Nothing is cached in memory either, for the same reason: a rolled
// back transaction cannot leave a stale copy behind, and memory does not grow with the data.

import type { Bytes } from "../kv/etcd/bytes.ts";
import type { KeyRange, KeyVersion, MvccStore, RevisionLog, StoreMeta } from "../kv/etcd/store.ts";

const KV_TABLE = `CREATE TABLE IF NOT EXISTS etcd_kv (
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
const META_TABLE = `CREATE TABLE IF NOT EXISTS etcd_meta (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     revision INTEGER NOT NULL,
     compacted_revision INTEGER NOT NULL
   )`;

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

/** The reading and compacting statements, exported so a test can ask SQLite for their query plans. */
export const ETCD_SQL = {
  // The limit is written into the text, clamped to 2^53: an etcd limit is an int64, and a
  // bigger JS number would print as a literal SQLite reads as REAL, which LIMIT refuses.
  latest: (keys: string, limit: number) =>
    `SELECT ${COLUMNS} FROM etcd_kv AS v WHERE ${keys} AND ${NEWEST_AT} ORDER BY v.key` +
    (limit > 0 ? ` LIMIT ${Math.min(Math.floor(limit), Number.MAX_SAFE_INTEGER)}` : ""),
  countLatest: (keys: string) => `SELECT COUNT(*) AS n FROM etcd_kv AS v WHERE ${keys} AND ${NEWEST_AT}`,
  // Every tombstone at or below ?1 (a deleted key's history ends there, so nothing at or above
  // it can see it), and every version at or below ?1 that a newer version, also at or below
  // ?1, supersedes. What stays of each key is its newest version at or below ?1 if live, and
  // everything above. SQLite evaluates the WHERE of every row before it deletes any, so the
  // subquery sees the table as it was.
  compact: `DELETE FROM etcd_kv AS v WHERE v.mod_revision <= ?1 AND (v.tombstone = 1 OR EXISTS (
     SELECT 1 FROM etcd_kv AS w
     WHERE w.key = v.key AND (w.mod_revision, w.sub) > (v.mod_revision, v.sub) AND w.mod_revision <= ?1))`,
};

/** How many rows SQLite read and wrote for this store, summed over every statement (its cursors' figures). */
export interface SqlRowCounts {
  rowsRead: number;
  rowsWritten: number;
}

export class SqliteMvccStore implements MvccStore, RevisionLog {
  /** Rows read and written so far: what each operation costs, for tests and the bench. */
  readonly rows: SqlRowCounts = { rowsRead: 0, rowsWritten: 0 };

  constructor(
    private readonly sql: SqlStorage,
    private readonly meta: MetaCell | null = null,
  ) {
    sql.exec(KV_TABLE);
    if (meta === null) sql.exec(META_TABLE);
  }

  latest(range: KeyRange, atRevision: number, limit: number): KeyVersion[] {
    const bounds = keyBounds(range);
    if (bounds === null) return [];
    const cursor = this.sql.exec<Row>(ETCD_SQL.latest(bounds.where, limit), atRevision, ...bounds.args);
    const out = cursor.toArray().map(toKeyVersion);
    this.count(cursor);
    return out;
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
    for (const r of rows) {
      this.count(
        this.sql.exec(
          `INSERT INTO etcd_kv (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          blob(r.key),
          r.modRevision,
          r.sub,
          r.createRevision,
          r.version,
          blob(r.value),
          r.lease,
          r.tombstone ? 1 : 0,
        ),
      );
    }
  }

  compact(revision: number): void {
    // One DELETE (ETCD_SQL.compact). It scans the whole table, as etcd's compaction walks its
    // whole key index: mod_revision is not an index prefix, and an index on it would cost a
    // second row written per put.
    this.count(this.sql.exec(ETCD_SQL.compact, revision));
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

  allRows(): KeyVersion[] {
    const cursor = this.sql.exec<Row>(`SELECT ${COLUMNS} FROM etcd_kv ORDER BY key, mod_revision, sub`);
    const out = cursor.toArray().map(toKeyVersion);
    this.count(cursor);
    return out;
  }

  clear(): void {
    this.count(this.sql.exec("DELETE FROM etcd_kv"));
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

  /** A cursor's figures are final once it is consumed; every caller consumes it first. */
  private count(cursor: SqlStorageCursor<Record<string, SqlStorageValue>>): void {
    this.rows.rowsRead += cursor.rowsRead;
    this.rows.rowsWritten += cursor.rowsWritten;
  }
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
