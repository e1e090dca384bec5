// SingleKv: the simple alternative a user would weigh against Raft — the whole key/value
// store in ONE Durable Object, unreplicated, stored in its SQLite. Same operations, same
// result shapes and the same exactly-once headers as the replicated service (API.md), so
// the bench drives both through the same route shape and compares like with like.
//
// Every operation is one synchronous SQLite transaction (the data row and, with a session,
// the session row). Its answer leaves only once that write is durable (the output gate), so
// a put's latency includes its durable write, as a committed Raft put's does.
import { DurableObject } from "cloudflare:workers";
import type { KvOperation, KvResult, Session } from "../src/kv/index.ts";

export type SingleOutcome =
  | { readonly ok: true; readonly result: KvResult }
  /** An older request id than the client's last one: not applied, the answer is gone. */
  | { readonly ok: false; readonly error: "stale_request"; readonly lastRequestId: number };

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  // The last request of each client and its answer (JSON), for exactly-once retries.
  "CREATE TABLE IF NOT EXISTS sessions (client_id TEXT PRIMARY KEY, request_id INTEGER NOT NULL, result TEXT NOT NULL)",
];

export class SingleKv extends DurableObject<object> {
  private readonly sql: SqlStorage;
  /** Bench counters since the object started: operations, and SQLite's rows written (what Cloudflare bills). */
  private readonly counts = { operations: 0, transactions: 0, rowsWritten: 0 };

  constructor(ctx: DurableObjectState, env: object) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    for (const statement of SCHEMA) this.sql.exec(statement);
  }

  /** Apply one operation, at most once per (clientId, requestId) when `session` is given. */
  run(operation: KvOperation, session: Session | null): SingleOutcome {
    this.counts.operations++;
    this.counts.transactions++;
    return this.ctx.storage.transactionSync(() => {
      if (session) {
        const seen = this.sql
          .exec<{ request_id: number; result: string }>("SELECT request_id, result FROM sessions WHERE client_id = ?", session.clientId)
          .toArray()[0];
        if (seen && session.requestId === seen.request_id) return { ok: true, result: JSON.parse(seen.result) as KvResult };
        if (seen && session.requestId < seen.request_id) return { ok: false, error: "stale_request", lastRequestId: seen.request_id };
      }
      const result = this.execute(operation);
      if (session) {
        this.write(
          `INSERT INTO sessions (client_id, request_id, result) VALUES (?, ?, ?)
           ON CONFLICT (client_id) DO UPDATE SET request_id = excluded.request_id, result = excluded.result`,
          session.clientId,
          session.requestId,
          JSON.stringify(result),
        );
      }
      return { ok: true, result };
    });
  }

  private execute(operation: KvOperation): KvResult {
    const prev = this.read(operation.key);
    const found = prev !== null;
    switch (operation.op) {
      case "get":
        return { found, value: prev };
      case "put":
        this.store(operation.key, operation.value);
        return { found, prev };
      case "cas": {
        // A missing key is never created by CAS.
        const swapped = found && prev === operation.compare;
        if (swapped) this.store(operation.key, operation.value);
        return { found, prev, swapped };
      }
      case "append":
        this.store(operation.key, (prev ?? "") + operation.value);
        return { found, prev };
    }
  }

  private read(key: string): string | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM kv WHERE key = ?", key).toArray()[0];
    return row ? row.value : null;
  }

  /** The bench's counters (see `counts`). */
  benchCounters(): { operations: number; transactions: number; rowsWritten: number } {
    return { ...this.counts };
  }

  private write(query: string, ...bindings: unknown[]): void {
    this.counts.rowsWritten += this.sql.exec(query, ...bindings).rowsWritten;
  }

  private store(key: string, value: string): void {
    this.write(
      "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }
}
