// Getting one request answered by the leader, within one incarnation of the cluster: a
// key/value operation or an etcd write applied through the log, or a ReadIndex read (a key,
// a listing, an etcd range). Find the leader, hand it the request, follow `not_leader`
// hints, retry what is safe to retry, and give up at a deadline. What the request is, is the
// caller's `send` (ForwardCall); forward-request.ts carries it across incarnations.
//
// What may be retried: an operation known not to have been applied (no leader took it, or
// another leader's entry took its index) always; one whose outcome is unknown (a wait that
// ran out, a server reset mid-call) only when repeating it cannot apply it twice: a read,
// or a request with exactly-once ids. Otherwise the client hears 504 and decides.
//
// Once any attempt may have applied the operation, the answer is 504 unless an attempt
// tells otherwise (200, or a refusal that says nothing was applied): later attempts that
// find no leader, or servers of another incarnation of the cluster, do not undo that.
import type { KvResult } from "../kv/index.ts";
import type { NodeId } from "../raft/types.ts";
import type { KvAnswer, RaftServerStub } from "../server/index.ts";
import { remember, type Cluster } from "./cluster.ts";
import { reach, sleep, wakeAll } from "./reach.ts";
import { findLeader } from "./status.ts";

/**
 * The last leader each cluster named, per Worker isolate, by the cluster's epoch (a cluster
 * re-created under the same name starts without one): a hint, never trusted for
 * correctness (a wrong guess costs one `not_leader` round trip).
 */
const leaderHints = new Map<string, NodeId>();

/**
 * The leader this isolate last heard of for `cluster`'s incarnation, or null. Also the server
 * that answered its last request here, so it has applied at least that far: the first one a
 * serializable read asks (routes/etcd.ts), so a client reads its own writes while that leader
 * lasts.
 */
export function leaderHintOf(cluster: Cluster): NodeId | null {
  return leaderHints.get(cluster.config.epoch) ?? null;
}

/**
 * One request to be taken by the leader: a key/value operation, an etcd write, a ReadIndex
 * read (a key, a listing, an etcd range). `R` is what the server answers when it is done.
 */
export interface ForwardCall<R> {
  /**
   * One attempt at one server: the RPC that proposes (or reads) and waits at most `waitMs`
   * for its answer, naming the incarnation `epoch`.
   */
  readonly send: (server: RaftServerStub, epoch: string, waitMs: number) => Promise<KvAnswer<R>>;
  /**
   * Whether an attempt whose outcome is unknown may be repeated: a read, or a write with
   * exactly-once ids (a repeat cannot apply it twice). Otherwise the client hears 504.
   */
  readonly retryUnknown: boolean;
  /** `?server=i`: only this server may take it; 421 if it is not the leader. */
  readonly pinned: NodeId | null;
  /**
   * When the request gives up (ms since the epoch): the request's own, set once when it
   * arrived, so a retry in a fresh configuration does not start the wait over.
   */
  readonly deadline: number;
}

/** What forwardKv learnt besides its outcome. */
export interface KvTrace {
  /** Some attempt may have applied the operation (its outcome is unknown). */
  mayHaveApplied: boolean;
}

export type KvOutcome<R = KvResult> =
  | { readonly status: 200; readonly result: R; readonly server: NodeId; readonly index: number }
  | { readonly status: 421; readonly leader: NodeId | null }
  /** Committed and refused by every replica alike (an append past the value limit): nothing applied. */
  | { readonly status: 413; readonly message: string }
  | { readonly status: 400; readonly code: string; readonly message: string; readonly extra?: Record<string, unknown> }
  | { readonly status: 503 }
  | { readonly status: 504 }
  /**
   * The incarnation `cluster` names is not the servers' any more, or not the registry's:
   * the cached record was stale, or the cluster was deleted (and maybe re-created) while the
   * request waited. The route tells which (routes/kv.ts).
   */
  | { readonly status: "stale_config" };

/**
 * Forward `call` until an answer or its deadline. `trace` carries what earlier tries of
 * the same request learnt (the route tries again with a fresh configuration when the
 * servers say the cached one is stale), and learns what these attempts did.
 */
export async function forwardKv<R>(cluster: Cluster, call: ForwardCall<R>, trace: KvTrace = { mayHaveApplied: false }): Promise<KvOutcome<R>> {
  const deadline = call.deadline;
  // A healthy leader applies within a few heartbeats; a leader that cannot reach a majority
  // never will, so an attempt ends after two election timeouts and the leader is sought anew.
  const attemptMs = 2 * cluster.config.electionTimeoutMs[1];
  const retryUnknown = call.retryUnknown;
  let hops = 0;
  let target: NodeId | null = call.pinned ?? leaderHints.get(cluster.config.epoch) ?? null;
  let nextWake = 0;

  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    if (target === null) target = await findLeader(cluster);
    if (target === null) {
      // No leader: an election is under way, or the cluster went to sleep and its leader
      // was lost meanwhile, and sleeping followers notice nothing. Waking them starts their
      // election timers (a follower already awake is left alone, so this never delays an
      // election); once per election timeout is enough.
      // The servers this isolate knows of may be out of date too (members added or removed
      // through another isolate): the registry is read again, with the same cadence. It may
      // say this incarnation is gone (deleted, maybe re-created): then waiting is over.
      if (Date.now() >= nextWake) {
        nextWake = Date.now() + cluster.config.electionTimeoutMs[1];
        if (!(await cluster.refresh().catch(() => true))) return { status: "stale_config" };
        await wakeAll(cluster);
      }
      await sleep(Math.min(20, Math.max(0, deadline - Date.now())));
      continue;
    }
    const answer = await attempt(cluster, target, call, Math.min(attemptMs, remaining));
    switch (answer.kind) {
      case "ok":
        remember(leaderHints, cluster.config.epoch, target);
        return { status: 200, result: answer.result, server: target, index: answer.index };
      case "too_large":
        remember(leaderHints, cluster.config.epoch, target);
        return { status: 413, message: answer.message };
      case "other_cluster":
        // Not proposed there; but an earlier attempt, in the incarnation this configuration
        // names, may have been applied: then the outcome stays unknown (the route says 504).
        return { status: "stale_config" };
      case "stale":
        // Stale says this attempt was not applied; an earlier one of this request may have
        // been (a client sharing its Client-Id moved the session on since): then unknown.
        if (trace.mayHaveApplied) return { status: 504 };
        return {
          status: 400,
          code: "stale_request",
          message: `Request-Id is not after this client's last applied request (${answer.lastRequestId}) and not a retry of it; it was not applied`,
          // A client that knows nothing of this request was applied can retry it under a newer id.
          extra: { lastRequestId: answer.lastRequestId },
        };
      case "forgotten":
        return {
          status: 400,
          code: "result_forgotten",
          message: "this request was applied, but its result is no longer held (the session table keeps the results of its most recently used sessions only); it was not applied again",
        };
      case "rejected":
        return { status: 400, code: "bad_request", message: answer.message };
      case "not_leader":
        if (call.pinned !== null) return { status: 421, leader: answer.leader };
        leaderHints.delete(cluster.config.epoch);
        target = answer.leader !== null && answer.leader !== target ? answer.leader : null;
        // Following a hint is free once; servers that keep naming each other are between
        // leaders (a hand-over: the old leader names the target, which names the old one
        // until it wins), so from the second hop on, give the election a moment.
        if (target === null || ++hops > 1) await sleep(Math.min(10, Math.max(0, deadline - Date.now())));
        continue;
      case "not_applied":
        leaderHints.delete(cluster.config.epoch);
        target = call.pinned;
        continue;
      case "unknown":
        trace.mayHaveApplied = true;
        // The leader took it and did not apply it in time: it may be cut off from followers
        // that sleep and so notice nothing. Wake them (their timers then run, and a leader
        // that can reach them is elected), whatever happens to this request.
        if (Date.now() >= nextWake) {
          nextWake = Date.now() + cluster.config.electionTimeoutMs[1];
          await wakeAll(cluster);
        }
        if (call.pinned !== null || !retryUnknown) return { status: 504 };
        leaderHints.delete(cluster.config.epoch);
        target = null;
        continue;
    }
  }
  return trace.mayHaveApplied ? { status: 504 } : { status: 503 };
}

async function attempt<R>(cluster: Cluster, id: NodeId, call: ForwardCall<R>, waitMs: number): Promise<KvAnswer<R>> {
  try {
    const epoch = cluster.config.epoch;
    return await reach(cluster, id, (s) => call.send(s, epoch, waitMs), false);
  } catch {
    // The server was reset during the call (a crash): the operation may or may not be in its log.
    return { kind: "unknown" };
  }
}
