// What the cluster looks like: one server's status, every live server's, the cluster view
// that GET /clusters/{c} answers (and every admin route after its change), which server
// leads, and the merged narration of /events. Reading only, with one exception: when the
// configuration the servers hold differs from the registry's record, the record follows.
import type { EventLine, Membership, ServerStatus } from "../server/index.ts";
import type { NodeId } from "../raft/types.ts";
import { settingsOf, type Cluster, type Settings } from "./cluster.ts";
import { notFound } from "./errors.ts";
import { reach } from "./reach.ts";

/** GET /clusters/{c}: the settings, the leader and every member's status. */
export interface ClusterView extends Settings {
  readonly cluster: string;
  readonly leader: NodeId | null;
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Every server that is up sleeps with the idle cluster. */
  readonly asleep: boolean;
  readonly servers: readonly ServerStatus[];
}

export async function status(cluster: Cluster, id: NodeId): Promise<ServerStatus> {
  const s = await reach(cluster, id, (server) => server.status());
  return s ?? notInitialised(id);
}

/** The status of every live server (members and servers in between), in id order. */
export async function statuses(cluster: Cluster): Promise<ServerStatus[]> {
  return Promise.all(cluster.live.map((id) => status(cluster, id)));
}

/** Status plus what the server's storage holds; 404 for a server never initialised. */
export async function inspect(cluster: Cluster, id: NodeId) {
  const detail = await reach(cluster, id, (s) => s.inspect());
  if (!detail) throw notFound(`server ${id} of ${cluster.name} was never initialised; repeat POST /clusters/${cluster.name}`);
  return detail;
}

/**
 * The cluster status (API.md): the configuration the servers hold, and the status of
 * exactly its members, each with the role that configuration gives it. A configuration
 * entry appended but not committed yet (a change that answered 504) only adds: its voters
 * are the committed configuration's (the registry's record, the last one the coordinator
 * saw committed), so a server it removes or demotes stays what it was until the change
 * commits, and a server it adds is shown as a learner, which it is to the leader already.
 * The record follows what is shown, so every route takes the same members as the status.
 * `committed`: a configuration the caller just saw committed (a membership change's).
 */
export async function view(cluster: Cluster, committed?: Membership): Promise<ClusterView> {
  const all = await statuses(cluster);
  const membership = committed ?? shownConfiguration(heldConfigurationOf(all), cluster.membership);
  if (!sameMembership(membership, cluster.membership)) await cluster.recordMembership(membership).catch(() => {});
  const byId = new Map(all.map((s) => [s.id, s]));
  const memberIds = [...membership.voters, ...membership.learners].sort((a, b) => a - b);
  const servers = await Promise.all(
    memberIds.map(async (id) => {
      const s = byId.get(id) ?? (await status(cluster, id));
      return { ...s, role: membership.voters.includes(id) ? ("voter" as const) : ("learner" as const) };
    }),
  );
  const up = servers.filter((s) => s.state !== "Dead");
  return {
    cluster: cluster.name,
    ...settingsOf(cluster.config),
    size: membership.voters.length,
    leader: leaderOf(all),
    voters: [...membership.voters],
    learners: [...membership.learners],
    // Asleep: every server that is up sleeps (API.md, "Sleeping clusters").
    asleep: up.length > 0 && up.every((s) => s.asleep),
    servers,
  };
}

/** The leader of the highest term among the live servers that are up and connected, or null. */
export async function findLeader(cluster: Cluster): Promise<NodeId | null> {
  const all = await Promise.all(cluster.live.map((id) => status(cluster, id).catch(() => null)));
  return connectedLeaderOf(all);
}

/**
 * The leader of the highest term among servers that believe they lead (a stale leader cut
 * off from the others may still believe it, in an older term).
 */
export function leaderOf(servers: readonly ServerStatus[]): NodeId | null {
  let best: ServerStatus | null = null;
  for (const s of servers) if (s.state === "Leader" && (!best || s.term > best.term)) best = s;
  return best ? best.id : null;
}

/**
 * The leader of the highest term among servers that are up and connected: a deposed leader
 * cut off in a minority still believes it leads, but in an older term.
 */
export function connectedLeaderOf(servers: readonly (ServerStatus | null)[]): NodeId | null {
  let best: ServerStatus | null = null;
  for (const s of servers) {
    if (s !== null && s.state === "Leader" && s.connected && (!best || s.term > best.term)) best = s;
  }
  return best ? best.id : null;
}

/** A configuration as a server holds it, and whether that server knows it committed. */
export interface HeldConfiguration {
  readonly membership: Membership;
  readonly committed: boolean;
}

/**
 * The configuration of the cluster as its servers hold it: the leader's (of the highest
 * term), or else the most up-to-date server's (the highest commit index, then the latest
 * configuration entry). Committed when that server's commit index has reached the entry.
 * Null when no server that is up says (all down).
 */
export function heldConfigurationOf(servers: readonly ServerStatus[]): HeldConfiguration | null {
  let best: ServerStatus | null = null;
  for (const s of servers) if (s.state === "Leader" && s.membership && (!best || s.term > best.term)) best = s;
  if (!best) {
    for (const s of servers) {
      if (!s.membership || s.retired) continue;
      if (!best || s.commitIndex > best.commitIndex || (s.commitIndex === best.commitIndex && (s.membershipIndex ?? 0) > (best.membershipIndex ?? 0))) best = s;
    }
  }
  if (!best?.membership) return null;
  return { membership: best.membership, committed: best.commitIndex >= (best.membershipIndex ?? 0) };
}

/**
 * What the status shows (see `view`): the held configuration once committed; before that,
 * the last committed one (`recorded`) plus, as learners, the servers the held one adds.
 */
export function shownConfiguration(held: HeldConfiguration | null, recorded: Membership): Membership {
  if (held === null) return recorded;
  if (held.committed) return held.membership;
  const known = new Set([...recorded.voters, ...recorded.learners]);
  const adding = [...held.membership.voters, ...held.membership.learners].filter((id) => !known.has(id));
  return { voters: [...recorded.voters], learners: [...recorded.learners, ...adding].sort((a, b) => a - b) };
}

export function sameMembership(a: Membership, b: Membership): boolean {
  const key = (m: Membership) => `${[...m.voters].sort((x, y) => x - y).join(",")}/${[...m.learners].sort((x, y) => x - y).join(",")}`;
  return key(a) === key(b);
}

/** Every server's recent narration plus the harness lines, newer than `since`, by time. */
export async function events(cluster: Cluster, since: number): Promise<EventLine[]> {
  const perServer = await Promise.all(cluster.created.map((id) => reach(cluster, id, (s) => s.events(since))));
  const seen = new Set<string>();
  const all: EventLine[] = [];
  for (const lines of perServer) {
    for (const l of lines) {
      // A harness line: every server keeps a copy, all with one timestamp (faults.ts `note`).
      if (l.server === null) {
        const key = `${l.t} ${l.line}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      all.push(l);
    }
  }
  return all.sort((a, b) => a.t - b.t); // stable: each server's own order is kept
}

/** A server whose initialisation never happened (a creation cut short): shown as Dead. */
function notInitialised(id: NodeId): ServerStatus {
  return {
    id,
    state: "Dead",
    asleep: false,
    role: "voter",
    member: null,
    membership: null,
    membershipIndex: null,
    retired: false,
    locationHint: null,
    term: 0,
    votedFor: null,
    leader: null,
    commitIndex: 0,
    lastApplied: 0,
    logLength: 0,
    connected: false,
    peers: [],
    dropCallsAfter: null,
    snapshotIndex: 0,
    transferringTo: null,
    stats: { alarms: 0, rpcsSent: 0, rpcsReceived: 0, snapshotsSent: 0, snapshotsInstalled: 0, loadedAt: 0 },
  };
}
