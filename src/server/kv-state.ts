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
// Keys, values and client ids are stored as JSON string literals, not as raw TEXT: a JS
// string may hold a lone surrogate ("\ud800" is valid JSON in a request body), which SQLite's
// UTF-8 TEXT cannot represent; stored raw it came back as three U+FFFD, so a restarted
// replica held a different value from the others. JSON.stringify escapes it, losslessly,
// as the log's own rows already do (storage.ts).
import { KvStateMachine, sessionRecord, type ApplyOutcome, type GetResult, type KvChanges, type KvSnapshot } from "../kv/index.ts";
import type { Entry } from "../raft/types.ts";

// kv_data and kv_session are WITHOUT ROWID tables: their text key is the table's own
// b-tree, so a new key costs one row written, not two (a rowid table keeps a separate index
// for a TEXT PRIMARY KEY, and SQLite counts, and Cloudflare bills, both rows).
const SCHEMA = [
  // key and value: JSON string literals (see above). seq: the order keys were first written
  // in, which is the state machine's own order (a reloaded replica's snapshot equals the others').
  `CREATE TABLE IF NOT EXISTS kv_data (
     key TEXT PRIMARY KEY,
     seq INTEGER NOT NULL,
     value TEXT NOT NULL
   ) WITHOUT ROWID`,
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
  `CREATE TABLE IF NOT EXISTS kv_applied (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     applied INTEGER NOT NULL,
     clock REAL,
     session_seq INTEGER NOT NULL
   )`,
];

export class KvState {
  private machine = new KvStateMachine();
  private appliedIndex = 0;
  private sessionSeq = 0;
  /** The seq of the last key first written (kv_data.seq). */
  private keySeq = 0;

  constructor(private readonly sql: SqlStorage) {
    migrate(sql);
    for (const statement of SCHEMA) sql.exec(statement);
    addSessionColumns(sql);
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
    const outcomes = entries.map((e) => this.machine.apply(e.command, e.index));
    const applied = entries[entries.length - 1]!.index;
    this.write(this.machine.takeChanges(), applied);
    // Only once its rows are written. If a write throws, the machine in memory is ahead of
    // the rolled-back rows: the shell then resets the whole object (raft-server.ts, "a failed
    // write is a crash"), and the next instance loads these rows again.
    this.appliedIndex = applied;
    return outcomes;
  }

  /** A linearizable read's answer, once the caller knows the state is recent enough. */
  get(key: string): GetResult {
    const value = this.machine.peek(key);
    return value === undefined ? { found: false, value: null } : { found: true, value };
  }

  /** The whole state at `applied`, as an InstallSnapshot carries it. */
  snapshot(): KvSnapshot {
    return this.machine.snapshot();
  }

  /**
   * Become a leader's snapshot, taken at `index` (already built and validated from its text:
   * raft-server.ts, restoreSnapshot): every row is replaced, and the machine becomes this
   * server's. Must run inside the caller's synchronous transaction, with the Raft state that
   * accepted it. The rows are written from the machine's own entries (arrays of the strings
   * it holds, not copies of them).
   */
  install(machine: KvStateMachine, index: number): void {
    const s = machine.snapshot();
    this.sql.exec("DELETE FROM kv_data");
    this.sql.exec("DELETE FROM kv_session");
    this.sessionSeq = 0;
    this.keySeq = 0;
    this.write(
      {
        clock: s.clock,
        keys: s.data,
        sessions: s.sessions.map(
          ([clientId, requestId, lastSeen, result, fingerprint, index]) =>
            [clientId, sessionRecord(requestId, lastSeen, result, fingerprint, index)] as const,
        ),
        forgottenResults: [],
      },
      index,
    );
    this.machine = machine;
    this.appliedIndex = index;
  }

  /** The applied index and row counts as storage holds them (not as memory believes). */
  stored(): { applied: number; rows: { kv: number; sessions: number }; sessionResultChars: number } {
    const applied = this.sql.exec<{ applied: number }>("SELECT applied FROM kv_applied WHERE id = 1").toArray()[0]?.applied ?? 0;
    const kv = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM kv_data").one().n;
    const sessions = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM kv_session").one().n;
    // What the session table's results weigh (JSON characters), bounded by the state machine (sessions.ts).
    const chars = this.sql.exec<{ c: number }>("SELECT COALESCE(SUM(LENGTH(result)), 0) AS c FROM kv_session WHERE result <> 'null'").one().c;
    return { applied, rows: { kv, sessions }, sessionResultChars: chars };
  }

  private write(changes: KvChanges, applied: number): void {
    for (const [key, value] of changes.keys) {
      // seq is taken only by a new key (an update keeps the row's own).
      this.sql.exec(
        "INSERT INTO kv_data (key, seq, value) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        JSON.stringify(key),
        this.keySeq + 1,
        JSON.stringify(value),
      );
      this.keySeq += 1; // an update wastes a number: only the order matters
    }
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
      `INSERT INTO kv_applied (id, applied, clock, session_seq) VALUES (1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET applied = excluded.applied, clock = excluded.clock, session_seq = excluded.session_seq`,
      applied,
      changes.clock,
      this.sessionSeq,
    );
  }

  /** Rebuild the state machine from its rows (at construction, and after a wipe). */
  load(): void {
    const meta = this.sql
      .exec<{ applied: number; clock: number | null; session_seq: number }>("SELECT applied, clock, session_seq FROM kv_applied WHERE id = 1")
      .toArray()[0];
    this.appliedIndex = meta?.applied ?? 0;
    this.sessionSeq = meta?.session_seq ?? 0;
    this.keySeq = this.sql.exec<{ last: number }>("SELECT COALESCE(MAX(seq), 0) AS last FROM kv_data").one().last;
    const data = this.sql
      .exec<{ key: string; value: string }>("SELECT key, value FROM kv_data ORDER BY seq")
      .toArray()
      .map((r) => [JSON.parse(r.key) as string, JSON.parse(r.value) as string] as [string, string]);
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
    this.machine = KvStateMachine.fromSnapshot({ format: "kv/1", clock: meta?.clock ?? null, data, sessions });
  }

  /** Drop everything (the cluster was deleted). */
  wipe(): void {
    this.sql.exec("DELETE FROM kv_data");
    this.sql.exec("DELETE FROM kv_session");
    this.sql.exec("DELETE FROM kv_applied");
    this.load();
  }
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
 * Storage of an older version: kv_data and kv_session as rowid tables (two rows written per
 * new key). Rebuilt once as WITHOUT ROWID tables, keys in their old order (rowid), in one
 * transaction: the object's first load after an upgrade.
 */
function migrate(sql: SqlStorage): void {
  const ddl = (name: string) =>
    sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray()[0]?.sql;
  const old = (name: string) => {
    const text = ddl(name);
    return text !== undefined && !/WITHOUT\s+ROWID/i.test(text);
  };
  if (old("kv_data")) {
    sql.exec("CREATE TABLE kv_data_new (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, value TEXT NOT NULL) WITHOUT ROWID");
    sql.exec("INSERT INTO kv_data_new (key, seq, value) SELECT key, rowid, value FROM kv_data");
    sql.exec("DROP TABLE kv_data");
    sql.exec("ALTER TABLE kv_data_new RENAME TO kv_data");
  }
  if (old("kv_session")) {
    sql.exec(
      "CREATE TABLE kv_session_new (client_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, request_id INTEGER NOT NULL, last_seen REAL NOT NULL, result TEXT NOT NULL) WITHOUT ROWID",
    );
    sql.exec("INSERT INTO kv_session_new SELECT client_id, seq, request_id, last_seen, result FROM kv_session");
    sql.exec("DROP TABLE kv_session");
    sql.exec("ALTER TABLE kv_session_new RENAME TO kv_session");
  }
}
