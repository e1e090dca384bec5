// The raw replicated log (admin): submit a command to one server, read what it applied.
import type { Hono } from "hono";
import { adminOnly } from "../access.ts";
import { Cluster } from "../cluster.ts";
import { reach, wakeAll } from "../reach.ts";
import type { AppEnv } from "../env.ts";
import { resource } from "../resource.ts";
import { body, clusterName, serverId, submitBody } from "../validate.ts";

export function logRoutes(app: Hono<AppEnv>): void {
  resource(app, "/clusters/:c/servers/:i/submit", {
    POST: [
      adminOnly,
      async (c) => {
        const cluster = await Cluster.open(c.env, clusterName(c));
        const id = serverId(c, cluster.members);
        const { command } = await body(c, submitBody);
        // Not retried: a second try could append it twice.
        const answer = await reach(cluster, id, (s) => s.submit(command), false);
        // A submit wakes a sleeping cluster: a leader woke itself by taking it; a follower
        // (or a sleeping cluster whose leader is gone) needs the coordinator to.
        if (!answer.accepted) await wakeAll(cluster);
        return c.json(answer);
      },
    ],
  });
  resource(app, "/clusters/:c/servers/:i/committed", {
    GET: [
      adminOnly,
      async (c) => {
        const cluster = await Cluster.open(c.env, clusterName(c));
        const id = serverId(c, cluster.members);
        return c.json(await reach(cluster, id, (s) => s.committed()));
      },
    ],
  });
}
