// The answers of the key/value service, exactly as the HTTP API returns them
// (../shared/API.md, "Key/value service"). `prev` is the value before the operation,
// `found` whether the key existed before it.

export interface GetResult {
  readonly found: boolean;
  readonly value: string | null;
}

export interface PutResult {
  readonly found: boolean;
  readonly prev: string | null;
}

export interface CasResult {
  readonly found: boolean;
  readonly prev: string | null;
  readonly swapped: boolean;
}

/** Append answers like put: `prev` is the value before the suffix was added. */
export type AppendResult = PutResult;

export type KvResult = GetResult | PutResult | CasResult | AppendResult;

/** The result type of each operation name. */
export interface KvResultOf {
  get: GetResult;
  put: PutResult;
  cas: CasResult;
  append: AppendResult;
}

/**
 * An operation the state machine refused, identically on every replica: its result would
 * break a size limit (an append whose value would outgrow MAX_VALUE_BYTES). Nothing was
 * applied; the API answers `413 {"error": "too_large"}`. It is kept in the client's
 * exactly-once session like any result, so a retry of the same request hears the same.
 */
export interface RefusedResult {
  readonly refused: "too_large";
  readonly message: string;
}

/** What an exactly-once session remembers of a request: its answer, or its refusal. */
export type StoredResult = KvResult | RefusedResult;

export function isRefused(result: StoredResult): result is RefusedResult {
  return "refused" in result;
}
