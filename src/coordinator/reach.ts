// Reaching the server objects: one RPC to one server, the call that goes to every live
// server at once (waking a sleeping cluster), and the pause between tries. Every other
// module reaches a server through here, so what a reset object does to a call is decided
// in one place (crash and evict, whose calls fail by design, hold their stubs themselves:
// faults.ts). A cluster handle (cluster.ts) is what names the servers.
import { serverStub, type LocationHint, type RaftServerStub } from "../server/index.ts";
import type { NodeId } from "../raft/types.ts";
import type { Env } from "./env.ts";
import { HttpError } from "./errors.ts";

/** The servers of one cluster incarnation, as a call needs them: the Worker's bindings and the name. */
export interface ServerSet {
  readonly env: Env;
  readonly name: string;
}

/** What calls to every live server need besides: which servers those are. */
export interface LiveServers extends ServerSet {
  readonly live: readonly NodeId[];
}

/**
 * One RPC to server `id` of `cluster`. An object reset while answering (a crash, an
 * eviction, a deploy) makes the call throw, and that stub stays broken. An idempotent call
 * is tried once more on a fresh stub (the object boots from its storage to answer it);
 * otherwise, or if that fails too, the answer is 503.
 */
export async function reach<T>(
  cluster: ServerSet,
  id: NodeId,
  call: (s: RaftServerStub) => Promise<T>,
  idempotent = true,
  locationHint: LocationHint | null = null,
): Promise<T> {
  const stub = () => serverStub(cluster.env.RAFT_SERVER, cluster.name, id, locationHint);
  try {
    return await call(stub());
  } catch (first) {
    if (idempotent) {
      try {
        return await call(stub());
      } catch {
        // fall through with the first error
      }
    }
    const why = first instanceof Error ? first.message : String(first);
    throw new HttpError(503, "unavailable", `server ${id} did not answer (it may have been reset): ${why}`);
  }
}

/**
 * Wake every server of a sleeping cluster (API.md, "Sleeping clusters"): fault, membership
 * and submit calls do, and so does a client operation that finds no leader (a leader lost
 * while the cluster slept). An awake server's timers are left alone. Best effort: a server
 * that is down or being reset is skipped. Answers how many servers run.
 */
export async function wakeAll(cluster: LiveServers): Promise<number> {
  const woken = await Promise.all(cluster.live.map((id) => reach(cluster, id, (s) => s.wake()).catch(() => false)));
  return woken.filter(Boolean).length;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
