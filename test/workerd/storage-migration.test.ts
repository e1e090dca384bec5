// Storage written by an older version loads: one log row per entry (idx, term, command),
// a hard_state without led_term, asleep and life, a snapshot row without its configuration. The
// platform keeps an object's storage across deploys, so each of these can meet new code.
// The key/value data of the layout before etcd's store is converted too (below).
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, test } from "vitest";
import { KvState } from "../../src/server/kv-state.ts";
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

// The key/value data before etcd's store: kv_data, one row per key (JSON string literals),
// in the order keys were first written (seq; rowid in the layout before it), and kv_applied
// without the store's meta. Converted once on load: one revision per key from 2, in that
// order, so every replica holding the same rows gets the same store; then kv_data is gone.
for (const layout of ["with seq", "rowid only"] as const) {
  test(`kv_data (${layout}) is converted once into etcd's store, one revision per key from 2, sessions and applied index kept`, async () => {
    const stub = env.RAFT_SERVER.getByName(`kv-migration-${crypto.randomUUID()}`);
    const got = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      for (const t of ["kv_data", "kv_applied", "etcd_kv", "kv_session"]) sql.exec(`DROP TABLE IF EXISTS ${t}`);
      if (layout === "with seq") {
        sql.exec("CREATE TABLE kv_data (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, value TEXT NOT NULL) WITHOUT ROWID");
        // seq, not key order: z first, then a, then the key with a lone surrogate (old rows could hold one).
        for (const [key, seq, value] of [["z", 1, "last letter"], ["a", 2, "first"], ["s\ud800", 5, "v\udc00"]] as const) {
          sql.exec("INSERT INTO kv_data (key, seq, value) VALUES (?, ?, ?)", JSON.stringify(key), seq, JSON.stringify(value));
        }
      } else {
        sql.exec("CREATE TABLE kv_data (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
        for (const [key, value] of [["z", "last letter"], ["a", "first"], ["s\ud800", "v\udc00"]] as const) {
          sql.exec("INSERT INTO kv_data (key, value) VALUES (?, ?)", JSON.stringify(key), JSON.stringify(value));
        }
      }
      sql.exec("CREATE TABLE kv_applied (id INTEGER PRIMARY KEY CHECK (id = 1), applied INTEGER NOT NULL, clock REAL, session_seq INTEGER NOT NULL)");
      sql.exec("INSERT INTO kv_applied (id, applied, clock, session_seq) VALUES (1, 17, 1000, 1)");
      sql.exec(
        "CREATE TABLE kv_session (client_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, request_id INTEGER NOT NULL, last_seen REAL NOT NULL, result TEXT NOT NULL, fingerprint INTEGER, log_index INTEGER) WITHOUT ROWID",
      );
      sql.exec("INSERT INTO kv_session VALUES (?, 1, 7, 1000, ?, NULL, 15)", JSON.stringify("old"), JSON.stringify({ found: false, prev: null }));
      const kv = new KvState(sql);
      const again = new KvState(sql); // converting twice changes nothing
      const kvDataLeft = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'kv_data'").one().n;
      return {
        applied: again.applied,
        stored: again.stored(),
        list: again.list("", null, 10),
        first: kv.list("", null, 10),
        kvDataLeft,
        session: again.snapshot().sessions,
      };
    });
    expect(got.kvDataLeft).toBe(0);
    expect(got.applied).toBe(17);
    expect(got.stored).toMatchObject({ applied: 17, revision: 4, compactedRevision: -1, rows: { kv: 3, sessions: 1 } });
    // A lone surrogate has no UTF-8 form: it is U+FFFD in the store, the same on every replica.
    expect(got.list).toEqual({
      keys: [
        { key: "a", value: "first", createRevision: 3, modRevision: 3, version: 1 },
        { key: "s\ufffd", value: "v\ufffd", createRevision: 4, modRevision: 4, version: 1 },
        { key: "z", value: "last letter", createRevision: 2, modRevision: 2, version: 1 },
      ],
      more: false,
      revision: 4,
    });
    expect(got.first).toEqual(got.list);
    expect(got.session).toEqual([["old", 7, 1000, { found: false, prev: null }, null, 15]]);
  });
}

test("a new server's store is etcd's fresh one: revision 1, no keys", async () => {
  const stub = env.RAFT_SERVER.getByName(`kv-fresh-${crypto.randomUUID()}`);
  const got = await runInDurableObject(stub, (_instance, state) => {
    const kv = new KvState(state.storage.sql);
    return { stored: kv.stored(), list: kv.list("", null, 10) };
  });
  expect(got.stored).toMatchObject({ applied: 0, revision: 1, compactedRevision: -1, rows: { kv: 0, sessions: 0 } });
  expect(got.list).toEqual({ keys: [], more: false, revision: 1 });
});
