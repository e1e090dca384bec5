// etcd 3.4's KV requests and answers as a user of EtcdClient writes and reads them: the
// fields of etcdserverpb in camelCase, enums by name.
//
// In: keys and values are `string | Uint8Array` (a string is sent as its UTF-8 bytes), 64-bit
// integers are JS numbers (safe integers), lease ids `string | bigint | number` (they are
// int64 and etcd's own exceed 2^53, so pass them as etcd gave them: a decimal string).
// Out: what etcd's JSON gateway writes (base64 bytes, decimal strings, zero values left out)
// decoded back: keys and values as Uint8Array (`keyString` / `valueString` read them as UTF-8),
// revisions, versions and counts as numbers, lease ids and cluster/member ids as exact decimal
// strings, and every field the gateway omitted for being zero restored (0, false, [], "0",
// an empty Uint8Array). A revision or count above 2^53 - 1 cannot be a JS number exactly; the
// client refuses such an answer (EtcdError "bad_response") rather than round it.

/** A key or value: a string is sent as its UTF-8 bytes. */
export type BytesInput = string | Uint8Array;
/** A lease id (int64). A number must be a safe integer; etcd's ids usually are not: use the decimal string. */
export type LeaseId = string | bigint | number;

export type SortOrder = "NONE" | "ASCEND" | "DESCEND";
export type SortTarget = "KEY" | "VERSION" | "CREATE" | "MOD" | "VALUE";
export type CompareResult = "EQUAL" | "GREATER" | "LESS" | "NOT_EQUAL";
export type CompareTarget = "VERSION" | "CREATE" | "MOD" | "VALUE" | "LEASE";

/**
 * etcd's RangeRequest. `rangeEnd` absent: the key alone; a single zero byte ("\0"): every key
 * ≥ `key`; `key` and `rangeEnd` both "\0": every key; `prefixEnd(p)` with `key: p`: a prefix.
 */
export interface RangeRequest {
  readonly key: BytesInput;
  readonly rangeEnd?: BytesInput;
  /** At most this many keys (0: no limit); `more` says whether others matched. */
  readonly limit?: number;
  /** Read the store as it was at this revision (0: the current one). */
  readonly revision?: number;
  readonly sortOrder?: SortOrder;
  readonly sortTarget?: SortTarget;
  /** Answered by whichever server takes it from its own applied state (maybe stale), without a read round. */
  readonly serializable?: boolean;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  readonly minModRevision?: number;
  readonly maxModRevision?: number;
  readonly minCreateRevision?: number;
  readonly maxCreateRevision?: number;
}

export interface PutRequest {
  readonly key: BytesInput;
  readonly value?: BytesInput;
  readonly lease?: LeaseId;
  /** Answer with the key's value before the put. */
  readonly prevKv?: boolean;
  /** Keep the current value (the key must exist). */
  readonly ignoreValue?: boolean;
  /** Keep the current lease (the key must exist). */
  readonly ignoreLease?: boolean;
}

export interface DeleteRangeRequest {
  readonly key: BytesInput;
  readonly rangeEnd?: BytesInput;
  /** Answer with the deleted keys' values. */
  readonly prevKv?: boolean;
}

interface CompareOn {
  readonly key: BytesInput;
  /** Compare every key in [key, rangeEnd) (etcd 3.3+); all must satisfy it. */
  readonly rangeEnd?: BytesInput;
  readonly result: CompareResult;
}

/** One condition of a txn: the key's `target` compared (`result`) with the operand of that target. */
export type Compare = CompareOn &
  (
    | { readonly target: "VERSION"; readonly version: number }
    | { readonly target: "CREATE"; readonly createRevision: number }
    | { readonly target: "MOD"; readonly modRevision: number }
    | { readonly target: "VALUE"; readonly value: BytesInput }
    | { readonly target: "LEASE"; readonly lease: LeaseId }
  );

/** One operation of a txn's success or failure list. */
export type RequestOp =
  | { readonly range: RangeRequest }
  | { readonly put: PutRequest }
  | { readonly deleteRange: DeleteRangeRequest }
  | { readonly txn: TxnRequest };

/** If every compare holds, `success` runs, else `failure`; all of it is one revision (at most 128 operations). */
export interface TxnRequest {
  readonly compare?: readonly Compare[];
  readonly success?: readonly RequestOp[];
  readonly failure?: readonly RequestOp[];
}

export interface CompactionRequest {
  /** Drop history below this revision. */
  readonly revision: number;
  readonly physical?: boolean;
}

/**
 * Every answer's header. Inside a txn's responses only `revision` is set (a nested txn's
 * header is empty): the others read as "0" and 0 there, as etcd's own clients see them.
 */
export interface ResponseHeader {
  /** uint64, exact. */
  readonly clusterId: string;
  /** The server that answered (uint64, exact). */
  readonly memberId: string;
  /** The store's revision after the call. */
  readonly revision: number;
  readonly raftTerm: number;
}

const utf8 = new TextDecoder();

/** mvccpb.KeyValue: one version of one key. */
export class KeyValue {
  constructor(
    readonly key: Uint8Array,
    readonly value: Uint8Array,
    readonly createRevision: number,
    readonly modRevision: number,
    /** Writes since the key was created (1 after the first put). */
    readonly version: number,
    /** "0": no lease. */
    readonly lease: string,
  ) {}

  /** The key read as UTF-8 (bytes that are not UTF-8 become U+FFFD). */
  get keyString(): string {
    return utf8.decode(this.key);
  }

  /** The value read as UTF-8 (bytes that are not UTF-8 become U+FFFD). */
  get valueString(): string {
    return utf8.decode(this.value);
  }
}

export interface RangeResponse {
  readonly header: ResponseHeader;
  /** Empty with `countOnly`; values empty with `keysOnly`. */
  readonly kvs: readonly KeyValue[];
  /** More keys matched than `limit` let through. */
  readonly more: boolean;
  /** How many keys matched, whatever the limit. */
  readonly count: number;
}

export interface PutResponse {
  readonly header: ResponseHeader;
  /** With `prevKv` and a key that existed: its version before the put; else null. */
  readonly prevKv: KeyValue | null;
}

export interface DeleteRangeResponse {
  readonly header: ResponseHeader;
  readonly deleted: number;
  /** With `prevKv`: the deleted keys as they were. */
  readonly prevKvs: readonly KeyValue[];
}

/** One answer of a txn's responses, in the order of the branch that ran. */
export type ResponseOp =
  | { readonly kind: "range"; readonly range: RangeResponse }
  | { readonly kind: "put"; readonly put: PutResponse }
  | { readonly kind: "deleteRange"; readonly deleteRange: DeleteRangeResponse }
  | { readonly kind: "txn"; readonly txn: TxnResponse };

export interface TxnResponse {
  readonly header: ResponseHeader;
  /** Whether every compare held (`success` ran) or not (`failure` ran). */
  readonly succeeded: boolean;
  readonly responses: readonly ResponseOp[];
}

export interface CompactionResponse {
  readonly header: ResponseHeader;
}
