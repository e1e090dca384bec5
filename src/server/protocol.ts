// What the coordinator and a RaftServer object say to each other over JS RPC (besides the
// Raft messages themselves, which are the core's own types). Plain data only: every value
// here crosses an RPC boundary by structured clone.
import type { EtcdAnswer, KvResult } from "../kv/index.ts";
import { DEFAULT_COMPACTION_RETENTION } from "../kv/auto-compaction.ts";
import type { Membership, MembershipChange, MembershipRefusal, NodeId, RaftStatus, Role } from "../raft/types.ts";

/** A cluster's configuration, fixed at creation and stored by every one of its servers. */
export interface ClusterConfig {
  readonly cluster: string;
  readonly size: number;
  readonly electionTimeoutMs: readonly [number, number];
  readonly heartbeatMs: number;
  /**
   * A random id of this incarnation of the cluster. Raft messages carry it, so a message
   * still in flight from a deleted cluster can never reach a new cluster of the same name.
   */
  readonly epoch: string;
  /** PreVote (Raft thesis §9.6): a server cut off from the cluster cannot inflate terms. */
  readonly preVote: boolean;
  /** CheckQuorum: a leader that no longer hears from a majority steps down. */
  readonly checkQuorum: boolean;
  /**
   * Log compaction: once more than this many applied entries sit in a server's log, the
   * older half of them is folded into the snapshot. On by default (DEFAULT_SNAPSHOT_THRESHOLD),
   * so a long-lived server's memory and boot time stay bounded; 0 never compacts, so the raw
   * log view (GET .../committed) keeps every applied entry (its snapshotIndex stays 0).
   */
  readonly snapshotThreshold: number;
  /** InstallSnapshot travels in chunks of at most this many characters of the snapshot's JSON. */
  readonly snapshotChunkBytes: number;
  /**
   * etcd's automatic compaction: the store keeps the last this many revisions of history
   * (src/kv/auto-compaction.ts; 0: never compacts by itself, as etcd's 0). Configurations
   * stored before it existed get the default.
   */
  readonly compactionRetention: number;
  /**
   * Sleep after this long without client activity (0: never). Absent in configurations
   * stored before it existed: sleepAfterOf() gives the default.
   */
  readonly sleepAfterMs?: number;
  /**
   * Cloudflare location hints, one per initial server (API.md), applied when each server's
   * object is first created; absent: no hints. Locally they are recorded and reported.
   */
  readonly locationHints?: readonly LocationHint[];
}

/** Cloudflare's `locationHint` values (where a Durable Object is created). */
export const LOCATION_HINTS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;
export type LocationHint = (typeof LOCATION_HINTS)[number];

/** Server `id`'s hint in `config`, or null. */
export function locationHintOf(config: Pick<ClusterConfig, "locationHints">, id: NodeId): LocationHint | null {
  return config.locationHints?.[id] ?? null;
}

/** Sleep after five of the longest election timeouts without a client (1.5 s at the defaults). */
export const SLEEP_AFTER_ELECTION_TIMEOUTS = 5;

export function sleepAfterOf(config: Pick<ClusterConfig, "sleepAfterMs" | "electionTimeoutMs">): number {
  return config.sleepAfterMs ?? SLEEP_AFTER_ELECTION_TIMEOUTS * config.electionTimeoutMs[1];
}

/**
 * Entries a server's log may hold past its snapshot before it compacts: 1000 keeps a
 * restart within about the time of a fresh server's (docs/BENCHMARKS.md, "restart after
 * 100,000 operations") and the in-memory log to at most 1000 entries of at most 64 KiB.
 */
export const DEFAULT_SNAPSHOT_THRESHOLD = 1000;

/** The options of issue 6, with the values a configuration stored before they existed gets. */
export const CLUSTER_OPTION_DEFAULTS = {
  preVote: false,
  checkQuorum: false,
  snapshotThreshold: DEFAULT_SNAPSHOT_THRESHOLD,
  snapshotChunkBytes: 256 * 1024,
  compactionRetention: DEFAULT_COMPACTION_RETENTION,
} as const satisfies Partial<ClusterConfig>;

/** A stored configuration, completed with the defaults of options added since it was stored. */
export function withOptionDefaults(config: Omit<ClusterConfig, keyof typeof CLUSTER_OPTION_DEFAULTS> & Partial<ClusterConfig>): ClusterConfig {
  return { ...CLUSTER_OPTION_DEFAULTS, ...config };
}

/** This server's view of the simulated network; pushed by the coordinator, stored durably. */
export interface NetState {
  /** Shown as ServerStatus.connected: false after disconnect, or when a partition leaves it out. */
  readonly connected: boolean;
  /**
   * Peers this server exchanges messages with. A link carries messages only when both ends
   * list each other: the sender checks its list, the receiver its own.
   */
  readonly peers: readonly NodeId[];
  /** Probability that any one Raft message (request or reply) is lost. */
  readonly dropRate: number;
  /** Every Raft message is held back a uniform random time in [lo, hi] ms before it travels. */
  readonly delayMs: readonly [number, number];
  /** The per-link delay (NetworkSettings); absent in states stored before it existed. */
  readonly regionRttMs?: RegionRttMs;
  readonly regions?: ServerRegions;
}

/**
 * Round-trip times between regions, ms, keyed by a pair of location hints in alphabetical
 * order ("enam-weur"); a pair of the same hint ("weur-weur") is the round trip within one
 * region, 0 unless given. links.ts: regionPair, oneWayMs.
 */
export type RegionRttMs = Readonly<Record<string, number>>;

/** Each server's region (its locationHint) by id, for regionRttMs; a server absent has no link delay. */
export type ServerRegions = Readonly<Record<number, LocationHint>>;

export interface NetworkSettings {
  readonly dropRate: number;
  readonly delayMs: readonly [number, number];
  /**
   * Per-link delay: a message between servers in regions a and b is held back half the
   * round trip `regionRttMs[a-b]` (one way), plus delayMs's random time on top (jitter).
   * Absent: no per-link delay.
   */
  readonly regionRttMs?: RegionRttMs;
  /**
   * Who is where, for regionRttMs: filled in by the coordinator from the servers' location
   * hints (not part of the request body). A server joining later is added with
   * networkWithMember (links.ts), and every member is given the result.
   */
  readonly regions?: ServerRegions;
}

export const RELIABLE: NetworkSettings = { dropRate: 0, delayMs: [0, 0] };

export interface ServerStats {
  /** alarm() invocations since this object (re)started. */
  readonly alarms: number;
  /** Raft requests (RequestVote, AppendEntries) this server put on the wire. */
  readonly rpcsSent: number;
  /** Raft requests this server accepted from peers. */
  readonly rpcsReceived: number;
  /** Snapshot transfers this server completed as leader (every chunk also counts in rpcsSent). */
  readonly snapshotsSent: number;
  /** Snapshots from a leader this server installed. */
  readonly snapshotsInstalled: number;
  /**
   * When this object instance was constructed (ms since the epoch): the counters above count
   * from then. It changes whenever the object is reset and loaded again (a crash, an
   * eviction, a deploy), so it tells that a reset really happened.
   */
  readonly loadedAt: number;
}

/**
 * ServerStatus of API.md, plus what the dashboard and the tests like to see: the core's
 * status (a pre-candidate shows as "Follower"), "Dead" while down, and the shell's own view.
 */
export interface ServerStatus
  extends Pick<RaftStatus, "id" | "term" | "votedFor" | "leader" | "commitIndex" | "lastApplied" | "logLength" | "snapshotIndex" | "transferringTo"> {
  readonly state: Role | "Dead";
  /** Asleep with its idle cluster: no timer, no heartbeat (a Dead server is not asleep). */
  readonly asleep: boolean;
  /**
   * This server's place in the configuration it holds (the latest in its log). A server not
   * in it (added but not yet reached by the leader, or removed) shows as a learner; `member`
   * tells them apart. The cluster status reports the role the cluster's configuration gives.
   */
  readonly role: "voter" | "learner";
  /** The core's word: "removed" for a server in no configuration it knows (also a new one). Null while down. */
  readonly member: "voter" | "learner" | "removed" | null;
  /** The configuration this server holds and the index of the entry that made it; null while down. */
  readonly membership: Membership | null;
  readonly membershipIndex: number | null;
  /** Removed from the cluster and retired (retire()): it runs nothing and answers no Raft RPC. */
  readonly retired: boolean;
  readonly locationHint: LocationHint | null;
  readonly connected: boolean;
  readonly peers: readonly NodeId[];
  readonly dropCallsAfter: number | null;
  readonly stats: ServerStats;
}

/** What the server's storage holds, read from SQLite rather than from memory. */
export interface DurableSummary {
  readonly term: number;
  readonly votedFor: NodeId | null;
  /** The last index stored: in the log, or folded into the snapshot. */
  readonly logLength: number;
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  /** The last index the stored key/value state reflects. */
  readonly applied: number;
  /** Rows per table: the log, the key/value data (live keys at the current revision), the exactly-once sessions. */
  readonly rows: { readonly log: number; readonly kv: number; readonly sessions: number };
  /** The store's revision (etcd's: a new cluster's is 1) and the revision it was compacted at (-1: never). */
  readonly revision?: number;
  readonly compactedRevision?: number;
  /** Rows of etcd_kv: every version of every key stored, up to the compaction's purge (bounded by compactionRetention). */
  readonly historyRows?: number;
  /** The stored results of the exactly-once sessions, in JSON characters (bounded: src/kv/sessions.ts). */
  readonly sessionResultChars?: number;
  /** The term this server won an election in (0: none): a reloaded leader resumes it if it is still `term`. */
  readonly ledTerm: number;
  /** The sleep mark: the server reloads asleep. */
  readonly asleep: boolean;
}

/**
 * One piece of an InstallSnapshot on the wire. A snapshot's JSON text can be far larger than
 * one RPC may carry, so the leader sends it in order, `text` being characters
 * [offset, offset + text.length) of `total`; the follower hands the whole message to its core
 * once the last piece is in.
 */
export interface SnapshotChunk {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly lastIncludedIndex: number;
  readonly lastIncludedTerm: number;
  readonly offset: number;
  readonly total: number;
  readonly text: string;
  /** The configuration as of lastIncludedIndex (snapshots carry the configuration). */
  readonly membership?: Membership;
}

/** One narrated line; `server` is null for lines of the test harness ("[TEST] Crash 1"). */
export interface EventLine {
  readonly t: number;
  readonly server: NodeId | null;
  readonly line: string;
}

export interface InitResult {
  /** True when the server adopted the offered configuration (it had none). */
  readonly created: boolean;
  /** The configuration the server now holds: the offered one, or the one it already had. */
  readonly config: ClusterConfig;
}

/** What init() needs besides the configuration, for a server added after the cluster's creation. */
export interface InitOptions {
  /** The Cloudflare location hint the object was created with (reported in its status). */
  readonly locationHint?: LocationHint | null;
  /** Its first view of the network (default: linked to the cluster's initial servers). */
  readonly net?: NetState;
}

/**
 * What a server answers the coordinator for a membership change (changeMembership): the
 * configuration entry committed (and applied here), refused by the core (nothing appended),
 * or, as for kv, not applied (another leader's entry took its index) or unknown (not
 * committed when the wait ended: it may still be).
 */
export type MembershipAnswer =
  | { readonly kind: "committed"; readonly index: number; readonly term: number; readonly membership: Membership }
  | { readonly kind: "refused"; readonly reason: MembershipRefusal; readonly message: string; readonly leader: NodeId | null }
  | { readonly kind: "other_cluster" }
  | { readonly kind: "not_applied"; readonly index: number }
  | { readonly kind: "unknown"; readonly index: number };

export type { Membership, MembershipChange };

/** The name of server `id`'s object: one Durable Object per server. */
export function serverName(cluster: string, id: NodeId): string {
  return `${cluster}:${id}`;
}

/** Every server of a cluster of `size`, linked to every other, on a reliable wire. */
export function fullyConnected(size: number, self: NodeId): NetState {
  return { connected: true, peers: ids(size).filter((p) => p !== self), ...RELIABLE };
}

export function ids(size: number): NodeId[] {
  return Array.from({ length: size }, (_, i) => i);
}

/** What a server answers the coordinator for one key/value operation (R: an etcd write's answer, for EtcdWriteAnswer). */
export type KvAnswer<R = KvResult> =
  /** Applied (or a retry of an applied request: `duplicate`), with the state machine's result. */
  | { readonly kind: "ok"; readonly index: number; readonly result: R; readonly duplicate: boolean }
  /**
   * Not proposed: this server is not a member of the incarnation of the cluster the caller
   * named (the caller's configuration is stale: the cluster was deleted, or re-created).
   */
  | { readonly kind: "other_cluster" }
  /** Not proposed: this server does not lead (or is down). Nothing happened. */
  | { readonly kind: "not_leader"; readonly leader: NodeId | null }
  /** Proposed, but another leader's entry took its index: it will never be applied. */
  | { readonly kind: "not_applied" }
  /** Proposed, not yet applied when the wait ended: it may still be. */
  | { readonly kind: "unknown" }
  /**
   * A retry of the client's last request: it was applied, but its result was forgotten to
   * keep the session table within its size (src/kv/sessions.ts). Not applied again.
   */
  | { readonly kind: "forgotten" }
  /** The request id is older than the client's last applied one: not applied, answer unknown. */
  | { readonly kind: "stale"; readonly lastRequestId: number }
  /**
   * Committed, and refused by the state machine on every replica (its result would break the
   * value limit): nothing was applied. The client hears 413.
   */
  | { readonly kind: "too_large"; readonly index: number; readonly message: string }
  /** The state machine refused the command (cannot happen for validated commands). */
  | { readonly kind: "rejected"; readonly message: string };

/**
 * What a server answers for one etcd write (put, deleterange, txn, compaction) proposed
 * through the log: as for a key/value operation, `ok` carrying etcd's answer (HTTP status and
 * JSON, the header holding only the revision: the route completes it, withHeaderIds).
 */
export type EtcdWriteAnswer = KvAnswer<EtcdAnswer>;
