// Membership changes (API.md, "Membership (admin)"): add a server, promote a learner, remove
// a member. The Raft core does the algorithm (src/raft/membership.ts: one server at a time,
// a configuration entry in force once appended, done once committed); the coordinator
// creates and retires the server objects around it, finds the leader and waits.
//
// Adding: the new object is created first (its id from the registry, never reused; the
// cluster's settings, the hint, links to every live server and the network settings the
// others have), then the leader appends "add learner", and the answer waits for its commit.
// For a voter, the leader is then asked to promote it, which it refuses (not_caught_up)
// until the learner holds its log: asked again every 20 ms until the deadline. A new voter
// thus never counts toward a majority before it has caught up.
//
// Removing: the leader appends the configuration without the member (the leader itself
// too: it keeps leading until that commits, then hands over to a voter and steps down);
// once committed, the coordinator waits a little for a leader among the remaining voters,
// then retires the removed server: its timers stop and it answers no Raft RPC, for good.
//
// Errors: 409 change_in_progress (the latest configuration entry is not committed yet),
// 409 last_voter, 409 too_many_voters / too_many_learners (at most 9 of each: a refusal
// that depends on the cluster's state, hence 409), 404 a non-member, 503 no leader within
// the deadline, 504 not committed in time (the outcome is unknown: read the status).
import { MAX_LEARNERS, MAX_VOTERS } from "../raft/membership.ts";
import type { Membership, MembershipChange, NodeId } from "../raft/types.ts";
import { networkWithMember } from "../server/links.ts";
import { RELIABLE, type LocationHint, type MembershipAnswer, type NetworkSettings } from "../server/protocol.ts";
import { exclusive } from "./admin-lock.ts";
import type { Cluster } from "./cluster.ts";
import { HttpError, notFound } from "./errors.ts";
import { reach, sleep, wakeAll } from "./reach.ts";
import { connectedLeaderOf, findLeader, status, view, type ClusterView } from "./status.ts";

/** How long a membership call may take by default: ample for a catch-up and two commits. */
export function defaultMembershipTimeoutMs(cluster: Cluster): number {
  return Math.max(5000, 20 * cluster.config.electionTimeoutMs[1]);
}

/** How often a refusal that will pass (not_ready, not_caught_up) is asked again. */
const RETRY_MS = 20;

export async function addMember(
  cluster: Cluster,
  role: "voter" | "learner",
  locationHint: LocationHint | null,
  timeoutMs: number,
): Promise<ClusterView & { added: NodeId }> {
  const deadline = Date.now() + timeoutMs;
  await wakeAll(cluster);
  const now = await view(cluster);
  if (now.learners.length >= MAX_LEARNERS) throw tooMany("learners", MAX_LEARNERS);
  if (role === "voter" && now.voters.length >= MAX_VOTERS) throw tooMany("voters", MAX_VOTERS);
  // A leader first: an object made for a cluster that cannot take it would be wasted.
  await leaderBy(cluster, deadline);
  // Creating the object and its links runs under the fault routes' lock, so a partition or a
  // heal does not miss the new server halfway.
  const id = await exclusive(cluster.name, async () => {
    const id = await cluster.allocate(locationHint);
    await createServer(cluster, id, locationHint);
    return id;
  });
  let committed: Membership;
  try {
    committed = await change(cluster, { op: "add_learner", id }, deadline);
  } catch (error) {
    // Refused (nothing appended): the new object never joined; retire it (ids are never
    // reused). After a 504 it may still join: leave it be.
    if (error instanceof HttpError && error.status !== 504) await exclusive(cluster.name, () => retire(cluster, id)).catch(() => {});
    throw error;
  }
  if (role === "voter") {
    try {
      committed = await change(cluster, { op: "promote", id }, deadline, true);
    } catch (error) {
      // The addition itself is committed: say so, whatever kept the promotion from happening.
      if (error instanceof HttpError) throw new HttpError(error.status, error.code, `server ${id} was added as a learner, not yet promoted: ${error.message}`, error.headers);
      throw error;
    }
  }
  return { ...(await view(cluster, committed)), added: id };
}

export async function promoteMember(cluster: Cluster, id: NodeId, timeoutMs: number): Promise<ClusterView> {
  const deadline = Date.now() + timeoutMs;
  await wakeAll(cluster);
  const now = await view(cluster);
  if (!now.voters.includes(id) && !now.learners.includes(id)) throw notMember(cluster, id, now);
  if (now.voters.includes(id)) return now; // already a voter: nothing to do (a retry after a 504 lands here)
  if (now.voters.length >= MAX_VOTERS) throw tooMany("voters", MAX_VOTERS);
  return view(cluster, await change(cluster, { op: "promote", id }, deadline));
}

export async function removeMember(cluster: Cluster, id: NodeId, timeoutMs: number): Promise<ClusterView> {
  const deadline = Date.now() + timeoutMs;
  await wakeAll(cluster);
  try {
    return await removeFrom(cluster, id, await view(cluster), deadline);
  } catch (e) {
    // The view said member, the leader says not: an earlier removal (one that answered 504)
    // committed in between. That is the 404 of a member already gone, not a bad request.
    if (!(e instanceof HttpError && e.status === 400 && e.code === "invalid_change")) throw e;
    const now = await view(cluster);
    if (now.voters.includes(id) || now.learners.includes(id)) throw e;
    return await removeFrom(cluster, id, now, deadline);
  }
}

async function removeFrom(cluster: Cluster, id: NodeId, now: ClusterView, deadline: number): Promise<ClusterView> {
  if (!now.voters.includes(id) && !now.learners.includes(id)) {
    // A removal that answered 504 and committed later left the server running (a removed
    // voter that never heard of its removal keeps standing for election, ignored). Asked
    // again, it is retired now, then 404 as any non-member: provided the leader's
    // configuration without it is committed, and the server was once in a configuration
    // (not an object still joining, which is in none).
    if (cluster.live.includes(id) && now.leader !== null) {
      const [leader, s] = await Promise.all([status(cluster, now.leader).catch(() => null), status(cluster, id).catch(() => null)]);
      const committed = leader !== null && leader.membershipIndex !== null && leader.commitIndex >= leader.membershipIndex;
      const wasMember = s !== null && (s.member !== "removed" || (s.membershipIndex ?? 0) > 0);
      if (committed && (wasMember || s?.state === "Dead")) await exclusive(cluster.name, () => retire(cluster, id)).catch(() => {});
    }
    throw notMember(cluster, id, now);
  }
  const after = await change(cluster, { op: "remove", id }, deadline);
  // A removed leader hands over once the removal commits: give that a moment (an election
  // timeout or two), so the answer shows the new leader, and so the old one's TimeoutNow is
  // not cut off by the retirement below. Not an error if it takes longer.
  const until = Math.min(deadline, Date.now() + 2 * cluster.config.electionTimeoutMs[1] + 500);
  while (Date.now() < until) {
    const leader = connectedLeaderOf(await Promise.all(cluster.live.map((s) => status(cluster, s).catch(() => null))));
    if (leader !== null && leader !== id && after.voters.includes(leader)) break;
    await sleep(RETRY_MS);
  }
  await exclusive(cluster.name, () => retire(cluster, id));
  return view(cluster, after);
}

/**
 * One change, asked of the leader until it is committed or refused for good. `afterOwn`: an
 * earlier change of the same call just committed, so a change_in_progress can only be a new
 * leader that has not yet learnt that commit: asked again rather than answered 409.
 */
async function change(cluster: Cluster, ch: MembershipChange, deadline: number, afterOwn = false): Promise<Membership> {
  const epoch = cluster.config.epoch;
  let target: NodeId | null = null;
  let hops = 0;
  let nextWake = 0;
  let pending: HttpError = noLeader(ch);
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw pending;
    if (target === null) target = await findLeader(cluster);
    if (target === null) {
      // No leader: an election is under way, or a sleeping cluster lost its leader.
      if (Date.now() >= nextWake) {
        nextWake = Date.now() + cluster.config.electionTimeoutMs[1];
        await wakeAll(cluster);
      }
      pending = noLeader(ch);
      await sleep(Math.min(RETRY_MS, Math.max(0, deadline - Date.now())));
      continue;
    }
    let answer: MembershipAnswer;
    try {
      answer = await reach(cluster, target, (s) => s.changeMembership(epoch, ch, remaining), false);
    } catch {
      answer = { kind: "unknown", index: 0 }; // the leader was reset during the call
    }
    switch (answer.kind) {
      case "committed":
        await cluster.recordMembership(answer.membership).catch(() => {});
        return answer.membership;
      case "other_cluster":
        throw notFound(`cluster ${cluster.name} was deleted or re-created meanwhile`);
      case "not_applied":
        // Another leader's entry took its index: the change did not happen. Ask again.
        target = null;
        continue;
      case "unknown":
        throw new HttpError(504, "timeout", `${what(ch)} was not committed in time; its outcome is unknown: read the cluster status`);
      case "refused":
        switch (answer.reason) {
          case "not_leader":
            target = answer.leader !== null && answer.leader !== target ? answer.leader : null;
            pending = noLeader(ch);
            if (target === null || ++hops > 1) await sleep(Math.min(10, Math.max(0, deadline - Date.now())));
            continue;
          case "not_ready":
          case "not_caught_up":
            pending = new HttpError(
              504,
              "timeout",
              answer.reason === "not_caught_up"
                ? `${what(ch)}: server ${ch.id} did not catch up with the leader in time (${answer.message}); it stays a learner`
                : `${what(ch)}: the leader did not become ready in time (${answer.message})`,
            );
            await sleep(Math.min(RETRY_MS, Math.max(0, deadline - Date.now())));
            continue;
          case "change_in_progress":
            if (afterOwn) {
              pending = new HttpError(409, "change_in_progress", answer.message);
              await sleep(Math.min(RETRY_MS, Math.max(0, deadline - Date.now())));
              continue;
            }
            throw new HttpError(409, "change_in_progress", `another membership change is not committed yet: ${answer.message}`);
          case "last_voter":
            throw new HttpError(409, "last_voter", `server ${ch.id} is the only voter: it cannot be removed`);
          case "invalid":
            throw new HttpError(400, "invalid_change", `${what(ch)}: ${answer.message}`);
        }
    }
  }
}

/** Server `id` is out for good: its timers stop, it answers no Raft RPC (RaftServer.retire). */
async function retire(cluster: Cluster, id: NodeId): Promise<void> {
  await reach(cluster, id, (s) => s.retire());
  await cluster.recordRetired(id);
}

/** A leader within the deadline (waking a sleeping cluster), or 503. */
async function leaderBy(cluster: Cluster, deadline: number): Promise<NodeId> {
  let nextWake = 0;
  for (;;) {
    const leader = await findLeader(cluster);
    if (leader !== null) return leader;
    if (Date.now() >= deadline) throw new HttpError(503, "unavailable", "no leader: the cluster cannot change its membership now");
    if (Date.now() >= nextWake) {
      nextWake = Date.now() + cluster.config.electionTimeoutMs[1];
      await wakeAll(cluster);
    }
    await sleep(RETRY_MS);
  }
}

/**
 * The new server's object: the cluster's configuration (its core's initial voters are the
 * cluster's initial servers, like everyone's: it learns its role from the leader), its hint
 * (applied as the object is created), links with every live server that is connected, and
 * the network settings the others have (links.ts networkWithMember: with a per-link delay
 * matrix, every server also learns the new one's region).
 */
async function createServer(cluster: Cluster, id: NodeId, locationHint: LocationHint | null): Promise<void> {
  const config = cluster.config;
  const others = cluster.live.filter((p) => p !== id);
  let settings: NetworkSettings | null = null;
  for (const p of others) {
    settings = await reach(cluster, p, (s) => s.networkSettings()).catch(() => null);
    if (settings) break;
  }
  const net = { connected: true, peers: others, ...RELIABLE };
  const init = () => reach(cluster, id, (s) => s.init(config, id, { locationHint, net }), true, locationHint);
  const r = await init();
  if (r.config.epoch !== config.epoch) {
    // Left over from an older cluster of the same name whose deletion was cut short.
    await reach(cluster, id, (s) => s.destroy());
    await init();
  }
  const next = settings ? networkWithMember(settings, id, locationHint) : null;
  await Promise.all([
    ...others.map((p) => reach(cluster, p, (s) => s.acceptLink(id))),
    ...(next ? [id, ...(next !== settings ? others : [])].map((p) => reach(cluster, p, (s) => s.setNetwork(next))) : []),
  ]);
}

function what(ch: MembershipChange): string {
  switch (ch.op) {
    case "add_learner":
      return `adding server ${ch.id}`;
    case "promote":
      return `promoting server ${ch.id}`;
    case "remove":
      return `removing server ${ch.id}`;
  }
}

function noLeader(ch: MembershipChange): HttpError {
  return new HttpError(503, "unavailable", `no leader took ${what(ch)} in time; it did not happen`);
}

function tooMany(what: "voters" | "learners", max: number): HttpError {
  return new HttpError(409, `too_many_${what}`, `the cluster has ${max} ${what} already (at most ${max})`);
}

function notMember(cluster: Cluster, id: NodeId, view: ClusterView): HttpError {
  const members = [...view.voters, ...view.learners].sort((a, b) => a - b);
  return notFound(`server ${id} is not a member of ${cluster.name}; its members are ${members.join(", ")}`);
}
