// Storage written by an older version loads: one log row per entry (idx, term, command),
// a hard_state without led_term, asleep and life, a snapshot row without its configuration. The
// platform keeps an object's storage across deploys, so each of these can meet new code.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, test } from "vitest";
import { ServerStorage } from "../../src/server/storage.ts";

test("storage of the older layouts is converted on load and restores the same state", async () => {
  const stub = env.RAFT_SERVER.getByName(`migration-${crypto.randomUUID()}`);
  const restored = await runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    for (const t of ["hard_state", "log", "snapshot", "meta"]) sql.exec(`DROP TABLE IF EXISTS ${t}`);
    sql.exec("CREATE TABLE hard_state (id INTEGER PRIMARY KEY CHECK (id = 1), term INTEGER NOT NULL, voted_for INTEGER)");
    sql.exec("CREATE TABLE log (idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, command TEXT NOT NULL)");
    sql.exec("CREATE TABLE snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), idx INTEGER NOT NULL, term INTEGER NOT NULL)");
    sql.exec("INSERT INTO hard_state (id, term, voted_for) VALUES (1, 4, 2)");
    sql.exec("INSERT INTO snapshot (id, idx, term) VALUES (1, 2, 3)");
    sql.exec(`INSERT INTO log (idx, term, command) VALUES (3, 3, '"x"'), (4, 4, '{"op":"put","key":"k","value":"v"}')`);
    const store = new ServerStorage(state.storage);
    const again = new ServerStorage(state.storage); // converting twice changes nothing
    const first = store.restore();
    const second = again.restore();
    // The converted table takes the count of loads like any other.
    again.persist({ term: 4, votedFor: 2, life: 3 }, null);
    return { first, second, life: again.restore().hardState.life };
  });
  const want = {
    hardState: { term: 4, votedFor: 2 },
    // No configuration stored with it: the core takes the cluster's initial voters.
    snapshot: { index: 2, term: 3 },
    entries: [
      { index: 3, term: 3, command: "x" },
      { index: 4, term: 4, command: { op: "put", key: "k", value: "v" } },
    ],
  };
  expect(restored.first).toEqual(want);
  expect(restored.second).toEqual(want);
  expect(restored.life).toBe(3);
});
