// The Worker's entry point: the coordinator's router, and the Durable Object class every
// Raft server runs as (wrangler.toml binds RAFT_SERVER to it), and each cluster's registry
// (CLUSTER_REGISTRY).
import { createApp } from "./app.ts";
import type { Env } from "./env.ts";
import { withJsonErrors } from "./json-answers.ts";

export { RaftServer } from "../server/index.ts";
export { ClusterRegistry } from "./registry.ts";

const app = createApp();

export default {
  fetch: withJsonErrors<Env, ExecutionContext>((request, env, ctx) => app.fetch(request, env, ctx)),
} satisfies ExportedHandler<Env>;
