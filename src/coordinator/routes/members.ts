// Membership (admin): add a server, promote a learner, remove a member (membership.ts).
// Each wakes a sleeping cluster. `?timeoutMs=` (1..60000) bounds the wait; by default
// max(5 s, 20 election timeouts).
//
// One change at a time: a membership call that arrives while another of the same cluster is
// under way answers 409 change_in_progress at once (API.md: "while another membership change
// is not yet committed"; adding a voter is one change to the caller, a learner added then
// promoted). Within one isolate the coordinator knows; across isolates the leader's own rule
// (no new configuration entry before the last one is committed) says the same. A change is
// not run under the fault routes' lock (admin-lock.ts) as a whole: faults must go on while
// it waits for a commit (a heal is what lets it commit); only its short steps on the server
// objects (creating the new one, retiring a removed one) take the lock.
import type { Context, Hono } from "hono";
import { adminOnly } from "../access.ts";
import { Cluster } from "../cluster.ts";
import type { AppEnv } from "../env.ts";
import { badRequest, HttpError, notFound } from "../errors.ts";
import { addMember, defaultMembershipTimeoutMs, promoteMember, removeMember } from "../membership.ts";
import { resource } from "../resource.ts";
import { addMemberBody, body, clusterName, parseServerId } from "../validate.ts";

export function memberRoutes(app: Hono<AppEnv>): void {
  resource(app, "/clusters/:c/members", {
    POST: [
      adminOnly,
      async (c) => {
        const cluster = await Cluster.open(c.env, clusterName(c));
        const { role, locationHint } = await body(c, addMemberBody, true);
        const timeoutMs = timeoutParam(c, cluster);
        return c.json(await oneAtATime(cluster, () => addMember(cluster, role, locationHint ?? null, timeoutMs)));
      },
    ],
  });
  resource(app, "/clusters/:c/members/:i/promote", {
    POST: [
      adminOnly,
      async (c) => {
        const cluster = await Cluster.open(c.env, clusterName(c));
        const id = liveServer(cluster, memberIdParam(c));
        const timeoutMs = timeoutParam(c, cluster);
        return c.json(await oneAtATime(cluster, () => promoteMember(cluster, id, timeoutMs)));
      },
    ],
  });
  resource(app, "/clusters/:c/members/:i", {
    DELETE: [
      adminOnly,
      async (c) => {
        const cluster = await Cluster.open(c.env, clusterName(c));
        const id = liveServer(cluster, memberIdParam(c));
        const timeoutMs = timeoutParam(c, cluster);
        return c.json(await oneAtATime(cluster, () => removeMember(cluster, id, timeoutMs)));
      },
    ],
  });
}

/**
 * The id in the path: an integer (400 otherwise, validate.ts). Whether it is a member is
 * decided by the configuration the cluster holds at the time of the change (404 if not).
 */
function memberIdParam(c: Context): number {
  return parseServerId(c.req.param("i") ?? "");
}

/**
 * 404 at once for an id that names no server of the cluster now: never given, or retired
 * (removed for good; ids are never reused). Decided before the one-at-a-time check: another
 * change under way does not make a removed server a member again (it answered 409).
 */
function liveServer(cluster: Cluster, id: number): number {
  if (!cluster.live.includes(id)) throw notFound(`server ${id} is not a member of ${cluster.name}; its members are ${cluster.members.join(", ")}`);
  return id;
}

function timeoutParam(c: Context, cluster: Cluster): number {
  const raw = c.req.query("timeoutMs");
  if (raw === undefined) return defaultMembershipTimeoutMs(cluster);
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 60_000) {
    throw badRequest(`bad timeoutMs ${JSON.stringify(raw)}: an integer 1..60000`);
  }
  return Number(raw);
}

/**
 * Cluster incarnations with a membership call under way in this isolate, by name and epoch:
 * a call still waiting on a deleted cluster does not hold up the one created in its place.
 */
const underWay = new Set<string>();

async function oneAtATime<T>(cluster: Cluster, call: () => Promise<T>): Promise<T> {
  const key = `${cluster.name}/${cluster.config.epoch}`;
  if (underWay.has(key)) {
    throw new HttpError(409, "change_in_progress", `another membership change of ${cluster.name} is under way; ask again once it has answered`);
  }
  underWay.add(key);
  try {
    return await call();
  } finally {
    underWay.delete(key);
  }
}
