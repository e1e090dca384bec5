// The key/value command as it is stored in the Raft log, and its validation.
//
// A command reaches the state machine from the log as unknown JSON (the raw submit route
// lets anyone put any JSON value there, and entries outlive code versions), so every
// command is parsed by these schemas before it is applied. Parsing is deterministic, so
// every replica accepts or ignores the same entries.
//
// Stored shape (one JSON object per log entry):
//   { "kind": "kv", "op": "put", "key": "k", "value": "v",
//     "proposedAt": 1732800000000, "session": { "clientId": "c1", "requestId": 7 } }
// `proposedAt` is the leader's clock (ms) when it proposed the entry: the only notion of
// time the state machine has (it expires idle sessions with it). `session` is present
// when the request carried Client-Id / Request-Id headers.

import { z } from "zod";
import { fitsUtf8Bytes, isWellFormedText, MAX_KEY_BYTES, MAX_VALUE_BYTES } from "./limits.ts";

/** Marks a log entry as a key/value command (other entries — raw submits — are ignored). */
export const KV_COMMAND_KIND = "kv";

/** Why a string with a lone surrogate is refused (request.ts answers it as a 400). */
export const NOT_UTF8 = "holds a lone surrogate, which has no UTF-8 form (keys and values are stored as UTF-8)";

export const KeySchema = z
  .string()
  .min(1, "key must not be empty")
  .refine((k) => fitsUtf8Bytes(k, MAX_KEY_BYTES), `key longer than ${MAX_KEY_BYTES} bytes`)
  .refine(isWellFormedText, `key ${NOT_UTF8}`);

export const ValueSchema = z
  .string()
  .refine((v) => fitsUtf8Bytes(v, MAX_VALUE_BYTES), `value longer than ${MAX_VALUE_BYTES} bytes`)
  .refine(isWellFormedText, `value ${NOT_UTF8}`);

/** The Client-Id header: 1–64 characters. */
export const ClientIdSchema = z.string().min(1).max(64);
/** The Request-Id header, as a number: an integer ≥ 0 that JSON and JS carry exactly. */
export const RequestIdSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const SessionSchema = z.object({ clientId: ClientIdSchema, requestId: RequestIdSchema });
export type Session = z.infer<typeof SessionSchema>;

export const GetOperationSchema = z.object({ op: z.literal("get"), key: KeySchema });
export const PutOperationSchema = z.object({ op: z.literal("put"), key: KeySchema, value: ValueSchema });
export const CasOperationSchema = z.object({
  op: z.literal("cas"),
  key: KeySchema,
  compare: ValueSchema,
  value: ValueSchema,
});
export const AppendOperationSchema = z.object({ op: z.literal("append"), key: KeySchema, value: ValueSchema });
export const DeleteOperationSchema = z.object({ op: z.literal("delete"), key: KeySchema });

export const KvOperationSchema = z.discriminatedUnion("op", [
  GetOperationSchema,
  PutOperationSchema,
  CasOperationSchema,
  AppendOperationSchema,
  DeleteOperationSchema,
]);
/** What a client asked for, without the log envelope. */
export type KvOperation = z.infer<typeof KvOperationSchema>;
export type KvOpName = KvOperation["op"];

const envelope = {
  kind: z.literal(KV_COMMAND_KIND),
  proposedAt: z.number(), // zod 4 numbers are finite: NaN and ±Infinity are refused
  session: SessionSchema.optional(),
};

export const KvCommandSchema = z.discriminatedUnion("op", [
  GetOperationSchema.extend(envelope),
  PutOperationSchema.extend(envelope),
  CasOperationSchema.extend(envelope),
  AppendOperationSchema.extend(envelope),
  DeleteOperationSchema.extend(envelope),
]);
/** A key/value command as stored in the log. */
export type KvCommand = z.infer<typeof KvCommandSchema>;

/** Builds the log entry a leader proposes for `operation`, stamped with its clock. */
export function makeKvCommand(operation: KvOperation, proposedAt: number, session?: Session): KvCommand {
  const command = { ...operation, kind: KV_COMMAND_KIND, proposedAt } as KvCommand;
  return session === undefined ? command : { ...command, session: { clientId: session.clientId, requestId: session.requestId } };
}

export type ParsedCommand =
  | { readonly ok: true; readonly command: KvCommand }
  | { readonly ok: false; readonly reason: "not_kv" | "malformed"; readonly message: string };

/**
 * Validates a log entry's command. `not_kv` means the entry is not a key/value command at
 * all (a raw submit such as `42`); `malformed` means it claims to be one but is invalid.
 * Both are skipped by the state machine.
 */
export function parseKvCommand(raw: unknown): ParsedCommand {
  if (typeof raw !== "object" || raw === null || (raw as { kind?: unknown }).kind !== KV_COMMAND_KIND) {
    return { ok: false, reason: "not_kv", message: "not a key/value command" };
  }
  const parsed = KvCommandSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: "malformed", message: z.prettifyError(parsed.error) };
  return { ok: true, command: parsed.data };
}

/** Just the operation part of a command (what the linearizability model sees). */
export function operationOf(command: KvCommand): KvOperation {
  switch (command.op) {
    case "get":
      return { op: "get", key: command.key };
    case "put":
      return { op: "put", key: command.key, value: command.value };
    case "cas":
      return { op: "cas", key: command.key, compare: command.compare, value: command.value };
    case "append":
      return { op: "append", key: command.key, value: command.value };
    case "delete":
      return { op: "delete", key: command.key };
  }
}
