// The gateway codec: request bodies read as etcd's jsonpb reads them (with Go's error texts,
// as etcd 3.4.23 answered them), answers written as the gateway writes them.

import { describe, expect, it } from "vitest";
import { decodeBase64Go } from "../../../../src/kv/etcd/base64.ts";
import { encodeKeyValue } from "../../../../src/kv/etcd/codec/encode.ts";
import { parseRequest, RangeRequestSchema, TxnRequestSchema } from "../../../../src/kv/etcd/codec/parse.ts";
import { utf8 } from "../../../../src/kv/etcd/bytes.ts";
import { EtcdError } from "../../../../src/kv/etcd/errors.ts";
import { decodeBody } from "../../../../src/kv/etcd/codec/body.ts";
import { handleKvText } from "../../../../src/kv/etcd/gateway.ts";
import { b64, call, freshKv, IDS } from "./helpers.ts";

/** The error message a range body is refused with, or null. */
function rangeError(body: unknown): string | null {
  try {
    parseRequest(RangeRequestSchema, body);
    return null;
  } catch (e) {
    if (!(e instanceof EtcdError)) throw e;
    expect([e.httpStatus, e.grpcCode]).toEqual([400, 3]);
    return e.message;
  }
}

describe("base64 as Go's StdEncoding", () => {
  it.each([
    ["YQ", "illegal base64 data at input byte 0"],
    ["YQ=", "illegal base64 data at input byte 3"],
    ["Y===", "illegal base64 data at input byte 1"],
    ["YQ==YQ==", "illegal base64 data at input byte 4"],
    ["a b", "illegal base64 data at input byte 1"],
    ["-_8=", "illegal base64 data at input byte 0"],
    ["YWJ\u00e9", "illegal base64 data at input byte 3"],
    ["YWJj=YWJ", "illegal base64 data at input byte 4"],
  ])("%j is refused: %s", (text, message) => {
    expect(decodeBase64Go(text)).toEqual({ ok: false, message });
  });

  it("decodes padded text, skips newlines, tolerates trailing bits", () => {
    expect(decodeBase64Go("YWJj")).toEqual({ ok: true, bytes: utf8("abc") });
    expect(decodeBase64Go("Y\nQ==")).toEqual({ ok: true, bytes: utf8("a") });
    expect(decodeBase64Go("YR==")).toEqual({ ok: true, bytes: utf8("a") });
    expect(decodeBase64Go("")).toEqual({ ok: true, bytes: new Uint8Array(0) });
    expect(decodeBase64Go("YWI=")).toEqual({ ok: true, bytes: utf8("ab") });
    expect(decodeBase64Go("YWJ=")).toEqual({ ok: true, bytes: utf8("ab") });
  });

  it("decodes every length and byte as Node's own decoder does", () => {
    for (let n = 0; n < 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n * 31) & 0xff);
      expect(decodeBase64Go(Buffer.from(bytes).toString("base64")), `${n} bytes`).toEqual({ ok: true, bytes });
    }
  });
});

describe("request fields as jsonpb reads them", () => {
  it("int64 as a number or a string; a string's inside is read as raw JSON", () => {
    expect(parseRequest(RangeRequestSchema, { key: b64("a"), limit: "5", revision: 7 })).toMatchObject({ limit: 5, revision: 7 });
    expect(parseRequest(RangeRequestSchema, { key: b64("a"), limit: "null" })).toMatchObject({ limit: 0 });
    expect(rangeError({ key: b64("a"), limit: "not-a-number" })).toBe("invalid character 'o' in literal null (expecting 'u')");
    expect(rangeError({ key: b64("a"), limit: "tru" })).toBe("invalid character ' ' in literal true (expecting 'e')");
    expect(rangeError({ key: b64("a"), limit: "12ab" })).toBe("invalid character 'a' after top-level value");
    expect(rangeError({ key: b64("a"), limit: "-" })).toBe("invalid character ' ' in numeric literal");
    expect(rangeError({ key: b64("a"), limit: "" })).toBe("unexpected end of JSON input");
    expect(rangeError({ key: b64("a"), limit: 1.5 })).toBe("json: cannot unmarshal number 1.5 into Go value of type int64");
    expect(rangeError({ key: b64("a"), limit: "9223372036854775808" })).toBe(
      "json: cannot unmarshal number 9223372036854775808 into Go value of type int64",
    );
    expect(rangeError({ key: b64("a"), limit: true })).toBe("json: cannot unmarshal bool into Go value of type int64");
  });

  it("enums by name or number; an unknown name names the proto enum", () => {
    expect(parseRequest(RangeRequestSchema, { key: b64("a"), sort_order: "DESCEND", sort_target: 4 })).toMatchObject({ sortOrder: 2, sortTarget: 4 });
    expect(rangeError({ key: b64("a"), sort_order: "SIDEWAYS" })).toBe('unknown value "SIDEWAYS" for enum etcdserverpb.RangeRequest_SortOrder');
    expect(rangeError({ key: b64("a"), sort_order: 1.5 })).toBe(
      "json: cannot unmarshal number 1.5 into Go value of type etcdserverpb.RangeRequest_SortOrder",
    );
  });

  it("bytes from base64 or from an array of numbers; bools only as booleans", () => {
    expect(parseRequest(RangeRequestSchema, { key: [97, 98] }).key).toEqual(utf8("ab"));
    expect(rangeError({ key: 5 })).toBe("json: cannot unmarshal number into Go value of type []uint8");
    expect(rangeError({ key: b64("a"), keys_only: "true" })).toBe("json: cannot unmarshal string into Go value of type bool");
  });

  it("camelCase names, unknown fields ignored, null as absent, the first bad field in proto order", () => {
    expect(parseRequest(RangeRequestSchema, { key: b64("a"), rangeEnd: b64("b"), countOnly: true, nonsense: 1, limit: null })).toMatchObject({
      rangeEnd: utf8("b"),
      countOnly: true,
      limit: 0,
    });
    expect(rangeError({ revision: "x", limit: "abc", key: b64("a") })).toBe("invalid character 'a' looking for beginning of value");
    expect(rangeError("text")).toBe("json: cannot unmarshal string into Go value of type map[string]json.RawMessage");
  });

  it("txn ops by their oneof field; a compare keeps which operand field was set", () => {
    const t = parseRequest(TxnRequestSchema, {
      compare: [{ key: b64("a"), target: "MOD", mod_revision: "3" }],
      success: [{ request_put: { key: b64("a") } }, {}],
      failure: [{ requestDeleteRange: { key: b64("a") } }],
    });
    expect(t.compare[0]!.operand).toEqual({ field: "mod_revision", value: 3 });
    expect(t.success.map((op) => op.kind)).toEqual(["put", "none"]);
    expect(t.failure.map((op) => op.kind)).toEqual(["deleteRange"]);
    expect(() => parseRequest(TxnRequestSchema, { success: "x" })).toThrow("json: cannot unmarshal string into Go value of type []json.RawMessage");
  });
});

describe("answers as the gateway writes them", () => {
  it("omits zero values and writes int64 as strings", () => {
    const kv = { key: utf8("k"), createRevision: 2, modRevision: 3, version: 1, value: new Uint8Array(0), lease: 0 };
    expect(encodeKeyValue(kv)).toEqual({ key: b64("k"), create_revision: "2", mod_revision: "3", version: "1" });
  });

  it("a put with prev_kv on a new key has no prev_kv; errors carry the text twice and the code", () => {
    const { kv } = freshKv();
    expect(call(kv, "put", { key: b64("a"), value: b64("v"), prev_kv: true }).body).toEqual({
      header: { cluster_id: "7", member_id: "8", revision: "2", raft_term: "9" },
    });
    expect(call(kv, "put", { value: b64("v") })).toEqual({
      status: 400,
      body: { error: "etcdserver: key is not provided", message: "etcdserver: key is not provided", code: 3 },
    });
  });
});

describe("body text as etcd's decoder reads it", () => {
  const bodyError = (text: string) => {
    try {
      decodeBody(text);
      return null;
    } catch (e) {
      return (e as EtcdError).message;
    }
  };

  it("takes the first JSON value and ignores what follows; empty is an empty request", () => {
    expect(decodeBody('{"key":"YQ=="} xx')).toEqual({ key: "YQ==" });
    expect(decodeBody('{"key":"YQ=="}}')).toEqual({ key: "YQ==" });
    expect(decodeBody("   ")).toBeNull();
  });

  it.each([
    ['{"key":"YQ=="', "unexpected EOF"],
    ["nul", "unexpected EOF"],
    ["[1", "unexpected EOF"],
    ['{"key":"YQ==",}', "invalid character '}' looking for beginning of object key string"],
    ["{key:1}", "invalid character 'k' looking for beginning of object key string"],
    ['{"key":"YQ==" "x":1}', "invalid character '\"' after object key:value pair"],
    ['{"key":"YQ=="\\n', "invalid character '\\\\' after object key:value pair"],
    ["xx", "invalid character 'x' looking for beginning of value"],
  ])("%j is refused: %s", (text, message) => {
    expect(bodyError(text)).toBe(message);
  });

  it("answers the decoder's error through the gateway", () => {
    const { kv } = freshKv();
    expect(handleKvText(kv, "/v3/kv/range", "{", IDS)).toEqual({
      status: 400,
      body: { error: "unexpected EOF", message: "unexpected EOF", code: 3 },
    });
    expect(handleKvText(kv, "/v3/kv/range", "", IDS).body).toMatchObject({ error: "etcdserver: key is not provided" });
  });
});
