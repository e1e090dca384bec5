// Who may use the admin routes (clusters, faults, raw log). Fails closed: with neither
// ADMIN_OPEN="1" nor an ADMIN_TOKEN secret, nobody may.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env.ts";
import { HttpError } from "./errors.ts";

export const adminOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.env.ADMIN_OPEN === "1") return next();
  const token = c.env.ADMIN_TOKEN;
  if (!token) {
    throw new HttpError(403, "forbidden", "admin routes are closed on this deployment (no ADMIN_OPEN, no ADMIN_TOKEN)");
  }
  const presented = bearer(c.req.header("Authorization"));
  if (presented === null) {
    throw new HttpError(401, "unauthorized", "admin routes need Authorization: Bearer <ADMIN_TOKEN>", {
      "WWW-Authenticate": 'Bearer realm="admin"',
    });
  }
  if (!(await sameSecret(presented, token))) throw new HttpError(403, "forbidden", "wrong admin token");
  return next();
};

/** Key/value routes: open, unless the Worker has a CLIENT_TOKEN secret, which requests must then carry. */
export const clientOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = c.env.CLIENT_TOKEN;
  if (!token) return next();
  const presented = bearer(c.req.header("Authorization"));
  if (presented === null) {
    throw new HttpError(401, "unauthorized", "key/value routes need Authorization: Bearer <CLIENT_TOKEN>", {
      "WWW-Authenticate": 'Bearer realm="kv"',
    });
  }
  if (!(await sameSecret(presented, token))) throw new HttpError(403, "forbidden", "wrong client token");
  return next();
};

/** The token of an `Authorization: Bearer <token>` header, or null if there is none. */
export function bearer(header: string | undefined): string | null {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  return m ? m[1]! : null;
}

/** Constant-time comparison (hashing first makes the lengths equal). */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(a)),
    crypto.subtle.digest("SHA-256", enc.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}
