// The coordinator's handle on one cluster: its servers' stubs, its status, and the faults
// the test harness injects. The coordinator keeps no state of its own: a cluster's settings
// and the server objects it ever had are in its registry object (registry.ts), the
// configuration (voters, learners) is in the Raft log, and the network's state is pushed
// into the servers, which enforce it themselves.
//
// Which servers a call goes to:
//   - `members`: the current configuration, as the registry last recorded it (the status
//     writes back what the leader holds when the two differ). Ids in paths and bodies must
//     be members: a removed id is 404 (validate.ts).
//   - `live`: every server object created and not retired: the members, plus a server whose
//     addition or removal was left unknown (504). Faults, wakes, notes and status go to all
//     of them, so nothing that may still take part in Raft is left out.
//   - `created`: every server object ever created, retired ones too: DELETE wipes them all,
//     and /events reads them all (a removed server's story stays readable).
//
// One cache, for the key/value hot path: the registry records this Worker isolate has seen,
// so a kv request need not ask the registry first (one RPC of the two a request made). It
// is only a hint: every kv call names the configuration's epoch, a server of another
// incarnation (the cluster was deleted, or re-created with other settings, perhaps through
// another isolate) refuses it, and the route then reads the record afresh.
import {
  clock,
  echoNarration,
  ids,
  serverStub,
  type ClusterConfig,
  type EventLine,
  type NetworkSettings,
  type RaftServerStub,
  type LocationHint,
  type Membership,
  type ServerStatus,
  locationHintOf,
  sleepAfterOf,
  withOptionDefaults,
} from "../server/index.ts";
import type { NodeId } from "../raft/types.ts";
import type { Env } from "./env.ts";
import { HttpError, notFound } from "./errors.ts";
import { registryStub, type RegistryRecord } from "./registry.ts";

export type Settings = Omit<ClusterConfig, "cluster" | "epoch">;

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

/** Registry records by cluster name, as last read by this isolate (see the top of the file). */
const records = new Map<string, RegistryRecord>();

/** Most entries a per-isolate cache keeps (an isolate can outlive thousands of test clusters). */
const CACHE_ENTRIES = 1000;

/** Put `key` in a bounded cache: the newest entries stay, the oldest go. */
export function remember<K, V>(cache: Map<K, V>, key: K, value: V): void {
  cache.delete(key);
  cache.set(key, value);
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as K);
}

export class Cluster {
  private constructor(
    private readonly env: Env,
    private record: RegistryRecord,
  ) {}

  get config(): ClusterConfig {
    return this.record.config;
  }

  get name(): string {
    return this.config.cluster;
  }

  /** The configuration as the registry last recorded it. */
  get membership(): Membership {
    return this.record.membership;
  }

  /** Voters and learners, in id order. */
  get members(): NodeId[] {
    return [...this.record.membership.voters, ...this.record.membership.learners].sort((a, b) => a - b);
  }

  /** Every server object created and not retired (see the top of the file). */
  get live(): NodeId[] {
    const live = new Set(this.record.servers.filter((s) => !s.retired).map((s) => s.id));
    for (const id of this.members) live.add(id); // a member is never left out, whatever the registry says
    return [...live].sort((a, b) => a - b);
  }

  /** Every server object ever created, retired ones too. */
  get created(): NodeId[] {
    return [...new Set([...this.record.servers.map((s) => s.id), ...this.members])].sort((a, b) => a - b);
  }

  isMember(id: NodeId): boolean {
    return this.record.membership.voters.includes(id) || this.record.membership.learners.includes(id);
  }

  /** The cluster called `name`; 404 when there is none. */
  static async open(env: Env, name: string): Promise<Cluster> {
    const record = await loadRecord(env, name);
    if (!record) {
      records.delete(name);
      throw notFound(`no cluster ${JSON.stringify(name)}`);
    }
    remember(records, name, record);
    return new Cluster(env, record);
  }

  /**
   * The cluster called `name` from this isolate's cache when it is there (no RPC), else as
   * `open`. Only for calls that name the epoch to the servers (the kv routes), which find out
   * when the cache is stale.
   */
  static async openCached(env: Env, name: string): Promise<Cluster> {
    const record = records.get(name);
    return record ? new Cluster(env, record) : Cluster.open(env, name);
  }

  /**
   * Create the cluster, or find it already there. The registry decides: the first
   * configuration it stores wins, and a request for another one is a conflict (409). Every
   * initial server is then (re)initialised, which is idempotent, so a creation cut short is
   * finished by repeating it.
   */
  static async create(env: Env, name: string, settings: Settings): Promise<{ created: boolean; cluster: Cluster }> {
    const offered: ClusterConfig = { cluster: name, ...settings, epoch: crypto.randomUUID() };
    const existing = await loadRecord(env, name);
    const { created, record } = existing ? { created: false, record: existing } : await registryStub(env.CLUSTER_REGISTRY, name).create(offered);
    const config = withOptionDefaults(record.config);
    if (!created && !sameSettings(config, settings)) {
      const held = Object.entries(settingsOf(config))
        .map(([k, v]) => `${k} ${Array.isArray(v) ? `[${v.join(", ")}]` : String(v)}`)
        .join(", ");
      throw new HttpError(409, "conflict", `cluster ${name} exists with ${held}; delete it first to change them`);
    }
    const cluster = new Cluster(env, { ...record, config });
    remember(records, name, cluster.record);
    const retired = new Set(record.servers.filter((s) => s.retired).map((s) => s.id));
    await Promise.all(
      ids(config.size)
        .filter((id) => !retired.has(id))
        .map(async (id) => {
          const r = await reach(env, name, id, (s) => s.init(config, id), true, locationHintOf(config, id));
          // Left over from an older cluster of the same name whose deletion was cut short.
          if (r.config.epoch !== config.epoch) {
            await cluster.reach(id, (s) => s.destroy());
            await cluster.reach(id, (s) => s.init(config, id));
          }
        }),
    );
    return { created, cluster };
  }

  /** One call to server `id` (see `reach`). */
  reach<T>(id: NodeId, call: (s: RaftServerStub) => Promise<T>, idempotent = true, locationHint: LocationHint | null = null): Promise<T> {
    return reach(this.env, this.name, id, call, idempotent, locationHint);
  }

  // ---------------------------------------------------------------------------------------
  // The registry (registry.ts). Each answer replaces this handle's record and the cache.

  /** A new server id, never given before in this cluster, registered with its hint. */
  async allocate(locationHint: LocationHint | null): Promise<NodeId> {
    const got = await this.registry().allocate(this.config.epoch, locationHint);
    if (!got) throw notFound(`cluster ${this.name} was deleted or re-created meanwhile`);
    this.adopt(got.record);
    return got.id;
  }

  /** Record the configuration (after a change committed, or when the leader's differs). */
  async recordMembership(membership: Membership): Promise<void> {
    const record = await this.registry().setMembership(this.config.epoch, membership);
    if (record) this.adopt(record);
  }

  /** Server `id` is out for good: its timers stop, it answers no Raft RPC (RaftServer.retire). */
  async retire(id: NodeId): Promise<void> {
    await this.reach(id, (s) => s.retire());
    const record = await this.registry().retire(this.config.epoch, id);
    if (record) this.adopt(record);
  }

  /**
   * Read the registry record again (members added or removed through another isolate). Kept
   * only if it is still this incarnation's: another one is for the route to find out.
   */
  async refresh(): Promise<void> {
    const record = await this.registry().record();
    if (record && record.config.epoch === this.config.epoch) this.adopt(record);
  }

  private registry() {
    return registryStub(this.env.CLUSTER_REGISTRY, this.name);
  }

  private adopt(record: RegistryRecord): void {
    this.record = { ...record, config: withOptionDefaults(record.config) };
    remember(records, this.name, this.record);
  }

  // ---------------------------------------------------------------------------------------
  // Looking.

  /** Client command for the raw log. Not retried: a second try could append it twice. */
  submit(id: NodeId, command: unknown) {
    return this.reach(id, (s) => s.submit(command), false);
  }

  committed(id: NodeId) {
    return this.reach(id, (s) => s.committed());
  }

  /** Status plus what the server's storage holds; 404 for a server never initialised. */
  async inspect(id: NodeId) {
    const detail = await this.reach(id, (s) => s.inspect());
    if (!detail) throw notFound(`server ${id} of ${this.name} was never initialised; repeat POST /clusters/${this.name}`);
    return detail;
  }

  /** The status of every live server (members and servers in between), in id order. */
  async statuses(): Promise<ServerStatus[]> {
    return Promise.all(this.live.map((id) => this.status(id)));
  }

  async status(id: NodeId): Promise<ServerStatus> {
    const s = await this.reach(id, (server) => server.status());
    return s ?? notMember(id);
  }

  /**
   * The cluster status (API.md): the configuration the leader holds, or else the most
   * up-to-date server's, and the status of exactly its members, each with the role that
   * configuration gives it. When it differs from the registry's record, the record follows.
   */
  async view(): Promise<ClusterView> {
    const all = await this.statuses();
    const membership = configurationOf(all) ?? this.record.membership;
    if (!sameMembership(membership, this.record.membership)) await this.recordMembership(membership).catch(() => {});
    const byId = new Map(all.map((s) => [s.id, s]));
    const memberIds = [...membership.voters, ...membership.learners].sort((a, b) => a - b);
    const servers = await Promise.all(
      memberIds.map(async (id) => {
        const s = byId.get(id) ?? (await this.status(id));
        return { ...s, role: membership.voters.includes(id) ? ("voter" as const) : ("learner" as const) };
      }),
    );
    const up = servers.filter((s) => s.state !== "Dead");
    return {
      cluster: this.name,
      ...settingsOf(this.config),
      size: membership.voters.length,
      leader: leaderOf(all),
      voters: [...membership.voters],
      learners: [...membership.learners],
      // Asleep: every server that is up sleeps (API.md, "Sleeping clusters").
      asleep: up.length > 0 && up.every((s) => s.asleep),
      servers,
    };
  }

  /** Every server object the cluster ever had is wiped, then the registry record goes. */
  async destroy(): Promise<void> {
    records.delete(this.name);
    await Promise.all(this.created.map((id) => this.reach(id, (s) => s.destroy())));
    await this.registry().remove(this.config.epoch);
    records.delete(this.name);
  }

  // ---------------------------------------------------------------------------------------
  // Faults. Each is narrated ("[TEST] Disconnect 2", as the reference's harness does) with
  // the time it was ordered, and the narration travels alongside the change itself.
  //
  // A link carries messages only when BOTH ends list each other (each server checks its own
  // list when sending and when receiving), so every change below is one round of pushes.

  async disconnect(i: NodeId): Promise<void> {
    await this.withNote(`Disconnect ${i}`, () =>
      this.live.map((id) => this.reach(id, (s) => (id === i ? s.setLinks(false, []) : s.setLink(i, false)))),
    );
  }

  /** Links between `i` and every connected server come back. */
  async reconnect(i: NodeId): Promise<void> {
    await this.withNote(`Reconnect ${i}`, () =>
      this.live.map((id) => this.reach(id, (s) => (id === i ? s.setLinks(true, this.othersThan(i)) : s.acceptLink(i)))),
    );
  }

  /** Only servers of the same group can talk; a server in no group is cut off. */
  async partition(groups: readonly (readonly NodeId[])[]): Promise<void> {
    await this.withNote(`Partition ${groups.map((g) => `[${g.join(" ")}]`).join(" ")}`, () =>
      this.live.map((id) => {
        const group = groups.find((g) => g.includes(id));
        return this.reach(id, (s) => s.setLinks(group !== undefined, (group ?? []).filter((p) => p !== id)));
      }),
    );
  }

  async heal(): Promise<void> {
    await this.withNote("Heal", () => this.live.map((id) => this.reach(id, (s) => s.setLinks(true, this.othersThan(id)))));
  }

  async network(settings: NetworkSettings): Promise<void> {
    await this.withNote(`Network dropRate=${settings.dropRate} delayMs=[${settings.delayMs.join(", ")}]`, () =>
      this.live.map((id) => this.reach(id, (s) => s.setNetwork(settings))),
    );
  }

  async crash(i: NodeId): Promise<void> {
    await this.withNote(`Crash ${i}`, () => [
      serverStub(this.env.RAFT_SERVER, this.name, i)
        .crash()
        .catch(() => {
          // The object resets itself (ctx.abort) while answering: the call fails by design.
        }),
    ]);
    // Make sure the crash took: the next instance of the object must boot as Dead. Up again
    // means a restart came in between (routes of one isolate run one at a time, see
    // admin-lock.ts, so it came through another): the crash did happen, and was undone.
    const s = await this.status(i);
    if (s.state !== "Dead") throw busy(i, "is up again: a restart raced this crash");
  }

  /**
   * A restart is a success only once the server has booted from its storage: a boot that
   * fails leaves it down (`500 restart_failed`), and a server found down again afterwards
   * was crashed by a call that raced this one (`409 busy`).
   */
  async restart(i: NodeId): Promise<void> {
    let booted = false;
    try {
      await this.withNote(`Restart ${i}`, () => [this.reach(i, (s) => s.restart()).then((b) => (booted = b))]);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new HttpError(500, "restart_failed", `server ${i} did not boot from its storage and stays down: ${why}`);
    }
    if (!booted) throw notFound(`server ${i} of ${this.name} was never initialised; repeat POST /clusters/${this.name}`);
    const s = await this.status(i);
    if (s.state === "Dead") throw busy(i, "is down again: a crash raced this restart");
  }

  /**
   * Reset server i's object as the platform does (eviction, a deploy): memory lost, storage
   * and pending alarm kept, not kept down. The call fails by design (the object aborts).
   */
  async evict(i: NodeId): Promise<void> {
    await this.withNote(`Evict ${i}`, () => [this.evictOne(i)]);
  }

  /**
   * Every server evicted at once, as a deploy of a new version does. The harness line is
   * written after the evictions (with the time they were ordered): written alongside, every
   * copy of it would be lost with the memory it was written to.
   */
  async evictAll(): Promise<void> {
    const t = Date.now();
    await Promise.all(this.live.map((id) => this.evictOne(id)));
    await this.note("Evict all (a deploy)", t);
  }

  private evictOne(i: NodeId): Promise<void> {
    return serverStub(this.env.RAFT_SERVER, this.name, i)
      .evict()
      .catch(() => {
        // The object resets itself (ctx.abort) while answering: the call fails by design.
      });
  }

  /**
   * Wake every server of a sleeping cluster (API.md, "Sleeping clusters"): fault, membership
   * and submit calls do, and so does a client operation that finds no leader (a leader lost
   * while the cluster slept). An awake server's timers are left alone. Best effort: a server
   * that is down or being reset is skipped. Answers how many servers run.
   */
  async wakeAll(): Promise<number> {
    const woken = await Promise.all(this.live.map((id) => this.reach(id, (s) => s.wake()).catch(() => false)));
    return woken.filter(Boolean).length;
  }

  async dropCalls(i: NodeId, after: number | null): Promise<void> {
    const line = after === null ? `Don't drop calls of ${i}` : `Drop calls of ${i} after ${after}`;
    await this.withNote(line, () => [this.reach(i, (s) => s.dropCalls(after))]);
  }

  private othersThan(i: NodeId): NodeId[] {
    return this.live.filter((p) => p !== i);
  }

  /** Narrate `text` and apply `change` at the same time (the line carries the earlier timestamp). */
  private async withNote(text: string, change: () => Promise<unknown>[]): Promise<void> {
    const noted = this.note(text);
    await Promise.all([noted, ...change()]);
  }

  /**
   * A harness line. Every server keeps a copy (so the crash of one does not lose it); the
   * copies share one timestamp, which is how /events tells them apart from repeats. Best
   * effort: a server being reset right now just misses its copy.
   */
  async note(text: string, t = Date.now()): Promise<void> {
    const line = `[TEST] ${text}`;
    if (echoNarration(this.env)) console.log(`${clock(t)} ${line}`);
    await Promise.all(this.live.map((id) => this.reach(id, (s) => s.note(t, line)).catch(() => {})));
  }

  /** Every server's recent narration plus the harness lines, newer than `since`, by time. */
  async events(since: number): Promise<EventLine[]> {
    const perServer = await Promise.all(this.created.map((id) => this.reach(id, (s) => s.events(since))));
    const seen = new Set<string>();
    const all: EventLine[] = [];
    for (const lines of perServer) {
      for (const l of lines) {
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
}

/**
 * One RPC to server `id` of `cluster`. An object reset while answering (a crash, an
 * eviction, a deploy) makes the call throw, and that stub stays broken. An idempotent call
 * is tried once more on a fresh stub (the object boots from its storage to answer it);
 * otherwise, or if that fails too, the answer is 503.
 */
async function reach<T>(
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

/** 409 busy: another admin call on the same server, through another isolate, raced this one. */
function busy(i: NodeId, what: string): HttpError {
  return new HttpError(409, "busy", `server ${i} ${what}; its state is what the later call left: read it, or repeat the call`);
}

/** A configuration's settings, in a fixed order (for answers and comparison). */
export function settingsOf(config: Settings): Settings {
  const c = withOptionDefaults(config as ClusterConfig);
  return {
    size: c.size,
    electionTimeoutMs: c.electionTimeoutMs,
    heartbeatMs: c.heartbeatMs,
    preVote: c.preVote,
    checkQuorum: c.checkQuorum,
    snapshotThreshold: c.snapshotThreshold,
    snapshotChunkBytes: c.snapshotChunkBytes,
    sleepAfterMs: sleepAfterOf(c),
    ...(c.locationHints ? { locationHints: c.locationHints } : {}),
  };
}

function sameSettings(a: Settings, b: Settings): boolean {
  return JSON.stringify(settingsOf(a)) === JSON.stringify(settingsOf(b));
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

/** A server whose initialisation never happened (a creation cut short): shown as Dead. */
function notMember(id: NodeId): ServerStatus {
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

/**
 * The cluster's registry record; for a cluster created before registries existed, server
 * 0's configuration adopted into a new record (its servers 0..size-1, all voters). Null:
 * no such cluster.
 */
async function loadRecord(env: Env, name: string): Promise<RegistryRecord | null> {
  const registry = registryStub(env.CLUSTER_REGISTRY, name);
  let record: RegistryRecord | null;
  try {
    record = await registry.record();
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new HttpError(503, "unavailable", `the registry of cluster ${name} did not answer: ${why}`);
  }
  if (record) return { ...record, config: withOptionDefaults(record.config) };
  const legacy = await reach(env, name, 0, (s) => s.clusterConfig());
  if (!legacy) return null;
  const adopted = (await registry.create(legacy)).record;
  return { ...adopted, config: withOptionDefaults(adopted.config) };
}

/**
 * The configuration of the cluster as its servers hold it: the leader's (of the highest
 * term), or else the most up-to-date server's (the highest commit index, then the latest
 * configuration entry). Null when no server that is up says (all down).
 */
export function configurationOf(servers: readonly ServerStatus[]): Membership | null {
  let leader: ServerStatus | null = null;
  for (const s of servers) if (s.state === "Leader" && s.membership && (!leader || s.term > leader.term)) leader = s;
  if (leader) return leader.membership;
  let best: ServerStatus | null = null;
  for (const s of servers) {
    if (!s.membership || s.retired) continue;
    if (!best || s.commitIndex > best.commitIndex || (s.commitIndex === best.commitIndex && (s.membershipIndex ?? 0) > (best.membershipIndex ?? 0))) best = s;
  }
  return best?.membership ?? null;
}

export function sameMembership(a: Membership, b: Membership): boolean {
  const key = (m: Membership) => `${[...m.voters].sort((x, y) => x - y).join(",")}/${[...m.learners].sort((x, y) => x - y).join(",")}`;
  return key(a) === key(b);
}
