// The Worker's bindings (wrangler.toml, `--var`, secrets).
import type { ServerEnv } from "../server/index.ts";
import type { ClusterRegistry } from "./registry.ts";

export interface Env extends ServerEnv {
  /** One registry object per cluster name (registry.ts): settings, servers, next id. */
  CLUSTER_REGISTRY: DurableObjectNamespace<ClusterRegistry>;
  /** "1" opens the admin routes to everyone (`npm run dev` and the tests set it). */
  ADMIN_OPEN?: string;
  /** Secret: admin routes accept `Authorization: Bearer <ADMIN_TOKEN>`. */
  ADMIN_TOKEN?: string;
  /** Secret: when set, key/value routes need `Authorization: Bearer <CLIENT_TOKEN>`. */
  CLIENT_TOKEN?: string;
}

/** Hono's view of the Worker. */
export interface AppEnv {
  Bindings: Env;
}

// `env` and `exports` from "cloudflare:workers" (used by the tests) get these types.
declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("./index.ts");
      durableNamespaces: "RaftServer";
    }
    interface Env {
      RAFT_SERVER: ServerEnv["RAFT_SERVER"];
      ADMIN_OPEN?: string;
      ADMIN_TOKEN?: string;
      CLIENT_TOKEN?: string;
      NARRATE?: string;
    }
  }
}
