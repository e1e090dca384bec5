// The key/value state machine of one server, kept durable row by row.
//
// Why durable: lastApplied is volatile in Figure 2, but re-applying the whole log after
// every restart makes restart time grow with history, and a snapshot (issue 6) needs the
// applied state on disk anyway. So the applied index, the data and the exactly-once
// sessions are written in the same synchronous transaction as the Raft state of the same
// Ready (see RaftServer.drain): one transaction per batch of committed entries, and a
// restarted server resumes at its applied index without replaying anything.
//
// Every committed entry goes through `apply`: kv commands change the state, anything else
// (raw `submit` commands, the leader's no-op) is ignored identically on every replica.
//
// The data is etcd's MVCC store on this object's SQLite (etcd-store.ts): keys and values as
// UTF-8 BLOBs, read when an operation needs them, never all loaded. Client ids are stored as
// JSON string literals, not as raw TEXT: a JS string may hold a lone surrogate, which
// SQLite's UTF-8 TEXT cannot represent; JSON.stringify escapes it, losslessly, as the log's
// own rows do (storage.ts). (Keys and values with one are refused at the door: command.ts.)
import { legacyRows, KvStateMachine, sessionRecord, type ApplyOutcome, type EtcdAnswer, type GetResult, type KvChanges, type KvListing, type KvSnapshot } from "../kv/index.ts";
import type { StoreMeta } from "../kv/etcd/store.ts";
import type { Entry } from "../raft/types.ts";
import { SqliteMvccStore } from "./etcd-store.ts";

/** A fresh etcd store: revision 1, never compacted. */
const FRESH: StoreMeta = { revision: 1, compactedRevision: -1 };

/**
 * Rows of etcd_kv a purge transaction walks (etcd-store.ts purgeStep): a compaction's rows
 * are deleted a chunk per drain, so no transaction holds the object for a scan of the whole
 * table. Measured in workerd (test/workerd/etcd-store.test.ts, 20,000 keys of 1 KB written
 * twice): a chunk of 1000 rows that deletes 500 reads about 4,500 rows and takes 20–30 ms
 * on average, call included, on a loaded machine; one DELETE of those 40,000 rows would hold
 * the object about 40 times as long. A table of 200,000 rows is purged in 200 drains.
 */
export const PURGE_CHUNK_ROWS = 1000;

// kv_session is a WITHOUT ROWID table: its text key is the table's own b-tree, so a new
// session costs one row written, not two (a rowid table keeps a separate index for a TEXT
// PRIMARY KEY, and SQLite counts, and Cloudflare bills, both rows). The data itself is
// etcd_kv (etcd-store.ts): one row per version of a key.
const SCHEMA = [
  // seq orders sessions by last use (least recently used first), as the state machine keeps
  // them. client_id: a JSON string literal; result: the answer as JSON ('null': forgotten);
  // fingerprint: the last request's digest (src/kv/fingerprint.ts), NULL in older rows;
  // log_index: the log index where that request was applied, NULL in older rows.
  `CREATE TABLE IF NOT EXISTS kv_session (
     client_id TEXT PRIMARY KEY,
     seq INTEGER NOT NULL,
     request_id INTEGER NOT NULL,
     last_seen REAL NOT NULL,
     result TEXT NOT NULL,
     fingerprint INTEGER,
     log_index INTEGER
   ) WITHOUT ROWID`,
  // One row, written by every applied batch: the applied index, the session clock, and the
  // store's meta (revision, compacted_revision: added by addStoreColumns), so a put writes its
  // etcd_kv row and this row, and no separate meta row.
  `CREATE TABLE IF NOT EXISTS kv_applied (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     applied INTEGER NOT NULL,
     clock REAL,
     session_seq INTEGER NOT NULL
   )`,
];

export class KvState {
  private machine!: KvStateMachine;
  private readonly store: SqliteMvccStore;
  /**
   * The store's revision and compacted revision as the applied rows say: read by the store
   * (its MetaCell), written to disk with kv_applied (write()).
   */
  private meta: StoreMeta = FRESH;
  private appliedIndex = 0;
  private sessionSeq = 0;

  constructor(private readonly sql: SqlStorage) {
    migrate(sql);
    for (const statement of SCHEMA) sql.exec(statement);
    addSessionColumns(sql);
    addStoreColumns(sql);
    this.store = new SqliteMvccStore(sql, { read: () => ({ ...this.meta }), write: (m) => (this.meta = { ...m }) }, true);
    convertKvData(sql, this.store);
    this.load();
  }

  /** The last log index applied to (and stored with) the state machine. */
  get applied(): number {
    return this.appliedIndex;
  }

  /**
   * Apply committed entries in order and write what they changed. Must run inside the
   * caller's synchronous transaction, so the state and its index never disagree on disk.
   */
  apply(entries: readonly Entry[]): ApplyOutcome[] {
    if (entries.length === 0) return [];
    const before = this.meta;
    try {
      const outcomes = entries.map((e) => this.machine.apply(e.command, e.index));
      const applied = entries[entries.length - 1]!.index;
      this.write(this.machine.takeChanges(), applied);
      // Only once its rows are written. If a write throws, the transaction rolls the rows
      // back, and the meta here goes back with them; the sessions in memory are ahead of the
      // rolled-back rows: the shell then resets the whole object (raft-server.ts, "a failed
      // write is a crash"), and the next instance loads these rows again.
      this.appliedIndex = applied;
      return outcomes;
    } catch (error) {
      this.meta = before;
      throw error;
    }
  }

  /** The store's revision and compacted revision at the applied index (what automatic compaction looks at). */
  get storeMeta(): StoreMeta {
    return { ...this.meta };
  }

  /** Whether purgeStep has work: a purge pass under way or due (etcd-store.ts). */
  get purgePending(): boolean {
    return this.store.purgePending(this.meta.compactedRevision);
  }

  /**
   * Delete the next chunk of rows compaction made invisible (etcd-store.ts, "Compaction in
   * chunks"). In the caller's transaction; never while a snapshot transfer reads the rows
   * (the caller asks snapshot-transfers.ts).
   */
  purgeStep(): void {
    this.store.purgeStep(this.meta.compactedRevision, PURGE_CHUNK_ROWS);
  }

  /** A linearizable read's answer, once the caller knows the state is recent enough. */
  get(key: string): GetResult {
    return this.machine.get(key);
  }

  /** etcd's range from the local state (ReadIndex or serializable reads): the gateway's answer, header holding the revision. */
  range(body: unknown): EtcdAnswer {
    return this.machine.range(body);
  }

  /** `GET /kv?prefix=` from the local state, at one revision. */
  list(prefix: string, after: string | null, limit: number): KvListing {
    return this.machine.list(prefix, after, limit);
  }

  /** The whole state at `applied`, as an InstallSnapshot carries it (every row, for now: see install). */
  snapshot(): KvSnapshot {
    return this.machine.snapshot();
  }

  /**
   * Become a leader's snapshot, taken at `index` (already built and validated from its text:
   * raft-server.ts, restoreSnapshot): every row is replaced, and this server's machine holds
   * the snapshot's state on its own SQL. Must run inside the caller's synchronous transaction,
   * with the Raft state that accepted it.
   *
   * For now the snapshot is one value in memory (`machine`, built from the whole text) whose
   * rows are copied here: the one place to change when snapshots stream rows in chunks.
   */
  install(machine: KvStateMachine, index: number): void {
    const before = this.meta;
    try {
      const s = machine.snapshot();
      this.sql.exec("DELETE FROM kv_session");
      this.sessionSeq = 0;
      const installed = new KvStateMachine({ store: this.store });
      installed.restore(s); // replaces etcd_kv's rows and the meta
      this.write(
        {
          clock: s.clock,
          sessions: s.sessions.map(
            ([clientId, requestId, lastSeen, result, fingerprint, index]) =>
              [clientId, sessionRecord(requestId, lastSeen, result, fingerprint, index)] as const,
          ),
          forgottenResults: [],
        },
        index,
      );
      this.machine = installed;
      this.appliedIndex = index;
    } catch (error) {
      this.meta = before;
      throw error;
    }
  }

  /**
   * The applied index and row counts as storage holds them (not as memory believes): `kv` is
   * the live keys at the stored revision (it counts them: for status, not the apply path).
   */
  stored(): {
    applied: number;
    rows: { kv: number; sessions: number };
    historyRows: number;
    sessionResultChars: number;
    revision: number;
    compactedRevision: number;
  } {
    const row = this.sql
      .exec<{ applied: number; revision: number; compacted_revision: number }>("SELECT applied, revision, compacted_revision FROM kv_applied WHERE id = 1")
      .toArray()[0];
    const revision = row?.revision ?? FRESH.revision;
    const kv = this.store.countLatest({ start: new Uint8Array(0), end: new Uint8Array(0) }, revision);
    const sessions = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM kv_session").one().n;
    // What the session table's results weigh (JSON characters), bounded by the state machine (sessions.ts).
    const chars = this.sql.exec<{ c: number }>("SELECT COALESCE(SUM(LENGTH(result)), 0) AS c FROM kv_session WHERE result <> 'null'").one().c;
    return {
      applied: row?.applied ?? 0,
      rows: { kv, sessions },
      // Every stored version of every key: what compaction bounds (COUNT reads them all).
      historyRows: this.store.rowCount(),
      sessionResultChars: chars,
      revision,
      compactedRevision: row?.compacted_revision ?? FRESH.compactedRevision,
    };
  }

  private write(changes: KvChanges, applied: number): void {
    for (const [clientId, record] of changes.sessions) {
      if (record === null) {
        this.sql.exec("DELETE FROM kv_session WHERE client_id = ?", JSON.stringify(clientId));
        continue;
      }
      this.sql.exec(
        `INSERT INTO kv_session (client_id, seq, request_id, last_seen, result, fingerprint, log_index) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (client_id) DO UPDATE SET seq = excluded.seq, request_id = excluded.request_id,
           last_seen = excluded.last_seen, result = excluded.result, fingerprint = excluded.fingerprint,
           log_index = excluded.log_index`,
        JSON.stringify(clientId),
        ++this.sessionSeq,
        record.requestId,
        record.lastSeen,
        JSON.stringify(record.result),
        record.fingerprint ?? null,
        record.index ?? null,
      );
    }
    // A forgotten result keeps its row's place (seq) in the use order: "null" is its result's JSON.
    for (const clientId of changes.forgottenResults) {
      this.sql.exec("UPDATE kv_session SET result = 'null' WHERE client_id = ?", JSON.stringify(clientId));
    }
    this.sql.exec(
      `INSERT INTO kv_applied (id, applied, clock, session_seq, revision, compacted_revision) VALUES (1, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET applied = excluded.applied, clock = excluded.clock, session_seq = excluded.session_seq,
         revision = excluded.revision, compacted_revision = excluded.compacted_revision`,
      applied,
      changes.clock,
      this.sessionSeq,
      this.meta.revision,
      this.meta.compactedRevision,
    );
  }

  /**
   * Rebuild the state machine from its rows (at construction, and after a wipe): the applied
   * row and the sessions only. The data stays in etcd_kv, read when an operation needs it, so
   * loading does not grow with the data.
   */
  load(): void {
    const row = this.sql
      .exec<{ applied: number; clock: number | null; session_seq: number; revision: number; compacted_revision: number }>(
        "SELECT applied, clock, session_seq, revision, compacted_revision FROM kv_applied WHERE id = 1",
      )
      .toArray()[0];
    this.appliedIndex = row?.applied ?? 0;
    this.sessionSeq = row?.session_seq ?? 0;
    this.meta = row === undefined ? FRESH : { revision: row.revision, compactedRevision: row.compacted_revision };
    const sessions = this.sql
      .exec<{ client_id: string; request_id: number; last_seen: number; result: string; fingerprint: number | null; log_index: number | null }>(
        "SELECT client_id, request_id, last_seen, result, fingerprint, log_index FROM kv_session ORDER BY seq",
      )
      .toArray()
      .map((r) => {
        const session = [JSON.parse(r.client_id) as string, r.request_id, r.last_seen, JSON.parse(r.result)] as const;
        // The snapshot's tuple (state-machine.ts): a null fingerprint holds its place before an index.
        if (r.log_index !== null) return [...session, r.fingerprint, r.log_index] as const;
        return r.fingerprint === null ? session : ([...session, r.fingerprint] as const);
      });
    const machine = new KvStateMachine({ store: this.store });
    machine.restoreSessions(row?.clock ?? null, sessions);
    this.machine = machine;
  }

  /** Drop everything (the cluster was deleted). */
  wipe(): void {
    this.store.clear();
    this.sql.exec("DELETE FROM kv_session");
    this.sql.exec("DELETE FROM kv_applied");
    this.load();
  }
}

/**
 * Storage of an older version: kv_applied without the store's meta. A row written before
 * holds a store of its kv_data only (convertKvData sets its revision).
 */
function addStoreColumns(sql: SqlStorage): void {
  const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('kv_applied')").toArray();
  if (!columns.some((c) => c.name === "revision")) sql.exec("ALTER TABLE kv_applied ADD COLUMN revision INTEGER NOT NULL DEFAULT 1");
  if (!columns.some((c) => c.name === "compacted_revision")) {
    sql.exec("ALTER TABLE kv_applied ADD COLUMN compacted_revision INTEGER NOT NULL DEFAULT -1");
  }
}

/**
 * Storage of an older version: the data as kv_data, one row per key (key and value as JSON
 * string literals), before the MVCC store. Converted once, in the load's transaction, in the
 * order keys were first written (seq; rowid in a table older still, which had no seq): one
 * revision each from 2, as legacyRows does for an old snapshot, so every replica converting the
 * same rows gets the same store. A lone surrogate, which old rows could hold, becomes U+FFFD
 * (UTF-8 has no form for it). Then kv_data is dropped.
 */
function convertKvData(sql: SqlStorage, store: SqliteMvccStore): void {
  const exists = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'kv_data'").one().n > 0;
  if (!exists) return;
  const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('kv_data')").toArray();
  const order = columns.some((c) => c.name === "seq") ? "seq" : "rowid";
  const pairs = sql
    .exec<{ key: string; value: string }>(`SELECT key, value FROM kv_data ORDER BY ${order}`)
    .toArray()
    .map((r) => [JSON.parse(r.key) as string, JSON.parse(r.value) as string] as const);
  store.append(legacyRows(pairs));
  const revision = pairs.length + 1;
  sql.exec(
    `INSERT INTO kv_applied (id, applied, clock, session_seq, revision, compacted_revision) VALUES (1, 0, NULL, 0, ?1, -1)
     ON CONFLICT (id) DO UPDATE SET revision = ?1, compacted_revision = -1`,
    revision,
  );
  sql.exec("DROP TABLE kv_data");
}

/**
 * Storage of an older version: kv_session without its fingerprint or log_index column (NULL
 * in the old rows: any command under the stored id is a retry, answered with the retry's own
 * index).
 */
function addSessionColumns(sql: SqlStorage): void {
  const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('kv_session')").toArray();
  if (!columns.some((c) => c.name === "fingerprint")) sql.exec("ALTER TABLE kv_session ADD COLUMN fingerprint INTEGER");
  if (!columns.some((c) => c.name === "log_index")) sql.exec("ALTER TABLE kv_session ADD COLUMN log_index INTEGER");
}

/**
 * Storage of an older version: kv_session as a rowid table (two rows written per new
 * session). Rebuilt once as a WITHOUT ROWID table, in one transaction: the object's first load
 * after an upgrade. (kv_data, rowid or not, is convertKvData's.)
 */
function migrate(sql: SqlStorage): void {
  const ddl = (name: string) =>
    sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray()[0]?.sql;
  const old = (name: string) => {
    const text = ddl(name);
    return text !== undefined && !/WITHOUT\s+ROWID/i.test(text);
  };
  if (old("kv_session")) {
    sql.exec(
      "CREATE TABLE kv_session_new (client_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, request_id INTEGER NOT NULL, last_seen REAL NOT NULL, result TEXT NOT NULL) WITHOUT ROWID",
    );
    sql.exec("INSERT INTO kv_session_new SELECT client_id, seq, request_id, last_seen, result FROM kv_session");
    sql.exec("DROP TABLE kv_session");
    sql.exec("ALTER TABLE kv_session_new RENAME TO kv_session");
  }
}
