// Register a path's handlers by method, and answer 405 (with Allow) for every other method.
import type { Hono, Handler, MiddlewareHandler } from "hono";
import type { AppEnv } from "./env.ts";
import { HttpError } from "./errors.ts";

type Method = "GET" | "POST" | "PUT" | "DELETE";
type Chain = [...MiddlewareHandler<AppEnv>[], Handler<AppEnv>];

export function resource(app: Hono<AppEnv>, path: string, methods: Partial<Record<Method, Chain>>): void {
  const allowed = Object.keys(methods) as Method[];
  for (const method of allowed) app.on(method, path, ...(methods[method] as [Handler<AppEnv>]));
  const allow = [...allowed, ...(allowed.includes("GET") ? ["HEAD"] : [])].join(", ");
  app.all(path, (c) => {
    throw new HttpError(405, "method_not_allowed", `${c.req.method} is not allowed on this path; allowed: ${allow}`, {
      Allow: allow,
    });
  });
}
