// Input checking for every route: path parameters, query strings and JSON bodies. Every
// rejection is a 4xx with a message that says what was wrong; nothing malformed gets as
// far as a Durable Object.
import type { Context } from "hono";
import { z } from "zod";
import { badRequest, HttpError, notFound } from "./errors.ts";
import { DEFAULT_SNAPSHOT_THRESHOLD, LOCATION_HINTS, type LocationHint, type NetworkSettings, type RegionRttMs } from "../server/protocol.ts";
import { regionPair } from "../server/links.ts";
import { DEFAULT_COMPACTION_RETENTION } from "../kv/auto-compaction.ts";

/** Largest request body accepted, bytes. */
export const MAX_BODY_BYTES = 256 * 1024;

const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function clusterName(c: Context): string {
  const name = c.req.param("c") ?? "";
  if (!CLUSTER_NAME.test(name)) {
    throw badRequest(`bad cluster name ${JSON.stringify(name)}: 1-64 characters of A-Z a-z 0-9 _ -`);
  }
  return name;
}

/** Server id `i` of the path: an integer; 404 unless it is a current member of the cluster. */
export function serverId(c: Context, members: readonly number[]): number {
  return serverIdFrom(c.req.param("i") ?? "", members);
}

/**
 * A server id given as text (path or `?server=`): an integer; 404 unless it is one of
 * `members` (the cluster's current configuration: a removed id, or one never given, is 404).
 */
export function serverIdFrom(raw: string, members: readonly number[]): number {
  const id = parseServerId(raw, `one of the members ${members.join(", ")}`);
  if (!members.includes(id)) throw notFound(`no server ${id}: this cluster's members are ${members.join(", ")}`);
  return id;
}

/**
 * The text of a server id, as every route reads it (membership and faults alike): digits
 * only, at most nine (ids are below 10⁹, as the bodies' id fields); anything else (a sign,
 * "-0", 10⁹ and above, a 300-digit number, a letter) is malformed, 400. Whether the id names
 * a member is the caller's to decide (404).
 */
export function parseServerId(raw: string, what = "an integer"): number {
  if (!/^\d{1,9}$/.test(raw)) throw badRequest(`bad server id ${JSON.stringify(raw)}: an integer 0..999999999, ${what}`);
  return Number(raw);
}

/**
 * The JSON body, checked against `schema`. An empty body counts as `{}` when `emptyIsObject`
 * (routes whose fields are all optional). Malformed JSON, wrong types and unknown fields: 400.
 */
export async function body<S extends z.ZodType>(c: Context, schema: S, emptyIsObject = false): Promise<z.output<S>> {
  return check(schema, await readJson(c, emptyIsObject), "body");
}

/** The body as parsed JSON, within the size limit; malformed JSON is a 400 `bad_json`. */
export async function readJson(c: Context, emptyIsObject = false): Promise<unknown> {
  const length = Number(c.req.header("Content-Length") ?? "0");
  if (length > MAX_BODY_BYTES) throw tooLarge();
  const text = await c.req.text();
  if (text.length > MAX_BODY_BYTES) throw tooLarge();
  let value: unknown;
  if (text.trim() === "" && emptyIsObject) value = {};
  else {
    try {
      value = JSON.parse(text);
    } catch {
      throw new HttpError(400, "bad_json", text.trim() === "" ? "a JSON body is required" : "the body is not valid JSON");
    }
  }
  return value;
}

/** Query parameter `since` (ms epoch), default 0. */
export function sinceParam(c: Context): number {
  const raw = c.req.query("since");
  if (raw === undefined || raw === "") return 0;
  if (!/^\d{1,16}$/.test(raw)) throw badRequest(`bad since ${JSON.stringify(raw)}: milliseconds since the epoch`);
  return Number(raw);
}

export function check<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.length ? i.path.join(".") : what}: ${i.message}`);
    throw badRequest(`bad ${what}: ${issues.join("; ")}`);
  }
  return result.data;
}

function tooLarge(): HttpError {
  return new HttpError(413, "too_large", `the body is over ${MAX_BODY_BYTES} bytes`);
}

// ---------------------------------------------------------------------------------------
// Bodies.

const int = z.number().int();

export const clusterSettings = z
  .strictObject({
    size: int.min(1).max(9).default(3),
    electionTimeoutMs: z.tuple([int.min(20).max(60_000), int.min(20).max(60_000)]).default([150, 300]),
    heartbeatMs: int.min(10).max(10_000).default(50),
    preVote: z.boolean().default(false),
    checkQuorum: z.boolean().default(false),
    snapshotThreshold: int.min(0).max(1_000_000).default(DEFAULT_SNAPSHOT_THRESHOLD),
    snapshotChunkBytes: int.min(64).max(4 * 1024 * 1024).default(256 * 1024),
    /** etcd's revisions of history kept by automatic compaction (0: never, as etcd's 0). */
    compactionRetention: int.min(0).max(1_000_000_000).default(DEFAULT_COMPACTION_RETENTION),
    /** Sleep after this long without a client (0: never); by default 5 election timeouts. */
    sleepAfterMs: int.min(0).max(600_000).optional(),
    /** One Cloudflare location hint per initial server. */
    locationHints: z.array(z.enum(LOCATION_HINTS)).max(9).optional(),
  })
  .refine((s) => s.electionTimeoutMs[0] <= s.electionTimeoutMs[1], {
    message: "electionTimeoutMs must be [min, max] with min <= max",
    path: ["electionTimeoutMs"],
  })
  .refine((s) => s.heartbeatMs < s.electionTimeoutMs[0], {
    message: "heartbeatMs must be shorter than the smallest election timeout",
    path: ["heartbeatMs"],
  })
  .refine((s) => s.locationHints === undefined || s.locationHints.length === s.size, {
    message: "locationHints must name one hint per server (as many as size)",
    path: ["locationHints"],
  })
  .refine((s) => s.sleepAfterMs === undefined || s.sleepAfterMs <= 10 * s.electionTimeoutMs[1], {
    message: "sleepAfterMs must be at most ten of the longest election timeouts (0: never sleep)",
    path: ["sleepAfterMs"],
  });

/**
 * `regionRttMs`: round-trip times in ms between pairs of regions, `{"weur-enam": 75, ...}`,
 * each key two location hints joined by "-" (either order; "weur-weur" is the round trip
 * within a region), each value a number 0..10000. Normalized to alphabetical pairs
 * (links.ts's regionPair); a pair named twice (both orders) is refused.
 *
 * Checked by hand over the parsed object's own keys rather than with z.record: a record
 * schema copies the keys into a plain object, where "__proto__" sets the prototype instead
 * of a key (so that key vanished and the rest was applied) and "constructor" is found by `in`
 * on any object. Every key that is not a pair of regions is a 400, whatever its name.
 */
const regionRttMs = z.unknown().transform((raw, ctx): RegionRttMs => {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    ctx.addIssue({ code: "custom", message: `an object of round trips by region pair, such as {"weur-enam": 75}` });
    return z.NEVER;
  }
  const pairs = new Map<string, number>();
  for (const key of Object.keys(raw)) {
    const rtt: unknown = (raw as Record<string, unknown>)[key];
    const parts = key.split("-");
    const unknown = parts.filter((p) => !(LOCATION_HINTS as readonly string[]).includes(p));
    if (parts.length !== 2 || unknown.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message:
          parts.length !== 2
            ? `a key is two regions joined by "-", such as "weur-enam"`
            : `unknown region ${unknown.map((u) => JSON.stringify(u)).join(" and ")}: regions are ${LOCATION_HINTS.join(", ")}`,
      });
      continue;
    }
    if (typeof rtt !== "number" || !Number.isFinite(rtt) || rtt < 0 || rtt > 10_000) {
      ctx.addIssue({ code: "custom", path: [key], message: "a round trip is a number of ms, 0..10000" });
      continue;
    }
    const pair = regionPair(parts[0] as LocationHint, parts[1] as LocationHint);
    if (pairs.has(pair)) ctx.addIssue({ code: "custom", path: [key], message: `the pair ${pair} is named twice` });
    pairs.set(pair, rtt);
  }
  return Object.fromEntries(pairs) as RegionRttMs;
});

export const networkSettings = z
  .strictObject({
    dropRate: z.number().min(0).max(1).default(0),
    delayMs: z.tuple([int.min(0).max(10_000), int.min(0).max(10_000)]).default([0, 0]),
    regionRttMs: regionRttMs.optional(),
  })
  .refine((s) => s.delayMs[0] <= s.delayMs[1], { message: "delayMs must be [min, max] with min <= max", path: ["delayMs"] });

/**
 * The network body for a cluster whose servers are in `regions` (id → locationHint, null for
 * none): with a matrix, at least one server must have a region, and the matrix must give the
 * round trip of every pair of different regions the servers are in (400 otherwise). Returns
 * the settings to push to every server, `regions` filled in.
 */
export function networkFor(settings: z.output<typeof networkSettings>, regions: ReadonlyMap<number, LocationHint | null>): NetworkSettings {
  const { regionRttMs: matrix, ...rest } = settings;
  if (!matrix) return rest;
  const placed = [...regions].filter((e): e is [number, LocationHint] => e[1] !== null);
  if (placed.length === 0) {
    throw badRequest("bad body: regionRttMs: this cluster's servers have no locationHint; create the cluster with locationHints");
  }
  const missing = new Set<string>();
  for (const [, a] of placed) for (const [, b] of placed) if (a !== b && !(regionPair(a, b) in matrix)) missing.add(regionPair(a, b));
  if (missing.size > 0) {
    const where = placed.map(([id, r]) => `${id} ${r}`).join(", ");
    throw badRequest(`bad body: regionRttMs: missing the round trip of ${[...missing].join(", ")} (servers: ${where})`);
  }
  return { ...rest, regionRttMs: matrix, regions: Object.fromEntries(placed) };
}

export const partitionBody = z.strictObject({
  // Member ids (any: ids grow as members are added); the route checks they are members.
  groups: z.array(z.array(int.min(0).max(999_999_999)).max(18)).max(18),
});

/** POST /clusters/{c}/members: a voter by default, no hint by default. */
export const addMemberBody = z.strictObject({
  role: z.enum(["voter", "learner"]).default("voter"),
  locationHint: z.enum(LOCATION_HINTS).nullable().optional(),
});

export const transferBody = z.strictObject({ id: int.min(0).max(999_999_999) });

export const dropCallsBody = z.strictObject({ after: int.min(0).max(1_000_000).nullable() });

export const submitBody = z.strictObject({ command: z.json() }).refine((b) => "command" in b && b.command !== undefined, {
  message: "command is required (any JSON value)",
  path: ["command"],
});
