// The key/value routes of API.md. Validation and size limits come from src/kv (pure and
// tested there); leader finding and retries from forward-request.ts and kv-forward.ts. The
// answer leaves only after the operation is committed and applied (a read: once ReadIndex
// confirmed the leader and it applied that far).
import type { Context, Hono } from "hono";
import { parseKvRequest, parseListQuery, parseSessionHeaders, type KvOpName } from "../../kv/index.ts";
import { clientOnly } from "../access.ts";
import type { AppEnv } from "../env.ts";
import { HttpError, badRequest } from "../errors.ts";
import { forwardRequest, type Finished } from "../forward-request.ts";
import { resource } from "../resource.ts";
import { clusterName, readJson } from "../validate.ts";

/** How long the coordinator keeps trying by default; `?timeoutMs=` overrides it (1..60000). */
export const DEFAULT_KV_TIMEOUT_MS = 3000;

export function kvRoutes(app: Hono<AppEnv>): void {
  resource(app, "/clusters/:c/kv", { GET: [clientOnly, list] });
  resource(app, "/clusters/:c/kv/:key", {
    GET: [clientOnly, (c) => handle(c, "get")],
    PUT: [clientOnly, (c) => handle(c, "put")],
    DELETE: [clientOnly, (c) => handle(c, "delete")],
  });
  resource(app, "/clusters/:c/kv/:key/cas", { POST: [clientOnly, (c) => handle(c, "cas")] });
  resource(app, "/clusters/:c/kv/:key/append", { POST: [clientOnly, (c) => handle(c, "append")] });
}

/** Operations whose request has no body. */
const WITHOUT_BODY: ReadonlySet<KvOpName> = new Set(["get", "delete"]);

async function handle(c: Context<AppEnv>, op: KvOpName): Promise<Response> {
  const name = clusterName(c);
  const request = parseKvRequest(op, keyParam(c), WITHOUT_BODY.has(op) ? undefined : await readJson(c));
  if (!request.ok) throw new HttpError(request.status, request.error, request.message);
  const session = parseSessionHeaders(c.req.header("Client-Id"), c.req.header("Request-Id"));
  if (!session.ok) throw new HttpError(session.status, session.error, session.message);
  const operation = request.operation;
  const readIndex = consistencyParam(c) === "readindex" && operation.op === "get";
  const out = await forwardRequest(c.env, {
    name,
    server: c.req.query("server"),
    timeoutMs: timeoutParam(c),
    read: op === "get",
    exactlyOnce: session.session !== undefined,
    send: (s, epoch, waitMs) =>
      readIndex && operation.op === "get" ? s.read(epoch, operation.key, waitMs) : s.kv(epoch, operation, session.session, waitMs),
  });
  return answer(c, out);
}

/**
 * `GET /clusters/{c}/kv?prefix=&after=&limit=`: one page of keys at one revision, read
 * linearizably by ReadIndex on the leader (no log entry). `?consistency=log` does not apply.
 */
async function list(c: Context<AppEnv>): Promise<Response> {
  const name = clusterName(c);
  const parsed = parseListQuery(c.req.query("prefix"), c.req.query("after"), c.req.query("limit"));
  if (!parsed.ok) throw new HttpError(parsed.status, parsed.error, parsed.message);
  if (consistencyParam(c) !== "readindex") throw badRequest("a listing is always read by ReadIndex: consistency=log does not apply to it");
  const { prefix, after, limit } = parsed.query;
  const out = await forwardRequest(c.env, {
    name,
    server: c.req.query("server"),
    timeoutMs: timeoutParam(c),
    read: true,
    exactlyOnce: false,
    send: (s, epoch, waitMs) => s.list(epoch, prefix, after, limit, waitMs),
  });
  return answer(c, out);
}

/** A forwarded request's outcome as the /kv routes answer it (API.md, "Key/value service"). */
function answer(c: Context<AppEnv>, out: Finished<unknown>): Response {
  switch (out.status) {
    case 200:
      c.header("Raft-Server", String(out.server));
      // For a retry answered as a duplicate, the entry where the write applied (pending.ts).
      c.header("Raft-Index", String(out.index));
      return c.json(out.result as object);
    case 421:
      return c.json({ error: "not_leader", message: `server ${out.pinned} is not the leader`, leader: out.leader }, 421);
    case 400:
      throw new HttpError(400, out.code, out.message, {}, out.extra);
    case 413:
      throw new HttpError(413, "too_large", out.message);
    case 503:
      throw new HttpError(503, "unavailable", out.message);
    case 504:
      throw new HttpError(504, "timeout", out.message);
  }
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

export function timeoutParam(c: Context): number {
  const raw = c.req.query("timeoutMs");
  if (raw === undefined) return DEFAULT_KV_TIMEOUT_MS;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 60_000) {
    throw badRequest(`bad timeoutMs ${JSON.stringify(raw)}: an integer 1..60000`);
  }
  return Number(raw);
}
