// The coordinator Worker's router: a thin layer of typed handlers over the cluster's
// Durable Objects. One module per area under routes/; every error is JSON.
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./env.ts";
import { HttpError } from "./errors.ts";
import { clusterRoutes } from "./routes/clusters.ts";
import { etcdRoutes } from "./routes/etcd.ts";
import { eventRoutes } from "./routes/events.ts";
import { faultRoutes } from "./routes/faults.ts";
import { healthRoutes } from "./routes/health.ts";
import { kvRoutes } from "./routes/kv.ts";
import { leaderRoutes } from "./routes/leader.ts";
import { logRoutes } from "./routes/log.ts";
import { memberRoutes } from "./routes/members.ts";
import { dashboardHtml } from "../ui/dashboard.ts";

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  healthRoutes(app);
  clusterRoutes(app);
  faultRoutes(app);
  logRoutes(app);
  eventRoutes(app);
  kvRoutes(app);
  etcdRoutes(app);
  leaderRoutes(app);
  memberRoutes(app);
  app.get("/", (c) => c.html(dashboardHtml()));

  app.notFound((c) => c.json({ error: "not_found", message: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    if (err instanceof HttpError) {
      for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
      return c.json(err.body(), err.status);
    }
    if (err instanceof HTTPException) {
      return c.json({ error: err.status === 400 ? "bad_request" : "http_error", message: err.message }, err.status);
    }
    console.error(`${c.req.method} ${c.req.path} failed:`, err);
    return c.json({ error: "internal", message: "internal error" }, 500);
  });
  return app;
}
