// One client request carried to its end, whatever the route: a /kv operation, an etcd write,
// a ReadIndex read. kv-forward.ts finds the leader and retries within one incarnation of the
// cluster; this file adds what a request needs around that: the cached configuration first,
// the registry read afresh when the servers say it is not theirs, and the request's outcome
// in words both faces can answer with (the /kv routes in their errors, the v3 routes in
// etcd's).
import type { NodeId } from "../raft/types.ts";
import { Cluster } from "./cluster.ts";
import type { Env } from "./env.ts";
import { HttpError } from "./errors.ts";
import { forwardKv, type ForwardCall, type KvTrace } from "./kv-forward.ts";
import { serverIdFrom } from "./validate.ts";

export interface ForwardRequest<R> {
  readonly name: string;
  /** `?server=` as given (checked here: 400 malformed, 404 not a member). */
  readonly server: string | undefined;
  readonly timeoutMs: number;
  /** A read changes nothing: whatever its attempts did, it may be asked again. */
  readonly read: boolean;
  /** The request carries Client-Id and Request-Id. */
  readonly exactlyOnce: boolean;
  /** The server's RPC for one attempt (ForwardCall.send). */
  readonly send: ForwardCall<R>["send"];
}

export type Finished<R> =
  | { readonly status: 200; readonly result: R; readonly server: NodeId; readonly index: number }
  | { readonly status: 421; readonly pinned: NodeId; readonly leader: NodeId | null }
  | { readonly status: 400; readonly code: string; readonly message: string; readonly extra?: Record<string, unknown> }
  | { readonly status: 413; readonly message: string }
  /** Not applied: no leader took it in time (with exactly-once ids, see unavailable()). */
  | { readonly status: 503; readonly message: string }
  /** The outcome is unknown: retry with the same ids. */
  | { readonly status: 504; readonly message: string };

/**
 * Forwards `request` until it is answered or its deadline passes. An unknown cluster is a 404
 * (thrown, as Cluster.open does).
 *
 * The cached configuration first. If the servers (or the registry) say it is not theirs, the
 * registry is read afresh: an incarnation created after this request started is not the one
 * the request belongs to (its own was deleted while it waited), and the request ends there:
 * 504 for a write (it may have been applied before the deletion), 503 for a read. An
 * incarnation that was there before the request started means the cached record was stale:
 * the request is tried once more there, unless an attempt may already have applied it in the
 * incarnation the stale record named (504: that outcome stays unknown, and the operation is
 * not carried into another incarnation of the cluster).
 */
export async function forwardRequest<R>(env: Env, request: ForwardRequest<R>): Promise<Finished<R>> {
  const { name, server, timeoutMs, read, exactlyOnce } = request;
  // The request's own deadline, whatever it is retried in (below).
  const started = Date.now();
  const deadline = started + timeoutMs;
  const trace: KvTrace = { mayHaveApplied: false };
  let cluster = await Cluster.openCached(env, name);
  // A server the cached record does not list may have joined through another isolate.
  if (server !== undefined && /^\d{1,9}$/.test(server) && !cluster.isMember(Number(server))) cluster = await Cluster.open(env, name);
  for (let retried = false; ; retried = true) {
    const pinned = server === undefined ? null : serverIdFrom(server, cluster.members);
    const out = await forwardKv(cluster, { send: request.send, retryUnknown: read || exactlyOnce, pinned, deadline }, trace);
    switch (out.status) {
      case 200:
      case 400:
      case 413:
        return out;
      case 421:
        return { status: 421, pinned: pinned!, leader: out.leader };
      case 503:
        return { status: 503, message: unavailable(exactlyOnce, `no leader took the operation within ${timeoutMs} ms`) };
      case 504:
        return { status: 504, message: "the operation's outcome is unknown: retry with the same Client-Id and Request-Id" };
      case "stale_config": {
        if (trace.mayHaveApplied && !read) {
          return { status: 504, message: `cluster ${name} was deleted or re-created while the operation was in flight; its outcome in the old cluster is unknown` };
        }
        const now = await Cluster.open(env, name).catch((error: unknown) => {
          if (error instanceof HttpError && error.status === 404) return null;
          throw error;
        });
        if (now === null || now.createdAt > started) return incarnationGone(name, read);
        if (retried || now.config.epoch === cluster.config.epoch) return { status: 503, message: unavailable(exactlyOnce, `cluster ${name} is being re-created`) };
        cluster = now;
        continue;
      }
    }
  }
}

/**
 * The incarnation of the cluster this request started in was deleted while it waited
 * (perhaps re-created since, as another incarnation it does not belong to).
 */
function incarnationGone(name: string, read: boolean): Finished<never> {
  return read
    ? { status: 503, message: `cluster ${name} was deleted or re-created while the read waited; it was not answered` }
    : { status: 504, message: `cluster ${name} was deleted or re-created while the operation waited; its outcome in the old cluster is unknown` };
}

/**
 * 503: no attempt of this request was applied. With exactly-once ids the operation is the
 * ids, and another request carrying them (an earlier try still running at the coordinator,
 * or a duplicate sent alongside) may have applied it: the answer says so, and only a retry
 * with the same ids tells (it answers the first result if there is one).
 */
function unavailable(exactlyOnce: boolean, why: string): string {
  return exactlyOnce
    ? `${why}; this request was not applied, but another request with the same Client-Id and Request-Id may have been: retry with the same ids to learn its result`
    : `${why}; it was not applied`;
}
