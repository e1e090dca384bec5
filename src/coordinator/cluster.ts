// The coordinator's handle on one cluster: which incarnation it is (settings, epoch), which
// server objects it has, and the registry that records both. What is done with the servers
// lives by concern: reaching one (reach.ts), looking at them (status.ts), the harness's
// faults (faults.ts), membership changes (membership.ts), key/value requests
// (kv-forward.ts). The coordinator keeps no state of its own: a cluster's settings
// and the server objects it ever had are in its registry object (registry.ts), the
// configuration (voters, learners) is in the Raft log, and the network's state is pushed
// into the servers, which enforce it themselves.
//
// Which servers a call goes to:
//   - `members`: the configuration as the registry last recorded it: the committed one, a
//     server being added counted as a learner (the status writes back what it shows when
//     the two differ, status.ts `view`). Ids in paths and bodies must be members: a removed
//     id is 404 (validate.ts) once its removal has committed; before that (a removal that
//     answered 504) it is a member like any other.
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
  ids,
  type ClusterConfig,
  type LocationHint,
  type Membership,
  locationHintOf,
  sleepAfterOf,
  withOptionDefaults,
} from "../server/index.ts";
import type { NodeId } from "../raft/types.ts";
import type { Env } from "./env.ts";
import { HttpError, notFound } from "./errors.ts";
import { reach } from "./reach.ts";
import { registryStub, type RegistryRecord } from "./registry.ts";

export type Settings = Omit<ClusterConfig, "cluster" | "epoch">;

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
    readonly env: Env,
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
          const r = await reach({ env, name }, id, (s) => s.init(config, id), true, locationHintOf(config, id));
          // Left over from an older cluster of the same name whose deletion was cut short.
          if (r.config.epoch !== config.epoch) {
            await reach(cluster, id, (s) => s.destroy());
            await reach(cluster, id, (s) => s.init(config, id));
          }
        }),
    );
    return { created, cluster };
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

  /** Record that server `id` was retired (membership.ts `retire`: stopped for good). */
  async recordRetired(id: NodeId): Promise<void> {
    const record = await this.registry().retire(this.config.epoch, id);
    if (!record) throw notFound(`cluster ${this.name} was deleted or re-created meanwhile`);
    this.adopt(record);
  }

  /**
   * Read the registry record again (members added or removed through another isolate). Kept
   * only if it is still this incarnation's. Answers whether it is: false when the cluster was
   * deleted, or re-created as another incarnation, since this handle was made.
   */
  async refresh(): Promise<boolean> {
    const record = await this.registry().record();
    if (!record || record.config.epoch !== this.config.epoch) return false;
    this.adopt(record);
    return true;
  }

  /** When this incarnation was created (registry.ts); 0 when its record does not say. */
  get createdAt(): number {
    return this.record.createdAt ?? 0;
  }

  private registry() {
    return registryStub(this.env.CLUSTER_REGISTRY, this.name);
  }

  private adopt(record: RegistryRecord): void {
    this.record = { ...record, config: withOptionDefaults(record.config) };
    remember(records, this.name, this.record);
  }

  /** Every server object the cluster ever had is wiped, then the registry record goes. */
  async destroy(): Promise<void> {
    records.delete(this.name);
    await Promise.all(this.created.map((id) => reach(this, id, (s) => s.destroy())));
    await this.registry().remove(this.config.epoch);
    records.delete(this.name);
  }
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
    compactionRetention: c.compactionRetention,
    sleepAfterMs: sleepAfterOf(c),
    ...(c.locationHints ? { locationHints: c.locationHints } : {}),
  };
}

function sameSettings(a: Settings, b: Settings): boolean {
  return JSON.stringify(settingsOf(a)) === JSON.stringify(settingsOf(b));
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
  const legacy = await reach({ env, name }, 0, (s) => s.clusterConfig());
  if (!legacy) return null;
  const adopted = (await registry.create(legacy)).record;
  return { ...adopted, config: withOptionDefaults(adopted.config) };
}
