// The session rows of an older version load and keep working (src/server/kv-state.ts): rows
// without a fingerprint column get one (NULL: any command under the stored id is a retry, as
// it was), rows without a log_index column get one (NULL: a retry is answered with its own
// entry's index, as it was), a forgotten result is stored as 'null' in place.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, test } from "vitest";
import { makeKvCommand } from "../../src/kv/command.ts";
import { KvState } from "../../src/server/kv-state.ts";
import { freshName } from "./harness.ts";

test("kv_session rows without a fingerprint load, answer retries as before, and new rows carry one", async () => {
  const stub = env.RAFT_SERVER.getByName(freshName("kv-session-storage"));
  await runInDurableObject(stub, (_, state) => {
    const sql = state.storage.sql;
    // The layout before fingerprints: the session table of the previous version, with one row.
    sql.exec("DROP TABLE kv_session");
    sql.exec(
      "CREATE TABLE kv_session (client_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, request_id INTEGER NOT NULL, last_seen REAL NOT NULL, result TEXT NOT NULL) WITHOUT ROWID",
    );
    sql.exec("INSERT INTO kv_session VALUES (?, 1, 7, 1000, ?)", JSON.stringify("old"), JSON.stringify({ found: false, prev: null }));
    sql.exec("INSERT INTO kv_applied (id, applied, clock, session_seq) VALUES (1, 3, 1000, 1) ON CONFLICT (id) DO UPDATE SET applied = 3, clock = 1000, session_seq = 1");

    const kv = new KvState(sql);
    expect(kv.applied).toBe(3);
    const entry = (index: number, command: unknown) => ({ index, term: 1, command });
    const [retry, next] = kv.apply([
      entry(4, makeKvCommand({ op: "put", key: "k", value: "anything" }, 1001, { clientId: "old", requestId: 7 })),
      entry(5, makeKvCommand({ op: "put", key: "k", value: "v" }, 1002, { clientId: "old", requestId: 8 })),
    ]);
    expect(retry).toEqual({ status: "duplicate", result: { found: false, prev: null } });
    expect(next).toEqual({ status: "applied", result: { found: false, prev: null } });
    const row = sql.exec<{ request_id: number; fingerprint: number | null; log_index: number | null }>("SELECT request_id, fingerprint, log_index FROM kv_session").one();
    expect(row.request_id).toBe(8);
    expect(typeof row.fingerprint).toBe("number");
    expect(row.log_index).toBe(5);

    // Reloaded from its rows, the state tells a retry from another request under the same id.
    const reloaded = new KvState(sql);
    const [again, other] = reloaded.apply([
      entry(6, makeKvCommand({ op: "put", key: "k", value: "v" }, 1003, { clientId: "old", requestId: 8 })),
      entry(7, makeKvCommand({ op: "put", key: "k", value: "w" }, 1004, { clientId: "old", requestId: 8 })),
    ]);
    // ...and answers the retry with the entry where request 8 was applied.
    expect(again).toEqual({ status: "duplicate", result: { found: false, prev: null }, index: 5 });
    expect(other).toEqual({ status: "stale", lastRequestId: 8 });
    expect(reloaded.get("k")).toEqual({ found: true, value: "v" });
  });
});

test("kv_session rows with a fingerprint but no log_index load; the retry has no applied index, the next request stores one", async () => {
  const stub = env.RAFT_SERVER.getByName(freshName("kv-session-storage"));
  await runInDurableObject(stub, (_, state) => {
    const sql = state.storage.sql;
    // The layout with fingerprints, before log_index. Its stored digest is the request's own.
    const request = makeKvCommand({ op: "put", key: "k", value: "v" }, 1000, { clientId: "c", requestId: 2 });
    const first = new KvState(sql).apply([{ index: 1, term: 1, command: request }])[0]!;
    expect(first).toEqual({ status: "applied", result: { found: false, prev: null } });
    const fingerprint = sql.exec<{ fingerprint: number }>("SELECT fingerprint FROM kv_session").one().fingerprint;
    sql.exec("DROP TABLE kv_session");
    sql.exec(
      "CREATE TABLE kv_session (client_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, request_id INTEGER NOT NULL, last_seen REAL NOT NULL, result TEXT NOT NULL, fingerprint INTEGER) WITHOUT ROWID",
    );
    sql.exec("INSERT INTO kv_session VALUES (?, 1, 2, 1000, ?, ?)", JSON.stringify("c"), JSON.stringify({ found: false, prev: null }), fingerprint);

    const kv = new KvState(sql);
    const entry = (index: number, command: unknown) => ({ index, term: 1, command });
    const [retry, next, nextRetry] = kv.apply([
      entry(2, request),
      entry(3, makeKvCommand({ op: "put", key: "k", value: "w" }, 1001, { clientId: "c", requestId: 3 })),
      entry(4, makeKvCommand({ op: "put", key: "k", value: "w" }, 1002, { clientId: "c", requestId: 3 })),
    ]);
    // No index known: the caller (pending.ts) answers the retry's own entry, as before.
    expect(retry).toEqual({ status: "duplicate", result: { found: false, prev: null } });
    expect(next).toEqual({ status: "applied", result: { found: true, prev: "v" } });
    expect(nextRetry).toEqual({ status: "duplicate", result: { found: true, prev: "v" }, index: 3 });
    // A reload answers the same, and its snapshot equals the live machine's.
    const reloaded = new KvState(sql);
    expect(reloaded.snapshot()).toEqual(kv.snapshot());
    expect(reloaded.apply([entry(5, makeKvCommand({ op: "put", key: "k", value: "w" }, 1003, { clientId: "c", requestId: 3 }))])).toEqual([
      { status: "duplicate", result: { found: true, prev: "v" }, index: 3 },
    ]);
  });
});
