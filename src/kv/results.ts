// The answers of the key/value service, exactly as the HTTP API returns them
// (/work/shared/API.md, "Key/value service"). `prev` is the value before the operation,
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
