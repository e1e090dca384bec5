// The real RaftServer, unchanged, whose storage counts what the server asks of it (bound as the
// bench's RAFT_SERVER; counting costs microseconds against the milliseconds measured).
import { RaftServer, type ServerEnv } from "../src/server/index.ts";

/** transactionSync() calls, SQL writes, the rows they wrote as SQLite counts them (what Cloudflare bills) in all, by table and by statement ("INSERT log"), setAlarm() calls, KV-style put/delete/deleteAll. */
export interface StorageCounters {
  transactions: number;
  sqlWrites: number;
  rowsWritten: number;
  rowsWrittenByTable: Record<string, number>;
  rowsWrittenByStatement: Record<string, number>;
  setAlarms: number;
  kvWrites: number;
}

const WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i;
/** The table a write statement writes to. */
const TABLE = /^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+["`[]?(\w+)/i;

const add = (counts: Record<string, number>, key: string, n: number) => (counts[key] = (counts[key] ?? 0) + n);

/** The base class refuses anything but the genuine DurableObjectState, so the counters shadow ctx.storage's methods as own properties. */
function countStorage(storage: DurableObjectStorage, counts: StorageCounters): void {
  const own = (name: string, value: unknown) => Object.defineProperty(storage, name, { value, configurable: true, writable: true });
  const sql = storage.sql;
  const exec = sql.exec.bind(sql);
  own(
    "sql",
    new Proxy(sql, {
      get(target, prop) {
        if (prop !== "exec") {
          const value = Reflect.get(target, prop, target) as unknown;
          return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value; // native methods need their target
        }
        return (query: string, ...bindings: unknown[]) => {
          const cursor = exec(query, ...bindings);
          const write = WRITE.exec(query);
          if (!write) return cursor;
          // A write without RETURNING runs to completion inside exec(): its count is final.
          const [rows, table] = [cursor.rowsWritten, TABLE.exec(query)?.[1] ?? "?"];
          counts.sqlWrites++;
          counts.rowsWritten += rows;
          add(counts.rowsWrittenByTable, table, rows);
          add(counts.rowsWrittenByStatement, `${write[1]!.toUpperCase()} ${table}`, rows);
          return cursor;
        };
      },
    }),
  );
  const counted = <K extends "transactionSync" | "setAlarm" | "put" | "delete" | "deleteAll">(name: K, count: () => void) => {
    const original = (storage[name] as (...a: unknown[]) => unknown).bind(storage);
    own(name, (...args: unknown[]) => (count(), original(...args)));
  };
  counted("transactionSync", () => counts.transactions++);
  counted("setAlarm", () => counts.setAlarms++);
  for (const name of ["put", "delete", "deleteAll"] as const) counted(name, () => counts.kvWrites++);
}

export class ProfiledRaftServer extends RaftServer {
  declare private readonly counts: StorageCounters;

  constructor(ctx: DurableObjectState, env: ServerEnv) {
    const counts: StorageCounters = { transactions: 0, sqlWrites: 0, rowsWritten: 0, rowsWrittenByTable: {}, rowsWrittenByStatement: {}, setAlarms: 0, kvWrites: 0 };
    countStorage(ctx.storage, counts);
    super(ctx, env);
    this.counts = counts;
  }

  /** `ops` kv puts over `keys` keys through the coordinator's kv(), without an RPC each: a long history fast. */
  async benchFill(first: number, ops: number, keys: number, timeoutMs: number): Promise<{ ops: number; errors: Record<string, number> }> {
    const epoch = this.clusterConfig()?.epoch ?? "";
    const answers = await Promise.all(Array.from({ length: ops }, (_, n) => this.kv(epoch, { op: "put", key: `key-${(first + n) % keys}`, value: `v${first + n}`.padEnd(32, ".") }, undefined, timeoutMs)));
    const errors: Record<string, number> = {};
    for (const a of answers) if (a.kind !== "ok") add(errors, a.kind, 1);
    return { ops: answers.filter((a) => a.kind === "ok").length, errors };
  }

  /** Counters since this object (re)started, with the server's own stats. */
  benchProfile(): { storage: StorageCounters; status: ReturnType<RaftServer["status"]> } {
    return { storage: { ...this.counts, rowsWrittenByTable: { ...this.counts.rowsWrittenByTable }, rowsWrittenByStatement: { ...this.counts.rowsWrittenByStatement } }, status: this.status() };
  }
}
