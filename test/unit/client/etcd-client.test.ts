// EtcdClient, case by case, against answers etcd 3.4.23 recorded (test/etcd/fixtures): the
// exact request each typed call sends, the typed values each answer decodes to, etcd's errors
// as EtcdError, exactly-once ids kept across retries, and the txn shorthands.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { cmp, EtcdClient, type EtcdClientOptions, EtcdError, GrpcCode, KeyValue, op, prefixEnd } from "../../../src/client/index.ts";
import { fakeClock, fakeFetch, json, type Recorded, type Step } from "./fake-fetch.ts";

const FIXTURES = new URL("../../etcd/fixtures/", import.meta.url).pathname;

/** Line `line` (1-based; line 1 is the meta) of a recorded fixture: etcd's request and answer. */
function recorded(file: string, line: number): { path: string; request: unknown; status: number; response: unknown } {
  const text = readFileSync(`${FIXTURES}${file}.jsonl`, "utf8").split("\n")[line - 1]!;
  return JSON.parse(text) as never;
}

function setup(script: Step[], options: Partial<EtcdClientOptions> = {}) {
  const f = fakeFetch(script);
  const c = fakeClock();
  const etcd = new EtcdClient({ baseUrl: "http://host/", cluster: "c1", fetch: f.fetch, clock: c.clock, random: () => 1, deadlineMs: 1_000, clientId: "me", firstRequestId: 7, ...options });
  return { etcd, requests: f.requests, time: c.state };
}

/** Answers with what etcd answered to that recorded request. */
const answer = (r: { status: number; response: unknown }) => json(r.status, r.response);

const text = (s: string) => new TextEncoder().encode(s);
const CLUSTER = "17368989521238926805";
const MEMBER = "17628310501313495538";
const X40 = "x".repeat(40);

async function rejection(p: Promise<unknown>): Promise<EtcdError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EtcdError);
  return error as EtcdError;
}

describe("requests and decoded answers (etcd's recorded ones)", () => {
  test("range: key, rangeEnd \"\\0\", limit, minModRevision; more and count; omitted value restored as empty bytes", async () => {
    const r = recorded("seed-1", 28);
    const { etcd, requests } = setup([answer(r)]);
    const got = await etcd.range({ key: "b/1", rangeEnd: "\0", limit: 1, minModRevision: 5 });
    expect(requests[0]).toMatchObject({ method: "POST", url: "http://host/clusters/c1/v3/kv/range", body: r.request });
    expect(requests[0]!.headers["request-id"]).toBeUndefined(); // a read carries no ids
    expect(requests[0]!.headers["content-type"]).toBe("application/json");
    expect(got).toEqual({
      header: { clusterId: CLUSTER, memberId: MEMBER, revision: 8, raftTerm: 2 },
      kvs: [new KeyValue(text("b/1"), new Uint8Array(0), 2, 8, 2, "0")],
      more: true,
      count: 3,
    });
    expect(got.kvs[0]!.keyString).toBe("b/1");
    expect(got.kvs[0]!.valueString).toBe("");
    expect(got.kvs[0]!.key).toBeInstanceOf(Uint8Array);
  });

  test("range of every key: lease ids past 2^53 stay exact decimal strings", async () => {
    const r = recorded("lease/lease-1", 16);
    const { etcd, requests } = setup([answer(r)]);
    const got = await etcd.range({ key: "\0", rangeEnd: "\0" });
    expect(requests[0]!.body).toEqual(r.request);
    expect(got.kvs.map((kv) => [kv.keyString, kv.valueString, kv.lease])).toEqual([
      ["l/a", "e2", "4679981439018103056"],
      ["l/d", "e", "4679981439018103056"],
    ]);
    expect(got.header).toEqual({ clusterId: "10834282736689317560", memberId: "9017615200991953138", revision: 4, raftTerm: 2 });
  });

  test("a plain key is a range of that key; serializable, keysOnly and sort are sent by name", async () => {
    const { etcd, requests } = setup([json(200, { header: { revision: "3" } }), json(200, { header: { revision: "3" } })]);
    const got = await etcd.range("ключ");
    await etcd.range({ key: new Uint8Array([0xff]), serializable: true, keysOnly: true, sortOrder: "DESCEND", sortTarget: "MOD", revision: 2 });
    expect(requests.map((r) => r.body)).toEqual([
      { key: Buffer.from("ключ").toString("base64") },
      { key: "/w==", serializable: true, keys_only: true, sort_order: "DESCEND", sort_target: "MOD", revision: "2" },
    ]);
    // Everything the gateway left out for being zero, restored.
    expect(got).toEqual({ header: { clusterId: "0", memberId: "0", revision: 3, raftTerm: 0 }, kvs: [], more: false, count: 0 });
  });

  test("put with prevKv: the old version, decoded; a write carries the client's ids", async () => {
    const r = recorded("seed-1", 40);
    const { etcd, requests } = setup([answer(r)]);
    const got = await etcd.put({ key: "abc", prevKv: true });
    expect(requests[0]).toMatchObject({ url: "http://host/clusters/c1/v3/kv/put", body: r.request });
    expect([requests[0]!.headers["client-id"], requests[0]!.headers["request-id"]]).toEqual(["me", "7"]);
    expect(got.header.revision).toBe(15);
    expect(got.prevKv).toEqual(new KeyValue(text("abc"), text(X40), 11, 11, 1, "0"));
    expect(got.prevKv!.valueString).toBe(X40);
  });

  test("put without prevKv answers prevKv null; bytes values go as given", async () => {
    const r = recorded("seed-1", 7);
    const { etcd, requests } = setup([answer(r)]);
    const got = await etcd.put({ key: "c", value: new Uint8Array(0) });
    expect(requests[0]!.body).toEqual(r.request);
    expect(got).toEqual({ header: { clusterId: CLUSTER, memberId: MEMBER, revision: 3, raftTerm: 2 }, prevKv: null });
  });

  test("deleteRange with prevKv: deleted as a number, prevKvs decoded", async () => {
    const r = recorded("seed-1", 101);
    const { etcd, requests } = setup([answer(r)]);
    const got = await etcd.deleteRange({ key: "b", prevKv: true });
    expect(requests[0]).toMatchObject({ url: "http://host/clusters/c1/v3/kv/deleterange", body: r.request });
    expect(requests[0]!.headers["request-id"]).toBe("7");
    expect(got.deleted).toBe(1);
    expect(got.prevKvs).toEqual([new KeyValue(text("b"), text(X40), 21, 27, 2, "0")]);
  });

  test("txn written with cmp and op: the body etcd was sent; a failed txn answers succeeded false", async () => {
    const r = recorded("seed-2", 130);
    const { etcd, requests } = setup([answer(r)]);
    const got = await etcd.txn({
      compare: [cmp.value("c", "<", "")],
      success: [op.txn({ compare: [cmp.lease(new Uint8Array([0xff, 0xff]), "!=", "0"), cmp.value("abc", "=", "", "ac")] }), op.put("a", "v")],
      failure: [op.put("a", "value-1")],
    });
    expect(requests[0]).toMatchObject({ url: "http://host/clusters/c1/v3/kv/txn", body: r.request });
    expect(requests[0]!.headers["request-id"]).toBe("7");
    expect(got.succeeded).toBe(false);
    expect(got.responses).toEqual([{ kind: "put", put: { header: { clusterId: "0", memberId: "0", revision: 36, raftTerm: 0 }, prevKv: null } }]);
  });

  test("txn answers nest: a nested txn's empty header, its range with more, a put's prev_kv", async () => {
    const r = recorded("seed-2", 132);
    const { etcd, requests } = setup([answer(r)]);
    const got = await etcd.txn({
      compare: [cmp.value("b/1", ">", "value-1"), cmp.value(new Uint8Array([0xff]), "!=", "")],
      failure: [
        op.range("zz", { rangeEnd: "abc" }),
        op.txn({
          compare: [cmp.version("b", "=", 2), cmp.mod("c", "<", 33), cmp.version("zz", "<", 2)],
          failure: [op.range("abc", { rangeEnd: new Uint8Array([0xff, 0xff]), limit: 1, revision: 36, sortTarget: "KEY" })],
        }),
        op.put("a", "value-2", { prevKv: true }),
        op.txn({ failure: [op.put(new Uint8Array([0xff]), X40, { ignoreLease: true }), op.put("ab", X40)] }),
      ],
    });
    expect(requests[0]!.body).toEqual(r.request);
    expect(got.header.revision).toBe(37);
    expect(got.succeeded).toBe(false);
    expect(got.responses.map((x) => x.kind)).toEqual(["range", "txn", "put", "txn"]);
    const nested = got.responses[1]!;
    if (nested.kind !== "txn") throw new Error("not a txn");
    expect(nested.txn.header).toEqual({ clusterId: "0", memberId: "0", revision: 0, raftTerm: 0 });
    expect(nested.txn.succeeded).toBe(false);
    const inner = nested.txn.responses[0]!;
    if (inner.kind !== "range") throw new Error("not a range");
    expect(inner.range).toMatchObject({ more: true, count: 3, header: { revision: 36 } });
    expect(inner.range.kvs[0]!.keyString).toBe("abc");
    const putAnswer = got.responses[2]!;
    expect(putAnswer.kind === "put" && putAnswer.put.prevKv?.valueString).toBe("value-1");
    expect(got.responses[3]).toEqual({ kind: "txn", txn: { header: { clusterId: "0", memberId: "0", revision: 0, raftTerm: 0 }, succeeded: true, responses: [] } });
  });

  test("compact: /v3/kv/compaction with the revision as a string, no ids", async () => {
    const r = recorded("seed-1", 32);
    const { etcd, requests } = setup([answer(r)]);
    const got = await etcd.compact({ revision: 5 });
    expect(requests[0]).toMatchObject({ url: "http://host/clusters/c1/v3/kv/compaction", body: r.request });
    expect(requests[0]!.headers["request-id"]).toBeUndefined();
    expect(got).toEqual({ header: { clusterId: CLUSTER, memberId: MEMBER, revision: 9, raftTerm: 2 } });
  });

  test("compares on every target with every operator, with range_end", async () => {
    const { etcd, requests } = setup([json(200, { header: { revision: "2" }, succeeded: true })]);
    await etcd.txn({
      compare: [
        cmp.version("k", "=", 0),
        cmp.create("k", ">", 3, prefixEnd("k")),
        cmp.mod("k", "<", 4),
        cmp.value("k", "!=", "v"),
        cmp.lease("k", "=", 4679981439018103056n),
        { key: "k", result: "GREATER", target: "LEASE", lease: 12 },
      ],
      success: [op.delete("a", { rangeEnd: "\0", prevKv: true })],
    });
    expect(requests[0]!.body).toEqual({
      compare: [
        { result: "EQUAL", target: "VERSION", key: "aw==", version: "0" },
        { result: "GREATER", target: "CREATE", key: "aw==", range_end: "bA==", create_revision: "3" },
        { result: "LESS", target: "MOD", key: "aw==", mod_revision: "4" },
        { result: "NOT_EQUAL", target: "VALUE", key: "aw==", value: "dg==" },
        { result: "EQUAL", target: "LEASE", key: "aw==", lease: "4679981439018103056" },
        { result: "GREATER", target: "LEASE", key: "aw==", lease: "12" },
      ],
      success: [{ request_delete_range: { key: "YQ==", range_end: "AA==", prev_kv: true } }],
    });
  });
});

describe("etcd's errors", () => {
  test.each([
    ["compacted revision", "seed-1", 57, () => ({ key: "zz", limit: 1, revision: 1, keysOnly: true }), 400, GrpcCode.OUT_OF_RANGE, { isCompacted: true, isFutureRevision: false }],
    ["future revision", "seed-1", 29, () => ({ key: "a", revision: 9, sortOrder: "DESCEND", sortTarget: "KEY", keysOnly: true }), 400, GrpcCode.OUT_OF_RANGE, { isCompacted: false, isFutureRevision: true }],
  ] as const)("%s: EtcdError with status, gRPC code and etcd's message, not retried", async (_, file, line, request, status, grpcCode, flags) => {
    const r = recorded(file, line);
    const { etcd, requests } = setup([answer(r)]);
    const error = await rejection(etcd.range(request() as never));
    expect(requests[0]!.body).toEqual(r.request);
    expect(requests).toHaveLength(1);
    const message = (r.response as { message: string }).message;
    expect(error).toMatchObject({ name: "EtcdError", status, grpcCode, message, code: message, maybeApplied: false, attempts: 1, ...flags });
  });

  test("an unknown lease: 404, code 5 NOT_FOUND (the lease id sent exactly)", async () => {
    const r = recorded("seed-1", 36);
    const { etcd, requests } = setup([answer(r)]);
    const error = await rejection(etcd.put({ key: "ab", prevKv: true, lease: "7587869132222201234" }));
    expect(requests[0]!.body).toEqual(r.request);
    expect(error).toMatchObject({ status: 404, grpcCode: GrpcCode.NOT_FOUND, message: "etcdserver: requested lease not found" });
  });

  test("a plain project error (unknown cluster) has no gRPC code; a 200 that is not etcd's is a bad_response", async () => {
    const { etcd } = setup([json(404, { error: "not_found", message: "no cluster c1" }), json(200, { ok: true }), json(200, { header: { revision: "1" }, kvs: [{ key: "%%%" }] })]);
    expect(await rejection(etcd.range("k"))).toMatchObject({ status: 404, code: "not_found", grpcCode: null });
    expect(await rejection(etcd.range("k"))).toMatchObject({ status: 200, code: "bad_response", grpcCode: null });
    const badBase64 = await rejection(etcd.range("k"));
    expect(badBase64.message).toContain("answer.kvs[0].key");
  });

  test("a counter past 2^53 is refused, not rounded; ids past it are exact", async () => {
    const big = "9007199254740993"; // 2^53 + 1: as a number it would read 2^53
    const { etcd } = setup([
      json(200, { header: { cluster_id: big, member_id: big, revision: big } }),
      json(200, { header: { cluster_id: big, member_id: big, revision: "9007199254740991" } }),
    ]);
    const error = await rejection(etcd.range("k"));
    expect(error).toMatchObject({ code: "bad_response" });
    expect(error.message).toContain("answer.header.revision");
    expect((await etcd.range("k")).header).toEqual({ clusterId: big, memberId: big, revision: Number.MAX_SAFE_INTEGER, raftTerm: 0 });
  });

  test("bad arguments are refused before anything is sent", async () => {
    const { etcd, requests } = setup([]);
    await expect(etcd.range({ key: "k", revision: 1.5 })).rejects.toThrow(RangeError);
    await expect(etcd.range({ key: "k", limit: 2 ** 60 })).rejects.toThrow(RangeError);
    await expect(etcd.put({ key: "k", lease: "12abc" })).rejects.toThrow(RangeError);
    await expect(etcd.put({ key: "k", lease: 2 ** 60 })).rejects.toThrow(RangeError);
    await expect(etcd.txn({ success: [{ nothing: {} } as never] })).rejects.toThrow(TypeError);
    expect(() => cmp.version("k", "==" as never, 1)).toThrow(RangeError);
    expect(requests).toHaveLength(0);
  });
});

describe("retries and exactly-once ids", () => {
  test("a txn answered 504, then lost, then 503 is retried with the SAME ids and body", async () => {
    const r = recorded("seed-2", 130);
    const { etcd, requests, time } = setup([
      json(504, { error: "etcdserver: request timed out", message: "etcdserver: request timed out", code: 14 }),
      new TypeError("fetch failed"),
      json(503, { error: "unavailable", message: "no leader" }),
      answer(r),
    ]);
    const got = await etcd.txn({ compare: [cmp.value("c", "<", "")], success: [op.txn({ compare: [cmp.lease(new Uint8Array([0xff, 0xff]), "!=", "0"), cmp.value("abc", "=", "", "ac")] }), op.put("a", "v")], failure: [op.put("a", "value-1")] });
    expect(got.header.revision).toBe(36);
    expect(requests.map((q) => `${q.headers["client-id"]}/${q.headers["request-id"]}`)).toEqual(["me/7", "me/7", "me/7", "me/7"]);
    expect(requests.every((q) => JSON.stringify(q.body) === JSON.stringify(r.request))).toBe(true);
    expect(time.sleeps).toEqual([20, 40, 80]);
    expect(etcd.lastWrite).toEqual({ clientId: "me", requestId: 7 });
  });

  test("writes go one at a time in call order with increasing ids; ranges do not wait for them", async () => {
    const order: string[] = [];
    const answers: Record<string, unknown> = { put: { header: { revision: "2" } }, range: { header: { revision: "2" } }, deleterange: { header: { revision: "3" }, deleted: "1" } };
    const server = async (req: Recorded) => {
      const route = req.url.split("/").at(-1)!;
      order.push(`start ${route}`);
      if (route !== "range") await new Promise((resolve) => setTimeout(resolve, 5));
      order.push(`end ${route}`);
      return json(200, answers[route]);
    };
    const { etcd, requests } = setup([server, server, server]);
    const put = etcd.put({ key: "a", value: "1" });
    const del = etcd.deleteRange({ key: "a" });
    for (let i = 0; i < 100 && !order.includes("start put"); i++) await new Promise((resolve) => setTimeout(resolve, 0));
    const range = await etcd.range("a"); // while the put is in flight
    expect([(await put).header.revision, range.header.revision, (await del).deleted]).toEqual([2, 2, 1]);
    expect(order).toEqual(["start put", "start range", "end range", "end put", "start deleterange", "end deleterange"]);
    expect(requests.map((q) => [q.url.split("/").at(-1), q.headers["request-id"]])).toEqual([
      ["put", "7"],
      ["range", undefined],
      ["deleterange", "8"],
    ]);
  });

  test("out of time: 504 timeout (gRPC 4) once an attempt may have applied, else 503 unavailable (gRPC 14)", async () => {
    const maybe: Step[] = [json(504, { error: "timeout", message: "?" }), ...Array.from({ length: 100 }, () => json(503, { error: "unavailable", message: "x" }))];
    expect(await rejection(setup(maybe).etcd.put({ key: "k", value: "v" }))).toMatchObject({ status: 504, code: "timeout", grpcCode: GrpcCode.DEADLINE_EXCEEDED, maybeApplied: true });
    const never: Step[] = Array.from({ length: 100 }, () => json(503, { error: "unavailable", message: "x" }));
    expect(await rejection(setup(never).etcd.range("k"))).toMatchObject({ status: 503, code: "unavailable", grpcCode: GrpcCode.UNAVAILABLE, maybeApplied: false });
  });

  test("a compaction retried after its first attempt may have applied hears 'compacted' with maybeApplied", async () => {
    const compacted = recorded("seed-1", 23).response;
    const { etcd, requests } = setup([json(504, { error: "timeout", message: "?" }), json(400, compacted)]);
    const error = await rejection(etcd.compact({ revision: 5 }));
    expect(error).toMatchObject({ isCompacted: true, maybeApplied: true, attempts: 2 });
    expect(requests.map((q) => q.body)).toEqual([{ revision: "5" }, { revision: "5" }]);
  });

  test("the token goes as a bearer header; without ids given, a write leases a Client-Id", async () => {
    const f = fakeFetch([json(200, { header: { revision: "2" } })]);
    const etcd = new EtcdClient({ baseUrl: "http://host", cluster: "my-cluster", fetch: f.fetch, token: "t0k" });
    expect(etcd.clientId).toBeUndefined();
    await etcd.put({ key: "k", value: "v" });
    expect(f.requests[0]!.url).toBe("http://host/clusters/my-cluster/v3/kv/put");
    expect(f.requests[0]!.headers.authorization).toBe("Bearer t0k");
    expect(f.requests[0]!.headers["client-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(f.requests[0]!.headers["request-id"])).toBeGreaterThan(0);
  });
});

describe("prefixEnd", () => {
  test("etcd's GetPrefixRangeEnd", () => {
    expect(prefixEnd("a")).toEqual(text("b"));
    expect(prefixEnd("dir/")).toEqual(text("dir0"));
    expect(prefixEnd(new Uint8Array([0x61, 0xff, 0xff]))).toEqual(new Uint8Array([0x62]));
    expect(prefixEnd(new Uint8Array([0xff]))).toEqual(new Uint8Array([0]));
    expect(prefixEnd("")).toEqual(new Uint8Array([0]));
    const key = new Uint8Array([1, 2]);
    prefixEnd(key);
    expect(key).toEqual(new Uint8Array([1, 2])); // the caller's bytes are not changed
  });
});
