// SingleKv: the simple alternative a user would weigh against Raft: the whole key/value store
// in ONE Durable Object, unreplicated, in its SQLite. Same operations, result shapes and
// exactly-once headers as the replicated service (API.md), so the bench drives both through
// the same route shape. Every operation is one synchronous SQLite transaction (the data row
// and, with a session, the session row); its answer leaves only once that write is durable
// (the output gate), so a put's latency includes its durable write, as a committed Raft put's does.
import { DurableObject } from "cloudflare:workers";
import type { KvOperation, KvResult, Session } from "../src/kv/index.ts";

/** Not applied: an older request id than the client's last one (its answer is gone). */
type Stale = { readonly ok: false; readonly error: "stale_request"; readonly lastRequestId: number };

export class SingleKv extends DurableObject<object> {
  private readonly sql: SqlStorage;
  /** Since the object started: operations, transactions, and SQLite's rows written (what Cloudflare bills). */
  private readonly counts = { operations: 0, transactions: 0, rowsWritten: 0 };

  constructor(ctx: DurableObjectState, env: object) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    // The last request of each client and its answer (JSON), for exactly-once retries.
    this.sql.exec("CREATE TABLE IF NOT EXISTS sessions (client_id TEXT PRIMARY KEY, request_id INTEGER NOT NULL, result TEXT NOT NULL)");
  }

  /** Applies one operation, at most once per (clientId, requestId) when `session` is given. */
  run(operation: KvOperation, session: Session | null): { readonly ok: true; readonly result: KvResult } | Stale {
    this.counts.operations++;
    this.counts.transactions++;
    return this.ctx.storage.transactionSync(() => {
      if (session) {
        const seen = this.sql.exec<{ request_id: number; result: string }>("SELECT request_id, result FROM sessions WHERE client_id = ?", session.clientId).toArray()[0];
        if (seen && session.requestId === seen.request_id) return { ok: true, result: JSON.parse(seen.result) as KvResult };
        if (seen && session.requestId < seen.request_id) return { ok: false, error: "stale_request", lastRequestId: seen.request_id };
      }
      const result = this.execute(operation);
      if (session) {
        const upsert = "INSERT INTO sessions (client_id, request_id, result) VALUES (?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET request_id = excluded.request_id, result = excluded.result";
        this.write(upsert, session.clientId, session.requestId, JSON.stringify(result));
      }
      return { ok: true, result };
    });
  }

  private execute(operation: KvOperation): KvResult {
    const prev = this.sql.exec<{ value: string }>("SELECT value FROM kv WHERE key = ?", operation.key).toArray()[0]?.value ?? null;
    const found = prev !== null;
    const store = (value: string) => this.write("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", operation.key, value);
    switch (operation.op) {
      case "get":
        return { found, value: prev };
      case "put":
        store(operation.value);
        return { found, prev };
      case "cas": {
        // A missing key is never created by CAS.
        const swapped = found && prev === operation.compare;
        if (swapped) store(operation.value);
        return { found, prev, swapped };
      }
      case "append":
        store((prev ?? "") + operation.value);
        return { found, prev };
    }
  }

  private write(query: string, ...bindings: unknown[]): void {
    this.counts.rowsWritten += this.sql.exec(query, ...bindings).rowsWritten;
  }

  benchCounters(): { operations: number; transactions: number; rowsWritten: number } {
    return { ...this.counts };
  }
}
