// etcd's KV API under each cluster (API.md, "etcd's API"): POST /clusters/{c}/v3/kv/range,
// /put, /deleterange, /txn, /compaction, answered as etcd 3.4's JSON gateway answers.
//
// A request is checked here first, as etcd checks it before Raft (src/kv/etcd-command.ts): a
// body that is too large, does not decode or breaks etcd's rules is answered 400 with etcd's
// error and never reaches the log. Then:
//   - a write is proposed to the leader through the log (leader finding, retries, deadline:
//     forward-request.ts, as for the /kv routes) and answered with what applying it said;
//     Client-Id / Request-Id make it exactly-once, as on the /kv routes;
//   - a range is linearizable by default: ReadIndex on the leader, then read from its state,
//     no log entry; `"serializable": true` is answered by the first server that answers, from
//     its own applied state (`?server=i` picks the server);
// and the server completes the answer's header (cluster_id, member_id, raft_term).
//
// When no answer comes, the answer is etcd's error shape, `{"error", "message", "code"}`:
//   - 503, code 14, "etcdserver: no leader": no leader took the request in time; it was not
//     applied (with exactly-once ids: this try was not; a retry with the same ids tells);
//   - 504, code 14, "etcdserver: request timed out": it may have been applied (etcd's own
//     text for that case, which etcd answers with 503); retry with the same ids to learn
//     its result.
// An unknown cluster is a plain 404, as everywhere in the API.
import type { Context, Hono } from "hono";
import { checkEtcdRange, checkEtcdWrite, etcdRequestTooLarge, MAX_ETCD_REQUEST_CHARS, parseSessionHeaders, type EtcdAnswer, type EtcdWriteOp } from "../../kv/index.ts";
import type { NodeId } from "../../raft/types.ts";
import type { KvAnswer } from "../../server/index.ts";
import { clientOnly } from "../access.ts";
import { Cluster } from "../cluster.ts";
import type { AppEnv } from "../env.ts";
import { HttpError } from "../errors.ts";
import { forwardRequest, type Finished } from "../forward-request.ts";
import { leaderHintOf } from "../kv-forward.ts";
import { reach } from "../reach.ts";
import { resource } from "../resource.ts";
import { clusterName, serverIdFrom } from "../validate.ts";
import { timeoutParam } from "./kv.ts";

/** gRPC codes the routes' own answers carry (etcd's answers carry their own). */
const INVALID_ARGUMENT = 3;
const FAILED_PRECONDITION = 9;
const UNAVAILABLE = 14;

const WRITES: readonly EtcdWriteOp[] = ["put", "deleterange", "txn", "compaction"];

export function etcdRoutes(app: Hono<AppEnv>): void {
  resource(app, "/clusters/:c/v3/kv/range", { POST: [clientOnly, range] });
  for (const op of WRITES) resource(app, `/clusters/:c/v3/kv/${op}`, { POST: [clientOnly, (c) => write(c, op)] });
}

async function write(c: Context<AppEnv>, op: EtcdWriteOp): Promise<Response> {
  const name = clusterName(c);
  const text = await bodyText(c);
  if (text === null) return etcdAnswer(c, etcdRequestTooLarge());
  const checked = checkEtcdWrite(`/v3/kv/${op}`, text);
  if (!checked.ok) return etcdAnswer(c, checked.answer);
  const session = sessionOf(c);
  const out = await forwardRequest(c.env, {
    name,
    server: c.req.query("server"),
    timeoutMs: timeoutParam(c),
    read: false,
    exactlyOnce: session !== undefined,
    send: (s, epoch, waitMs) => s.etcdWrite(epoch, op, checked.request, session, waitMs),
  });
  return finished(c, out);
}

async function range(c: Context<AppEnv>): Promise<Response> {
  const name = clusterName(c);
  const text = await bodyText(c);
  if (text === null) return etcdAnswer(c, etcdRequestTooLarge());
  const checked = checkEtcdRange(text);
  if (!checked.ok) return etcdAnswer(c, checked.answer);
  // A read carries no ids; bad ones are still refused, as on every route.
  sessionOf(c);
  const server = c.req.query("server");
  if (checked.serializable) return serializableRange(c, name, checked.request, server, timeoutParam(c));
  const out = await forwardRequest(c.env, {
    name,
    server,
    timeoutMs: timeoutParam(c),
    read: true,
    exactlyOnce: false,
    send: (s, epoch, waitMs) => s.etcdRange(epoch, checked.request, waitMs),
  });
  return finished(c, out);
}

/**
 * A serializable range: the first member that answers reads its own applied state: the one
 * `?server=` names, else the leader this isolate last heard of (it has applied what it last
 * answered here, so a client sees its own writes while that leader lasts), then the others in
 * id order. No quorum round: it may be behind, as etcd's serializable reads may. A
 * configuration the servers say is stale is read afresh once.
 */
async function serializableRange(c: Context<AppEnv>, name: string, request: unknown, server: string | undefined, timeoutMs: number): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let cluster = await Cluster.openCached(c.env, name);
  if (server !== undefined && /^\d{1,9}$/.test(server) && !cluster.isMember(Number(server))) cluster = await Cluster.open(c.env, name);
  for (let fresh = false; ; fresh = true) {
    const order: NodeId[] = server === undefined ? byHint(cluster.members, leaderHintOf(cluster)) : [serverIdFrom(server, cluster.members)];
    let stale = false;
    for (const id of order) {
      if (Date.now() >= deadline) break;
      const epoch = cluster.config.epoch;
      const answer: KvAnswer<EtcdAnswer> = await reach(cluster, id, (s) => s.etcdLocalRange(epoch, request)).catch(() => ({ kind: "not_leader", leader: null }) as const);
      if (answer.kind === "ok") {
        c.header("Raft-Server", String(id));
        c.header("Raft-Index", String(answer.index));
        return etcdAnswer(c, answer.result);
      }
      if (answer.kind === "other_cluster") {
        stale = true;
        break;
      }
    }
    if (!stale || fresh) break;
    cluster = await Cluster.open(c.env, name);
  }
  const why = server === undefined ? "no server of the cluster answered" : `server ${server} did not answer (it is down)`;
  return etcdError(c, 503, UNAVAILABLE, "etcdserver: no leader", `${why}; nothing was read`);
}

/** `members` with `first` (if one of them) moved to the front. */
function byHint(members: readonly NodeId[], first: NodeId | null): NodeId[] {
  return first !== null && members.includes(first) ? [first, ...members.filter((m) => m !== first)] : [...members];
}

/** A forwarded request's outcome as etcd's gateway would answer it (see the top of the file). */
function finished(c: Context<AppEnv>, out: Finished<EtcdAnswer>): Response {
  switch (out.status) {
    case 200:
      c.header("Raft-Server", String(out.server));
      c.header("Raft-Index", String(out.index));
      return etcdAnswer(c, out.result);
    case 421:
      return c.json({ error: "not_leader", message: `server ${out.pinned} is not the leader`, leader: out.leader, code: UNAVAILABLE }, 421);
    case 400:
      // The exactly-once refusals (stale_request, result_forgotten): the /kv routes' errors,
      // which the typed client reads, with a gRPC code for etcd's clients.
      return c.json({ ...out.extra, error: out.code, message: out.message, code: out.code === "bad_request" ? INVALID_ARGUMENT : FAILED_PRECONDITION }, 400);
    case 413:
      return etcdAnswer(c, etcdRequestTooLarge());
    case 503:
      return etcdError(c, 503, UNAVAILABLE, "etcdserver: no leader", out.message);
    case 504:
      return etcdError(c, 504, UNAVAILABLE, "etcdserver: request timed out", out.message);
  }
}

function etcdAnswer(c: Context<AppEnv>, answer: EtcdAnswer): Response {
  return c.json(answer.body as object, answer.status as 200);
}

/** etcd's error shape (the same text in error and message), and what the project knows besides in `detail`. */
function etcdError(c: Context<AppEnv>, status: 503 | 504, code: number, text: string, detail: string): Response {
  return c.json({ error: text, message: text, code, detail }, status);
}

/** The exactly-once ids, or undefined; bad ones are a 400 (as on the /kv routes), with a gRPC code. */
function sessionOf(c: Context<AppEnv>) {
  const session = parseSessionHeaders(c.req.header("Client-Id"), c.req.header("Request-Id"));
  if (!session.ok) throw new HttpError(session.status, session.error, session.message, {}, { code: INVALID_ARGUMENT });
  return session.session;
}

/**
 * The body as text, or null when it is over etcd's request limit (MAX_ETCD_REQUEST_CHARS,
 * counted here in bytes): a declared length over it is refused unread, and a body without
 * one is read only as far as the limit. Bytes that are not UTF-8 become U+FFFD, as Go's JSON
 * decoder reads them.
 */
async function bodyText(c: Context<AppEnv>): Promise<string | null> {
  const declared = Number(c.req.header("Content-Length") ?? "0");
  if (declared > MAX_ETCD_REQUEST_CHARS) return null;
  const body = c.req.raw.body;
  if (body === null) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ETCD_REQUEST_CHARS) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}
