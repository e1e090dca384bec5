// Fault injection (admin). Every route answers the cluster's status after the change, and
// wakes a sleeping cluster (API.md, "Sleeping clusters").
// The fault routes of one cluster run one at a time (admin-lock.ts): a crash and a restart
// of the same server sent together are applied one after the other, each answered 200.
import type { Context, Hono } from "hono";
import { adminOnly } from "../access.ts";
import { exclusive } from "../admin-lock.ts";
import { Cluster } from "../cluster.ts";
import * as faults from "../faults.ts";
import { wakeAll } from "../reach.ts";
import { statuses, view } from "../status.ts";
import type { AppEnv } from "../env.ts";
import { badRequest } from "../errors.ts";
import { resource } from "../resource.ts";
import { body, clusterName, dropCallsBody, networkFor, networkSettings, partitionBody, serverId } from "../validate.ts";

type Ctx = Context<AppEnv>;

/** A fault on server `i`: validate, apply, answer the cluster's status. */
function onServer(fault: (cluster: Cluster, id: number, c: Ctx) => Promise<void>) {
  return async (c: Ctx) => {
    const cluster = await Cluster.open(c.env, clusterName(c));
    const id = serverId(c, cluster.members);
    return c.json(await exclusive(cluster.name, async () => (await fault(cluster, id, c), await wakeAll(cluster), view(cluster))));
  };
}

/** A fault on the whole cluster. Like every fault call, it wakes a sleeping cluster (after the change). */
function onCluster(fault: (cluster: Cluster, c: Ctx) => Promise<void>) {
  return async (c: Ctx) => {
    const cluster = await Cluster.open(c.env, clusterName(c));
    return c.json(await exclusive(cluster.name, async () => (await fault(cluster, c), await wakeAll(cluster), view(cluster))));
  };
}

export function faultRoutes(app: Hono<AppEnv>): void {
  const server = (path: string, fault: Parameters<typeof onServer>[0]) =>
    resource(app, `/clusters/:c/servers/:i/${path}`, { POST: [adminOnly, onServer(fault)] });

  server("disconnect", (cluster, id) => faults.disconnect(cluster, id));
  server("reconnect", (cluster, id) => faults.reconnect(cluster, id));
  server("crash", (cluster, id) => faults.crash(cluster, id));
  server("restart", (cluster, id) => faults.restart(cluster, id));
  server("drop-calls", async (cluster, id, c) => faults.dropCalls(cluster, id, (await body(c, dropCallsBody)).after));
  server("evict", (cluster, id) => faults.evict(cluster, id));
  resource(app, "/clusters/:c/evict", { POST: [adminOnly, onCluster((cluster) => faults.evictAll(cluster))] });

  resource(app, "/clusters/:c/partition", {
    POST: [
      adminOnly,
      onCluster(async (cluster, c) => {
        const { groups } = await body(c, partitionBody);
        const seen = new Set<number>();
        for (const id of groups.flat()) {
          if (!cluster.isMember(id)) throw badRequest(`partition names server ${id}; this cluster's members are ${cluster.members.join(", ")}`);
          if (seen.has(id)) throw badRequest(`partition names server ${id} twice`);
          seen.add(id);
        }
        await faults.partition(cluster, groups);
      }),
    ],
  });
  resource(app, "/clusters/:c/heal", { POST: [adminOnly, onCluster((cluster) => faults.heal(cluster))] });
  // `regionRttMs` (a per-link delay by the servers' location hints) is checked against where
  // the servers are: their status's locationHint, so a server that joined later counts too.
  resource(app, "/clusters/:c/network", {
    POST: [
      adminOnly,
      onCluster(async (cluster, c) => {
        const settings = await body(c, networkSettings, true);
        const regions = settings.regionRttMs ? new Map((await statuses(cluster)).map((s) => [s.id, s.locationHint])) : new Map();
        await faults.network(cluster, networkFor(settings, regions));
      }),
    ],
  });
}
