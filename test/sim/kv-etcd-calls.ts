// The etcd side of the simulated key/value workload (kv-workload.ts): the requests a client
// makes through etcd's JSON gateway (range, put, deleterange, txn, compaction), and their
// answers read back for the revision checker (test/lin/revisions.ts).
//
// A request is built as a user of src/client builds it and encoded by the client's own codec
// (the JSON the gateway receives); the history holds what the server's parser reads from that
// JSON (src/kv/etcd/codec/parse.ts), and the answer's JSON is decoded by the client's decoder.
// So the check sees what travels, not what the generator meant.
//
// Values are unique ("e<client>.<seq>", with ".s"/".f" for a txn's two branches) so that the
// checker can place a write whose answer was lost once any answer shows its value. Keys are
// "e/0".."e/n-1", apart from the /kv clients' keys ("k0"...): the per-key check of the /kv
// operations sees only its own keys. Ranges also cover every key ("\0" forms), /kv keys
// included: the /kv writes are in the revision history too (kv-workload.ts).

import {
  decodeCompaction,
  decodeDeleteRange,
  decodePut,
  decodeRange,
  decodeTxn,
  encodeCompaction,
  encodeDeleteRange,
  encodePut,
  encodeRange,
  encodeTxn,
} from "../../src/client/etcd-codec.ts";
import type * as C from "../../src/client/etcd-types.ts";
import type { EtcdWriteOp } from "../../src/kv/etcd-command.ts";
import {
  DeleteRangeRequestSchema,
  parseRequest,
  PutRequestSchema,
  RangeRequestSchema,
  TxnRequestSchema,
} from "../../src/kv/etcd/codec/parse.ts";
import type { Header, KeyValue, ResponseOp } from "../../src/kv/etcd/types.ts";
import type { EtcdRequest } from "../lin/etcd-model.ts";
import type { Rng } from "./prng.ts";

/** One etcd call of a client: a write through the log, or a range (linearizable or serializable). */
export type EtcdCall =
  | { readonly kind: "write"; readonly op: Exclude<EtcdWriteOp, "compaction">; readonly body: Record<string, unknown>; readonly request: EtcdRequest }
  | { readonly kind: "compaction"; readonly revision: number; readonly body: Record<string, unknown> }
  | { readonly kind: "range"; readonly body: Record<string, unknown>; readonly request: Extract<EtcdRequest, { kind: "range" }> };

/** What a client last saw of a key (from any answer): the operands of its next compares. */
interface Seen {
  readonly value: string;
  readonly version: number;
  readonly create: number;
  readonly mod: number;
}

/** The etcd keys of a run. */
export function etcdKeys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `e/${i}`);
}

/** A client's memory of the store, shared by the workload's etcd clients (it only steers what they ask). */
export class EtcdKnowledge {
  /** The newest header revision any answer showed. */
  revision = 1;
  private readonly seen = new Map<string, Seen | null>();

  learn(resp: ResponseOp): void {
    const header = headerOf(resp);
    if (header.revision !== null) this.revision = Math.max(this.revision, header.revision);
    if (resp.kind === "range") for (const kv of resp.range.kvs) this.note(kv);
    if (resp.kind === "txn") for (const r of resp.txn.responses) this.learn(r);
  }

  private note(kv: KeyValue): void {
    if (kv.value.length === 0) return; // keys_only
    this.seen.set(text(kv.key), { value: text(kv.value), version: kv.version, create: kv.createRevision, mod: kv.modRevision });
  }

  get(key: string): Seen | null {
    return this.seen.get(key) ?? null;
  }
}

/** The range shapes a client asks for: one key, a prefix, a span, every key from one on, every key. */
function rangeOf(rng: Rng, keys: readonly string[]): { key: string; rangeEnd?: string } {
  const roll = rng.next();
  if (roll < 0.4) return { key: rng.pick(keys) };
  if (roll < 0.6) return { key: "e/", rangeEnd: "e0" }; // the prefix "e/": '/' + 1 is '0'
  if (roll < 0.75) return { key: "e/1", rangeEnd: "e/3" };
  if (roll < 0.9) return { key: rng.pick(keys), rangeEnd: "\0" };
  return { key: "\0", rangeEnd: "\0" };
}

/** The next call of etcd client `client` (its `seq`-th). */
export function nextEtcdCall(rng: Rng, client: number, seq: number, keys: readonly string[], known: EtcdKnowledge): EtcdCall {
  const value = `e${client}.${seq}`;
  const roll = rng.next();
  if (roll < 0.3) return rangeCall(rng, keys, known);
  if (roll < 0.55) {
    const put: C.PutRequest = { key: rng.pick(keys), value, ...(rng.chance(0.5) ? { prevKv: true } : {}) };
    return write("put", encodePut(put));
  }
  if (roll < 0.65) {
    // Deletes stay within "e/": a range past it would delete the /kv clients' keys, whose per-key check knows only /kv operations.
    const where = rng.chance(0.6) ? { key: rng.pick(keys) } : rng.chance(0.5) ? { key: "e/", rangeEnd: "e0" } : { key: "e/1", rangeEnd: "e/3" };
    const del: C.DeleteRangeRequest = { ...where, ...(rng.chance(0.5) ? { prevKv: true } : {}) };
    return write("deleterange", encodeDeleteRange(del));
  }
  if (roll < 0.95) return write("txn", encodeTxn(txnOf(rng, keys, known, value)));
  // Compaction: somewhere in the recent past (at or below an already compacted revision is etcd's error, above the store's its future error).
  const revision = Math.max(1, known.revision - rng.int(0, 25));
  return { kind: "compaction", revision, body: encodeCompaction({ revision }) };
}

function rangeCall(rng: Rng, keys: readonly string[], known: EtcdKnowledge): EtcdCall {
  const r: C.RangeRequest = {
    ...rangeOf(rng, keys),
    ...(rng.chance(0.25) ? { limit: rng.int(1, 3) } : {}),
    // Historical reads, some of them below a compaction: they must get etcd's compacted error.
    ...(rng.chance(0.25) ? { revision: Math.max(1, known.revision - rng.int(0, 30)) } : {}),
    ...(rng.chance(0.15) ? { serializable: true } : {}),
    ...(rng.chance(0.15) ? { sortOrder: rng.pick(["ASCEND", "DESCEND"] as const), sortTarget: rng.pick(["KEY", "MOD", "VERSION", "CREATE"] as const) } : {}),
    ...(rng.chance(0.1) ? { keysOnly: true } : rng.chance(0.05) ? { countOnly: true } : {}),
  };
  const body = encodeRange(r);
  return { kind: "range", body, request: { kind: "range", range: parseRequest(RangeRequestSchema, body) } };
}

/** A txn comparing one key with what was last seen of it; each branch writes distinct keys (etcd refuses a key written twice). */
function txnOf(rng: Rng, keys: readonly string[], known: EtcdKnowledge, value: string): C.TxnRequest {
  const key = rng.pick(keys);
  const seen = known.get(key);
  const result = rng.chance(0.7) ? "EQUAL" : rng.pick(["GREATER", "LESS", "NOT_EQUAL"] as const);
  const target = rng.pick(["VERSION", "CREATE", "MOD", "VALUE"] as const);
  const compare: C.Compare =
    target === "VERSION"
      ? { key, result, target, version: seen?.version ?? 0 }
      : target === "CREATE"
        ? { key, result, target, createRevision: seen?.create ?? 0 }
        : target === "MOD"
          ? { key, result, target, modRevision: seen?.mod ?? 0 }
          : { key, result, target, value: seen?.value ?? value };
  const other = rng.pick(keys.filter((k) => k !== key));
  const branch = (suffix: string): C.RequestOp[] => {
    const ops: C.RequestOp[] = [rng.chance(0.8) ? { put: { key, value: `${value}.${suffix}`, ...(rng.chance(0.5) ? { prevKv: true } : {}) } } : { deleteRange: { key, prevKv: true } }];
    const roll = rng.next();
    if (roll < 0.35) ops.push({ range: { ...rangeOf(rng, keys), ...(rng.chance(0.3) ? { limit: 1 } : {}) } });
    else if (roll < 0.6) ops.push({ put: { key: other, value: `${value}.${suffix}2` } });
    else if (roll < 0.75) ops.push({ deleteRange: { key: other } });
    return rng.chance(0.5) ? ops : ops.reverse();
  };
  return { compare: [compare], success: branch("s"), failure: rng.chance(0.8) ? branch("f") : [{ range: { key } }] };
}

function write(op: "put" | "deleterange" | "txn", body: Record<string, unknown>): EtcdCall {
  const request: EtcdRequest =
    op === "put"
      ? { kind: "put", put: parseRequest(PutRequestSchema, body) }
      : op === "deleterange"
        ? { kind: "deleteRange", deleteRange: parseRequest(DeleteRangeRequestSchema, body) }
        : { kind: "txn", txn: parseRequest(TxnRequestSchema, body) };
  return { kind: "write", op, body, request };
}

/** The JSON answer of a 200 read back as the revision checker's response (the client's decoder, then the server's types). */
export function decodeAnswer(request: EtcdRequest, body: unknown): ResponseOp {
  switch (request.kind) {
    case "range":
      return { kind: "range", range: rangeResp(decodeRange(body)) };
    case "put":
      return { kind: "put", put: putResp(decodePut(body)) };
    case "deleteRange":
      return { kind: "deleteRange", deleteRange: deleteResp(decodeDeleteRange(body)) };
    case "txn":
      return { kind: "txn", txn: txnResp(decodeTxn(body)) };
  }
}

/** The compaction's answer header revision (the answer is checked to parse). */
export function decodeCompactionRevision(body: unknown): number {
  return decodeCompaction(body).header.revision;
}

const header = (h: C.ResponseHeader): Header => ({ revision: h.revision });

const keyValue = (kv: C.KeyValue): KeyValue => ({
  key: kv.key,
  value: kv.value,
  createRevision: kv.createRevision,
  modRevision: kv.modRevision,
  version: kv.version,
  lease: Number(kv.lease),
});

const rangeResp = (r: C.RangeResponse) => ({ header: header(r.header), kvs: r.kvs.map(keyValue), more: r.more, count: r.count });
const putResp = (r: C.PutResponse) => ({ header: header(r.header), prevKv: r.prevKv === null ? null : keyValue(r.prevKv) });
const deleteResp = (r: C.DeleteRangeResponse) => ({ header: header(r.header), deleted: r.deleted, prevKvs: r.prevKvs.map(keyValue) });

function txnResp(r: C.TxnResponse) {
  return {
    header: header(r.header),
    succeeded: r.succeeded,
    responses: r.responses.map((op): ResponseOp => {
      switch (op.kind) {
        case "range":
          return { kind: "range", range: rangeResp(op.range) };
        case "put":
          return { kind: "put", put: putResp(op.put) };
        case "deleteRange":
          return { kind: "deleteRange", deleteRange: deleteResp(op.deleteRange) };
        case "txn":
          // A nested txn's header is empty in etcd (the workload sends none; read as the model has it).
          return { kind: "txn", txn: { ...txnResp(op.txn), header: { revision: null } } };
      }
    }),
  };
}

function headerOf(resp: ResponseOp): Header {
  switch (resp.kind) {
    case "range":
      return resp.range.header;
    case "put":
      return resp.put.header;
    case "deleteRange":
      return resp.deleteRange.header;
    case "txn":
      return resp.txn.header;
  }
}

const decoder = new TextDecoder();
const text = (b: Uint8Array): string => decoder.decode(b);
