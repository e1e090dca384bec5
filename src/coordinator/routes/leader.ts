// Leadership transfer (admin): POST /clusters/{c}/leader {"id": i}.
import type { Hono } from "hono";
import { adminOnly } from "../access.ts";
import { Cluster } from "../cluster.ts";
import { view } from "../status.ts";
import type { AppEnv } from "../env.ts";
import { resource } from "../resource.ts";
import { handOverLeadership } from "../transfer.ts";
import { body, clusterName, serverIdFrom, transferBody } from "../validate.ts";

export function leaderRoutes(app: Hono<AppEnv>): void {
  resource(app, "/clusters/:c/leader", {
    POST: [
      adminOnly,
      async (c) => {
        const cluster = await Cluster.open(c.env, clusterName(c));
        const { id } = await body(c, transferBody);
        const target = serverIdFrom(String(id), cluster.members);
        await handOverLeadership(cluster, target);
        return c.json(await view(cluster));
      },
    ],
  });
}
