// GET /clusters/{c}/events?since=<ms>: the cluster's recent narration, merged and ordered.
import type { Hono } from "hono";
import { adminOnly } from "../access.ts";
import { Cluster } from "../cluster.ts";
import { events } from "../status.ts";
import type { AppEnv } from "../env.ts";
import { resource } from "../resource.ts";
import { clusterName, sinceParam } from "../validate.ts";

export function eventRoutes(app: Hono<AppEnv>): void {
  resource(app, "/clusters/:c/events", {
    GET: [
      adminOnly,
      async (c) => {
        const since = sinceParam(c);
        const cluster = await Cluster.open(c.env, clusterName(c));
        // Taken before the servers are asked, and one ms back: a poll with since=now may see a
        // line twice (the client can drop repeats) but never misses one.
        const now = Date.now() - 1;
        return c.json({ now, events: await events(cluster, since) });
      },
    ],
  });
}
