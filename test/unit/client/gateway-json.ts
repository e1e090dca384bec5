// Test helpers that go the other way from src/client/etcd-codec.ts, written independently of it:
//  - `typedRequest`: a request body recorded from etcd (test/etcd/fixtures) as the typed
//    request an EtcdClient user would write, if the body is in the gateway's canonical form
//    (known proto field names, int64 as decimal strings, enums by name, valid base64, objects
//    where messages go); else null. Sending the typed request must give back the recorded body.
//  - `gatewayAnswer`: a decoded answer written back as etcd's gateway writes it (zero values
//    omitted, int64 as strings, bytes in base64). Decoding then re-encoding etcd's answer must
//    give etcd's answer.
import type {
  Compare,
  DeleteRangeResponse,
  KeyValue,
  PutResponse,
  RangeResponse,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  TxnResponse,
} from "../../../src/client/etcd-types.ts";

type Json = Record<string, unknown>;

class NotCanonical extends Error {}

const SORT_ORDERS = ["NONE", "ASCEND", "DESCEND"];
const SORT_TARGETS = ["KEY", "VERSION", "CREATE", "MOD", "VALUE"];
const RESULTS = ["EQUAL", "GREATER", "LESS", "NOT_EQUAL"];
const TARGETS = ["VERSION", "CREATE", "MOD", "VALUE", "LEASE"];

type Kind = "bytes" | "int" | "bool" | "lease" | string[];

function read(kind: Kind, v: unknown): unknown {
  if (kind === "bytes") {
    if (typeof v !== "string" || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v)) throw new NotCanonical();
    return Uint8Array.from(Buffer.from(v, "base64"));
  }
  if (kind === "int") {
    if (typeof v !== "string" || !/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v)) || String(Number(v)) !== v) throw new NotCanonical();
    return Number(v);
  }
  if (kind === "lease") {
    if (typeof v !== "string" || !/^-?\d{1,19}$/.test(v)) throw new NotCanonical();
    return v;
  }
  if (kind === "bool") {
    if (typeof v !== "boolean") throw new NotCanonical();
    return v;
  }
  if (typeof v !== "string" || !kind.includes(v)) throw new NotCanonical();
  return v;
}

/** Reads a message's fields by proto name into camelCase; any other field is not canonical. */
function message(v: unknown, shape: Record<string, Kind>): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new NotCanonical();
  const out: Json = {};
  for (const [name, value] of Object.entries(v)) {
    const kind = shape[name];
    if (kind === undefined) throw new NotCanonical();
    out[name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = read(kind, value);
  }
  return out;
}

const RANGE: Record<string, Kind> = {
  key: "bytes",
  range_end: "bytes",
  limit: "int",
  revision: "int",
  sort_order: SORT_ORDERS,
  sort_target: SORT_TARGETS,
  serializable: "bool",
  keys_only: "bool",
  count_only: "bool",
  min_mod_revision: "int",
  max_mod_revision: "int",
  min_create_revision: "int",
  max_create_revision: "int",
};
const PUT: Record<string, Kind> = { key: "bytes", value: "bytes", lease: "lease", prev_kv: "bool", ignore_value: "bool", ignore_lease: "bool" };
const DELETE: Record<string, Kind> = { key: "bytes", range_end: "bytes", prev_kv: "bool" };
const COMPARE: Record<string, Kind> = {
  result: RESULTS,
  target: TARGETS,
  key: "bytes",
  range_end: "bytes",
  version: "int",
  create_revision: "int",
  mod_revision: "int",
  value: "bytes",
  lease: "lease",
};
const OPERAND: Record<string, string> = { VERSION: "version", CREATE: "createRevision", MOD: "modRevision", VALUE: "value", LEASE: "lease" };

/** A compare the client can write: result, target, key and exactly the target's operand. */
function compare(v: unknown): Compare {
  const c = message(v, COMPARE);
  if (c.result === undefined || c.target === undefined || c.key === undefined) throw new NotCanonical();
  const operands = Object.keys(c).filter((k) => !["result", "target", "key", "rangeEnd"].includes(k));
  if (operands.length !== 1 || operands[0] !== OPERAND[c.target as string]) throw new NotCanonical();
  return c as unknown as Compare;
}

function requestOp(v: unknown): RequestOp {
  if (typeof v !== "object" || v === null || Array.isArray(v) || Object.keys(v).length !== 1) throw new NotCanonical();
  const [name, body] = Object.entries(v)[0]!;
  switch (name) {
    case "request_range":
      return { range: range(body) };
    case "request_put":
      return { put: put(body) };
    case "request_delete_range":
      return { deleteRange: deleteRange(body) };
    case "request_txn":
      return { txn: txn(body) };
  }
  throw new NotCanonical();
}

function withKey(m: Json): Json {
  if (m.key === undefined) throw new NotCanonical(); // the client's types require a key
  return m;
}

const range = (v: unknown) => withKey(message(v, RANGE)) as never;
const put = (v: unknown) => withKey(message(v, PUT)) as never;
const deleteRange = (v: unknown) => withKey(message(v, DELETE)) as never;

function list<T>(v: unknown, each: (x: unknown) => T): T[] {
  if (!Array.isArray(v)) throw new NotCanonical();
  return v.map(each);
}

function txn(v: unknown): never {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new NotCanonical();
  const out: Json = {};
  for (const [name, value] of Object.entries(v)) {
    if (name === "compare") out.compare = list(value, compare);
    else if (name === "success" || name === "failure") out[name] = list(value, requestOp);
    else throw new NotCanonical();
  }
  return out as never;
}

export type Route = "range" | "put" | "deleterange" | "txn" | "compaction";

/** The typed request for a recorded body, or null if the body is not in canonical form. */
export function typedRequest(route: Route, body: unknown): unknown {
  try {
    switch (route) {
      case "range":
        return range(body);
      case "put":
        return put(body);
      case "deleterange":
        return deleteRange(body);
      case "txn":
        return txn(body);
      case "compaction": {
        const c = message(body, { revision: "int", physical: "bool" });
        if (c.revision === undefined) throw new NotCanonical();
        return c;
      }
    }
  } catch (error) {
    if (error instanceof NotCanonical) return null;
    throw error;
  }
}

// ---- answers back to the gateway's JSON ----

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");

function setInt(out: Json, name: string, n: number | string): void {
  if (String(n) !== "0") out[name] = String(n);
}

function header(h: ResponseHeader): Json {
  const out: Json = {};
  setInt(out, "cluster_id", h.clusterId);
  setInt(out, "member_id", h.memberId);
  setInt(out, "revision", h.revision);
  setInt(out, "raft_term", h.raftTerm);
  return out;
}

function keyValue(kv: KeyValue): Json {
  const out: Json = {};
  if (kv.key.length > 0) out.key = b64(kv.key);
  setInt(out, "create_revision", kv.createRevision);
  setInt(out, "mod_revision", kv.modRevision);
  setInt(out, "version", kv.version);
  if (kv.value.length > 0) out.value = b64(kv.value);
  setInt(out, "lease", kv.lease);
  return out;
}

function rangeAnswer(r: RangeResponse): Json {
  const out: Json = { header: header(r.header) };
  if (r.kvs.length > 0) out.kvs = r.kvs.map(keyValue);
  if (r.more) out.more = true;
  setInt(out, "count", r.count);
  return out;
}

function putAnswer(r: PutResponse): Json {
  return r.prevKv === null ? { header: header(r.header) } : { header: header(r.header), prev_kv: keyValue(r.prevKv) };
}

function deleteAnswer(r: DeleteRangeResponse): Json {
  const out: Json = { header: header(r.header) };
  setInt(out, "deleted", r.deleted);
  if (r.prevKvs.length > 0) out.prev_kvs = r.prevKvs.map(keyValue);
  return out;
}

function responseOp(op: ResponseOp): Json {
  switch (op.kind) {
    case "range":
      return { response_range: rangeAnswer(op.range) };
    case "put":
      return { response_put: putAnswer(op.put) };
    case "deleteRange":
      return { response_delete_range: deleteAnswer(op.deleteRange) };
    case "txn":
      return { response_txn: txnAnswer(op.txn) };
  }
}

function txnAnswer(r: TxnResponse): Json {
  const out: Json = { header: header(r.header) };
  if (r.succeeded) out.succeeded = true;
  if (r.responses.length > 0) out.responses = r.responses.map(responseOp);
  return out;
}

/** A decoded answer of `route` as etcd's gateway writes it. */
export function gatewayAnswer(route: Route, answer: unknown): Json {
  switch (route) {
    case "range":
      return rangeAnswer(answer as RangeResponse);
    case "put":
      return putAnswer(answer as PutResponse);
    case "deleterange":
      return deleteAnswer(answer as DeleteRangeResponse);
    case "txn":
      return txnAnswer(answer as TxnResponse);
    case "compaction":
      return { header: header((answer as { header: ResponseHeader }).header) };
  }
}
