// GET /healthz: the Worker is up (it touches no Durable Object).
import type { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { resource } from "../resource.ts";

export function healthRoutes(app: Hono<AppEnv>): void {
  resource(app, "/healthz", { GET: [(c) => c.json({ ok: true })] });
}
