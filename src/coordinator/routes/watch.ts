// POST /clusters/{c}/v3/watch (etcd's streaming form) and the WebSocket form at the same path
// (API.md): the request goes to one member, which serves the watch from its own applied store
// (src/server/watch-host.ts). Every member applies the whole log, so any that runs will do, as
// any etcd member serves watches: `?server=i` pins one, otherwise the members are tried in a
// random order (watchers spread over the servers) until one takes it. The Worker only forwards:
// the stream or the socket is the server's, and a server that goes away closes it; the client
// re-watches from its last event's revision + 1 (another try here lands on another member).
import type { Context, Hono } from "hono";
import { serverName } from "../../server/index.ts";
import type { NodeId } from "../../raft/types.ts";
import { clientOnly } from "../access.ts";
import { Cluster } from "../cluster.ts";
import type { AppEnv } from "../env.ts";
import { HttpError } from "../errors.ts";
import { resource } from "../resource.ts";
import { clusterName, MAX_BODY_BYTES, serverIdFrom } from "../validate.ts";

export function watchRoutes(app: Hono<AppEnv>): void {
  resource(app, "/clusters/:c/v3/watch", { GET: [clientOnly, watch], POST: [clientOnly, watch] });
}

async function watch(c: Context<AppEnv>): Promise<Response> {
  const upgrade = c.req.header("Upgrade")?.toLowerCase() === "websocket";
  if (!upgrade && c.req.method !== "POST") {
    throw new HttpError(426, "upgrade_required", "GET /v3/watch is the WebSocket form (send Upgrade: websocket); POST the watch requests for the streaming form", {
      Upgrade: "websocket",
    });
  }
  const cluster = await Cluster.open(c.env, clusterName(c));
  const server = c.req.query("server");
  const order = server === undefined ? shuffled(cluster.members) : [serverIdFrom(server, cluster.members)];
  // Read once: the body goes to each server tried.
  const body = upgrade ? null : await c.req.text();
  if (body !== null && new TextEncoder().encode(body).length > MAX_BODY_BYTES) {
    throw new HttpError(413, "too_large", `the watch requests are over ${MAX_BODY_BYTES} bytes`);
  }
  const reasons: string[] = [];
  for (const id of order) {
    const headers = new Headers(c.req.raw.headers);
    headers.set("Raft-Epoch", cluster.config.epoch);
    const request = new Request(c.req.url, { method: c.req.method, headers, body });
    let answer: Response;
    try {
      answer = await c.env.RAFT_SERVER.getByName(serverName(cluster.name, id)).fetch(request);
    } catch (error) {
      reasons.push(`server ${id}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    // 503: that server cannot serve (down, or of another incarnation); the next may.
    if (answer.status !== 503) return withServer(answer, id);
    reasons.push(`server ${id}: ${(await answer.text()).slice(0, 200)}`);
  }
  throw new HttpError(503, "unavailable", `no server took the watch: ${reasons.join("; ")}`);
}

/** The answer as the server gave it (a WebSocket's 101 included), naming the server as the kv routes do. */
function withServer(answer: Response, id: NodeId): Response {
  if (answer.webSocket) return answer; // a 101's headers are the runtime's
  const headers = new Headers(answer.headers);
  headers.set("Raft-Server", String(id));
  return new Response(answer.body, { status: answer.status, headers });
}

function shuffled(ids: readonly NodeId[]): NodeId[] {
  const out = [...ids];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
