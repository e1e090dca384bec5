// The pure checks the routes added with the v3 and /kv list routes run before anything is
// forwarded: a range's pre-check (etcd's errors, and whether it is serializable), the list
// query's values, and the header ids a server derives from its incarnation.
import { describe, expect, test } from "vitest";
import { checkEtcdRange, etcdRequestTooLarge, MAX_ETCD_REQUEST_CHARS } from "../../../src/kv/etcd-command.ts";
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, parseListQuery } from "../../../src/kv/request.ts";
import { clusterIdOf, headerIdsOf, memberIdOf } from "../../../src/server/etcd-ids.ts";

describe("checkEtcdRange", () => {
  test("a good range passes, saying whether it is serializable", () => {
    expect(checkEtcdRange('{"key": "YQ=="}')).toEqual({ ok: true, request: { key: "YQ==" }, serializable: false });
    expect(checkEtcdRange('{"key": "YQ==", "serializable": true}')).toMatchObject({ ok: true, serializable: true });
  });

  test("a bad one is etcd's 400, code 3", () => {
    for (const [body, message] of [
      ["", /key is not provided/],
      ['{"key": ""}', /key is not provided/],
      ['{"key": "YQ=="', /unexpected EOF/],
      ['{"key": 5}', /cannot unmarshal number/],
      ['{"key": "YQ==", "limit": "x"}', /.+/],
      ['{"key": "YQ==", "serializable": "true"}', /.+/],
      [" ".repeat(MAX_ETCD_REQUEST_CHARS + 1), /request is too large/],
    ] as const) {
      const r = checkEtcdRange(body);
      expect(r.ok, body.slice(0, 40)).toBe(false);
      if (!r.ok) {
        expect(r.answer.status).toBe(400);
        expect(r.answer.body).toMatchObject({ code: 3, error: expect.stringMatching(message) });
      }
    }
    expect(etcdRequestTooLarge()).toEqual({ status: 400, body: { error: "etcdserver: request is too large", message: "etcdserver: request is too large", code: 3 } });
  });
});

describe("parseListQuery", () => {
  test("defaults and good values", () => {
    expect(parseListQuery(undefined, undefined, undefined)).toEqual({ ok: true, query: { prefix: "", after: null, limit: DEFAULT_LIST_LIMIT } });
    expect(parseListQuery("a/", "a/3", "1")).toEqual({ ok: true, query: { prefix: "a/", after: "a/3", limit: 1 } });
    expect(parseListQuery(undefined, "", String(MAX_LIST_LIMIT))).toEqual({ ok: true, query: { prefix: "", after: null, limit: MAX_LIST_LIMIT } });
  });

  test("bad values are 400s, never clamped", () => {
    for (const limit of ["0", "1001", "-1", "1e3", "", " 5", "5.0", "x", "99999"]) {
      expect(parseListQuery(undefined, undefined, limit), limit).toMatchObject({ ok: false, status: 400, error: "bad_request" });
    }
    expect(parseListQuery("p".repeat(257), undefined, undefined)).toMatchObject({ ok: false, status: 400 });
    expect(parseListQuery(undefined, "\uD800", undefined)).toMatchObject({ ok: false, status: 400 });
  });
});

describe("header ids", () => {
  test("decimal uint64s, never 0, stable per incarnation and per member, different between them", () => {
    const epoch = "5f0c3c1e-0000-4000-8000-000000000001";
    const other = "5f0c3c1e-0000-4000-8000-000000000002";
    for (const id of [clusterIdOf(epoch), memberIdOf(epoch, 0), memberIdOf(epoch, 1)]) {
      expect(id).toMatch(/^[1-9]\d*$/);
      expect(BigInt(id) < 2n ** 64n).toBe(true);
    }
    expect(clusterIdOf(epoch)).toBe(clusterIdOf(epoch));
    expect(clusterIdOf(epoch)).not.toBe(clusterIdOf(other));
    expect(memberIdOf(epoch, 0)).not.toBe(memberIdOf(epoch, 1));
    expect(memberIdOf(epoch, 0)).not.toBe(memberIdOf(other, 0));
    expect(headerIdsOf(epoch, 2, 7)).toEqual({ clusterId: clusterIdOf(epoch), memberId: memberIdOf(epoch, 2), raftTerm: 7 });
  });
});
