// How etcd 3.4's gateway (golang/protobuf jsonpb over encoding/json) reads one scalar field,
// with Go's own error texts, so bad input is refused exactly as etcd refuses it. Each reader
// takes the parsed JSON value and answers the value or the message. null is the zero value.

import { EMPTY, type Bytes } from "../bytes.ts";
import { decodeBase64Go } from "../base64.ts";

export type Read<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Read<T> => ({ ok: true, value });
const fail = <T>(message: string): Read<T> => ({ ok: false, message });

/** encoding/json's name for a JSON value's kind in "cannot unmarshal X into Go value of type T". */
export function jsonKind(v: unknown): string {
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "array";
  return "object";
}

const cannot = <T>(v: unknown, goType: string): Read<T> =>
  fail(`json: cannot unmarshal ${jsonKind(v)} into Go value of type ${goType}`);

export function readBytes(v: unknown): Read<Bytes> {
  if (v === null || v === undefined) return ok(EMPTY);
  if (Array.isArray(v)) return bytesFromArray(v);
  if (typeof v !== "string") return cannot(v, "[]uint8");
  const r = decodeBase64Go(v);
  return r.ok ? ok(r.bytes) : fail(r.message);
}

/** encoding/json also fills a []byte from an array of numbers, one byte each. */
function bytesFromArray(items: unknown[]): Read<Bytes> {
  const out = new Uint8Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item === null) continue;
    if (typeof item !== "number") return cannot(item, "uint8");
    if (!Number.isInteger(item) || item < 0 || item > 255) {
      return fail(`json: cannot unmarshal number ${JSON.stringify(item)} into Go value of type uint8`);
    }
    out[i] = item;
  }
  return ok(out);
}

export function readBool(v: unknown): Read<boolean> {
  if (v === null || v === undefined) return ok(false);
  if (typeof v !== "boolean") return cannot(v, "bool");
  return ok(v);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * int64: a JSON number, or a string whose inside jsonpb hands to encoding/json as raw JSON
 * (so "12" is 12, "null" is 0, and "abc" fails with a JSON syntax error).
 */
export function readInt64(v: unknown): Read<number> {
  const r = readInt64Exact(v);
  return r.ok ? ok(Number(r.value)) : r;
}

/**
 * As readInt64, keeping all 64 bits: for lease IDs, which etcd chooses anywhere in int64 and
 * echoes back as given. (A JSON number beyond 2^53 has already lost digits in JSON.parse; the
 * gateway's usual spelling is a string, which keeps them.)
 */
export function readInt64Exact(v: unknown): Read<bigint> {
  if (v === null || v === undefined) return ok(0n);
  if (typeof v === "number") return int64FromLiteral(JSON.stringify(v));
  // jsonpb strips the quotes and hands encoding/json the string's raw text, escapes and all.
  if (typeof v === "string") return int64FromRawJson(JSON.stringify(v).slice(1, -1));
  return cannot(v, "int64");
}

function int64FromLiteral(text: string): Read<bigint> {
  if (/^-?(0|[1-9]\d*)$/.test(text)) {
    const n = BigInt(text);
    if (n >= INT64_MIN && n <= INT64_MAX) return ok(n);
  }
  return fail(`json: cannot unmarshal number ${text} into Go value of type int64`);
}

function int64FromRawJson(raw: string): Read<bigint> {
  const syntax = goJsonSyntaxError(raw);
  if (syntax !== null) return fail(syntax);
  const t = raw.trim();
  if (t === "null") return ok(0n);
  if (t === "true" || t === "false") return fail("json: cannot unmarshal bool into Go value of type int64");
  if (t.startsWith('"')) return fail("json: cannot unmarshal string into Go value of type int64");
  if (t.startsWith("[")) return fail("json: cannot unmarshal array into Go value of type int64");
  if (t.startsWith("{")) return fail("json: cannot unmarshal object into Go value of type int64");
  return int64FromLiteral(t);
}

/**
 * Go's json scanner message for the first error in `raw`, for the scalar cases (numbers and
 * literals, which is what an int64 field can hold); null if it is valid JSON. As in Go, the end
 * of input is fed to the scanner as a space, so "tru" fails on ' '.
 */
function goJsonSyntaxError(raw: string): string | null {
  const t = raw.replace(/^[ \t\r\n]+/, "");
  if (t.length === 0) return "unexpected end of JSON input";
  const c = t[0]!;
  if (c === '"' || c === "[" || c === "{") {
    try {
      JSON.parse(t);
      return null;
    } catch {
      return "unexpected end of JSON input";
    }
  }
  const literal = c === "n" ? "null" : c === "t" ? "true" : c === "f" ? "false" : null;
  let end: number;
  if (literal !== null) {
    for (let i = 1; i < literal.length; i++) {
      const got = t[i] ?? " ";
      if (got !== literal[i]) return `invalid character ${quoteChar(got)} in literal ${literal} (expecting ${quoteChar(literal[i]!)})`;
    }
    end = literal.length;
  } else if (c === "-" || (c >= "0" && c <= "9")) {
    const scanned = scanNumber(t);
    if (typeof scanned === "string") return scanned;
    end = scanned;
  } else {
    return `invalid character ${quoteChar(c)} looking for beginning of value`;
  }
  const rest = t.slice(end).replace(/^[ \t\r\n]+/, "");
  if (rest.length > 0) return `invalid character ${quoteChar(rest[0]!)} after top-level value`;
  return null;
}

/** Go's number states: where the number ends, or the scanner's complaint. */
function scanNumber(t: string): number | string {
  const isDigit = (ch: string) => ch >= "0" && ch <= "9";
  const at = (i: number) => t[i] ?? " ";
  const bad = (i: number, context: string) => `invalid character ${quoteChar(at(i))} ${context}`;
  let i = 0;
  if (at(i) === "-") i++;
  if (at(i) === "0") i++;
  else if (isDigit(at(i)) && at(i) !== "0") while (isDigit(at(i))) i++;
  else return bad(i, "in numeric literal");
  if (at(i) === ".") {
    i++;
    if (!isDigit(at(i))) return bad(i, "after decimal point in numeric literal");
    while (isDigit(at(i))) i++;
  }
  if (at(i) === "e" || at(i) === "E") {
    i++;
    if (at(i) === "+" || at(i) === "-") i++;
    if (!isDigit(at(i))) return bad(i, "in exponent of numeric literal");
    while (isDigit(at(i))) i++;
  }
  return i;
}

/** Go's quoteChar: the character in single quotes, escaped as strconv.Quote escapes it. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  return `'${JSON.stringify(c).slice(1, -1)}'`;
}

/** A proto enum: its name, or any number (jsonpb accepts unknown numbers). */
export function readEnum(v: unknown, names: Record<string, number>, protoName: string): Read<number> {
  if (v === null || v === undefined) return ok(0);
  if (typeof v === "string") {
    const n = names[v];
    return n === undefined ? fail(`unknown value ${JSON.stringify(v)} for enum ${protoName}`) : ok(n);
  }
  if (typeof v === "number") {
    if (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) return ok(v);
    return fail(`json: cannot unmarshal number ${JSON.stringify(v)} into Go value of type ${protoName}`);
  }
  return cannot(v, protoName);
}
