// The bench's Worker: the real coordinator and RaftServer, unchanged, plus the two references
// the issue compares Raft against, reachable over the same kind of HTTP routes:
//   /single/{c}/kv/{key}...   an unreplicated key/value object (SingleKv), same shapes as
//                             /clusters/{c}/kv/{key}...
//   /floor/measure/{kind}     object→object timings taken inside workerd (BenchFloor),
//                             ?ms=<duration> or ?n=<calls>
//   /floor/http/{noop|write}  one Worker→object call, for timing the Node→Worker path
//   /profile/{c}?size=n       storage counters of a cluster's servers (ProfiledRaftServer only)
//   /counters/worker          calls the coordinator made on server stubs (each one a billed
//                             Durable Object request), since this isolate started
//   /counters/single/{c}      the single object's operations, transactions and rows written
//   POST /fill/{c}?ops=&keys=&clients=&server=[&inside=1&batch=&first=]
//                             kv puts generated inside workerd, straight to one server's stub
//   GET /drive/{c}/reads?consistency=&clients=&ms=&keys=
//                             closed-loop kv GETs generated inside workerd, through the
//                             coordinator's own fetch handler (see workerd-load.ts)
// Everything else falls through to the real coordinator (with a "Bench-Trace: 1" header, its
// answer also carries the Worker's clock at arrival and at answer).
import type { Context } from "hono";
import { Hono } from "hono";
import coordinator from "../src/coordinator/index.ts";
import type { AppEnv, Env } from "../src/coordinator/env.ts";
import { HttpError, notFound } from "../src/coordinator/errors.ts";
import { resource } from "../src/coordinator/resource.ts";
import { clusterName, readJson } from "../src/coordinator/validate.ts";
import { parseKvRequest, parseSessionHeaders, type KvOpName } from "../src/kv/index.ts";
import { BenchFloor, FLOOR_KINDS, type FloorKind } from "./floor.ts";
import type { ProfiledRaftServer } from "./profiled-raft-server.ts";
import { SingleKv } from "./single-kv.ts";
import { serverName, serverStub } from "../src/server/index.ts";
import { fill, reads } from "./workerd-load.ts";

export * from "../src/coordinator/index.ts";
export { BenchFloor } from "./floor.ts";
export { SingleKv } from "./single-kv.ts";
export { ProfiledRaftServer } from "./profiled-raft-server.ts";

interface BenchEnv extends Env {
  BENCH_FLOOR: DurableObjectNamespace<BenchFloor>;
  SINGLE_KV: DurableObjectNamespace<SingleKv>;
}

// Typed as the coordinator's app so its helpers (resource, validate) apply as they are; the
// bench's own bindings are read through benchEnv().
type Ctx = Context<AppEnv>;
const benchEnv = (c: Ctx) => c.env as BenchEnv;

const bench = new Hono<AppEnv>();

// ---------------------------------------------------------------------------------------
// The single object: parsed and answered exactly as the real kv routes are (same parsers,
// same status codes), then one RPC to the object named after the "cluster".

function singleKv(op: KvOpName) {
  return async (c: Ctx) => {
    const name = clusterName(c);
    const key = c.req.param("key") ?? "";
    const raw = op === "get" ? undefined : await readJson(c);
    const parsed = parseKvRequest(op, key, raw);
    if (!parsed.ok) throw new HttpError(parsed.status, parsed.error, parsed.message);
    const session = parseSessionHeaders(c.req.header("Client-Id"), c.req.header("Request-Id"));
    if (!session.ok) throw new HttpError(session.status, session.error, session.message);
    const outcome = await benchEnv(c).SINGLE_KV.getByName(name).run(parsed.operation, session.session ?? null);
    if (!outcome.ok) {
      throw new HttpError(409, outcome.error, `request id is older than this client's last (${outcome.lastRequestId})`);
    }
    return c.json(outcome.result);
  };
}

resource(bench, "/single/:c/kv/:key", { GET: [singleKv("get")], PUT: [singleKv("put")] });
resource(bench, "/single/:c/kv/:key/cas", { POST: [singleKv("cas")] });
resource(bench, "/single/:c/kv/:key/append", { POST: [singleKv("append")] });

// ---------------------------------------------------------------------------------------
// The floor.

bench.get("/floor/measure/:kind", async (c) => {
  const kind = c.req.param("kind") as FloorKind;
  if (!FLOOR_KINDS.includes(kind)) throw notFound(`no floor measurement ${kind}; one of ${FLOOR_KINDS.join(", ")}`);
  // ?ms= runs for that long; ?n= for at least that many calls instead.
  const ms = Number(c.req.query("ms") ?? "1000");
  const n = c.req.query("n") === undefined ? undefined : Number(c.req.query("n"));
  if (!(ms > 0 && ms <= 60_000)) throw new HttpError(400, "bad_request", "ms must be in (0, 60000]");
  if (n !== undefined && !(Number.isInteger(n) && n > 0 && n <= 1_000_000)) throw new HttpError(400, "bad_request", "n must be an integer in 1..1000000");
  // A fresh pair of objects per kind, so one measurement's rows do not weigh on another's.
  const caller = benchEnv(c).BENCH_FLOOR.getByName(`floor-${kind}-a`);
  return c.json(await caller.measure(kind, `floor-${kind}-b`, ms, n));
});

bench.get("/floor/http/:what", async (c) => {
  const stub = benchEnv(c).BENCH_FLOOR.getByName("floor-http");
  const what = c.req.param("what");
  if (what === "noop") await stub.noop();
  else if (what === "write") await stub.write();
  else throw notFound("one of /floor/http/noop, /floor/http/write");
  return c.json({ ok: true });
});

// ---------------------------------------------------------------------------------------
// Storage counters (only when RAFT_SERVER runs as ProfiledRaftServer, the default; not with --plain).

bench.get("/profile/:c", async (c) => {
  const name = clusterName(c);
  const size = Number(c.req.query("size") ?? "0");
  if (!Number.isInteger(size) || size < 1 || size > 9) throw new HttpError(400, "bad_request", "size must be 1..9");
  const ns = benchEnv(c).RAFT_SERVER as unknown as DurableObjectNamespace<ProfiledRaftServer>;
  const counters = await Promise.all(
    Array.from({ length: size }, (_, id) => ns.getByName(`${name}:${id}`).benchProfile()),
  );
  return c.json({ servers: counters });
});

// ---------------------------------------------------------------------------------------
// Load generated inside workerd (workerd-load.ts).

/** Integer query parameter `name` in [min, max], `fallback` when absent. */
function intQuery(c: Ctx, name: string, fallback: number, min: number, max: number): number {
  const raw = c.req.query(name);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new HttpError(400, "bad_request", `${name} must be an integer in ${min}..${max}`);
  return n;
}

// ?inside=1 (ProfiledRaftServer only): the server proposes the puts itself, in batches of
// `batch` (benchFill), instead of one RPC per put from here; `first` numbers the first put
// (keys cycle with the put's number), so consecutive requests continue one sequence.
bench.post("/fill/:c", async (c) => {
  const name = clusterName(c);
  const ops = intQuery(c, "ops", 1000, 1, 1_000_000);
  const keys = intQuery(c, "keys", 1000, 1, 1_000_000);
  const clients = intQuery(c, "clients", 64, 1, 1000);
  const id = intQuery(c, "server", 0, 0, 8);
  const started = Date.now();
  if (c.req.query("inside") === "1") {
    const batch = intQuery(c, "batch", 1000, 1, 100_000);
    const from = intQuery(c, "first", 0, 0, 100_000_000);
    const ns = benchEnv(c).RAFT_SERVER as unknown as DurableObjectNamespace<ProfiledRaftServer>;
    const stub = ns.getByName(serverName(name, id));
    const errors: Record<string, number> = {};
    let done = 0;
    for (let first = 0; first < ops; first += batch) {
      const r = await stub.benchFill(from + first, Math.min(batch, ops - first), keys, 10_000);
      done += r.ops;
      for (const [k, n] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + n;
    }
    return c.json({ ops: done, errors, ms: Date.now() - started });
  }
  const r = await fill(serverStub(benchEnv(c).RAFT_SERVER, name, id), ops, keys, clients, 10_000);
  return c.json({ ops: r.ops, errors: r.errors, ms: r.ms });
});

bench.get("/drive/:c/reads", async (c) => {
  const name = clusterName(c);
  const consistency = c.req.query("consistency") ?? "readindex";
  if (!/^[a-z]+$/.test(consistency)) throw new HttpError(400, "bad_request", "consistency must be a word");
  const clients = intQuery(c, "clients", 64, 1, 1000);
  const ms = intQuery(c, "ms", 2000, 1, 60_000);
  const keys = intQuery(c, "keys", 64, 1, 1_000_000);
  const env = c.env;
  const ctx = c.executionCtx;
  const r = await reads(
    // The coordinator's handler takes an incoming request (its cf properties); ours has none.
    async (request) => coordinator.fetch(request as Parameters<typeof coordinator.fetch>[0], env, ctx),
    (i) => `/clusters/${encodeURIComponent(name)}/kv/rk-${i % keys}?consistency=${consistency}`,
    clients,
    ms,
  );
  return c.json({ ops: r.ops, errors: r.errors, ms: r.ms, latencies: r.latencies });
});

// ---------------------------------------------------------------------------------------
// Billed requests: every call the coordinator makes on a server's stub (an RPC method call is
// one RPC session, billed as one Durable Object request), counted by handing the coordinator
// a RAFT_SERVER namespace whose stubs count their calls. Servers' calls to each other and
// their alarms are in their own stats (rpcsSent, alarms).

let stubCalls = 0;

function countingStub<T extends object>(stub: T): T {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function" || typeof prop === "symbol" || prop === "then") return value;
      return (...args: unknown[]) => {
        stubCalls++;
        // Reflect.apply: an RPC method handle is callable but not a Function, and its
        // `.apply` would be one more remote method.
        return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
      };
    },
  });
}

const countingNamespaces = new WeakMap<object, object>();

function countingNamespace<T extends object>(ns: T): T {
  let wrapped = countingNamespaces.get(ns) as T | undefined;
  if (!wrapped) {
    wrapped = new Proxy(ns, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== "function") return value;
        if (prop === "get" || prop === "getByName") {
          return (...args: unknown[]) => countingStub(Reflect.apply(value as (...a: unknown[]) => object, target, args));
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
    countingNamespaces.set(ns, wrapped);
  }
  return wrapped;
}

/** The Worker's env as the coordinator sees it here: RAFT_SERVER's stubs count their calls. */
function coordinatorEnv(env: BenchEnv): BenchEnv {
  return { ...env, RAFT_SERVER: countingNamespace(env.RAFT_SERVER) };
}

bench.get("/counters/worker", (c) => c.json({ stubCalls }));

bench.get("/counters/single/:c", async (c) => c.json(await benchEnv(c).SINGLE_KV.getByName(clusterName(c)).benchCounters()));

bench.onError((err, c) => {
  if (err instanceof HttpError) return c.json(err.body(), err.status);
  const message = err instanceof Error ? err.message : String(err);
  // /profile against a bare RaftServer (--plain) lands here: benchProfile() does not exist.
  return c.json({ error: "internal", message }, 500);
});

type Fetch = (request: Parameters<ExportedHandlerFetchHandler<BenchEnv>>[0], env: BenchEnv, ctx: ExecutionContext) => Promise<Response>;

/**
 * `handler`'s answer with the Worker's clock at the request's arrival and at its answer added
 * as headers (Bench-Worker-In / -Out, ms): lets the anatomy profile tell the Node↔Worker legs
 * from the time spent among the objects.
 */
async function traced(handler: Fetch, ...args: Parameters<Fetch>): Promise<Response> {
  const arrived = Date.now();
  const res = await handler(...args);
  const answered = Date.now();
  const out = new Response(res.body, res);
  out.headers.set("Bench-Worker-In", String(arrived));
  out.headers.set("Bench-Worker-Out", String(answered));
  return out;
}

export default {
  async fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    const ours = ["/single/", "/floor/", "/profile/", "/fill/", "/drive/", "/counters/"].some((prefix) => path.startsWith(prefix));
    const handler: Fetch = ours ? async (r, e, c) => bench.fetch(r, e, c) : async (r, e, c) => coordinator.fetch(r, coordinatorEnv(e), c);
    if (request.headers.get("Bench-Trace") === "1") return traced(handler, request, env, ctx);
    return handler(request, env, ctx);
  },
} satisfies ExportedHandler<BenchEnv>;
