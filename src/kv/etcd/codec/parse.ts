// Request bodies of etcd 3.4's JSON gateway, read into typed requests (types.ts) with zod.
// The gateway is jsonpb: field names as in the proto (or their camelCase JSON names), bytes
// as base64, int64 as numbers or strings, enums by name or number, unknown fields ignored,
// null as absent. The first bad field in proto order is the one reported, with Go's text
// (go-json.ts), as an etcd InvalidArgument error.

import { z } from "zod";
import { invalidArgument } from "../errors.ts";
import {
  CompareResult,
  CompareTarget,
  SortOrder,
  SortTarget,
  type CompactionRequest,
  type Compare,
  type CompareOperand,
  type DeleteRangeRequest,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type TxnRequest,
} from "../types.ts";
import { jsonKind, readBool, readBytes, readEnum, readInt64, type Read } from "./go-json.ts";

/** A zod schema for one field, from a Go-faithful reader. */
export function field<T>(read: (v: unknown) => Read<T>): z.ZodType<T> {
  return z.unknown().transform((v, ctx) => {
    const r = read(v);
    if (r.ok) return r.value;
    ctx.addIssue({ code: "custom", message: r.message });
    return z.NEVER;
  });
}

export const bytes = field(readBytes);
export const int64 = field(readInt64);
export const bool = field(readBool);
export const enumOf = (names: Record<string, number>, protoName: string) => field((v) => readEnum(v, names, protoName));

const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * A proto message: `shape` in proto field order (jsonpb reports the first bad field in that
 * order); the JSON must be an object or null; `build` makes the typed request.
 */
export function message<T>(shape: () => Record<string, z.ZodType>, build: (fields: Record<string, unknown>, present: Set<string>) => T): z.ZodType<T> {
  let object: z.ZodType<Record<string, unknown>> | undefined;
  return z.unknown().transform((v, ctx) => {
    const input = v ?? {};
    if (typeof input !== "object" || Array.isArray(input)) {
      ctx.addIssue({ code: "custom", message: `json: cannot unmarshal ${jsonKind(input)} into Go value of type map[string]json.RawMessage` });
      return z.NEVER;
    }
    const fields = shape();
    object ??= z.object(fields) as unknown as z.ZodType<Record<string, unknown>>;
    const raw = input as Record<string, unknown>;
    const named: Record<string, unknown> = {};
    const present = new Set<string>();
    for (const name of Object.keys(fields)) {
      const key = name in raw ? name : camel(name) in raw ? camel(name) : null;
      // Absent reads as null, which every field takes as its zero value (as jsonpb does).
      named[name] = key === null ? null : raw[key];
      if (key !== null) present.add(name);
    }
    const r = object.safeParse(named);
    if (!r.success) {
      ctx.addIssue({ code: "custom", message: r.error.issues[0]?.message ?? "bad request" });
      return z.NEVER;
    }
    return build(r.data, present);
  });
}

export function repeated<T>(element: z.ZodType<T>): z.ZodType<T[]> {
  return z.unknown().transform((v, ctx) => {
    if (v === null || v === undefined) return [];
    if (!Array.isArray(v)) {
      ctx.addIssue({ code: "custom", message: `json: cannot unmarshal ${jsonKind(v)} into Go value of type []json.RawMessage` });
      return z.NEVER;
    }
    const out: T[] = [];
    for (const item of v) {
      const r = element.safeParse(item);
      if (!r.success) {
        ctx.addIssue({ code: "custom", message: r.error.issues[0]?.message ?? "bad request" });
        return z.NEVER;
      }
      out.push(r.data);
    }
    return out;
  });
}

export const RangeRequestSchema: z.ZodType<RangeRequest> = message(
  () => ({
    key: bytes,
    range_end: bytes,
    limit: int64,
    revision: int64,
    sort_order: enumOf(SortOrder, "etcdserverpb.RangeRequest_SortOrder"),
    sort_target: enumOf(SortTarget, "etcdserverpb.RangeRequest_SortTarget"),
    serializable: bool,
    keys_only: bool,
    count_only: bool,
    min_mod_revision: int64,
    max_mod_revision: int64,
    min_create_revision: int64,
    max_create_revision: int64,
  }),
  (f) => ({
    key: f.key,
    rangeEnd: f.range_end,
    limit: f.limit,
    revision: f.revision,
    sortOrder: f.sort_order,
    sortTarget: f.sort_target,
    serializable: f.serializable,
    keysOnly: f.keys_only,
    countOnly: f.count_only,
    minModRevision: f.min_mod_revision,
    maxModRevision: f.max_mod_revision,
    minCreateRevision: f.min_create_revision,
    maxCreateRevision: f.max_create_revision,
  }) as RangeRequest,
);

export const PutRequestSchema: z.ZodType<PutRequest> = message(
  () => ({ key: bytes, value: bytes, lease: int64, prev_kv: bool, ignore_value: bool, ignore_lease: bool }),
  (f) =>
    ({
      key: f.key,
      value: f.value,
      lease: f.lease,
      prevKv: f.prev_kv,
      ignoreValue: f.ignore_value,
      ignoreLease: f.ignore_lease,
    }) as PutRequest,
);

export const DeleteRangeRequestSchema: z.ZodType<DeleteRangeRequest> = message(
  () => ({ key: bytes, range_end: bytes, prev_kv: bool }),
  (f) => ({ key: f.key, rangeEnd: f.range_end, prevKv: f.prev_kv }) as DeleteRangeRequest,
);

/** The compare's oneof fields, after its plain ones as jsonpb reads them. */
const OPERANDS = ["value", "version", "create_revision", "mod_revision", "lease"] as const;

export const CompareSchema: z.ZodType<Compare> = message(
  () => ({
    result: enumOf(CompareResult, "etcdserverpb.Compare_CompareResult"),
    target: enumOf(CompareTarget, "etcdserverpb.Compare_CompareTarget"),
    key: bytes,
    range_end: bytes,
    value: bytes,
    version: int64,
    create_revision: int64,
    mod_revision: int64,
    lease: int64,
  }),
  (f, present) => {
    const set = OPERANDS.find((name) => present.has(name));
    const operand: CompareOperand | null =
      set === undefined ? null : set === "value" ? { field: "value", value: f.value as Uint8Array } : { field: set, value: f[set] as number };
    return { result: f.result, target: f.target, key: f.key, rangeEnd: f.range_end, operand } as Compare;
  },
);

export const RequestOpSchema: z.ZodType<RequestOp> = message(
  () => ({
    request_range: RangeRequestSchema,
    request_put: PutRequestSchema,
    request_delete_range: DeleteRangeRequestSchema,
    request_txn: TxnRequestSchema,
  }),
  (f, present): RequestOp => {
    if (present.has("request_range")) return { kind: "range", range: f.request_range as RangeRequest };
    if (present.has("request_put")) return { kind: "put", put: f.request_put as PutRequest };
    if (present.has("request_delete_range")) return { kind: "deleteRange", deleteRange: f.request_delete_range as DeleteRangeRequest };
    if (present.has("request_txn")) return { kind: "txn", txn: f.request_txn as TxnRequest };
    return { kind: "none" };
  },
);

export const TxnRequestSchema: z.ZodType<TxnRequest> = message(
  () => ({ compare: repeated(CompareSchema), success: repeated(RequestOpSchema), failure: repeated(RequestOpSchema) }),
  (f) => ({ compare: f.compare, success: f.success, failure: f.failure }) as TxnRequest,
);

export const CompactionRequestSchema: z.ZodType<CompactionRequest> = message(
  () => ({ revision: int64, physical: bool }),
  (f) => ({ revision: f.revision, physical: f.physical }) as CompactionRequest,
);

/** Parses a request body (already JSON-decoded) or throws etcd's 400 with Go's message. */
export function parseRequest<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  throw invalidArgument(r.error.issues[0]?.message ?? "bad request");
}
