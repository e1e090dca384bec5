// The key/value routes of API.md. Validation and size limits come from src/kv (pure and
// tested there); leader finding and retries from kv-forward.ts. The answer leaves only
// after the operation is committed and applied.
import type { Context, Hono } from "hono";
import { parseKvRequest, parseSessionHeaders, type KvOpName } from "../../kv/index.ts";
import { clientOnly } from "../access.ts";
import { Cluster } from "../cluster.ts";
import type { AppEnv } from "../env.ts";
import { HttpError, badRequest } from "../errors.ts";
import { forwardKv, type KvTrace } from "../kv-forward.ts";
import { resource } from "../resource.ts";
import { clusterName, readJson, serverIdFrom } from "../validate.ts";

/** How long the coordinator keeps trying by default; `?timeoutMs=` overrides it (1..60000). */
export const DEFAULT_KV_TIMEOUT_MS = 3000;

export function kvRoutes(app: Hono<AppEnv>): void {
  resource(app, "/clusters/:c/kv/:key", {
    GET: [clientOnly, (c) => handle(c, "get")],
    PUT: [clientOnly, (c) => handle(c, "put")],
  });
  resource(app, "/clusters/:c/kv/:key/cas", { POST: [clientOnly, (c) => handle(c, "cas")] });
  resource(app, "/clusters/:c/kv/:key/append", { POST: [clientOnly, (c) => handle(c, "append")] });
}

async function handle(c: Context<AppEnv>, op: KvOpName): Promise<Response> {
  const name = clusterName(c);
  const request = parseKvRequest(op, keyParam(c), op === "get" ? undefined : await readJson(c));
  if (!request.ok) throw new HttpError(request.status, request.error, request.message);
  const session = parseSessionHeaders(c.req.header("Client-Id"), c.req.header("Request-Id"));
  if (!session.ok) throw new HttpError(session.status, session.error, session.message);
  const timeoutMs = timeoutParam(c);
  // The request's own deadline, whatever it is retried in (below).
  const started = Date.now();
  const deadline = started + timeoutMs;
  const readIndex = consistencyParam(c) === "readindex" && op === "get";
  const server = c.req.query("server");
  // The cached configuration first. If the servers (or the registry) say it is not theirs,
  // the registry is read afresh: an incarnation created after this request started is not
  // the one the request belongs to (its own was deleted while it waited), and the request
  // ends there: 504 for a write (it may have been applied before the deletion), 503 for a
  // read. An incarnation that was there before the request started means the cached record
  // was stale: the request is tried once more there, unless an attempt may already have
  // applied it in the incarnation the stale record named (504: that outcome stays unknown,
  // and the operation is not carried into another incarnation of the cluster).
  const trace: KvTrace = { mayHaveApplied: false };
  let cluster = await Cluster.openCached(c.env, name);
  // A server the cached record does not list may have joined through another isolate.
  if (server !== undefined && /^\d{1,9}$/.test(server) && !cluster.isMember(Number(server))) cluster = await Cluster.open(c.env, name);
  for (let retried = false; ; retried = true) {
    const pinned = server === undefined ? null : serverIdFrom(server, cluster.members);
    const out = await forwardKv(cluster, { operation: request.operation, session: session.session, readIndex, pinned, deadline }, trace);
    switch (out.status) {
      case 200:
        c.header("Raft-Server", String(out.server));
        // For a retry answered as a duplicate, the entry where the write applied (pending.ts).
        c.header("Raft-Index", String(out.index));
        return c.json(out.result);
      case 421:
        return c.json({ error: "not_leader", message: `server ${pinned} is not the leader`, leader: out.leader }, 421);
      case 400:
        throw new HttpError(400, out.code, out.message, {}, out.extra);
      case 413:
        throw new HttpError(413, "too_large", out.message);
      case 503:
        throw unavailable(session.session !== undefined, `no leader took the operation within ${timeoutMs} ms`);
      case 504:
        throw new HttpError(504, "timeout", "the operation's outcome is unknown: retry with the same Client-Id and Request-Id");
      case "stale_config": {
        // (A read changes nothing: whatever its attempts did, it may be asked again.)
        const read = op === "get";
        if (trace.mayHaveApplied && !read) {
          throw new HttpError(504, "timeout", `cluster ${name} was deleted or re-created while the operation was in flight; its outcome in the old cluster is unknown`);
        }
        const now = await Cluster.open(c.env, name).catch((error: unknown) => {
          if (error instanceof HttpError && error.status === 404) return null;
          throw error;
        });
        if (now === null || now.createdAt > started) throw incarnationGone(name, read);
        if (retried || now.config.epoch === cluster.config.epoch) throw unavailable(session.session !== undefined, `cluster ${name} is being re-created`);
        cluster = now;
        continue;
      }
    }
  }
}

/**
 * The incarnation of the cluster this request started in was deleted while it waited
 * (perhaps re-created since, as another incarnation it does not belong to).
 */
function incarnationGone(name: string, read: boolean): HttpError {
  return read
    ? new HttpError(503, "unavailable", `cluster ${name} was deleted or re-created while the read waited; it was not answered`)
    : new HttpError(504, "timeout", `cluster ${name} was deleted or re-created while the operation waited; its outcome in the old cluster is unknown`);
}

/**
 * 503: no attempt of this request was applied. With exactly-once ids the operation is the
 * ids, and another request carrying them (an earlier try still running at the coordinator,
 * or a duplicate sent alongside) may have applied it: the answer says so, and only a retry
 * with the same ids tells (it answers the first result if there is one).
 */
function unavailable(exactlyOnce: boolean, why: string): HttpError {
  return exactlyOnce
    ? new HttpError(503, "unavailable", `${why}; this request was not applied, but another request with the same Client-Id and Request-Id may have been: retry with the same ids to learn its result`)
    : new HttpError(503, "unavailable", `${why}; it was not applied`);
}

/**
 * The key, percent-decoded from the path. Malformed percent-encoding ("%ZZ", a cut UTF-8
 * sequence) is a bad key name, 400: the router would otherwise keep it as literal text,
 * so "/kv/%ZZ" and "/kv/%25ZZ" would silently name the same key.
 */
function keyParam(c: Context): string {
  const raw = /^\/clusters\/[^/]*\/kv\/([^/]*)/.exec(new URL(c.req.url).pathname)?.[1] ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    throw badRequest(`bad key ${JSON.stringify(raw)}: not valid percent-encoded UTF-8`);
  }
}

/**
 * How a get is made linearizable: "readindex" (the default: the leader confirms it still
 * leads with a round of heartbeats, nothing is written) or "log" (the get is an entry of the
 * log, like a write). Writes always go through the log, whatever it says (but a bad value is
 * still a 400).
 */
function consistencyParam(c: Context): "readindex" | "log" {
  const raw = c.req.query("consistency");
  if (raw === undefined || raw === "readindex") return "readindex";
  if (raw === "log") return "log";
  throw badRequest(`bad consistency ${JSON.stringify(raw)}: "readindex" (the default) or "log"`);
}

function timeoutParam(c: Context): number {
  const raw = c.req.query("timeoutMs");
  if (raw === undefined) return DEFAULT_KV_TIMEOUT_MS;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 60_000) {
    throw badRequest(`bad timeoutMs ${JSON.stringify(raw)}: an integer 1..60000`);
  }
  return Number(raw);
}
