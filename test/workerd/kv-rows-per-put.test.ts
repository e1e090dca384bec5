// What a put costs the state machine in SQLite rows written (what a write is billed, and
// what issue 20 bounds): with the data in etcd's store, a put writes its etcd_kv row and the
// kv_applied row it already wrote (the store's revision is folded into it), as many rows as
// kv_data + kv_applied did; a session adds its kv_session row. Counted from the SQL cursors'
// rowsWritten of every statement the state machine runs.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, test } from "vitest";
import { makeEtcdCommand, makeKvCommand, type KvOperation, type Session } from "../../src/kv/index.ts";
import { KvState } from "../../src/server/kv-state.ts";

/** `sql` with every cursor kept, so the rows its statements wrote can be summed. */
function counting(sql: SqlStorage): { sql: SqlStorage; written: () => number } {
  const cursors: Array<SqlStorageCursor<Record<string, SqlStorageValue>>> = [];
  const proxy = new Proxy(sql, {
    get(target, name) {
      if (name !== "exec") return Reflect.get(target, name, target) as unknown;
      return (query: string, ...bindings: unknown[]) => {
        const cursor = target.exec(query, ...bindings);
        cursors.push(cursor);
        return cursor;
      };
    },
  });
  return {
    sql: proxy,
    written: () => {
      const n = cursors.reduce((sum, c) => sum + c.rowsWritten, 0);
      cursors.length = 0;
      return n;
    },
  };
}

test("a put writes 2 rows (etcd_kv + kv_applied), 3 with a session; a failed cas writes only kv_applied", async () => {
  const stub = env.RAFT_SERVER.getByName(`rows-per-put-${crypto.randomUUID()}`);
  const figures = await runInDurableObject(stub, (_instance, state) => {
    const c = counting(state.storage.sql);
    const kv = new KvState(c.sql);
    let index = 0;
    const apply = (command: unknown): number => {
      c.written();
      kv.apply([{ index: ++index, term: 1, command }]);
      return c.written();
    };
    const op = (o: KvOperation, session?: Session) => apply(makeKvCommand(o, 1_000 + index, session));
    return {
      newKey: op({ op: "put", key: "a", value: "1" }),
      overwrite: op({ op: "put", key: "a", value: "2" }),
      withSession: op({ op: "put", key: "a", value: "3" }, { clientId: "c", requestId: 1 }),
      append: op({ op: "append", key: "a", value: "4" }),
      failedCas: op({ op: "cas", key: "a", compare: "nope", value: "5" }),
      delete: op({ op: "delete", key: "a" }),
      etcdPut: apply(makeEtcdCommand("put", { key: "Yg==", value: "Yw==" }, 2_000)),
      batchOf10: (() => {
        c.written();
        kv.apply(Array.from({ length: 10 }, (_, i) => ({ index: ++index, term: 1, command: makeKvCommand({ op: "put", key: `k${i}`, value: "v" }, 3_000) })));
        return c.written();
      })(),
    };
  });
  console.log(`SQL rows written by the state machine: ${JSON.stringify(figures)}`);
  expect(figures).toEqual({
    newKey: 2,
    overwrite: 2,
    withSession: 3,
    append: 2,
    failedCas: 1,
    delete: 2,
    etcdPut: 2,
    batchOf10: 11, // one etcd_kv row each, one kv_applied row for the batch
  });
});
