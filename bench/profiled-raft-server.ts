// ProfiledRaftServer: the real RaftServer, unchanged, whose storage object counts what the
// server asks of it, to answer "how many storage transactions, SQL writes and alarm writes
// does one committed operation cost" without touching src/. `npm run bench` binds RAFT_SERVER
// to it (`--plain` binds the bare RaftServer instead); the counting adds a few property
// look-ups per storage call, microseconds against the milliseconds measured.
import { RaftServer, type ServerEnv } from "../src/server/index.ts";

export interface StorageCounters {
  /** transactionSync() calls: each is one atomic, durable batch of SQL. */
  transactions: number;
  /** sql.exec() of INSERT / UPDATE / DELETE / REPLACE statements. */
  sqlWrites: number;
  /**
   * Rows those statements wrote, as SQLite reports them (the cursor's rowsWritten: what
   * Cloudflare bills as "rows written", index entries included), in all and by table.
   */
  rowsWritten: number;
  rowsWrittenByTable: Record<string, number>;
  /** The same by statement kind and table ("INSERT log", "DELETE log", …). */
  rowsWrittenByStatement: Record<string, number>;
  /** Any other sql.exec() (SELECT, CREATE TABLE IF NOT EXISTS). */
  sqlReads: number;
  /** storage.setAlarm() calls (each one is a storage write too). */
  setAlarms: number;
  /** Async KV-style writes: put() / delete() / deleteAll(). */
  kvWrites: number;
}

const WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i;
/** The table a write statement writes to. */
const TABLE = /^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+["`[]?(\w+)/i;

/** `target`'s property `prop`; a function comes back bound to `target` (native methods need it). */
function forward(target: object, prop: string | symbol): unknown {
  const value = Reflect.get(target, prop, target) as unknown;
  return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
}

function countingSql(sql: SqlStorage, counts: StorageCounters): SqlStorage {
  return new Proxy(sql, {
    get(target, prop) {
      if (prop === "exec") {
        return (query: string, ...bindings: unknown[]) => {
          if (!WRITE.test(query)) {
            counts.sqlReads++;
            return target.exec(query, ...bindings);
          }
          counts.sqlWrites++;
          const cursor = target.exec(query, ...bindings);
          // A write without RETURNING runs to completion inside exec(): its count is final.
          const rows = cursor.rowsWritten;
          const table = TABLE.exec(query)?.[1] ?? "?";
          const statement = `${WRITE.exec(query)![1]!.toUpperCase()} ${table}`;
          counts.rowsWritten += rows;
          counts.rowsWrittenByTable[table] = (counts.rowsWrittenByTable[table] ?? 0) + rows;
          counts.rowsWrittenByStatement[statement] = (counts.rowsWrittenByStatement[statement] ?? 0) + rows;
          return cursor;
        };
      }
      return forward(target, prop);
    },
  });
}

/**
 * Count on the real storage object itself: the DurableObject base class refuses anything but
 * the genuine DurableObjectState, so the counting wrappers are installed as own properties of
 * ctx.storage (shadowing the prototype's methods) before the server's constructor runs.
 */
function countStorage(storage: DurableObjectStorage, counts: StorageCounters): void {
  const sql = countingSql(storage.sql, counts);
  const original = {
    transactionSync: storage.transactionSync.bind(storage),
    setAlarm: storage.setAlarm.bind(storage),
    put: storage.put.bind(storage),
    delete: storage.delete.bind(storage),
    deleteAll: storage.deleteAll.bind(storage),
  };
  const own = (name: string, value: unknown) => Object.defineProperty(storage, name, { value, configurable: true, writable: true });
  own("sql", sql);
  own("transactionSync", <T>(fn: () => T): T => {
    counts.transactions++;
    return original.transactionSync(fn);
  });
  own("setAlarm", (at: number | Date, options?: DurableObjectSetAlarmOptions) => {
    counts.setAlarms++;
    return original.setAlarm(at, options);
  });
  for (const name of ["put", "delete", "deleteAll"] as const) {
    own(name, (...args: unknown[]) => {
      counts.kvWrites++;
      return (original[name] as (...a: unknown[]) => unknown)(...args);
    });
  }
}

export class ProfiledRaftServer extends RaftServer {
  declare private readonly counts: StorageCounters;

  constructor(ctx: DurableObjectState, env: ServerEnv) {
    const counts: StorageCounters = { transactions: 0, sqlWrites: 0, rowsWritten: 0, rowsWrittenByTable: {}, rowsWrittenByStatement: {}, sqlReads: 0, setAlarms: 0, kvWrites: 0 };
    countStorage(ctx.storage, counts);
    super(ctx, env);
    this.counts = counts;
  }

  /**
   * Bench only: `ops` kv puts over `keys` keys, proposed from inside this object through the
   * same kv() the coordinator calls, without one RPC per put: how the bench builds a long
   * history (bench/suites/compaction.ts) in a fraction of the time. On a one-server cluster
   * every put commits and applies within its own kv() call, one transaction each, so the
   * whole batch runs in one turn of the object; the caller keeps batches to a second or so.
   */
  async benchFill(first: number, ops: number, keys: number, timeoutMs: number): Promise<{ ops: number; errors: Record<string, number> }> {
    const epoch = this.clusterConfig()?.epoch ?? "";
    const answers = await Promise.all(
      Array.from({ length: ops }, (_, n) => {
        const i = first + n;
        return this.kv(epoch, { op: "put", key: `key-${i % keys}`, value: `v${i}`.padEnd(32, ".") }, undefined, timeoutMs);
      }),
    );
    const errors: Record<string, number> = {};
    for (const a of answers) if (a.kind !== "ok") errors[a.kind] = (errors[a.kind] ?? 0) + 1;
    return { ops: answers.length - Object.values(errors).reduce((x, y) => x + y, 0), errors };
  }

  /** Counters since this object (re)started, with the server's own stats. */
  benchProfile(): { storage: StorageCounters; status: ReturnType<RaftServer["status"]> } {
    return { storage: { ...this.counts, rowsWrittenByTable: { ...this.counts.rowsWrittenByTable }, rowsWrittenByStatement: { ...this.counts.rowsWrittenByStatement } }, status: this.status() };
  }
}
