// etcd 3.4's KV semantics on the pure model: revisions, versions, history, compaction, ranges,
// txns and their refusals. Expected answers are what etcd 3.4.23 answered to the same calls.

import { describe, expect, it } from "vitest";
import { b64, call, freshKv, keysOf, put } from "./helpers.ts";

describe("revisions and versions", () => {
  it("a fresh store is at revision 1 with no keys", () => {
    const { kv } = freshKv();
    expect(call(kv, "range", { key: b64("a") })).toEqual({
      status: 200,
      body: { header: { cluster_id: "7", member_id: "8", revision: "1", raft_term: "9" } },
    });
  });

  it("puts bump the revision and the version; a delete resets the version and keeps history", () => {
    const { kv } = freshKv();
    put(kv, "a", "1");
    put(kv, "a", "2");
    const del = call(kv, "deleterange", { key: b64("a"), prev_kv: true });
    expect(del.body).toMatchObject({ header: { revision: "4" }, deleted: "1", prev_kvs: [{ version: "2", value: b64("2") }] });
    put(kv, "a", "3");
    const now = call(kv, "range", { key: b64("a") }).body;
    expect(now).toMatchObject({ kvs: [{ create_revision: "5", mod_revision: "5", version: "1" }], count: "1" });
    expect(call(kv, "range", { key: b64("a"), revision: 3 }).body).toMatchObject({
      header: { revision: "5" },
      kvs: [{ create_revision: "2", mod_revision: "3", version: "2", value: b64("2") }],
    });
    expect(call(kv, "range", { key: b64("a"), revision: 4 }).body).not.toHaveProperty("kvs");
  });

  it("a delete that matches nothing does not move the revision", () => {
    const { kv } = freshKv();
    put(kv, "a", "1");
    expect(call(kv, "deleterange", { key: b64("zz") }).body).toEqual({ header: expect.objectContaining({ revision: "2" }) });
    expect(kv.revision()).toBe(2);
  });

  it("ignore_value keeps the value and needs a key; a value with it is refused", () => {
    const { kv } = freshKv();
    expect(call(kv, "put", { key: b64("a"), ignore_value: true })).toMatchObject({ status: 400, body: { error: "etcdserver: key not found", code: 3 } });
    put(kv, "a", "1");
    put(kv, "a", "", { ignore_value: true });
    expect(call(kv, "range", { key: b64("a") }).body).toMatchObject({ kvs: [{ version: "2", value: b64("1") }] });
    expect(call(kv, "put", { key: b64("a"), value: b64("x"), ignore_value: true }).body).toMatchObject({ error: "etcdserver: value is provided" });
    expect(call(kv, "put", { key: b64("a"), lease: "5", ignore_lease: true }).body).toMatchObject({ error: "etcdserver: lease is provided" });
  });

  it("a put naming a lease is lease-not-found until leases exist", () => {
    const { kv } = freshKv();
    expect(call(kv, "put", { key: b64("a"), lease: "7587869132222201234" })).toEqual({
      status: 404,
      body: { error: "etcdserver: requested lease not found", message: "etcdserver: requested lease not found", code: 5 },
    });
    expect(kv.revision()).toBe(1);
  });
});

describe("compaction", () => {
  it("reads at the compacted revision work, below it fail, above the current one fail", () => {
    const { kv, store } = freshKv();
    put(kv, "a", "1");
    put(kv, "a", "2");
    put(kv, "b", "1");
    call(kv, "deleterange", { key: b64("b") });
    expect(call(kv, "compaction", { revision: 4 }).body).toMatchObject({ header: { revision: "5" } });
    expect(call(kv, "range", { key: b64("a"), revision: 4 }).body).toMatchObject({ kvs: [{ value: b64("2") }] });
    expect(call(kv, "range", { key: b64("a"), revision: 3 })).toMatchObject({
      status: 400,
      body: { error: "etcdserver: mvcc: required revision has been compacted", code: 11 },
    });
    expect(call(kv, "range", { key: b64("a"), revision: 6 })).toMatchObject({
      status: 400,
      body: { error: "etcdserver: mvcc: required revision is a future revision", code: 11 },
    });
    // a's version at 3 and b's put below its tombstone are gone; b's tombstone (at 5) stays.
    expect(store.rowCount()).toBe(3);
  });

  it("compacting twice at a revision is compacted; past the current one is future; at the current one works", () => {
    const { kv } = freshKv();
    put(kv, "a", "1");
    expect(call(kv, "compaction", { revision: 3 }).body).toMatchObject({ code: 11, error: expect.stringContaining("future") });
    expect(call(kv, "compaction", { revision: 2 }).status).toBe(200);
    expect(call(kv, "compaction", { revision: 2 }).body).toMatchObject({ code: 11, error: expect.stringContaining("compacted") });
  });

  it("a tombstone at or below the compaction leaves nothing of its key", () => {
    const { kv, store } = freshKv();
    put(kv, "a", "1");
    call(kv, "deleterange", { key: b64("a") });
    call(kv, "compaction", { revision: 3 });
    expect(store.rowCount()).toBe(0);
  });
});

describe("range", () => {
  function abc() {
    const { kv } = freshKv();
    put(kv, "a", "3");
    put(kv, "b", "2");
    put(kv, "c", "1");
    put(kv, "b", "2");
    return kv;
  }

  it("range_end forms: one key, [key, end), \\0 for all keys ≥ key, \\0\\0 for all", () => {
    const kv = abc();
    expect(keysOf(call(kv, "range", { key: b64("b") }).body)).toEqual(["b"]);
    expect(keysOf(call(kv, "range", { key: b64("a"), range_end: b64("c") }).body)).toEqual(["a", "b"]);
    expect(keysOf(call(kv, "range", { key: b64("b"), range_end: b64("\0") }).body)).toEqual(["b", "c"]);
    expect(keysOf(call(kv, "range", { key: b64("\0"), range_end: b64("\0") }).body)).toEqual(["a", "b", "c"]);
    expect(keysOf(call(kv, "range", { key: b64("c"), range_end: b64("a") }).body)).toEqual([]);
  });

  it("limit gives more and the full count; count ignores the min/max filters, more does not", () => {
    const kv = abc();
    expect(call(kv, "range", { key: b64("a"), range_end: b64("z"), limit: 2 }).body).toMatchObject({ more: true, count: "3" });
    expect(call(kv, "range", { key: b64("a"), range_end: b64("z"), limit: 3 }).body).not.toHaveProperty("more");
    const filtered = call(kv, "range", { key: b64("a"), range_end: b64("z"), limit: 1, min_mod_revision: 3 }).body;
    expect(filtered).toMatchObject({ more: true, count: "3" });
    expect(keysOf(filtered)).toEqual(["b"]);
  });

  it("sorts by each target; NONE with a non-KEY target sorts ascending", () => {
    const kv = abc();
    const sorted = (target: string, order: string) =>
      keysOf(call(kv, "range", { key: b64("a"), range_end: b64("z"), sort_target: target, sort_order: order }).body);
    expect(sorted("KEY", "DESCEND")).toEqual(["c", "b", "a"]);
    expect(sorted("VALUE", "ASCEND")).toEqual(["c", "b", "a"]);
    expect(sorted("VERSION", "DESCEND")).toEqual(["b", "a", "c"]);
    expect(sorted("MOD", "NONE")).toEqual(["a", "c", "b"]);
    expect(sorted("CREATE", "DESCEND")).toEqual(["c", "b", "a"]);
  });

  it("keys_only drops values; count_only gives only the count", () => {
    const kv = abc();
    expect(call(kv, "range", { key: b64("a"), keys_only: true }).body).toMatchObject({ kvs: [{ key: b64("a"), version: "1" }] });
    expect((call(kv, "range", { key: b64("a"), keys_only: true }).body as { kvs: object[] }).kvs[0]).not.toHaveProperty("value");
    expect(call(kv, "range", { key: b64("a"), range_end: b64("z"), count_only: true, limit: 1 }).body).toEqual({
      header: expect.anything(),
      count: "3",
    });
  });

  it("an empty key is refused", () => {
    const { kv } = freshKv();
    expect(call(kv, "range", {})).toMatchObject({ status: 400, body: { error: "etcdserver: key is not provided", code: 3 } });
  });
});

describe("txn", () => {
  it("a write txn is one revision; inner headers show the revision before and after the first write", () => {
    const { kv } = freshKv();
    put(kv, "a", "1");
    const answer = call(kv, "txn", {
      success: [
        { request_range: { key: b64("a") } },
        { request_put: { key: b64("b"), value: b64("1") } },
        { request_put: { key: b64("c"), value: b64("1") } },
        { request_txn: {} },
      ],
    });
    expect(answer.body).toMatchObject({
      header: { revision: "3" },
      succeeded: true,
      responses: [
        { response_range: { header: { revision: "2" }, count: "1" } },
        { response_put: { header: { revision: "3" } } },
        { response_put: { header: { revision: "3" } } },
        { response_txn: { header: {} } },
      ],
    });
    expect(keysOf(call(kv, "range", { key: b64("b"), range_end: b64("z") }).body)).toEqual(["b", "c"]);
  });

  it("a read-only txn, and one whose deletes match nothing, leave the revision alone", () => {
    const { kv } = freshKv();
    put(kv, "a", "1");
    call(kv, "txn", { success: [{ request_range: { key: b64("a") } }] });
    call(kv, "txn", { success: [{ request_delete_range: { key: b64("zz") } }] });
    expect(kv.revision()).toBe(2);
  });

  it("compares every key of a compare range; a missing key is a zero KeyValue but never equals a VALUE", () => {
    const { kv } = freshKv();
    put(kv, "a1", "x");
    put(kv, "a2", "x");
    const succeeded = (compare: object) => (call(kv, "txn", { compare: [compare] }).body as { succeeded?: boolean }).succeeded === true;
    expect(succeeded({ key: b64("a1"), range_end: b64("a3"), target: "VALUE", result: "EQUAL", value: b64("x") })).toBe(true);
    expect(succeeded({ key: b64("a1"), range_end: b64("a3"), target: "MOD", result: "GREATER", mod_revision: 2 })).toBe(false);
    expect(succeeded({ key: b64("zz"), target: "VERSION", result: "EQUAL", version: 0 })).toBe(true);
    expect(succeeded({ key: b64("zz"), target: "VALUE", result: "NOT_EQUAL", value: b64("q") })).toBe(false);
    // The operand is the field set: a VERSION compare given a mod_revision compares with 0.
    expect(succeeded({ key: b64("a1"), target: "VERSION", result: "GREATER", mod_revision: 9 })).toBe(true);
    expect(succeeded({ key: b64("a1"), target: "LEASE", result: "EQUAL", lease: 0 })).toBe(true);
  });

  it("nested txns' compares see the store as it was before the txn", () => {
    const { kv } = freshKv();
    const answer = call(kv, "txn", {
      success: [
        { request_put: { key: b64("a"), value: b64("1") } },
        { request_txn: { compare: [{ key: b64("a"), target: "VERSION", result: "EQUAL", version: 0 }], success: [{ request_range: { key: b64("a") } }] } },
      ],
    });
    expect(answer.body).toMatchObject({
      responses: [{}, { response_txn: { succeeded: true, responses: [{ response_range: { count: "1" } }] } }],
    });
  });

  it("refuses a key written twice, except in a nested txn's two branches", () => {
    const { kv } = freshKv();
    const dup = { status: 400, body: { error: "etcdserver: duplicate key given in txn request", code: 3 } };
    const p = (k: string) => ({ request_put: { key: b64(k) } });
    expect(call(kv, "txn", { success: [p("a"), p("a")] })).toMatchObject(dup);
    expect(call(kv, "txn", { success: [p("b"), { request_delete_range: { key: b64("a"), range_end: b64("c") } }] })).toMatchObject(dup);
    expect(call(kv, "txn", { success: [p("a"), { request_txn: { success: [p("a")] } }] })).toMatchObject(dup);
    expect(call(kv, "txn", { success: [{ request_txn: { success: [p("a")], failure: [p("a")] } }] }).status).toBe(200);
    // A delete whose range_end is "\0" is an empty interval to this check, as in etcd.
    expect(call(kv, "txn", { success: [p("b"), { request_delete_range: { key: b64("a"), range_end: b64("\0") } }] }).status).toBe(200);
    expect(call(kv, "txn", { success: [{ request_delete_range: { key: b64("a") } }, { request_delete_range: { key: b64("a") } }] }).status).toBe(200);
  });

  it("allows 128 operations and refuses 129; nested txns share the budget", () => {
    const { kv } = freshKv();
    const ranges = (n: number) => Array.from({ length: n }, () => ({ request_range: { key: b64("a") } }));
    expect(call(kv, "txn", { success: ranges(128) }).status).toBe(200);
    const tooMany = { status: 400, body: { error: "etcdserver: too many operations in txn request" } };
    expect(call(kv, "txn", { success: ranges(129) })).toMatchObject(tooMany);
    expect(call(kv, "txn", { success: [...ranges(100), { request_txn: { success: ranges(29) } }] })).toMatchObject(tooMany);
    expect(call(kv, "txn", { success: [...ranges(100), { request_txn: { success: ranges(27) } }] }).status).toBe(200);
  });

  it("checks the taken branch before applying any of it", () => {
    const { kv } = freshKv();
    const answer = call(kv, "txn", {
      success: [{ request_put: { key: b64("a"), value: b64("1") } }, { request_put: { key: b64("b"), ignore_value: true } }],
    });
    expect(answer).toMatchObject({ status: 400, body: { error: "etcdserver: key not found" } });
    expect(kv.revision()).toBe(1);
    expect(call(kv, "txn", { success: [{ request_range: { key: b64("a"), revision: 5 } }] }).body).toMatchObject({ code: 11 });
    expect(call(kv, "txn", { success: [{}] }).body).toMatchObject({ error: "etcdserver: key not found" });
  });
});
