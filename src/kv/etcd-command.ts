// An etcd write (put, deleterange, txn, compaction) as it is stored in the Raft log, its
// validation, the pre-check a route runs before proposing one, and how its answer is made.
//
// Stored shape (one JSON object per log entry):
//   { "kind": "etcd", "op": "put", "request": {"key": "Zm9v", "value": "YmFy"},
//     "proposedAt": 1732800000000, "session": { "clientId": "c1", "requestId": 7 } }
// `request` is the body as etcd's gateway decoded it (JSON, bytes in base64): the log keeps
// what the client sent, and every replica reads it with the same codec (etcd/codec/parse.ts),
// so a request that does not parse is ignored ("malformed") on every replica alike.
// `proposedAt` and `session` are as for a key/value command (command.ts).

import { z } from "zod";
import { SessionSchema, type Session } from "./command.ts";
import { EtcdError, invalidArgument } from "./etcd/errors.ts";
import { decodeBody } from "./etcd/codec/body.ts";
import { encodeError, type HeaderIds } from "./etcd/codec/encode.ts";
import {
  CompactionRequestSchema,
  DeleteRangeRequestSchema,
  parseRequest,
  PutRequestSchema,
  RangeRequestSchema,
  TxnRequestSchema,
} from "./etcd/codec/parse.ts";
import { handleKv, type KvPath } from "./etcd/gateway.ts";
import type { EtcdKv } from "./etcd/kv.ts";
import { checkDeleteRequest, checkPutRequest, checkRangeRequest, checkTxnRequest } from "./etcd/request-checks.ts";
import { checkIntervals } from "./etcd/txn-intervals.ts";
import type { EtcdAnswer } from "./results.ts";

/** Marks a log entry as an etcd write. */
export const ETCD_COMMAND_KIND = "etcd";

export const ETCD_WRITE_OPS = ["put", "deleterange", "txn", "compaction"] as const;
export type EtcdWriteOp = (typeof ETCD_WRITE_OPS)[number];

/**
 * etcd's default --max-request-bytes (1.5 MiB), measured on the request's JSON text. It bounds
 * a log entry, and so every value a put can store: one SQLite row holds at most 2 MB.
 */
export const MAX_ETCD_REQUEST_CHARS = 1.5 * 1024 * 1024;
const errRequestTooLarge = () => invalidArgument("etcdserver: request is too large");

const REQUEST_SCHEMAS: Record<EtcdWriteOp, z.ZodType<unknown>> = {
  put: PutRequestSchema,
  deleterange: DeleteRangeRequestSchema,
  txn: TxnRequestSchema,
  compaction: CompactionRequestSchema,
};

export const EtcdCommandSchema = z
  .object({
    kind: z.literal(ETCD_COMMAND_KIND),
    op: z.enum(ETCD_WRITE_OPS),
    request: z.unknown(),
    proposedAt: z.number(),
    session: SessionSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if ((JSON.stringify(c.request) ?? "").length > MAX_ETCD_REQUEST_CHARS) {
      ctx.addIssue({ code: "custom", message: `request over ${MAX_ETCD_REQUEST_CHARS} characters of JSON` });
      return;
    }
    const parsed = REQUEST_SCHEMAS[c.op].safeParse(c.request);
    if (!parsed.success) ctx.addIssue({ code: "custom", message: `request does not parse: ${parsed.error.issues[0]?.message ?? "bad request"}` });
  });
/** An etcd write as stored in the log. */
export type EtcdCommand = z.infer<typeof EtcdCommandSchema>;

/** Builds the log entry a leader proposes for an etcd write, stamped with its clock. */
export function makeEtcdCommand(op: EtcdWriteOp, request: unknown, proposedAt: number, session?: Session): EtcdCommand {
  const command: EtcdCommand = { kind: ETCD_COMMAND_KIND, op, request: request ?? null, proposedAt };
  return session === undefined ? command : { ...command, session: { clientId: session.clientId, requestId: session.requestId } };
}

export type ParsedEtcdCommand =
  | { readonly ok: true; readonly command: EtcdCommand }
  | { readonly ok: false; readonly reason: "malformed"; readonly message: string };

/** Validates a log entry that claims to be an etcd write (its `kind` is "etcd"). */
export function parseEtcdCommand(raw: unknown): ParsedEtcdCommand {
  const parsed = EtcdCommandSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: "malformed", message: z.prettifyError(parsed.error) };
  return { ok: true, command: parsed.data };
}

export const isEtcdCommandKind = (raw: unknown): boolean =>
  typeof raw === "object" && raw !== null && (raw as { kind?: unknown }).kind === ETCD_COMMAND_KIND;

export type EtcdWritePath = `/v3/kv/${EtcdWriteOp}`;

export type CheckedEtcdWrite =
  | { readonly ok: true; readonly op: EtcdWriteOp; readonly request: unknown }
  | { readonly ok: false; readonly answer: EtcdAnswer };

/**
 * What a route runs before proposing an etcd write: the body's text decoded as etcd's gateway
 * decodes it, parsed, and checked as etcd's gRPC layer checks it before Raft (empty keys, txn
 * size and duplicate writes). A request that fails is answered here, 400 and etcd's error,
 * without a log entry; one that passes is the `request` to propose. Checks that depend on the
 * store (a compacted revision, a lease) are made when the entry is applied.
 */
export function checkEtcdWrite(path: EtcdWritePath, bodyText: string): CheckedEtcdWrite {
  const op = path.slice("/v3/kv/".length) as EtcdWriteOp;
  try {
    if (bodyText.length > MAX_ETCD_REQUEST_CHARS) throw errRequestTooLarge();
    const request = decodeBody(bodyText);
    checkRequest(op, request);
    return { ok: true, op, request: request ?? null };
  } catch (e) {
    if (e instanceof EtcdError) return { ok: false, answer: { status: e.httpStatus, body: encodeError(e) } };
    throw e;
  }
}

export type CheckedEtcdRange =
  | { readonly ok: true; readonly request: unknown; readonly serializable: boolean }
  | { readonly ok: false; readonly answer: EtcdAnswer };

/**
 * What the range route runs before it reads: the body decoded, parsed and checked as for a
 * write (checkEtcdWrite), so a bad range is answered 400 without a read round; `serializable`
 * says whether any server may answer it from its own state. Checks that need the store (a
 * compacted or future revision) are made where it is read.
 */
export function checkEtcdRange(bodyText: string): CheckedEtcdRange {
  try {
    if (bodyText.length > MAX_ETCD_REQUEST_CHARS) throw errRequestTooLarge();
    const request = decodeBody(bodyText);
    const range = parseRequest(RangeRequestSchema, request);
    checkRangeRequest(range);
    return { ok: true, request: request ?? null, serializable: range.serializable };
  } catch (e) {
    if (e instanceof EtcdError) return { ok: false, answer: { status: e.httpStatus, body: encodeError(e) } };
    throw e;
  }
}

/** etcd's answer to a request body over MAX_ETCD_REQUEST_CHARS, for a route that stops reading it early. */
export function etcdRequestTooLarge(): EtcdAnswer {
  const e = errRequestTooLarge();
  return { status: e.httpStatus, body: encodeError(e) };
}

/** Parses `request` and makes etcd's checks before Raft; throws etcd's error. */
function checkRequest(op: EtcdWriteOp, request: unknown): void {
  switch (op) {
    case "put":
      return checkPutRequest(parseRequest(PutRequestSchema, request));
    case "deleterange":
      return checkDeleteRequest(parseRequest(DeleteRangeRequestSchema, request));
    case "txn": {
      const txn = parseRequest(TxnRequestSchema, request);
      checkTxnRequest(txn);
      checkIntervals(txn.success);
      checkIntervals(txn.failure);
      return;
    }
    case "compaction":
      parseRequest(CompactionRequestSchema, request);
      return;
  }
}

/** The ids only a server knows are added by the route (withHeaderIds); zero is left out, as jsonpb does. */
const NO_IDS: HeaderIds = { clusterId: 0, memberId: 0, raftTerm: 0 };

/** Answers an etcd request (a write from the log, or a local range) as the gateway does, header holding only `revision`. */
export function answerEtcd(kv: EtcdKv, path: KvPath, request: unknown): EtcdAnswer {
  return handleKv(kv, path, request, NO_IDS);
}

/**
 * The answer with its header completed as etcd writes it: cluster_id, member_id, revision,
 * raft_term, in that order, zero values left out. An error answer has no header and is
 * returned as it is.
 */
export function withHeaderIds(answer: EtcdAnswer, ids: HeaderIds): EtcdAnswer {
  const body = answer.body as Record<string, unknown> | null;
  if (body === null || typeof body !== "object" || !("header" in body)) return answer;
  const inner = (body.header ?? {}) as Record<string, unknown>;
  const header: Record<string, unknown> = {};
  const put = (name: string, v: unknown) => {
    const text = String(v ?? 0);
    if (text !== "0") header[name] = text;
  };
  put("cluster_id", ids.clusterId);
  put("member_id", ids.memberId);
  put("revision", inner.revision);
  put("raft_term", ids.raftTerm);
  return { status: answer.status, body: { ...body, header } };
}
