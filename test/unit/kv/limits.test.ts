// Size limits, command encoding and request parsing: the edges where bytes and ids come in.
import { describe, expect, test } from "vitest";
import { KvCommandSchema, makeKvCommand, parseKvCommand } from "../../../src/kv/command.ts";
import { checkKvLimits, fitsUtf8Bytes, MAX_KEY_BYTES, MAX_VALUE_BYTES, utf8ByteLength } from "../../../src/kv/limits.ts";
import { parseKvRequest, parseSessionHeaders } from "../../../src/kv/request.ts";
import { mulberry32, randInt } from "../../lin/random.ts";

describe("limits", () => {
  test("utf8ByteLength counts like TextEncoder, surrogates included", () => {
    const rand = mulberry32(7);
    const encoder = new TextEncoder();
    const samples = ["", "a", "é", "€", "😀", "a😀b", "\ud800", "\udc00x", "\ud83d\ud83d", "日本語"];
    for (let i = 0; i < 500; i++) {
      let s = "";
      for (let j = randInt(rand, 0, 12); j > 0; j--) s += String.fromCharCode(randInt(rand, 0, 0xffff));
      samples.push(s);
    }
    for (let i = 0; i < 50; i++) {
      let s = ""; // long enough for the native path, with every kind of character
      for (let j = randInt(rand, 200, 400); j > 0; j--) s += String.fromCharCode(randInt(rand, 0, 0xffff));
      samples.push(s);
    }
    for (const s of samples) expect(utf8ByteLength(s)).toBe(encoder.encode(s).length);
  });

  test("fitsUtf8Bytes agrees with counting, at and around the limit", () => {
    const rand = mulberry32(11);
    const chars = ["a", "é", "€", "😀", "\ud800"];
    for (let i = 0; i < 2000; i++) {
      let s = "";
      for (let j = randInt(rand, 0, 120); j > 0; j--) s += chars[randInt(rand, 0, chars.length - 1)];
      const limit = randInt(rand, 0, 300);
      expect(fitsUtf8Bytes(s, limit)).toBe(utf8ByteLength(s) <= limit);
    }
  });

  test("a key of exactly the limit fits, one byte more does not, counted in UTF-8 bytes", () => {
    expect(checkKvLimits({ key: "k".repeat(MAX_KEY_BYTES) })).toBeNull();
    expect(checkKvLimits({ key: "k".repeat(MAX_KEY_BYTES + 1) })).toEqual({ field: "key", bytes: 257, limit: 256 });
    // 128 two-byte characters = 256 bytes; 86 three-byte ones = 258 bytes though only 86 chars.
    expect(checkKvLimits({ key: "é".repeat(128) })).toBeNull();
    expect(checkKvLimits({ key: "€".repeat(86) })).toEqual({ field: "key", bytes: 258, limit: 256 });
  });

  test("values and CAS operands are limited to 64 KiB", () => {
    expect(MAX_VALUE_BYTES).toBe(65536);
    expect(checkKvLimits({ key: "k", value: "v".repeat(MAX_VALUE_BYTES) })).toBeNull();
    expect(checkKvLimits({ key: "k", value: "v".repeat(MAX_VALUE_BYTES + 1) })?.field).toBe("value");
    expect(checkKvLimits({ key: "k", value: "€".repeat(21846) })?.field).toBe("value"); // 65538 bytes
    expect(checkKvLimits({ key: "k", compare: "c".repeat(MAX_VALUE_BYTES + 1), value: "v" })?.field).toBe("compare");
  });
});

describe("command encoding", () => {
  test("makeKvCommand builds what the schema accepts, and nothing leaks between fields", () => {
    const c = makeKvCommand({ op: "cas", key: "k", compare: "a", value: "b" }, 5, { clientId: "c", requestId: 0 });
    expect(c).toEqual({ kind: "kv", op: "cas", key: "k", compare: "a", value: "b", proposedAt: 5, session: { clientId: "c", requestId: 0 } });
    expect(KvCommandSchema.parse(JSON.parse(JSON.stringify(c)))).toEqual(c);
    expect(makeKvCommand({ op: "get", key: "k" }, 5)).toEqual({ kind: "kv", op: "get", key: "k", proposedAt: 5 });
  });

  test("oversized values and non-finite times are refused when read back from the log", () => {
    const big = { kind: "kv", op: "put", key: "k", value: "v".repeat(MAX_VALUE_BYTES + 1), proposedAt: 1 };
    expect(parseKvCommand(big)).toMatchObject({ ok: false, reason: "malformed" });
    expect(parseKvCommand({ kind: "kv", op: "get", key: "k", proposedAt: Number.NaN })).toMatchObject({ ok: false });
    expect(parseKvCommand({ kind: "kv", op: "get", key: "k", proposedAt: Infinity })).toMatchObject({ ok: false });
    expect(parseKvCommand({ kind: "kv", op: "get", key: "k", proposedAt: 1 })).toMatchObject({ ok: true });
    expect(parseKvCommand({ kind: "other" })).toMatchObject({ ok: false, reason: "not_kv" });
  });
});

describe("parseKvRequest", () => {
  test("builds operations from valid requests", () => {
    expect(parseKvRequest("get", "k", undefined)).toEqual({ ok: true, operation: { op: "get", key: "k" } });
    expect(parseKvRequest("put", "k", { value: "v" })).toEqual({ ok: true, operation: { op: "put", key: "k", value: "v" } });
    expect(parseKvRequest("append", "k", { value: "" })).toEqual({ ok: true, operation: { op: "append", key: "k", value: "" } });
    expect(parseKvRequest("cas", "k", { compare: "a", value: "b" })).toEqual({
      ok: true,
      operation: { op: "cas", key: "k", compare: "a", value: "b" },
    });
  });

  test("400 for wrong shapes and empty keys, 413 for sizes", () => {
    for (const [op, body] of [
      ["put", null],
      ["put", {}],
      ["put", { value: 3 }],
      ["put", "v"],
      ["append", { value: null }],
      ["cas", { value: "b" }],
      ["cas", { compare: 1, value: "b" }],
    ] as const) {
      expect(parseKvRequest(op, "k", body)).toMatchObject({ ok: false, status: 400, error: "bad_request" });
    }
    expect(parseKvRequest("get", "", undefined)).toMatchObject({ ok: false, status: 400 });
    expect(parseKvRequest("get", "k".repeat(MAX_KEY_BYTES + 1), undefined)).toMatchObject({ ok: false, status: 413, error: "too_large" });
    expect(parseKvRequest("put", "k", { value: "v".repeat(MAX_VALUE_BYTES + 1) })).toMatchObject({ ok: false, status: 413 });
  });
});

describe("parseSessionHeaders", () => {
  test("no headers: no session; both valid: a session", () => {
    expect(parseSessionHeaders(null, null)).toEqual({ ok: true, session: undefined });
    expect(parseSessionHeaders(undefined, undefined)).toEqual({ ok: true, session: undefined });
    expect(parseSessionHeaders("abc", "0")).toEqual({ ok: true, session: { clientId: "abc", requestId: 0 } });
    expect(parseSessionHeaders("c".repeat(64), "9007199254740991")).toEqual({
      ok: true,
      session: { clientId: "c".repeat(64), requestId: Number.MAX_SAFE_INTEGER },
    });
  });

  test("one without the other, or malformed ids, are 400", () => {
    for (const [c, r] of [
      ["abc", null],
      [null, "1"],
      ["", "1"],
      ["c".repeat(65), "1"],
      ["abc", ""],
      ["abc", "-1"],
      ["abc", "1.5"],
      ["abc", "1e3"],
      ["abc", " 1"],
      ["abc", "0x10"],
      ["abc", "9007199254740992"],
      ["abc", "12345678901234567"],
    ] as const) {
      expect(parseSessionHeaders(c, r)).toMatchObject({ ok: false, status: 400 });
    }
  });
});
