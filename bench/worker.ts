// The real coordinator and RaftServer, unchanged, plus what Raft is compared against (SingleKv, BenchFloor),
// counters (/profile, /counters), benchFill (/fill) and reads inside workerd (/drive); the rest is the coordinator's.
import type { Context } from "hono";
import { Hono } from "hono";
import coordinator from "../src/coordinator/index.ts";
import type { AppEnv, Env } from "../src/coordinator/env.ts";
import { HttpError, notFound } from "../src/coordinator/errors.ts";
import { clusterName, readJson } from "../src/coordinator/validate.ts";
import { parseKvRequest } from "../src/kv/index.ts";
import { serverName } from "../src/server/index.ts";
import { BenchFloor, FLOOR_KINDS, type FloorKind } from "./floor.ts";
import { ProfiledRaftServer } from "./profiled-raft-server.ts";
import { SingleKv } from "./single-kv.ts";
import { reads } from "./workerd-load.ts";

export * from "../src/coordinator/index.ts";
export { BenchFloor, ProfiledRaftServer, SingleKv };

interface BenchEnv extends Env {
  BENCH_FLOOR: DurableObjectNamespace<BenchFloor>;
  SINGLE_KV: DurableObjectNamespace<SingleKv>;
}

type Ctx = Context<AppEnv>;
const benchEnv = (c: Ctx) => c.env as BenchEnv;
const profiled = (c: Ctx) => benchEnv(c).RAFT_SERVER as unknown as DurableObjectNamespace<ProfiledRaftServer>;
const bad = (message: string) => new HttpError(400, "bad_request", message);

/** Integer query parameter `name` in [min, max], `fallback` when absent. */
function intQuery(c: Ctx, name: string, fallback: number, min: number, max: number): number {
  const raw = c.req.query(name);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw bad(`${name} must be an integer in ${min}..${max}`);
  return n;
}

const bench = new Hono<AppEnv>();

// The single object: parsed as the real kv put is (same parser, same status codes), then one RPC.
bench.put("/single/:c/kv/:key", async (c) => {
  const parsed = parseKvRequest("put", c.req.param("key"), await readJson(c));
  if (!parsed.ok) throw new HttpError(parsed.status, parsed.error, parsed.message);
  return c.json(await benchEnv(c).SINGLE_KV.getByName(clusterName(c)).run(parsed.operation));
});
bench.get("/counters/single/:c", async (c) => c.json(await benchEnv(c).SINGLE_KV.getByName(clusterName(c)).benchCounters()));

bench.get("/floor/measure/:kind", async (c) => {
  const kind = c.req.param("kind") as FloorKind;
  if (!FLOOR_KINDS.includes(kind)) throw notFound(`no floor measurement ${kind}; one of ${FLOOR_KINDS.join(", ")}`);
  // A fresh pair of objects per kind, so one measurement's rows do not weigh on another's.
  return c.json(await benchEnv(c).BENCH_FLOOR.getByName(`floor-${kind}-a`).measure(kind, `floor-${kind}-b`, intQuery(c, "ms", 1000, 1, 60_000)));
});

bench.get("/floor/http/:what", async (c) => {
  const what = c.req.param("what");
  if (what !== "noop" && what !== "write") throw notFound("one of /floor/http/noop, /floor/http/write");
  await benchEnv(c).BENCH_FLOOR.getByName("floor-http")[what]();
  return c.json({ ok: true });
});

bench.get("/profile/:c", async (c) => {
  const [name, size] = [clusterName(c), intQuery(c, "size", 0, 1, 9)];
  return c.json({ servers: await Promise.all(Array.from({ length: size }, (_, id) => profiled(c).getByName(serverName(name, id)).benchProfile())) });
});

// benchFill proposes `batch` puts per call; `first` numbers the first (keys cycle with it).
bench.post("/fill/:c", async (c) => {
  const name = clusterName(c);
  const [ops, keys, id, batch, from] = [intQuery(c, "ops", 1000, 1, 1_000_000), intQuery(c, "keys", 1000, 1, 1_000_000), intQuery(c, "server", 0, 0, 8), intQuery(c, "batch", 1000, 1, 100_000), intQuery(c, "first", 0, 0, 100_000_000)];
  const [started, stub] = [Date.now(), profiled(c).getByName(serverName(name, id))];
  const errors: Record<string, number> = {};
  let done = 0;
  for (let first = 0; first < ops; first += batch) {
    const r = await stub.benchFill(from + first, Math.min(batch, ops - first), keys, 10_000);
    done += r.ops;
    for (const [k, n] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + n;
  }
  return c.json({ ops: done, errors, ms: Date.now() - started });
});

bench.get("/drive/:c/reads", async (c) => {
  const name = clusterName(c);
  const consistency = c.req.query("consistency") ?? "readindex";
  if (!/^[a-z]+$/.test(consistency)) throw bad("consistency must be a word");
  const [clients, ms, keys] = [intQuery(c, "clients", 64, 1, 1000), intQuery(c, "ms", 2000, 1, 60_000), intQuery(c, "keys", 64, 1, 1_000_000)];
  const { env, executionCtx } = c;
  // The coordinator's handler takes an incoming request (its cf properties); ours has none.
  const handler = async (request: Request) => coordinator.fetch(request as Parameters<typeof coordinator.fetch>[0], env, executionCtx);
  const r = await reads(handler, (i) => `/clusters/${encodeURIComponent(name)}/kv/rk-${i % keys}?consistency=${consistency}`, clients, ms);
  return c.json(r);
});

// Billed requests: each call the coordinator makes on a server's stub is one RPC session, counted
// through a RAFT_SERVER whose stubs count their calls (servers' own calls are in their stats).
let stubCalls = 0;
bench.get("/counters/worker", (c) => c.json({ stubCalls }));

/** `target` with its methods wrapped by `wrap` (a native handle needs Reflect.apply: its `.apply` would be one more remote method). */
function wrapMethods<T extends object>(target: T, wrap: (prop: string, call: () => unknown) => unknown): T {
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop, t) as unknown;
      if (typeof value !== "function" || typeof prop === "symbol" || prop === "then") return value;
      return (...args: unknown[]) => wrap(prop, () => Reflect.apply(value as (...a: unknown[]) => unknown, t, args));
    },
  });
}
const countingStub = <T extends object>(stub: T): T => wrapMethods(stub, (_, call) => (stubCalls++, call()));
const countingNamespaces = new WeakMap<object, object>();
const countingNamespace = <T extends object>(ns: T): T =>
  (countingNamespaces.get(ns) as T | undefined) ?? (countingNamespaces.set(ns, wrapMethods(ns, (prop, call) => (prop === "get" || prop === "getByName" ? countingStub(call() as object) : call()))).get(ns) as T);

bench.onError((err, c) => (err instanceof HttpError ? c.json(err.body(), err.status) : c.json({ error: "internal", message: err instanceof Error ? err.message : String(err) }, 500)));

type Fetch = (request: Parameters<ExportedHandlerFetchHandler<BenchEnv>>[0], env: BenchEnv, ctx: ExecutionContext) => Promise<Response>;
const OURS = ["/single/", "/floor/", "/profile/", "/fill/", "/drive/", "/counters/"];

export default {
  async fetch(request, env, ctx) {
    const ours = OURS.some((prefix) => new URL(request.url).pathname.startsWith(prefix));
    const handler: Fetch = ours ? async (r, e, c) => bench.fetch(r, e, c) : async (r, e, c) => coordinator.fetch(r, { ...e, RAFT_SERVER: countingNamespace(e.RAFT_SERVER) }, c);
    if (request.headers.get("Bench-Trace") !== "1") return handler(request, env, ctx);
    // "Bench-Trace: 1": the Worker's clock at arrival and answer, to tell the Node↔Worker legs from the rest.
    const arrived = Date.now();
    const res = await handler(request, env, ctx);
    const out = new Response(res.body, res);
    out.headers.set("Bench-Worker-In", String(arrived));
    out.headers.set("Bench-Worker-Out", String(Date.now()));
    return out;
  },
} satisfies ExportedHandler<BenchEnv>;
