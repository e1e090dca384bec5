// Should etcd_kv have an index on (mod_revision, sub), so a watch could read the rows of a span of
// revisions by seeking? Measured here with the same apply path a server runs (KvState): rows
// written per put without the index and with it. Each version then costs its table row and an
// index row, and issue 20 bounds rows written per put, so the store has no such index: live
// watchers read what the apply just wrote (recent-changes.ts) and only a catch-up walks the
// primary key over its key range (SqliteMvccStore.changes). This test keeps the figure honest:
// if it ever stops costing a row, the decision can be revisited.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, test } from "vitest";
import { makeKvCommand } from "../../src/kv/index.ts";
import { KvState } from "../../src/server/kv-state.ts";

async function rowsPerPut(withIndex: boolean): Promise<number> {
  const stub = env.RAFT_SERVER.getByName(`watch-index-${withIndex}-${crypto.randomUUID()}`);
  return runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    new KvState(sql); // the tables
    if (withIndex) sql.exec("CREATE INDEX etcd_kv_by_revision ON etcd_kv (mod_revision, sub)");
    // Every cursor kept, summed once consumed (a cursor's figures are final then).
    const cursors: Array<SqlStorageCursor<Record<string, SqlStorageValue>>> = [];
    const counting = new Proxy(sql, {
      get: (target, name) =>
        name === "exec"
          ? (query: string, ...bindings: unknown[]) => {
              const cursor = target.exec(query, ...bindings);
              cursors.push(cursor);
              return cursor;
            }
          : (Reflect.get(target, name, target) as unknown),
    });
    const measured = new KvState(counting);
    cursors.length = 0;
    for (let i = 1; i <= 10; i++) measured.apply([{ index: i, term: 1, command: makeKvCommand({ op: "put", key: `k${i % 3}`, value: "v" }, 1_000 + i) }]);
    const written = cursors.reduce((sum, c) => sum + c.rowsWritten, 0);
    return written / 10;
  });
}

test("an index on etcd_kv (mod_revision, sub) would cost a put one more row written: 3 instead of 2", async () => {
  const without = await rowsPerPut(false);
  const withIndex = await rowsPerPut(true);
  console.log(`rows written per put: ${without} without an index on mod_revision, ${withIndex} with one`);
  expect(without).toBe(2);
  expect(withIndex).toBe(3);
});
