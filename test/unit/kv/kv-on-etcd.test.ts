// The key/value routes' operations and etcd's writes on one MVCC store (issue 20, step
// "store"): every write one revision, reads at one revision, etcd writes through the log with
// exactly-once sessions, snapshots that carry the rows.
import { describe, expect, test } from "vitest";
import { KeySchema, makeKvCommand, parseKvRequest, ValueSchema, type KvOperation } from "../../../src/kv/index.ts";
import { checkEtcdWrite, makeEtcdCommand, withHeaderIds } from "../../../src/kv/etcd-command.ts";
import { KvStateMachine } from "../../../src/kv/state-machine.ts";
import { freshStore } from "../../lin/kv-store.ts";

const T0 = 1_700_000_000_000;
const b64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));

function machineWith(...ops: KvOperation[]): KvStateMachine {
  const sm = new KvStateMachine();
  ops.forEach((op, i) => sm.apply(makeKvCommand(op, T0), i + 1));
  return sm;
}

describe("the kv operations as etcd operations", () => {
  test("a fresh store is at revision 1 with no keys; each put is one revision, with etcd's versions", () => {
    const { kv, mvcc } = freshStore();
    expect(mvcc.readMeta()).toEqual({ revision: 1, compactedRevision: -1 });
    expect(kv.list("", null, 10)).toEqual({ keys: [], more: false, revision: 1 });
    expect(kv.put("a", "1")).toEqual({ found: false, prev: null });
    expect(kv.put("a", "2")).toEqual({ found: true, prev: "1" });
    expect(kv.append("b", "x")).toEqual({ found: false, prev: null });
    expect(kv.append("b", "y")).toEqual({ found: true, prev: "x" });
    expect(mvcc.readMeta().revision).toBe(5);
    expect(kv.list("", null, 10).keys).toEqual([
      { key: "a", value: "2", createRevision: 2, modRevision: 3, version: 2 },
      { key: "b", value: "xy", createRevision: 4, modRevision: 5, version: 2 },
    ]);
  });

  test("cas swaps as one revision; a failed cas, a get and a cas on a missing key write nothing and bump nothing", () => {
    const { kv, mvcc } = freshStore();
    kv.put("k", "v");
    const rows = mvcc.rowCount();
    expect(kv.cas("k", "other", "w")).toEqual({ found: true, prev: "v", swapped: false });
    expect(kv.cas("missing", "v", "w")).toEqual({ found: false, prev: null, swapped: false });
    expect(kv.get("k")).toEqual({ found: true, value: "v" });
    expect(mvcc.readMeta().revision).toBe(2);
    expect(mvcc.rowCount()).toBe(rows);
    expect(kv.get("missing")).toEqual({ found: false, value: null }); // never created
    expect(kv.cas("k", "v", "w")).toEqual({ found: true, prev: "v", swapped: true });
    expect(mvcc.readMeta().revision).toBe(3);
  });

  test("delete answers the value deleted, is one revision, and resets the version; a missing key is not an error and bumps nothing", () => {
    const { kv, mvcc } = freshStore();
    kv.put("k", "v1");
    kv.put("k", "v2");
    expect(kv.delete("k")).toEqual({ found: true, prev: "v2" });
    expect(mvcc.readMeta().revision).toBe(4);
    expect(kv.get("k")).toEqual({ found: false, value: null });
    expect(kv.delete("k")).toEqual({ found: false, prev: null });
    expect(kv.delete("never")).toEqual({ found: false, prev: null });
    expect(mvcc.readMeta().revision).toBe(4);
    kv.put("k", "again"); // a new life: created anew, version 1
    expect(kv.list("k", null, 1).keys[0]).toEqual({ key: "k", value: "again", createRevision: 5, modRevision: 5, version: 1 });
    expect(kv.append("gone", "x")).toEqual({ found: false, prev: null });
  });

  test("list: prefix, strictly after, limit and more, in UTF-8 byte order, at one revision", () => {
    const { kv } = freshStore();
    // Byte order is not JS string order: U+FFFF (ef bf bf) comes before U+1F600 (f0 9f 98 80).
    for (const k of ["b", "a/2", "a/1", "a/\u{1F600}", "a/\uffff", "a", "ab"]) kv.put(k, `v${k}`);
    const keys = (l: { keys: Array<{ key: string }> }) => l.keys.map((k) => k.key);
    expect(keys(kv.list("", null, 100))).toEqual(["a", "a/1", "a/2", "a/\uffff", "a/\u{1F600}", "ab", "b"]);
    expect(keys(kv.list("a/", null, 100))).toEqual(["a/1", "a/2", "a/\uffff", "a/\u{1F600}"]);
    const first = kv.list("a/", null, 2);
    expect(keys(first)).toEqual(["a/1", "a/2"]);
    expect(first.more).toBe(true);
    expect(first.revision).toBe(8);
    const rest = kv.list("a/", "a/2", 2);
    expect(keys(rest)).toEqual(["a/\uffff", "a/\u{1F600}"]);
    expect(rest.more).toBe(false);
    expect(keys(kv.list("a/", "a/1", 100))).toEqual(["a/2", "a/\uffff", "a/\u{1F600}"]); // strictly after
    expect(keys(kv.list("a/", "0", 100))).toEqual(["a/1", "a/2", "a/\uffff", "a/\u{1F600}"]); // before the prefix: from it
    expect(keys(kv.list("a/", "zz", 100))).toEqual([]);
    expect(keys(kv.list("", "ab", 100))).toEqual(["b"]);
    kv.delete("a/2");
    expect(keys(kv.list("a/", null, 100))).toEqual(["a/1", "a/\uffff", "a/\u{1F600}"]);
  });

  test("lone surrogates are refused: by the command schemas (ignored in the log) and by the route's parser (400)", () => {
    expect(KeySchema.safeParse("a\ud800").success).toBe(false);
    expect(ValueSchema.safeParse("\udc00b").success).toBe(false);
    expect(ValueSchema.safeParse("\u{1F600}").success).toBe(true); // a pair is fine
    expect(parseKvRequest("put", "k", { value: "x\ud800" })).toMatchObject({ ok: false, status: 400, message: /value holds a lone surrogate/ });
    expect(parseKvRequest("cas", "k", { compare: "\udfff", value: "x" })).toMatchObject({ ok: false, status: 400, message: /compare/ });
    expect(parseKvRequest("delete", "\ud800", undefined)).toMatchObject({ ok: false, status: 400, message: /key/ });
    expect(parseKvRequest("delete", "k", undefined)).toEqual({ ok: true, operation: { op: "delete", key: "k" } });
  });
});

describe("etcd writes through the log", () => {
  test("put, txn, deleterange and compaction applied as the gateway answers them, header holding only the revision", () => {
    const sm = new KvStateMachine();
    expect(sm.apply(makeEtcdCommand("put", { key: b64("a"), value: b64("1") }, T0), 1)).toEqual({
      status: "applied",
      result: { status: 200, body: { header: { revision: "2" } } },
    });
    const txn = {
      compare: [{ key: b64("a"), target: "VALUE", result: "EQUAL", value: b64("1") }],
      success: [{ request_put: { key: b64("b"), value: b64("2") } }, { request_put: { key: b64("c"), value: b64("3") } }],
    };
    const t = sm.apply(makeEtcdCommand("txn", txn, T0), 2);
    expect(t).toMatchObject({ status: "applied", result: { status: 200, body: { header: { revision: "3" }, succeeded: true } } });
    expect(sm.revision).toBe(3); // a whole txn is one revision
    expect(sm.peek("c")).toBe("3"); // the kv face reads the same store
    const d = sm.apply(makeEtcdCommand("deleterange", { key: b64("b"), range_end: b64("d"), prev_kv: true }, T0), 3);
    expect(d).toMatchObject({ status: "applied", result: { status: 200, body: { header: { revision: "4" }, deleted: "2" } } });
    expect(sm.apply(makeEtcdCommand("compaction", { revision: 3 }, T0), 4)).toEqual({
      status: "applied",
      result: { status: 200, body: { header: { revision: "4" } } },
    });
    expect(sm.compactedRevision).toBe(3);
    // A store error is an answer, the same on every replica, and writes nothing.
    expect(sm.apply(makeEtcdCommand("compaction", { revision: 2 }, T0), 5)).toMatchObject({
      status: "applied",
      result: { status: 400, body: { code: 11, error: "etcdserver: mvcc: required revision has been compacted" } },
    });
    expect(sm.apply(makeEtcdCommand("put", { key: "", value: b64("x") }, T0), 6)).toMatchObject({ result: { status: 400, body: { code: 3 } } });
    expect(sm.revision).toBe(4);
  });

  test("a request that does not parse is ignored as malformed on every replica, and writes nothing", () => {
    const sm = machineWith({ op: "put", key: "k", value: "v" });
    const before = JSON.stringify(sm.snapshot());
    for (const raw of [
      { kind: "etcd", op: "put", request: { key: "not base64!" }, proposedAt: T0 },
      { kind: "etcd", op: "txn", request: { compare: 3 }, proposedAt: T0 },
      { kind: "etcd", op: "range", request: {}, proposedAt: T0 },
      { kind: "etcd", op: "put", request: {} },
    ]) {
      expect(sm.apply(raw, 9)).toMatchObject({ status: "ignored", reason: "malformed" });
    }
    expect(JSON.stringify(sm.snapshot())).toBe(before);
  });

  test("exactly-once: a retried etcd write answers the stored answer and is not applied again; another request under the ids is stale", () => {
    const session = { clientId: "etcd-client", requestId: 4 };
    const sm = new KvStateMachine();
    const put = makeEtcdCommand("put", { key: b64("k"), value: b64("v"), prev_kv: true }, T0, session);
    const first = sm.apply(put, 10);
    expect(first).toEqual({ status: "applied", result: { status: 200, body: { header: { revision: "2" } } } });
    expect(sm.apply(JSON.parse(JSON.stringify(put)), 11)).toEqual({ status: "duplicate", result: (first as { result: unknown }).result, index: 10 });
    expect(sm.revision).toBe(2);
    // It survives a snapshot.
    const copy = KvStateMachine.fromSnapshot(JSON.parse(JSON.stringify(sm.snapshot())));
    expect(copy.apply(put, 12)).toMatchObject({ status: "duplicate", index: 10 });
    // The same ids on another operation (a kv put, another etcd body) are not a retry.
    expect(sm.apply(makeKvCommand({ op: "put", key: "k", value: "v" }, T0, session), 13)).toEqual({ status: "stale", lastRequestId: 4 });
    expect(sm.apply(makeEtcdCommand("put", { key: b64("k"), value: b64("w") }, T0, session), 14)).toEqual({ status: "stale", lastRequestId: 4 });
    expect(sm.revision).toBe(2);
    // A failing request is remembered as well: its retry hears the same error.
    const bad = makeEtcdCommand("compaction", { revision: 99 }, T0, { clientId: "etcd-client", requestId: 5 });
    const refused = sm.apply(bad, 15);
    expect(refused).toMatchObject({ status: "applied", result: { status: 400 } });
    sm.apply(makeEtcdCommand("put", { key: b64("x"), value: b64("y") }, T0), 16);
    expect(sm.apply(bad, 17)).toEqual({ status: "duplicate", result: (refused as { result: unknown }).result, index: 15 });
  });

  test("checkEtcdWrite answers bad requests as the gateway does, without a log entry; good ones become the request to propose", () => {
    expect(checkEtcdWrite("/v3/kv/put", '{"key": "YQ==", "value": "Yg=="}')).toEqual({ ok: true, op: "put", request: { key: "YQ==", value: "Yg==" } });
    expect(checkEtcdWrite("/v3/kv/compaction", "")).toEqual({ ok: true, op: "compaction", request: null }); // etcd: an empty body is an empty request
    const cases: Array<[Parameters<typeof checkEtcdWrite>[0], string, RegExp]> = [
      ["/v3/kv/put", '{"key": "YQ=="', /unexpected EOF/],
      ["/v3/kv/put", '{"key": 5}', /cannot unmarshal number/],
      ["/v3/kv/put", '{"value": "Yg=="}', /key is not provided/],
      ["/v3/kv/deleterange", "{}", /key is not provided/],
      ["/v3/kv/put", '{"key": "YQ==", "ignore_value": true, "value": "Yg=="}', /value is provided/],
      ["/v3/kv/txn", JSON.stringify({ success: [{ request_put: { key: "YQ==" } }, { request_put: { key: "YQ==" } }] }), /duplicate key/],
      ["/v3/kv/txn", JSON.stringify({ success: Array.from({ length: 129 }, (_, i) => ({ request_put: { key: b64(`k${i}`) } })) }), /too many operations/],
    ];
    for (const [path, body, message] of cases) {
      const r = checkEtcdWrite(path, body);
      expect(r.ok, `${path} ${body.slice(0, 60)}`).toBe(false);
      if (!r.ok) {
        expect(r.answer.status).toBe(400);
        expect(r.answer.body).toMatchObject({ code: 3, error: expect.stringMatching(message) });
      }
    }
  });

  test("withHeaderIds completes the header in etcd's order; error answers are left as they are", () => {
    const answer = { status: 200, body: { header: { revision: "7" }, deleted: "1" } };
    const full = withHeaderIds(answer, { clusterId: "123", memberId: 5n, raftTerm: 2 });
    expect(JSON.stringify(full.body)).toBe('{"header":{"cluster_id":"123","member_id":"5","revision":"7","raft_term":"2"},"deleted":"1"}');
    const error = { status: 400, body: { error: "x", code: 3, message: "x" } };
    expect(withHeaderIds(error, { clusterId: 1, memberId: 1, raftTerm: 1 })).toBe(error);
  });

  test("range reads the local state as the gateway answers it", () => {
    const sm = machineWith({ op: "put", key: "a", value: "1" }, { op: "put", key: "b", value: "2" }, { op: "delete", key: "a" });
    const r = sm.range({ key: b64("a"), range_end: b64("c") });
    expect(r).toEqual({
      status: 200,
      body: { header: { revision: "4" }, kvs: [{ key: b64("b"), create_revision: "3", mod_revision: "3", version: "1", value: b64("2") }], count: "1" },
    });
    expect(sm.range({ key: b64("a"), revision: 2 })).toMatchObject({ status: 200, body: { count: "1" } }); // history until compacted
    expect(sm.range({ key: b64("a"), revision: 9 })).toMatchObject({ status: 400, body: { code: 11 } });
    expect(sm.range({ key: 3 })).toMatchObject({ status: 400, body: { code: 3 } });
  });
});

describe("snapshots carry the rows", () => {
  test("a restored machine holds the same rows, history and meta, and goes on alike", () => {
    const sm = machineWith({ op: "put", key: "a", value: "1" }, { op: "put", key: "a", value: "2" }, { op: "delete", key: "a" }, { op: "put", key: "\u00e9", value: "\u{1F600}" });
    sm.apply(makeEtcdCommand("compaction", { revision: 3 }, T0), 5);
    const snap = sm.snapshot();
    expect(snap.format).toBe("kv/2");
    expect(snap.revision).toBe(5);
    expect(snap.compactedRevision).toBe(3);
    const copy = KvStateMachine.fromSnapshot(JSON.parse(JSON.stringify(snap)));
    expect(copy.snapshot()).toEqual(snap);
    for (const m of [sm, copy]) m.apply(makeKvCommand({ op: "append", key: "\u00e9", value: "!" }, T0), 6);
    expect(copy.snapshot()).toEqual(sm.snapshot());
    expect(copy.peek("\u00e9")).toBe("\u{1F600}!");
  });

  test("a kv/1 snapshot (before the MVCC store) restores as one revision per key, from 2, in its order", () => {
    const sm = KvStateMachine.fromSnapshot({ format: "kv/1", clock: 10, data: [["z", "1"], ["a", "2"]], sessions: [] });
    expect(sm.revision).toBe(3);
    expect(sm.list("", null, 10).keys).toEqual([
      { key: "a", value: "2", createRevision: 3, modRevision: 3, version: 1 },
      { key: "z", value: "1", createRevision: 2, modRevision: 2, version: 1 },
    ]);
  });

  test("a snapshot with rows out of order is refused", () => {
    const snap = machineWith({ op: "put", key: "a", value: "1" }, { op: "put", key: "b", value: "2" }).snapshot();
    expect(() => KvStateMachine.fromSnapshot({ ...snap, rows: [...snap.rows].reverse() })).toThrow(/out of order/);
  });
});
