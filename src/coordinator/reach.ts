// Reaching the server objects: one RPC to one server, and the calls that go to every live
// server at once (waking a sleeping cluster). Every other module reaches a server through
// here, so what a reset object does to a call is decided in one place.
import { serverStub, type LocationHint, type RaftServerStub } from "../server/index.ts";
import type { NodeId } from "../raft/types.ts";
import type { Env } from "./env.ts";
import { HttpError } from "./errors.ts";

/**
 * One RPC to server `id` of `cluster`. An object reset while answering (a crash, an
 * eviction, a deploy) makes the call throw, and that stub stays broken. An idempotent call
 * is tried once more on a fresh stub (the object boots from its storage to answer it);
 * otherwise, or if that fails too, the answer is 503.
 */
export async function reach<T>(
  env: Env,
  cluster: string,
  id: NodeId,
  call: (s: RaftServerStub) => Promise<T>,
  idempotent = true,
  locationHint: LocationHint | null = null,
): Promise<T> {
  try {
    return await call(serverStub(env.RAFT_SERVER, cluster, id, locationHint));
  } catch (first) {
    if (idempotent) {
      try {
        return await call(serverStub(env.RAFT_SERVER, cluster, id, locationHint));
      } catch {
        // fall through with the first error
      }
    }
    const why = first instanceof Error ? first.message : String(first);
    throw new HttpError(503, "unavailable", `server ${id} did not answer (it may have been reset): ${why}`);
  }
}

/** What `wakeAll` needs of a cluster: its live servers and a way to call one. */
export interface Reachable {
  readonly live: readonly NodeId[];
  reach<T>(id: NodeId, call: (s: RaftServerStub) => Promise<T>): Promise<T>;
}

/**
 * Wake every server of a sleeping cluster (API.md, "Sleeping clusters"): fault, membership
 * and submit calls do, and so does a client operation that finds no leader (a leader lost
 * while the cluster slept). An awake server's timers are left alone. Best effort: a server
 * that is down or being reset is skipped. Answers how many servers run.
 */
export async function wakeAll(cluster: Reachable): Promise<number> {
  const woken = await Promise.all(cluster.live.map((id) => cluster.reach(id, (s) => s.wake()).catch(() => false)));
  return woken.filter(Boolean).length;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
