// The v3 routes on a real 3-server cluster, beyond etcd's recorded answers
// (etcd-routes-replay.test.ts): exactly-once writes, where ranges are answered (ReadIndex on
// the leader, serializable ones anywhere), the header's ids, one store behind the /kv and the
// v3 routes, and the answers to bad requests, which never reach the log.
import { describe, expect, test } from "vitest";
import { encodeBase64, utf8 } from "../../src/kv/etcd/bytes.ts";
import { EVENTUALLY_MS, Harness, sleep } from "./harness.ts";
import { answered, idSource } from "./answered.ts";
import { call } from "./kv-harness.ts";

/** Exactly-once ids for the writes of this file (answered() retries them safely). */
const w = idSource();

const b64 = (s: string) => encodeBase64(utf8(s));
const v3 = (h: Harness, op: string) => `/clusters/${h.name}/v3/kv/${op}`;

/** Polls `f` until it answers something `ok` accepts, or fails at the deadline. */
async function eventually<T>(f: () => Promise<T>, ok: (t: T) => boolean, what: string, deadlineMs = EVENTUALLY_MS): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const t = await f();
    if (ok(t)) return t;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(t)} after ${deadlineMs} ms`);
    await sleep(20);
  }
}

/** How many etcd writes server `i` has applied (its log since its snapshot: none is folded in these short tests). */
async function etcdEntries(h: Harness, i: number): Promise<number> {
  return (await h.committed(i)).filter((e) => (e.command as { kind?: unknown } | null)?.kind === "etcd").length;
}

describe("the v3 routes", () => {
  test("a txn retried with the same ids answers the same and is one revision", async () => {
    const h = await Harness.create(3);
    const ids = { "Client-Id": "txn-client", "Request-Id": "7" };
    const ids2 = idSource();
    const txn = {
      compare: [{ key: b64("lock"), target: "VERSION", result: "EQUAL", version: "0" }],
      success: [{ request_put: { key: b64("lock"), value: b64("me") } }, { request_put: { key: b64("owner"), value: b64("me") } }],
      failure: [{ request_range: { key: b64("lock") } }],
    };
    const first = await answered("POST", v3(h, "txn"), txn, ids);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.succeeded).toBe(true);
    expect(first.body.header.revision).toBe("2");
    const again = await answered("POST", v3(h, "txn"), txn, ids);
    expect(again.status).toBe(200);
    // The same answer (the term may have moved, nothing else), where the first applied.
    expect({ ...again.body, header: { ...again.body.header, raft_term: 0 } }).toEqual({ ...first.body, header: { ...first.body.header, raft_term: 0 } });
    expect(again.headers.get("Raft-Index")).toBe(first.headers.get("Raft-Index"));
    // Without ids the same txn is a new request: its compare fails now (the lock is held).
    const fresh = await answered("POST", v3(h, "txn"), txn, ids2());
    expect(fresh.body.succeeded).toBeUndefined();
    const range = await answered("POST", v3(h, "range"), { key: b64("lock") });
    expect(range.body.header.revision).toBe("2");
    expect(range.body.kvs).toEqual([{ key: b64("lock"), create_revision: "2", mod_revision: "2", version: "1", value: b64("me") }]);
    // An older id of that client is refused as on the /kv routes, with the session's last id.
    const stale = await answered("POST", v3(h, "put"), { key: b64("x"), value: b64("y") }, { "Client-Id": "txn-client", "Request-Id": "6" });
    expect(stale.status).toBe(400);
    expect(stale.body).toMatchObject({ error: "stale_request", lastRequestId: 7 });
  });

  test("ranges: linearizable ones see the last write, serializable ones are answered by the server asked; the header names who answered", async () => {
    const h = await Harness.create(3);
    const { leader } = await h.checkSingleLeader();
    const follower = (leader + 1) % 3;
    const put = await answered("POST", v3(h, "put"), { key: b64("k"), value: b64("v1") }, w());
    expect(put.status).toBe(200);
    const writer = Number(put.headers.get("Raft-Server"));
    // Linearizable (the default): whatever server the coordinator picks, it sees the put.
    const lin = await answered("POST", v3(h, "range"), { key: b64("k") });
    expect(lin.body.kvs[0].value).toBe(b64("v1"));
    expect(lin.body.header.revision).toBe(put.body.header.revision);
    // Serializable from a follower: its own state, once it applied the put.
    const ser = await eventually(
      () => answered("POST", `${v3(h, "range")}?server=${follower}`, { key: b64("k"), serializable: true }),
      (r) => r.status === 200 && r.body.kvs?.[0]?.value === b64("v1"),
      "the follower's serializable range",
    );
    expect(ser.headers.get("Raft-Server")).toBe(String(follower));
    // The header: one cluster_id, a member_id per server, each server's own term (at most
    // its term now: an election may have come since).
    const statuses = await h.statuses();
    expect(ser.body.header.cluster_id).toBe(put.body.header.cluster_id);
    expect(ser.body.header.cluster_id).toMatch(/^[1-9]\d*$/);
    expect(ser.body.header.member_id).not.toBe(put.body.header.member_id);
    expect(BigInt(ser.body.header.member_id) < 2n ** 64n).toBe(true);
    expect(Number(ser.body.header.raft_term)).toBeGreaterThanOrEqual(1);
    expect(Number(ser.body.header.raft_term)).toBeLessThanOrEqual(statuses[follower]!.term);
    expect(Number(put.body.header.raft_term)).toBeLessThanOrEqual(statuses[writer]!.term);
    // A linearizable read costs no log entry: the leader's log does not grow while it leads
    // (an election in between appends the new leader's no-op: then it is measured again).
    const logOf = async () => (await h.statuses()).find((st) => st.state === "Leader");
    for (let attempt = 0; ; attempt++) {
      const before = await logOf();
      for (let i = 0; i < 5; i++) expect((await answered("POST", v3(h, "range"), { key: b64("k") })).status).toBe(200);
      const after = await logOf();
      if (before && after && before.id === after.id && before.term === after.term) {
        expect(after.logLength).toBe(before.logLength);
        break;
      }
      expect(attempt, "a leader that stays put for five reads").toBeLessThan(5);
    }
    // A serializable range from a server that is down: 503 in etcd's shape (nothing was read).
    await h.crash(follower);
    const down = await call("POST", `${v3(h, "range")}?server=${follower}`, { key: b64("k"), serializable: true });
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ error: "etcdserver: no leader", message: "etcdserver: no leader", code: 14 });
    // Unpinned, another server answers.
    expect((await answered("POST", v3(h, "range"), { key: b64("k"), serializable: true })).status).toBe(200);
  });

  test("the /kv routes and the v3 routes are one store", async () => {
    const h = await Harness.create(3);
    expect((await answered("PUT", `/clusters/${h.name}/kv/shared`, { value: "from-kv" }, w())).status).toBe(200);
    const listed = await answered("GET", `/clusters/${h.name}/kv?prefix=shared`);
    expect(listed.body.keys).toHaveLength(1);
    const range = await answered("POST", v3(h, "range"), { key: b64("shared") });
    expect(range.body.kvs).toEqual([
      { key: b64("shared"), create_revision: String(listed.body.keys[0].createRevision), mod_revision: String(listed.body.keys[0].modRevision), version: "1", value: b64("from-kv") },
    ]);
    expect(range.body.header.revision).toBe(String(listed.body.revision));
    // And the other way: a v3 put is read by GET /kv/{key}.
    const put = await answered("POST", v3(h, "put"), { key: b64("shared"), value: b64("from-v3"), prev_kv: true }, w());
    expect(put.body.prev_kv.value).toBe(b64("from-kv"));
    expect((await answered("GET", `/clusters/${h.name}/kv/shared`)).body).toMatchObject({ found: true, value: "from-v3" });
  });

  test("bad requests are answered with etcd's errors, before the log", async () => {
    const h = await Harness.create(3);
    const { leader } = await h.checkSingleLeader();
    expect((await answered("POST", v3(h, "put"), { key: b64("a"), value: b64("1") }, w())).status).toBe(200);
    const logBefore = await etcdEntries(h, leader);
    const cases: Array<[string, unknown, number, string, number]> = [
      ["put", "{not json", 400, "invalid character 'n' looking for beginning of object key string", 3],
      ["put", { value: b64("no key") }, 400, "etcdserver: key is not provided", 3],
      ["range", { key: "" }, 400, "etcdserver: key is not provided", 3],
      ["put", { key: b64("a"), value: b64("v"), ignore_value: true }, 400, "etcdserver: value is provided", 3],
      ["txn", { success: [{ request_put: { key: b64("d"), value: b64("1") } }, { request_put: { key: b64("d"), value: b64("2") } }] }, 400, "etcdserver: duplicate key given in txn request", 3],
      ["txn", { success: Array.from({ length: 129 }, (_, i) => ({ request_range: { key: b64(`k${i}`) } })) }, 400, "etcdserver: too many operations in txn request", 3],
      ["put", { key: b64("big"), value: "A".repeat(1_600_000) }, 400, "etcdserver: request is too large", 3],
    ];
    for (const [op, body, status, text, code] of cases) {
      const r = await answered("POST", v3(h, op), body);
      expect(r.status, `${op} ${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(r.body)}`).toBe(status);
      expect(r.body).toEqual({ error: text, message: text, code });
    }
    // None of them reached the log; the store is as it was.
    expect(await etcdEntries(h, leader)).toBe(logBefore);
    expect((await answered("POST", v3(h, "range"), { key: b64("a") })).body.header.revision).toBe("2");
    // Errors from the store come after the log (compaction) or the read (a future revision).
    const future = await answered("POST", v3(h, "range"), { key: b64("a"), revision: "99" });
    expect(future.body).toEqual({ error: "etcdserver: mvcc: required revision is a future revision", message: "etcdserver: mvcc: required revision is a future revision", code: 11 });
    expect((await answered("POST", v3(h, "compaction"), { revision: "2" }, w())).status).toBe(200);
    expect((await answered("POST", v3(h, "compaction"), { revision: "2" }, w())).body.code).toBe(11);
    // Bad ids, a bad server pin, an unknown cluster, a wrong method: the API's plain errors.
    expect((await answered("POST", v3(h, "put"), { key: b64("a") }, { "Client-Id": "only" })).body).toMatchObject({ error: "bad_request", code: 3 });
    expect((await answered("POST", `${v3(h, "range")}?server=7`, { key: b64("a") })).status).toBe(404);
    const unknown = await answered("POST", `/clusters/nope-${h.name}/v3/kv/range`, { key: b64("a") });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: "not_found" });
    const get = await answered("GET", v3(h, "range"));
    expect(get.status).toBe(405);
    expect(get.body.error).toBe("method_not_allowed");
  });

  test("no answer in time: etcd's shape, 503 when nothing was applied, 504 when it may have been", async () => {
    const h = await Harness.create(3);
    const { leader } = await h.checkSingleLeader();
    const [a, b] = [0, 1, 2].filter((i) => i !== leader) as [number, number];
    // The followers crash: the leader takes the put and can never commit it. Outcome unknown.
    await h.crash(a);
    await h.crash(b);
    const unknown = await call("POST", `${v3(h, "put")}?timeoutMs=800`, { key: b64("k"), value: b64("v") });
    expect(unknown.status, JSON.stringify(unknown.body)).toBe(504);
    expect(unknown.body).toMatchObject({ error: "etcdserver: request timed out", message: "etcdserver: request timed out", code: 14 });
    // The leader crashes too, one follower comes back: no leader can be elected. Not applied.
    await h.crash(leader);
    await h.restart(a);
    const none = await call("POST", `${v3(h, "put")}?timeoutMs=800`, { key: b64("k"), value: b64("v") });
    expect(none.status, JSON.stringify(none.body)).toBe(503);
    expect(none.body).toMatchObject({ error: "etcdserver: no leader", message: "etcdserver: no leader", code: 14 });
    const read = await call("POST", `${v3(h, "range")}?timeoutMs=800`, { key: b64("k") });
    expect(read.status).toBe(503);
    expect(read.body.code).toBe(14);
    // A serializable range needs no leader: the live server answers from its own state.
    expect((await answered("POST", v3(h, "range"), { key: b64("k"), serializable: true })).status).toBe(200);
  });
});
