// SingleKv: the alternative a user would weigh against Raft, the key/value store in ONE unreplicated
// object. A put is one SQLite transaction answered once durable (the output gate), as a Raft commit is.
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
