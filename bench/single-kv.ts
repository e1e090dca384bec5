// SingleKv: the simple alternative a user would weigh against Raft: the whole key/value store in
// ONE Durable Object, unreplicated, in its SQLite. A put is one synchronous SQLite transaction
// whose answer leaves only once it is durable (the output gate), as a committed Raft put's does.
// The bench only puts (no exactly-once headers, as for Raft), so that is all it serves.
import { DurableObject } from "cloudflare:workers";
import type { KvOperation, PutResult } from "../src/kv/index.ts";

export class SingleKv extends DurableObject<object> {
  private readonly sql: SqlStorage;
  /** Since the object started: operations, transactions, and SQLite's rows written (what Cloudflare bills). */
  private readonly counts = { operations: 0, transactions: 0, rowsWritten: 0 };

  constructor(ctx: DurableObjectState, env: object) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  }

  run(operation: KvOperation): PutResult {
    if (operation.op !== "put") throw new Error(`the single object serves puts, not ${operation.op}`);
    this.counts.operations++;
    this.counts.transactions++;
    return this.ctx.storage.transactionSync(() => {
      const prev = this.sql.exec<{ value: string }>("SELECT value FROM kv WHERE key = ?", operation.key).toArray()[0]?.value ?? null;
      const upsert = "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
      this.counts.rowsWritten += this.sql.exec(upsert, operation.key, operation.value).rowsWritten;
      return { found: prev !== null, prev };
    });
  }

  benchCounters(): { operations: number; transactions: number; rowsWritten: number } {
    return { ...this.counts };
  }
}
