// The registry of one cluster: a small Durable Object (one per cluster name) that says
// which cluster incarnation exists, with which settings, and which server objects belong
// to it. The coordinator keeps no state of its own; this is where it looks first.
//
// Why an object of its own rather than server 0's copy of the configuration (as before
// membership changes): any server can be removed, server 0 included, and ids are never
// reused, so "the cluster" can no longer be found at a fixed server. The registry holds
//   - the configuration fixed at creation (settings, epoch; `size` = the initial voters,
//     which every server passes to its core as RaftConfig.peers);
//   - every server object ever created for this incarnation, with its location hint and
//     whether it was retired (removed, and stopped for good): DELETE wipes them all;
//   - the next id to give (ids are never reused: allocation is one synchronous write here,
//     so two coordinators adding at once get two different ids);
//   - the configuration (voters, learners) as the cluster status last showed it: a hint
//     for validating ids and finding servers without asking them all. The truth is the Raft
//     log's: the status takes it from the servers (status.ts `view`) and writes it back here
//     when the two differ (a change whose answer was 504 and that committed later). What a
//     change appended but has not committed does not count here, except that a server it
//     adds is a learner meanwhile: a server being removed is still a member.
// Every method is synchronous (no await), so each runs alone: the object's input gate
// serializes them, whichever Worker isolate calls.
//
// Clusters created before the registry existed have none: Cluster.open adopts server 0's
// configuration into a new registry record (`create` with the initial servers).
import { DurableObject } from "cloudflare:workers";
import type { Membership, NodeId } from "../raft/types.ts";
import { ids, type ClusterConfig, type LocationHint } from "../server/protocol.ts";

/** One server object created for the cluster. */
export interface RegisteredServer {
  readonly id: NodeId;
  readonly locationHint: LocationHint | null;
  /** Removed from the configuration and stopped for good (RaftServer.retire). */
  readonly retired: boolean;
}

export interface RegistryRecord {
  readonly config: ClusterConfig;
  readonly nextId: NodeId;
  /** Every server object ever created for this incarnation, by id. */
  readonly servers: readonly RegisteredServer[];
  /**
   * When this incarnation was created (the registry's clock, ms since the epoch). A request
   * that started before it cannot belong to it (coordinator routes/kv.ts). Absent in records
   * written before it existed.
   */
  readonly createdAt?: number;
  /** The configuration as the status last showed it (committed; a server being added as a learner). */
  readonly membership: Membership;
}

const KEY = "record";

export class ClusterRegistry extends DurableObject<object> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as object);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS registry (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  }

  /** The cluster's record, or null when there is no such cluster. */
  record(): RegistryRecord | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM registry WHERE key = ?", KEY).toArray()[0];
    return row ? (JSON.parse(row.value) as RegistryRecord) : null;
  }

  /**
   * Create the cluster with `config` unless one exists: the first configuration stored
   * wins, and the caller compares. The initial servers 0..size-1 are voters, each with its
   * hint from `config.locationHints`.
   */
  create(config: ClusterConfig): { created: boolean; record: RegistryRecord } {
    const existing = this.record();
    if (existing) return { created: false, record: existing };
    const initial = ids(config.size);
    const record: RegistryRecord = {
      config,
      createdAt: Date.now(),
      nextId: config.size,
      servers: initial.map((id) => ({ id, locationHint: config.locationHints?.[id] ?? null, retired: false })),
      membership: { voters: initial, learners: [] },
    };
    this.put(record);
    return { created: true, record };
  }

  /** A new server id for incarnation `epoch` (never given before), registered with its hint. Null: no such incarnation. */
  allocate(epoch: string, locationHint: LocationHint | null): { id: NodeId; record: RegistryRecord } | null {
    let id = -1;
    const record = this.update(epoch, (r) => {
      id = r.nextId;
      return { ...r, nextId: id + 1, servers: [...r.servers, { id, locationHint, retired: false }] };
    });
    return record ? { id, record } : null;
  }

  /** Server `id` was removed and stopped for good. */
  retire(epoch: string, id: NodeId): RegistryRecord | null {
    return this.update(epoch, (r) => ({ ...r, servers: r.servers.map((s) => (s.id === id ? { ...s, retired: true } : s)) }));
  }

  setMembership(epoch: string, membership: Membership): RegistryRecord | null {
    const m = { voters: [...membership.voters], learners: [...membership.learners] };
    return this.update(epoch, (r) => ({ ...r, membership: m }));
  }

  /** The cluster is deleted (its servers were wiped first). */
  remove(epoch: string): void {
    const r = this.record();
    if (r && r.config.epoch === epoch) this.sql.exec("DELETE FROM registry WHERE key = ?", KEY);
  }

  /** Change incarnation `epoch`'s record; null (nothing changed) if it is not the one here. */
  private update(epoch: string, change: (r: RegistryRecord) => RegistryRecord): RegistryRecord | null {
    const r = this.record();
    if (!r || r.config.epoch !== epoch) return null;
    const next = change(r);
    this.put(next);
    return next;
  }

  private put(record: RegistryRecord): void {
    this.sql.exec(
      "INSERT INTO registry (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      KEY,
      JSON.stringify(record),
    );
  }
}

/** The registry stub of cluster `name`, with the class's own signatures made asynchronous. */
export type RegistryStub = {
  [K in "record" | "create" | "allocate" | "retire" | "setMembership" | "remove"]: ClusterRegistry[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

export function registryStub(ns: DurableObjectNamespace<ClusterRegistry>, name: string): RegistryStub {
  return ns.getByName(name) as unknown as RegistryStub;
}
