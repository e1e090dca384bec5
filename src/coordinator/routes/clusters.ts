// Clusters (admin): create, inspect, delete; and one server's detail.
import type { Hono } from "hono";
import { adminOnly } from "../access.ts";
import { Cluster, settingsOf } from "../cluster.ts";
import { inspect, view } from "../status.ts";
import type { AppEnv } from "../env.ts";
import { resource } from "../resource.ts";
import { body, clusterName, clusterSettings, serverId } from "../validate.ts";

export function clusterRoutes(app: Hono<AppEnv>): void {
  resource(app, "/clusters/:c", {
    POST: [
      adminOnly,
      async (c) => {
        const name = clusterName(c);
        const settings = await body(c, clusterSettings, true);
        const { created, cluster } = await Cluster.create(c.env, name, settings);
        return c.json({ cluster: name, ...settingsOf(cluster.config) }, created ? 201 : 200);
      },
    ],
    GET: [adminOnly, async (c) => c.json(await view(await Cluster.open(c.env, clusterName(c))))],
    DELETE: [
      adminOnly,
      async (c) => {
        await (await Cluster.open(c.env, clusterName(c))).destroy();
        return c.body(null, 204);
      },
    ],
  });

  // A server's status plus what its storage says (also while it is down).
  resource(app, "/clusters/:c/servers/:i", {
    GET: [
      adminOnly,
      async (c) => {
        const cluster = await Cluster.open(c.env, clusterName(c));
        const id = serverId(c, cluster.members);
        return c.json(await inspect(cluster, id));
      },
    ],
  });
}
