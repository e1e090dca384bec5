// Turning an HTTP request of the key/value routes into an operation, with the API's
// error codes (400 malformed, 413 too large). Pure, so the coordinator's handlers stay a
// few lines and the rules are tested here. JSON syntax errors are the router's business:
// `body` is already-parsed JSON (undefined for GET).

import { z } from "zod";
import { ClientIdSchema, type KvOperation, type KvOpName, NOT_UTF8, type Session } from "./command.ts";
import { checkKvLimits, fitsUtf8Bytes, isWellFormedText, MAX_KEY_BYTES } from "./limits.ts";

const ValueBody = z.object({ value: z.string() });
const CasBody = z.object({ compare: z.string(), value: z.string() });

export type RequestError = {
  readonly ok: false;
  readonly status: 400 | 413;
  readonly error: "bad_request" | "too_large";
  readonly message: string;
};

export type ParsedRequest = { readonly ok: true; readonly operation: KvOperation } | RequestError;

/** Validates the key and body of one kv route. `key` is the decoded path parameter. */
export function parseKvRequest(op: KvOpName, key: string, body: unknown): ParsedRequest {
  if (key.length === 0) return { ok: false, status: 400, error: "bad_request", message: "key must not be empty" };
  let operation: KvOperation;
  if (op === "get" || op === "delete") {
    operation = { op, key };
  } else if (op === "cas") {
    const parsed = CasBody.safeParse(body);
    if (!parsed.success) return badBody(`{"compare": string, "value": string}`, parsed.error);
    operation = { op, key, compare: parsed.data.compare, value: parsed.data.value };
  } else {
    const parsed = ValueBody.safeParse(body);
    if (!parsed.success) return badBody(`{"value": string}`, parsed.error);
    operation = { op, key, value: parsed.data.value };
  }
  for (const field of ["key", "value", "compare"] as const) {
    const text = (operation as Partial<Record<typeof field, string>>)[field];
    if (text !== undefined && !isWellFormedText(text)) return { ok: false, status: 400, error: "bad_request", message: `${field} ${NOT_UTF8}` };
  }
  const violation = checkKvLimits(operation);
  if (violation !== null) {
    return {
      ok: false,
      status: 413,
      error: "too_large",
      message: `${violation.field} is ${violation.bytes} bytes; the limit is ${violation.limit}`,
    };
  }
  return { ok: true, operation };
}

function badBody(expected: string, error: z.ZodError): RequestError {
  return { ok: false, status: 400, error: "bad_request", message: `body must be ${expected}: ${z.prettifyError(error)}` };
}

export type ParsedSession = { readonly ok: true; readonly session: Session | undefined } | RequestError;

/**
 * Reads the exactly-once headers. Both absent: no session (at-least-once semantics).
 * Both present and valid: a session. Anything else is a 400 ("bad ids" in the API).
 */
export function parseSessionHeaders(
  clientId: string | null | undefined,
  requestId: string | null | undefined,
): ParsedSession {
  const hasClient = clientId !== null && clientId !== undefined;
  const hasRequest = requestId !== null && requestId !== undefined;
  if (!hasClient && !hasRequest) return { ok: true, session: undefined };
  if (!hasClient || !hasRequest) {
    return { ok: false, status: 400, error: "bad_request", message: "Client-Id and Request-Id go together" };
  }
  if (!ClientIdSchema.safeParse(clientId).success) {
    return { ok: false, status: 400, error: "bad_request", message: "Client-Id must be 1-64 characters" };
  }
  // Digits only: "1e3", "0x10", " 7" and "-1" are refused rather than guessed at.
  const id = /^[0-9]{1,16}$/.test(requestId) ? Number(requestId) : NaN;
  if (!Number.isSafeInteger(id)) {
    return { ok: false, status: 400, error: "bad_request", message: "Request-Id must be an integer >= 0" };
  }
  return { ok: true, session: { clientId, requestId: id } };
}

/** `GET /kv`'s page size when none is given, and the most one page may hold (API.md). */
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

export interface ListQuery {
  readonly prefix: string;
  readonly after: string | null;
  readonly limit: number;
}

export type ParsedListQuery = { readonly ok: true; readonly query: ListQuery } | RequestError;

/**
 * Reads `GET /kv?prefix=&after=&limit=` (each parameter as decoded text, undefined when
 * absent). No prefix lists every key; an empty `after` is none. A limit is digits only,
 * 1..1000: "0", "-1", "1e3", "1001" are 400s rather than clamped, so a client that asked for
 * something else is told. A prefix or `after` longer than a key can be is a 400 too: it could
 * match nothing, and the caller has made a mistake.
 */
export function parseListQuery(prefix: string | undefined, after: string | undefined, limit: string | undefined): ParsedListQuery {
  const bad = (message: string): RequestError => ({ ok: false, status: 400, error: "bad_request", message });
  for (const [name, text] of [["prefix", prefix], ["after", after]] as const) {
    if (text === undefined) continue;
    if (!isWellFormedText(text)) return bad(`${name} ${NOT_UTF8}`);
    if (!fitsUtf8Bytes(text, MAX_KEY_BYTES)) return bad(`${name} is longer than a key may be (${MAX_KEY_BYTES} bytes)`);
  }
  let n = DEFAULT_LIST_LIMIT;
  if (limit !== undefined) {
    n = /^[0-9]{1,4}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= MAX_LIST_LIMIT)) return bad(`bad limit ${JSON.stringify(limit)}: an integer 1..${MAX_LIST_LIMIT} (default ${DEFAULT_LIST_LIMIT})`);
  }
  return { ok: true, query: { prefix: prefix ?? "", after: after === undefined || after === "" ? null : after, limit: n } };
}
