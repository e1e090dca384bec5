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

/** Delete answers like put: `prev` is the value deleted; a missing key is `found: false`, not an error. */
export type DeleteResult = PutResult;

export type KvResult = GetResult | PutResult | CasResult | AppendResult | DeleteResult;

/** The result type of each operation name. */
export interface KvResultOf {
  get: GetResult;
  put: PutResult;
  cas: CasResult;
  append: AppendResult;
  delete: DeleteResult;
}

/**
 * The answer to an etcd write that went through the log (src/kv/etcd-command.ts): the HTTP
 * status and the etcd JSON as the gateway writes it, its header holding only `revision` (the
 * route adds the ids only a server knows: withHeaderIds).
 */
export interface EtcdAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** What applying a command answers: a key/value result or an etcd answer. */
export type MachineResult = KvResult | EtcdAnswer;

export function isEtcdAnswer(result: MachineResult): result is EtcdAnswer {
  return "status" in result && "body" in result;
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
export type StoredResult = MachineResult | RefusedResult;

export function isRefused(result: StoredResult): result is RefusedResult {
  return "refused" in result;
}
