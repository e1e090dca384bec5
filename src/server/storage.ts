// Every SQL statement of a RaftServer object lives here.
//
// Tables:
//   hard_state  one row: currentTerm and votedFor (Figure 2's persistent state besides the log),
//               the term this server won (led_term: a reloaded leader resumes it), the
//               sleep mark (asleep: a reloaded sleeping server stays asleep) and the count of
//               resumes (life: a leader's rounds carry it, so answers to an earlier life's
//               rounds never count)
//   log         one row per run of consecutive entries written together (a leader's group of
//               proposals, one AppendEntries on a follower): idx its first index, last its
//               last, entries the JSON array of [term, command] of idx..last. Rows a snapshot
//               covers entirely are deleted (one straddling it keeps entries the restore skips);
//               a truncation inside a row rewrites it shorter. One row per write rather than
//               per entry: rows written are what a write costs (issue 13)
//   snapshot    one row: the last index and term folded into the snapshot, and the cluster's
//               configuration as of that index (membership: JSON {voters, learners}; NULL in
//               rows stored before configurations existed). The snapshot's contents are the
//               key/value state's own tables, kv-state.ts
//   meta        small JSON records: the cluster configuration, the network view, the "down"
//               mark, the "retired" mark (removed from the cluster for good)
import type { Entry, HardState, LogWrite, Membership, NodeId, RestoredState, SnapshotMeta } from "../raft/types.ts";
import type { ClusterConfig, DurableSummary, LocationHint, NetState } from "./protocol.ts";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS hard_state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     term INTEGER NOT NULL,
     voted_for INTEGER,
     led_term INTEGER NOT NULL DEFAULT 0,
     asleep INTEGER NOT NULL DEFAULT 0,
     life INTEGER NOT NULL DEFAULT 0
   )`,
  `CREATE TABLE IF NOT EXISTS log (
     idx INTEGER PRIMARY KEY,
     last INTEGER NOT NULL,
     entries TEXT NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS snapshot (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     idx INTEGER NOT NULL,
     term INTEGER NOT NULL,
     membership TEXT
   )`,
  `CREATE TABLE IF NOT EXISTS meta (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL
   )`,
];

type MetaKey = "config" | "net" | "down" | "retired";

/**
 * At most this many characters of entries per log row: a run longer than that is split (a row
 * stays far below SQLite's 2 MB limit however many proposals a leader groups).
 */
const RUN_CHARS = 256 * 1024;

export class ServerStorage {
  private readonly sql: SqlStorage;
  /**
   * At least the highest index of a stored log row (0: none): a log write from past it is a
   * plain append with nothing to delete. An overestimate only costs a needless DELETE.
   */
  private lastStored = 0;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
    this.createTables();
    this.lastStored = this.maxStoredIndex();
  }

  // ---------------------------------------------------------------------------------------
  // Raft's persistent state.

  /**
   * Make one Ready's hardState and logWrite durable together, in one synchronous transaction:
   * either both land or neither does, and nothing else can run in between. The state
   * machine's writes for the entries this Ready commits join the same transaction.
   */
  persist(hardState: HardState | null, logWrite: LogWrite | null, alsoInTransaction?: () => void): void {
    if (!hardState && !logWrite && !alsoInTransaction) return;
    this.storage.transactionSync(() => {
      if (hardState) {
        this.sql.exec(
          `INSERT INTO hard_state (id, term, voted_for, led_term, asleep, life) VALUES (1, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET term = excluded.term, voted_for = excluded.voted_for,
             led_term = excluded.led_term, asleep = excluded.asleep, life = excluded.life`,
          hardState.term,
          hardState.votedFor,
          hardState.ledTerm ?? 0,
          hardState.asleep ? 1 : 0,
          hardState.life ?? 0,
        );
      }
      if (logWrite) {
        // A plain append (the common case) has nothing to delete: skip the statements.
        if (logWrite.fromIndex <= this.lastStored) this.truncateFrom(logWrite.fromIndex);
        this.appendRuns(logWrite.entries);
      }
      alsoInTransaction?.();
    });
    // Only once the transaction committed (a throw resets the object, which reads it again).
    if (logWrite) this.lastStored = logWrite.entries.length > 0 ? logWrite.entries[logWrite.entries.length - 1]!.index : Math.min(this.lastStored, logWrite.fromIndex - 1);
  }

  /**
   * Record that entries up to `meta.index` are folded into the snapshot and delete them.
   * Call it inside `persist` (as `alsoInTransaction`): the meta row, the deletion and the
   * state machine they stand for land together, so a restart never looks for entries that
   * are gone.
   */
  compactTo(meta: SnapshotMeta): void {
    this.sql.exec(
      `INSERT INTO snapshot (id, idx, term, membership) VALUES (1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET idx = excluded.idx, term = excluded.term, membership = excluded.membership`,
      meta.index,
      meta.term,
      meta.membership ? JSON.stringify({ voters: meta.membership.voters, learners: meta.membership.learners }) : null,
    );
    this.sql.exec("DELETE FROM log WHERE last <= ?", meta.index);
  }

  /** Delete stored entries from `from` on: whole rows past it, and the tail of the row holding it. */
  private truncateFrom(from: number): void {
    const straddling = this.sql
      .exec<{ idx: number; entries: string }>("SELECT idx, entries FROM log WHERE idx < ? AND last >= ?", from, from)
      .toArray()[0];
    if (straddling) {
      const kept = (JSON.parse(straddling.entries) as unknown[]).slice(0, from - straddling.idx);
      this.sql.exec("UPDATE log SET last = ?, entries = ? WHERE idx = ?", from - 1, JSON.stringify(kept), straddling.idx);
    }
    this.sql.exec("DELETE FROM log WHERE idx >= ?", from);
  }

  /** Store consecutive entries as one row, or a few when they are large. */
  private appendRuns(entries: readonly Entry[]): void {
    let run: string[] = [];
    let chars = 0;
    let first = 0;
    const flush = (last: number) => {
      if (run.length === 0) return;
      this.sql.exec("INSERT INTO log (idx, last, entries) VALUES (?, ?, ?)", first, last, `[${run.join(",")}]`);
      run = [];
      chars = 0;
    };
    for (const e of entries) {
      // [term, command]; the command as JSON text, escaping lone surrogates as the kv rows do.
      const text = `[${e.term},${JSON.stringify(e.command) ?? "null"}]`;
      if (run.length > 0 && chars + text.length > RUN_CHARS) flush(e.index - 1);
      if (run.length === 0) first = e.index;
      run.push(text);
      chars += text.length;
    }
    flush(entries.length > 0 ? entries[entries.length - 1]!.index : 0);
  }

  /**
   * Everything the core needs to start again: the snapshot's position and the log after it.
   * The caller adds the index its stored state machine has applied.
   */
  restore(): Omit<RestoredState, "applied"> {
    const snapshot = this.snapshot();
    return {
      hardState: this.hardState(),
      ...(snapshot.index > 0 ? { snapshot } : {}),
      entries: this.entries(snapshot.index),
    };
  }

  summary(applied: number, kvRows: { kv: number; sessions: number }): DurableSummary {
    const hs = this.hardState();
    const snapshot = this.snapshot();
    const log = this.sql.exec<{ n: number; last: number }>("SELECT COUNT(*) AS n, COALESCE(MAX(last), 0) AS last FROM log").one();
    return {
      term: hs.term,
      votedFor: hs.votedFor,
      logLength: Math.max(log.last, snapshot.index),
      snapshotIndex: snapshot.index,
      snapshotTerm: snapshot.term,
      applied,
      rows: { log: log.n, ...kvRows },
      ledTerm: hs.ledTerm ?? 0,
      asleep: hs.asleep === true,
    };
  }

  private maxStoredIndex(): number {
    return this.sql.exec<{ last: number }>("SELECT COALESCE(MAX(last), 0) AS last FROM log").one().last;
  }

  private snapshot(): SnapshotMeta {
    const row = this.sql
      .exec<{ idx: number; term: number; membership: string | null }>("SELECT idx, term, membership FROM snapshot WHERE id = 1")
      .toArray()[0];
    if (!row) return { index: 0, term: 0 };
    // A snapshot stored before configurations were kept has none: the core then takes the
    // cluster's initial voters (RaftConfig.peers), which is what it was.
    return row.membership === null ? { index: row.idx, term: row.term } : { index: row.idx, term: row.term, membership: JSON.parse(row.membership) as Membership };
  }

  private hardState(): HardState {
    const rows = this.sql
      .exec<{ term: number; voted_for: number | null; led_term: number; asleep: number; life: number }>(
        "SELECT term, voted_for, led_term, asleep, life FROM hard_state WHERE id = 1",
      )
      .toArray();
    const row = rows[0];
    if (!row) return { term: 0, votedFor: null };
    return {
      term: row.term,
      votedFor: row.voted_for,
      ...(row.led_term > 0 ? { ledTerm: row.led_term } : {}),
      ...(row.asleep ? { asleep: true } : {}),
      ...(row.life > 0 ? { life: row.life } : {}),
    };
  }

  private entries(after: number): Entry[] {
    const out: Entry[] = [];
    for (const r of this.sql.exec<{ idx: number; entries: string }>("SELECT idx, entries FROM log WHERE last > ? ORDER BY idx", after)) {
      (JSON.parse(r.entries) as [number, unknown][]).forEach(([term, command], k) => {
        if (r.idx + k > after) out.push({ index: r.idx + k, term, command });
      });
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------
  // The shell's own records.

  /**
   * Which cluster this object serves, as which server, and the location hint it was created
   * with when it was added after the cluster's creation (the initial servers' are in `config`).
   */
  config(): { config: ClusterConfig; id: NodeId; locationHint?: LocationHint | null } | null {
    return this.getMeta<{ config: ClusterConfig; id: NodeId; locationHint?: LocationHint | null }>("config");
  }

  setConfig(config: ClusterConfig, id: NodeId, locationHint?: LocationHint | null): void {
    this.putMeta("config", locationHint === undefined ? { config, id } : { config, id, locationHint });
  }

  net(): NetState | null {
    return this.getMeta<NetState>("net");
  }

  setNet(net: NetState): void {
    this.putMeta("net", net);
  }

  /** The crash mark: a crashed server stays down across object resets until restarted. */
  isDown(): boolean {
    return this.getMeta<boolean>("down") === true;
  }

  setDown(down: boolean): void {
    if (down) this.putMeta("down", true);
    else this.sql.exec("DELETE FROM meta WHERE key = 'down'");
  }

  /**
   * The retired mark: removed from the cluster's configuration, this server runs nothing and
   * answers no Raft RPC again, across resets and restarts, until the cluster is deleted.
   */
  isRetired(): boolean {
    return this.getMeta<boolean>("retired") === true;
  }

  setRetired(): void {
    this.putMeta("retired", true);
  }

  /** Forget everything (the cluster was deleted); the object is then as good as new. */
  async wipe(): Promise<void> {
    await this.storage.deleteAlarm();
    await this.storage.deleteAll();
    this.createTables();
    this.lastStored = 0;
  }

  private createTables(): void {
    // Storage of an older version kept one log row per entry (idx, term, command): make each
    // a run of one, once.
    if (this.columns("log").includes("command")) {
      this.sql.exec("ALTER TABLE log RENAME TO log_v1");
      this.sql.exec(SCHEMA[1]!);
      this.sql.exec("INSERT INTO log (idx, last, entries) SELECT idx, idx, '[[' || term || ',' || command || ']]' FROM log_v1");
      this.sql.exec("DROP TABLE log_v1");
    }
    for (const statement of SCHEMA) this.sql.exec(statement);
    // Storage made before led_term, asleep and life existed (local state of an older version).
    // A missing life reads as 0: the next resume is life 1, and nothing of an older version
    // echoes a life, so none of its late answers can count.
    const columns = this.columns("hard_state");
    if (!columns.includes("led_term")) this.sql.exec("ALTER TABLE hard_state ADD COLUMN led_term INTEGER NOT NULL DEFAULT 0");
    if (!columns.includes("asleep")) this.sql.exec("ALTER TABLE hard_state ADD COLUMN asleep INTEGER NOT NULL DEFAULT 0");
    if (!columns.includes("life")) this.sql.exec("ALTER TABLE hard_state ADD COLUMN life INTEGER NOT NULL DEFAULT 0");
    // A snapshot row made before snapshots carried the configuration.
    if (!this.columns("snapshot").includes("membership")) this.sql.exec("ALTER TABLE snapshot ADD COLUMN membership TEXT");
  }

  /** The column names of `table` (none when it does not exist yet). */
  private columns(table: "log" | "hard_state" | "snapshot"): string[] {
    return this.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info(?)", table).toArray().map((c) => c.name);
  }

  private getMeta<T>(key: MetaKey): T | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0];
    return row ? (JSON.parse(row.value) as T) : null;
  }

  private putMeta(key: MetaKey, value: unknown): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      JSON.stringify(value),
    );
  }
}
