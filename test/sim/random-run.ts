// One randomized run: a seeded schedule of faults and proposals against a cluster, with
// every invariant checked after every event, then a liveness phase: faults stop, the network
// heals, every server restarts, and a leader must be elected and its new proposals committed
// on every server within a bounded virtual time.
//
// Runs are silent (no narration) for speed. A run is a pure function of its seed and options,
// so a failing seed is replayed once more with narration on to tell its story.
//
// Disk failures: about half of the seeds (drawn from a stream of their own, so the other seeds
// run exactly as before) get disks that refuse writes, in one to three ways: a server's disk
// fills up for a while ("full"), every write fails with some probability ("transient"), and
// a client now and then proposes a command too large to store ("tooLarge", refused by the
// leader's own write: see DiskFaults.maxCommandChars). Each refused write resets its server
// (cluster.ts). They stop with the other faults before the liveness phase.
//
// Sleep and evictions (issue 11). About half of the seeds (their own stream again) run cores
// with sleepAfterMs (drawn from 50 ms to the real default, 1.5 s): the client then pauses now
// and then for longer than that, so the cluster falls asleep between faults. Every seed's
// faults include evictions: one server (any, or the leader) or all at once (a deploy), each
// reloading from its disk at once or a few ms later and resuming leadership if its durable
// state says so (a disk's refused write resets its server the same way). The host wakes
// servers where the real coordinator does: on a fault call (with a seed-drawn probability:
// the rest are silent, as the network's and the platform's own faults are) and when a client
// operation finds no leader (at most once per election timeout); a proposal wakes its leader
// by itself. After the liveness phase, seeds with sleep go on: the healed, idle cluster must
// fall asleep; a deploy while it sleeps must cost no election; its leader, crashed while it
// sleeps, must be replaced when the next operation arrives; each operation within a bound.

import { members } from "../../src/raft/membership.ts";
import { majority } from "../../src/raft/quorum.ts";
import type { Membership, MembershipChange, MembershipRefusal, NodeId } from "../../src/raft/types.ts";
import { Cluster, type ClusterOptions, type CrashPoint, type HostFaults, type Proc, type RaftFactory } from "./cluster.ts";
import type { DiskFailureKind, DiskFaults, SnapshotSource } from "./disk.ts";
import { HarnessFailure } from "./harness.ts";
import { InvariantViolation, type InvariantName } from "./invariants.ts";
import { RELIABLE, type NetworkProfile } from "./network.ts";
import { Rng } from "./prng.ts";

export const CHAOS_ACTIONS = [
  "partition",
  "oneWay",
  "heal",
  "disconnect",
  "reconnect",
  "crash",
  "crashLeader",
  "isolateLeader",
  "restart",
  "network",
  "calm",
  "dropCalls",
  "earlyTick",
  "transferLeadership",
  "evict",
  "evictLeader",
  "deploy",
] as const;
export type ChaosAction = (typeof CHAOS_ACTIONS)[number];

export interface ScheduleKnobs {
  /** Virtual duration of the fault phase. */
  readonly faultMs: number;
  /** Mean gap between two fault actions. */
  readonly meanFaultGapMs: number;
  readonly weights: Readonly<Record<ChaosAction, number>>;
  /** Mean gap between two client proposals. */
  readonly meanProposalGapMs: number;
  /** Probability, per Ready, that the host dies part-way through carrying it out (null: drawn per seed). */
  readonly crashPointRate: number | null;
  /** At most this many servers down at once (null: n - 1). */
  readonly maxDown: number | null;
  /** How long after healing a leader must have committed a new proposal on every server. */
  readonly livenessBudgetMs: number;
  /**
   * With sleep on, after the liveness phase: how long each later operation (to a sleeping
   * cluster, after a deploy, after losing its leader) may take to commit on every server that is up.
   */
  readonly operationBudgetMs: number;
}

export const DEFAULT_KNOBS: ScheduleKnobs = {
  faultMs: 20_000,
  meanFaultGapMs: 150,
  weights: {
    partition: 2,
    oneWay: 2,
    heal: 3,
    disconnect: 1.5,
    reconnect: 2,
    crash: 1.5,
    crashLeader: 1,
    isolateLeader: 1,
    restart: 2,
    network: 1.5,
    calm: 1,
    dropCalls: 1,
    earlyTick: 1,
    transferLeadership: 1,
    evict: 1.5,
    evictLeader: 1,
    deploy: 0.5,
  },
  meanProposalGapMs: 25,
  crashPointRate: null,
  maxDown: null,
  livenessBudgetMs: 10_000,
  operationBudgetMs: 5_000,
};

export interface RandomRunOptions {
  readonly seed: number;
  /** Cluster size; drawn from the seed (3, 5 or 7) when absent. */
  readonly servers?: number;
  /** Host compaction interval (or threshold, "live"); drawn from the seed when absent. */
  readonly compactEvery?: number;
  /**
   * What InstallSnapshot carries (see ClusterOptions.snapshotSource); drawn from the seed when
   * absent. Forcing "live" also forces a durable state machine and some compaction.
   */
  readonly snapshotSource?: SnapshotSource;
  /** Force disk failures on or off (otherwise drawn per seed, on for about half). */
  readonly diskFaults?: boolean;
  /** Force sleeping cores on or off (otherwise drawn per seed, on for about half). */
  readonly sleep?: boolean;
  /** With sleep on, the cores' sleepAfterMs (otherwise drawn per seed). */
  readonly sleepAfterMs?: number;
  /** Force membership changes on or off (otherwise drawn per seed, on for about three quarters). */
  readonly membership?: boolean;
  /**
   * How long the coordinator leaves a server running once its removal has committed (see
   * ClusterOptions.retireDelaysMs); drawn per seed when absent: LATE_RETIRE_MS for about half
   * of the membership seeds, the cluster's default for the rest.
   */
  readonly retireDelaysMs?: readonly number[];
  /**
   * The host's wakes (mutant tests switch them off): `noLeader`, when a client operation finds
   * no leader (default on); `faultRate`, the probability that a fault wakes every server
   * (default drawn per seed).
   */
  readonly hostWakes?: { readonly noLeader?: boolean; readonly faultRate?: number };
  /** Force some of the core's optional behaviours (otherwise drawn per seed). */
  readonly raftOptions?: ClusterOptions["raftOptions"];
  readonly knobs?: Partial<ScheduleKnobs>;
  /** Mutant tests: a broken core, a broken host, a switched-off invariant, a tampering network. */
  readonly raftFactory?: RaftFactory;
  readonly faults?: Omit<HostFaults, "crashPoint">;
  readonly disabled?: readonly InvariantName[];
  readonly tamper?: (c: Cluster) => void;
  /**
   * Whether the run's other clients (a workload started by `tamper`) are done. The sleep checks
   * wait for it first: a cluster whose clients still retry calls is not idle (kv-workload.ts's
   * calls end within their deadline, so the wait is bounded).
   */
  readonly clientsDone?: () => boolean;
  /** Narrate (slow); the CLI turns it on to replay a failure or with --verbose. */
  readonly narrate?: boolean;
  readonly echo?: (line: string) => void;
  /** On failure, replay narrated and keep this many lines (0: don't replay). A narrated run keeps them anyway. */
  readonly tailLines?: number;
  /** Extra CLI arguments that reproduce the options above (a mutant's name), for the replay command. */
  readonly replayArgs?: string;
}

export interface RandomRunResult {
  readonly ok: boolean;
  readonly seed: number;
  readonly servers: number;
  readonly events: number;
  readonly virtualMs: number;
  readonly proposalsAccepted: number;
  readonly committed: number;
  readonly leaders: number;
  /** ReadIndex reads the cores confirmed (each checked against ReadIndexSafety). */
  readonly reads: number;
  /** InstallSnapshot messages sent ("live": one per piece). */
  readonly snapshots: number;
  /** "live": transfers started, completed (last piece handed over), refused as one was under way, and pieces sent. */
  readonly transfers: { readonly started: number; readonly completed: number; readonly busy: number; readonly chunks: number };
  /** What those carried ("live": the sender's current state machine). */
  readonly snapshotSource: SnapshotSource;
  /** PreVote was on (PreVoteTermStable had pre-candidates to watch). */
  readonly preVote: boolean;
  /** Virtual ms from healing to a new proposal applied on every server. */
  readonly healMs: number | null;
  /** The seed's disks could fail (the kinds drawn), or null. */
  readonly diskFailures: readonly DiskFailureKind[] | null;
  /** Writes the disks refused, by reason, and the resets they caused. */
  readonly refused: Readonly<Record<DiskFailureKind, number>>;
  readonly resets: number;
  /** The cores' sleepAfterMs, or null (sleep off). */
  readonly sleepAfterMs: number | null;
  /** Evictions (a deploy counts one per server), deploys, boots that resumed leading, sleeps, wakes, the host's wake() calls. */
  readonly evictions: number;
  readonly deploys: number;
  readonly resumes: number;
  readonly sleeps: number;
  readonly wakes: number;
  readonly hostWakes: number;
  /** The slowest operation of the sleep checks after the liveness phase (virtual ms), or null. */
  readonly slowestOperationMs: number | null;
  /** Membership changes (null: off for this seed). */
  readonly membership: MembershipStats | null;
  readonly invariant: InvariantName | null;
  readonly message: string | null;
  readonly tail: readonly string[];
  /** The one-line command that replays this run. */
  readonly replay: string;
}

/** What the coordinator did to the configuration in one run (changes counted once committed). */
export interface MembershipStats {
  /** Learners added (add_learner committed), learners promoted, members removed (not the leader), leaders removed. */
  adds: number;
  promotes: number;
  removes: number;
  leaderRemovals: number;
  /** Requests made of a leader, and refusals by reason (the retryable ones are retried). */
  asked: number;
  refused: Record<MembershipRefusal, number>;
  /** Changes given up (the deadline passed, or refused for good). */
  abandoned: number;
  /** Servers created, and stopped for good (their removal committed, or an add that never committed). */
  created: number;
  retired: number;
  /** The fewest and the most voters, and the most learners, of any committed configuration. */
  minVoters: number;
  maxVoters: number;
  maxLearners: number;
  /**
   * Some committed configuration had learners enough to complete a quorum the voters could
   * not (2 voters + 1 learner, 3 + 2, 4 + 1...): where a core counting learners differs.
   */
  learnersDecisive: boolean;
  /** Removed servers ran on for seconds after their removal committed (LATE_RETIRE_MS). */
  lateRetire: boolean;
}

export function emptyMembershipStats(): MembershipStats {
  return {
    adds: 0,
    promotes: 0,
    removes: 0,
    leaderRemovals: 0,
    asked: 0,
    refused: { not_leader: 0, change_in_progress: 0, not_ready: 0, not_caught_up: 0, last_voter: 0, invalid: 0 },
    abandoned: 0,
    created: 0,
    retired: 0,
    minVoters: Infinity,
    maxVoters: 0,
    maxLearners: 0,
    learnersDecisive: false,
    lateRetire: false,
  };
}

/** Mean gap between two changes a coordinator process starts (two such processes run at once). */
const MEAN_CHANGE_GAP_MS = 800;
/** How long the coordinator pursues one change (retrying refusals) before it gives up. */
const CHANGE_DEADLINE_MS = 3_000;
/** At most this many servers exist at once (not stopped for good). */
const MAX_ACTIVE_SERVERS = 16;

type Goal =
  | { readonly kind: "addVoter" }
  | { readonly kind: "addLearner" }
  | { readonly kind: "promote"; readonly id: NodeId }
  | { readonly kind: "remove"; readonly id: NodeId; readonly leader: boolean };

export function replayCommand(seed: number, servers: number, extra = ""): string {
  return `npm run sim -- --seeds 1 --seed ${seed} --servers ${servers}${extra ? ` ${extra}` : ""} --verbose`;
}

interface Setup {
  readonly servers: number;
  readonly knobs: ScheduleKnobs;
  readonly crashPointRate: number;
  readonly stateMachine: "volatile" | "durable";
  readonly tickJitterMs: number;
  readonly maxEntriesPerAppend: number | undefined;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly leaderNoop: boolean;
  /** Host compaction: snapshot every this many applied entries (0: never). */
  readonly compactEvery: number;
  readonly snapshotSource: SnapshotSource;
  /** "live": the pieces an InstallSnapshot's text travels in (undefined: one piece). */
  readonly snapshotChunkChars: number | undefined;
  /** How the disks fail (null: they never do). */
  readonly disk: { readonly kinds: readonly DiskFailureKind[]; readonly faults: DiskFaults } | null;
  /** The cores' sleepAfterMs (null: they never sleep). */
  readonly sleepAfterMs: number | null;
  /** The probability that a fault call wakes every server (the rest are silent). */
  readonly faultWakeRate: number;
  /** Membership changes during the fault phase. */
  readonly membership: boolean;
  /** How long removed servers run on after their removal commits (undefined: the cluster's default). */
  readonly retireDelaysMs: readonly number[] | undefined;
}

/**
 * A removal the coordinator answered 504 (its wait ran out before the entry committed) leaves
 * the removed server running until a later call or sweep stops it: seconds, not milliseconds.
 * Meanwhile a removed server that missed the commit may stand for election, and only the
 * vote-counting rule keeps it from winning (ElectionQuorum's mutant needs this to show).
 */
const LATE_RETIRE_MS: readonly number[] = [500, 2_000, 5_000];

/** The cluster's election timeouts are the reference's [150, 300) ms: the host wakes at most once per 300 ms. */
const ELECTION_TIMEOUT_MAX_MS = 300;

/** A command too large to store when "tooLarge" is drawn: longer than MAX_COMMAND_CHARS once in JSON. */
const MAX_COMMAND_CHARS = 64;
const BIG_PADDING = "x".repeat(MAX_COMMAND_CHARS);

/** Disk failures for about half of the seeds, from a stream of their own (the other seeds' runs are unchanged). */
function drawDisk(opts: RandomRunOptions): Setup["disk"] {
  const rng = new Rng(opts.seed, "disk");
  const on = rng.chance(0.5);
  if (!(opts.diskFaults ?? on)) return null;
  const kinds: DiskFailureKind[] = [];
  if (rng.chance(0.6)) kinds.push("full");
  if (rng.chance(0.5)) kinds.push("tooLarge");
  if (rng.chance(0.6) || kinds.length === 0) kinds.push("transient");
  const transientRate = rng.pick([0.005, 0.02, 0.05]);
  return {
    kinds,
    faults: {
      transientRate: kinds.includes("transient") ? transientRate : 0,
      maxCommandChars: kinds.includes("tooLarge") ? MAX_COMMAND_CHARS : Infinity,
    },
  };
}

/** Sleeping cores for about half of the seeds, from a stream of their own. */
function drawSleep(opts: RandomRunOptions): { sleepAfterMs: number | null; faultWakeRate: number } {
  const rng = new Rng(opts.seed, "sleep");
  const on = rng.chance(0.5);
  const sleepAfterMs = rng.pick([50, 150, 400, 1500]);
  const faultWakeRate = rng.pick([1, 1, 0.5, 0]);
  return {
    sleepAfterMs: (opts.sleep ?? on) ? (opts.sleepAfterMs ?? sleepAfterMs) : null,
    faultWakeRate: opts.hostWakes?.faultRate ?? faultWakeRate,
  };
}

/** Everything about a run that is drawn from its seed before it starts. */
function drawSetup(opts: RandomRunOptions, rng: Rng): Setup {
  // The core's optional behaviours come from a stream of their own, so adding them did not
  // change the schedule any earlier seed produced.
  const flags = new Rng(opts.seed, "core-options");
  const drawnServers = rng.pick([3, 5, 5, 7]);
  const knobs = { ...DEFAULT_KNOBS, ...opts.knobs };
  const drawnRate = rng.pick([0, 0.001, 0.005]);
  const drawnStateMachine = rng.chance(0.5) ? "durable" : "volatile";
  const tickJitterMs = rng.pick([0, 1, 6]);
  const maxEntriesPerAppend = rng.pick([undefined, 1, 3, 64]);
  const preVote = flags.chance(0.5);
  const checkQuorum = flags.chance(0.5);
  const leaderNoop = flags.chance(0.5);
  const snapshots = new Rng(opts.seed, "snapshots");
  const drawnCompactEvery = snapshots.pick([0, 0, 3, 10, 50]);
  // The Durable Object's way (live snapshots) for half the seeds that compact with a durable
  // state machine, from a stream of its own so that no earlier draw changed.
  const drawnLive = new Rng(opts.seed, "snapshot-source").chance(0.5);
  const live = opts.snapshotSource === "live" || (opts.snapshotSource === undefined && drawnLive && drawnStateMachine === "durable");
  const compactEvery = opts.compactEvery ?? (live && drawnCompactEvery === 0 ? snapshots.pick([3, 10, 50]) : drawnCompactEvery);
  return {
    servers: opts.servers ?? drawnServers,
    knobs,
    crashPointRate: knobs.crashPointRate ?? drawnRate,
    stateMachine: live ? "durable" : drawnStateMachine,
    tickJitterMs,
    maxEntriesPerAppend,
    preVote: opts.raftOptions?.preVote ?? preVote,
    checkQuorum: opts.raftOptions?.checkQuorum ?? checkQuorum,
    leaderNoop: opts.raftOptions?.leaderNoop ?? leaderNoop,
    compactEvery,
    snapshotSource: live && compactEvery > 0 ? "live" : "stored",
    // From a stream of its own, as the shell's snapshotChunkBytes (64 is its smallest).
    snapshotChunkChars: new Rng(opts.seed, "snapshot-chunk-size").pick([undefined, 1024, 256, 64]),
    disk: drawDisk(opts),
    ...drawSleep(opts),
    // From a stream of its own: the seeds without membership changes run exactly as before.
    membership: opts.membership ?? new Rng(opts.seed, "membership").chance(0.75),
    // Its own stream again, so every other draw of the seed is unchanged.
    retireDelaysMs: opts.retireDelaysMs ?? (new Rng(opts.seed, "retire-late").chance(0.5) ? LATE_RETIRE_MS : undefined),
  };
}

function randomProfile(rng: Rng): NetworkProfile {
  return {
    delayMs: rng.pick([
      [0.5, 1],
      [1, 10],
      [0, 27],
      [5, 60],
    ] as const),
    dropRate: rng.pick([0, 0, 0.05, 0.1, 0.3]),
    duplicateRate: rng.pick([0, 0, 0.05, 0.2]),
    longDelayRate: rng.pick([0, 0, 0.05, 0.2]),
    longDelayMs: rng.pick([
      [50, 500],
      [200, 2200],
    ] as const),
    longDelayRepliesOnly: rng.chance(0.5),
  };
}

function pickWeighted(rng: Rng, weights: Readonly<Record<ChaosAction, number>>): ChaosAction {
  const total = CHAOS_ACTIONS.reduce((s, a) => s + weights[a], 0);
  let x = rng.float(0, total);
  for (const a of CHAOS_ACTIONS) {
    x -= weights[a];
    if (x < 0) return a;
  }
  return CHAOS_ACTIONS[CHAOS_ACTIONS.length - 1]!;
}

class Run {
  readonly c: Cluster;
  readonly setup: Setup;
  private readonly chaosRng: Rng;
  private readonly clientRng: Rng;
  private readonly crashRng: Rng;
  /** Proposals and random crash points run only between go() and the liveness phase. */
  private stopped = true;
  proposalsAccepted = 0;
  healMs: number | null = null;
  slowestOperationMs: number | null = null;
  private readonly diskRng: Rng;
  /** Whether a fault call wakes the servers, and the client's pauses (sleep on only). */
  private readonly wakeRng: Rng;
  /** The host wakes every server when an operation finds no leader, at most once per election timeout. */
  private nextNoLeaderWake = 0;
  readonly membershipStats = emptyMembershipStats();

  constructor(readonly opts: RandomRunOptions) {
    const setupRng = new Rng(opts.seed, "setup");
    this.setup = drawSetup(opts, setupRng);
    this.chaosRng = new Rng(opts.seed, "chaos");
    this.clientRng = new Rng(opts.seed, "client");
    this.crashRng = new Rng(opts.seed, "crash-points");
    this.diskRng = new Rng(opts.seed, "disk-schedule");
    this.wakeRng = new Rng(opts.seed, "host-wakes");
    const s = this.setup;
    this.c = new Cluster({
      n: s.servers,
      seed: opts.seed,
      stateMachine: s.stateMachine,
      tickJitterMs: s.tickJitterMs,
      ...(s.maxEntriesPerAppend !== undefined ? { maxEntriesPerAppend: s.maxEntriesPerAppend } : {}),
      raftOptions: { preVote: s.preVote, checkQuorum: s.checkQuorum, leaderNoop: s.leaderNoop },
      compactEvery: s.compactEvery,
      snapshotSource: s.snapshotSource,
      ...(s.snapshotChunkChars !== undefined ? { snapshotChunkChars: s.snapshotChunkChars } : {}),
      ...(opts.raftFactory ? { raftFactory: opts.raftFactory } : {}),
      faults: { ...opts.faults, crashPoint: (id) => this.crashPoint(id) },
      ...(s.disk ? { diskFaults: s.disk.faults } : {}),
      ...(s.sleepAfterMs !== null ? { sleepAfterMs: s.sleepAfterMs } : {}),
      ...(s.retireDelaysMs !== undefined ? { retireDelaysMs: s.retireDelaysMs } : {}),
      disabled: opts.disabled ?? [],
      narrate: opts.narrate ?? false,
      narrationCapacity: 1000,
      ...(opts.echo ? { echo: opts.echo } : {}),
    });
    opts.tamper?.(this.c);
    this.c.narrate(
      `[TEST] random run seed=${opts.seed} servers=${s.servers} stateMachine=${s.stateMachine} ` +
        `tickJitter=${s.tickJitterMs}ms maxEntries=${s.maxEntriesPerAppend ?? "default"} crashPointRate=${s.crashPointRate} ` +
        `preVote=${s.preVote} checkQuorum=${s.checkQuorum} leaderNoop=${s.leaderNoop} compactEvery=${s.compactEvery} ` +
        `snapshotSource=${s.snapshotSource}` +
        (s.snapshotSource === "live" ? ` snapshotChunkChars=${s.snapshotChunkChars ?? "all"}` : "") +
        (s.disk ? ` disk failures: ${s.disk.kinds.join(", ")}${s.disk.faults.transientRate > 0 ? ` (transient rate ${s.disk.faults.transientRate})` : ""}` : "") +
        (s.sleepAfterMs !== null ? ` sleepAfter=${s.sleepAfterMs}ms faultWakeRate=${s.faultWakeRate}` : "") +
        (s.membership ? ` membership changes${s.retireDelaysMs ? ` (removed servers stopped ${s.retireDelaysMs.join("/")} ms after the commit)` : ""}` : ""),
    );
  }

  private get sleepOn(): boolean {
    return this.setup.sleepAfterMs !== null;
  }

  /** The coordinator's fault call wakes every server (sleep on; some faults are silent). */
  private faultWake(what: string): void {
    if (this.sleepOn && this.wakeRng.chance(this.setup.faultWakeRate)) this.c.wakeAll(`fault: ${what}`);
  }

  /** An operation found no leader: the coordinator wakes every server, at most once per election timeout. */
  private noLeaderWake(): void {
    if (!this.sleepOn || this.opts.hostWakes?.noLeader === false || this.c.now < this.nextNoLeaderWake) return;
    this.nextNoLeaderWake = this.c.now + ELECTION_TIMEOUT_MAX_MS;
    this.c.wakeAll("an operation found no leader");
  }

  /** How long a reset object takes to load again: at once (on the caller's stack) or a few ms later. */
  private reloadDelay(rng: Rng): number {
    return rng.pick([0, 0, 1, 5]);
  }

  private get maxDown(): number {
    return this.setup.knobs.maxDown ?? this.c.active().length - 1;
  }

  /** Servers down (not those stopped for good). */
  private down(): NodeId[] {
    return this.c.active().filter((i) => !this.c.alive(i));
  }

  private crashPoint(id: NodeId): CrashPoint | null {
    if (this.stopped || this.setup.crashPointRate === 0) return null;
    if (!this.crashRng.chance(this.setup.crashPointRate)) return null;
    // The dying server is the one handling this Ready, still counted as up.
    if (this.down().length + 1 > this.maxDown) return null;
    const at = this.crashRng.pick(["beforePersist", "beforeSend"] as const);
    this.c.narrate(`[TEST] ${id} will crash ${at}`);
    return at;
  }

  *chaos(): Proc {
    const { c, chaosRng: rng } = this;
    const k = this.setup.knobs;
    const end = c.now + k.faultMs;
    while (c.now < end) {
      yield rng.float(0, 2 * k.meanFaultGapMs);
      const action = pickWeighted(rng, k.weights);
      const alive = c.ids.filter((i) => c.alive(i));
      // Servers stopped for good are out of the picture (without membership changes, every server).
      const ids = c.active();
      switch (action) {
        case "partition": {
          c.net.healAllLinks();
          const order = rng.shuffle(ids);
          const cut1 = rng.int(1, ids.length);
          const groups = rng.chance(0.3) && cut1 < ids.length - 1
            ? [order.slice(0, cut1), order.slice(cut1, cut1 + 1), order.slice(cut1 + 1)]
            : [order.slice(0, cut1), order.slice(cut1)];
          c.net.partition(groups);
          c.narrate(`[TEST] Partition ${groups.map((g) => `{${g.join(",")}}`).join(" | ")}`);
          break;
        }
        case "oneWay": {
          if (ids.length < 2) break;
          const a = rng.pick(ids);
          const b = rng.pick(ids.filter((i) => i !== a));
          c.net.cutLink(a, b);
          c.narrate(`[TEST] Cut link ${a}->${b}`);
          break;
        }
        case "heal":
          c.net.healAllLinks();
          c.narrate("[TEST] Heal all links");
          break;
        case "disconnect": {
          const up = alive.filter((i) => c.net.connected[i]);
          if (up.length === 0) break;
          const i = rng.pick(up);
          c.net.connected[i] = false;
          c.narrate(`[TEST] Disconnect ${i}`);
          break;
        }
        case "reconnect": {
          const off = alive.filter((i) => !c.net.connected[i]);
          if (off.length === 0) break;
          const i = rng.pick(off);
          c.net.connected[i] = true;
          c.narrate(`[TEST] Reconnect ${i}`);
          break;
        }
        case "crash": {
          if (alive.length === 0 || this.down().length >= this.maxDown) break;
          const i = rng.pick(alive);
          c.narrate(`[TEST] Crash ${i}`);
          c.crash(i);
          break;
        }
        case "crashLeader":
        case "isolateLeader": {
          // The primary is the most interesting server to lose (a Jepsen favourite).
          const leaders = alive.filter((i) => c.status(i)!.state === "Leader");
          if (leaders.length === 0) break;
          const i = rng.pick(leaders);
          if (action === "isolateLeader") {
            c.net.connected[i] = false;
            c.narrate(`[TEST] Isolate leader ${i}`);
          } else if (this.down().length < this.maxDown) {
            c.narrate(`[TEST] Crash leader ${i}`);
            c.crash(i);
          }
          break;
        }
        case "restart": {
          const down = this.down();
          if (down.length === 0) break;
          const i = rng.pick(down);
          c.narrate(`[TEST] Restart ${i}`);
          c.restart(i);
          break;
        }
        case "network":
          c.net.profile = randomProfile(rng);
          c.narrate(`[TEST] Network ${JSON.stringify(c.net.profile)}`);
          break;
        case "calm":
          c.net.profile = RELIABLE;
          c.narrate("[TEST] Network reliable");
          break;
        case "dropCalls": {
          const i = rng.pick(ids);
          const n = rng.int(0, 5);
          c.net.dropCallsAfterN(i, n);
          c.narrate(`[TEST] peer ${i} drop calls after ${n}`);
          c.at(c.now + rng.float(20, 500), () => {
            c.net.dontDropCalls(i);
            c.narrate(`[TEST] peer ${i} don't drop calls`);
          });
          break;
        }
        case "earlyTick":
          if (alive.length > 0) c.pokeTick(rng.pick(alive));
          break;
        case "transferLeadership": {
          const leaders = alive.filter((i) => c.status(i)!.state === "Leader");
          if (leaders.length === 0) break;
          const from = rng.pick(leaders);
          if (ids.length < 2) break;
          const to = rng.pick(ids.filter((i) => i !== from));
          c.narrate(`[TEST] Transfer leadership ${from} -> ${to}`);
          c.transferLeadership(from, to);
          break;
        }
        case "evict":
        case "evictLeader": {
          const pool = action === "evict" ? alive : alive.filter((i) => c.status(i)!.state === "Leader");
          if (pool.length === 0) break;
          const i = rng.pick(pool);
          c.narrate(`[TEST] Evict ${i}${action === "evictLeader" ? " (the leader)" : ""}`);
          c.evict(i, this.reloadDelay(rng));
          break;
        }
        case "deploy":
          c.narrate("[TEST] Deploy: evict every server");
          c.evictAll(() => this.reloadDelay(rng));
          break;
      }
      if (action !== "earlyTick") this.faultWake(action);
    }
  }

  *client(): Proc {
    const { c, clientRng: rng } = this;
    const sleepAfter = this.setup.sleepAfterMs;
    let k = 0;
    while (!this.stopped) {
      yield rng.float(0, 2 * this.setup.knobs.meanProposalGapMs);
      // With sleep on, now and then a quiet spell long enough for the cluster to fall asleep.
      if (sleepAfter !== null && this.wakeRng.chance(0.02)) yield this.wakeRng.float(sleepAfter, 2 * sleepAfter + 1000);
      if (this.stopped) return;
      k++;
      const alive = c.ids.filter((i) => c.alive(i));
      if (alive.length === 0) continue;
      // Mostly to whoever believes it leads (stale leaders included), sometimes to anyone.
      const leaders = alive.filter((i) => c.status(i)?.state === "Leader");
      if (leaders.length === 0) this.noLeaderWake();
      const targets = leaders.length > 0 && rng.chance(0.8) ? leaders : [rng.pick(alive)];
      // One action in five is a linearizable read (ReadIndex), the rest are writes.
      const read = rng.chance(0.2);
      for (const t of targets) {
        if (read) c.readIndex(t, `r${k}@${t}`);
        else if (c.propose(t, `c${k}@${t}`).accepted) this.proposalsAccepted++;
      }
    }
  }

  /** "full": now and then a server's disk fills up for a while. */
  *diskFull(): Proc {
    const { c, diskRng: rng } = this;
    while (!this.stopped) {
      yield rng.float(100, 3000);
      if (this.stopped) return;
      c.fillDisk(rng.pick(c.active()), rng.float(10, 1500));
    }
  }

  /** "tooLarge": now and then a client proposes a command too large to store, mostly to a leader. */
  *bigProposals(): Proc {
    const { c, diskRng: rng } = this;
    let k = 0;
    while (!this.stopped) {
      yield rng.float(50, 1500);
      if (this.stopped) return;
      const alive = c.ids.filter((i) => c.alive(i));
      if (alive.length === 0) continue;
      const leaders = alive.filter((i) => c.status(i)?.state === "Leader");
      const t = rng.pick(leaders.length > 0 && rng.chance(0.8) ? leaders : alive);
      c.propose(t, `big${++k}@${t}:${BIG_PADDING}`);
    }
  }

  /** Faults stop, links heal, everyone restarts; then a leader must commit a new proposal everywhere. */
  *liveness(): Proc {
    const c = this.c;
    this.stopped = true;
    c.diskFaults = null;
    c.net.profile = RELIABLE;
    c.net.healAllLinks();
    // Reset servers still loading come up on their own; the others are restarted.
    yield 10;
    for (const i of c.active()) {
      c.net.dontDropCalls(i);
      if (!c.alive(i)) c.restart(i);
      c.net.connected[i] = true;
    }
    c.narrate("[TEST] Liveness: faults stop, network healed, all servers up");
    this.faultWake("heal and restart");
    const t0 = c.now;
    const deadline = t0 + this.setup.knobs.livenessBudgetMs;
    let m = 0;
    while (c.now < deadline) {
      const leader = this.stableLeader();
      if (leader === null) {
        this.noLeaderWake();
        yield 10;
        continue;
      }
      const cmd = `marker${++m}`;
      const r = c.propose(leader, cmd);
      if (!r.accepted) {
        yield 10;
        continue;
      }
      c.narrate(`[TEST] marker ${cmd} accepted by ${leader} at (${r.index}, term ${r.term})`);
      while (c.now < deadline) {
        yield 5;
        // Every server of the leader's configuration (without membership changes: every server).
        if (this.mustApply(leader).every((i) => (c.applied(i)[r.index - 1]?.command ?? null) === cmd)) {
          this.healMs = c.now - t0;
          this.retireStrays(leader);
          return;
        }
        const st = c.status(leader);
        // The proposal's leader lost its term: its entry may be gone; propose again to the next one.
        if (!st || st.state !== "Leader" || st.term !== r.term) break;
      }
    }
    c.checker.fail(
      "Liveness",
      `no new proposal committed on every server within ${this.setup.knobs.livenessBudgetMs} ms of healing (${m} markers tried; ${this.states()})`,
    );
  }

  /**
   * With sleep on, after the liveness phase (everything healed, up, calm, no more faults but
   * these): the idle cluster falls asleep; a deploy while it sleeps costs no election; its
   * leader, crashed while it sleeps, is replaced when the next operation arrives (the host
   * wakes the followers, having found no leader); every operation commits on every server
   * that is up within operationBudgetMs. The faults here are silent (no wake): only
   * operations wake anything.
   */
  *sleepChecks(): Proc {
    const c = this.c;
    const busyLimit = c.now + 10_000;
    while (this.opts.clientsDone !== undefined && !this.opts.clientsDone()) {
      if (c.now >= busyLimit) return c.checker.fail("Liveness", "the workload's clients were still busy 10 s after the liveness phase");
      yield 10;
    }
    yield* this.untilAsleep("the healed, idle cluster");
    const term = Math.max(...c.ids.map((i) => c.status(i)?.term ?? 0));
    c.narrate("[TEST] Deploy while the cluster sleeps (no wake)");
    c.evictAll(() => this.reloadDelay(this.wakeRng));
    yield* this.operation("after a deploy while asleep");
    const after = Math.max(...c.ids.map((i) => c.status(i)?.term ?? 0));
    if (after !== term) c.checker.fail("Liveness", `a deploy of the sleeping cluster caused an election (term ${term} -> ${after})`);
    yield* this.untilAsleep("the cluster, idle again after the deploy");
    const leader = this.stableLeader();
    if (leader === null) return c.checker.fail("Liveness", "the sleeping cluster has no leader");
    const voters = c.status(leader)!.membership.voters;
    if (voters.length < 3) {
      // One or two voters (membership changes): without its leader, no majority is left.
      c.narrate(`[TEST] The sleeping leader ${leader} is not crashed: its configuration has ${voters.length} voter(s)`);
      yield* this.operation("after sleeping again");
      return;
    }
    c.narrate(`[TEST] Crash the sleeping leader ${leader} (no wake)`);
    c.crash(leader);
    yield* this.operation("with the leader lost while asleep");
    c.narrate(`[TEST] Restart ${leader}`);
    c.restart(leader);
    yield* this.operation("with every server back");
  }

  /** Wait until every server is asleep (an idle, healthy cluster must get there). */
  private *untilAsleep(what: string): Proc {
    const c = this.c;
    const limit = c.now + this.setup.sleepAfterMs! + 2_000;
    while (!c.active().every((i) => c.status(i)?.asleep === true)) {
      if (c.now >= limit) {
        const states = c.active().map((i) => `${i}:${c.status(i)?.asleep ? "asleep" : "awake"}`).join(" ");
        return c.checker.fail("Liveness", `${what} did not fall asleep within sleepAfterMs + 2000 ms (${states})`);
      }
      yield 10;
    }
    c.narrate(`[TEST] ${what} sleeps`);
  }

  /** One client operation: find the leader (waking the cluster if there is none), propose, wait until every server that is up applied it. */
  private *operation(what: string): Proc {
    const c = this.c;
    const t0 = c.now;
    const budget = this.setup.knobs.operationBudgetMs;
    const cmd = `op@${Math.round(t0)}`;
    while (c.now < t0 + budget) {
      const leader = this.stableLeader();
      const r = leader === null ? null : c.propose(leader, cmd);
      if (r === null || !r.accepted) {
        if (leader === null) this.noLeaderWake();
        yield 10;
        continue;
      }
      while (c.now < t0 + budget) {
        yield 5;
        if (c.ids.every((i) => !c.alive(i) || (c.applied(i)[r.index - 1]?.command ?? null) === cmd)) {
          const ms = c.now - t0;
          c.narrate(`[TEST] operation ${what}: committed everywhere in ${ms.toFixed(1)} ms`);
          this.slowestOperationMs = Math.max(this.slowestOperationMs ?? 0, ms);
          return;
        }
        const st = c.status(leader!);
        if (!st || st.state !== "Leader" || st.term !== r.term) break;
      }
    }
    c.checker.fail("Liveness", `an operation ${what} did not commit on every server that is up within ${budget} ms (${this.states()})`);
  }

  /** The servers a committed marker must reach: those of the leader's configuration that are not stopped for good. */
  private mustApply(leader: NodeId): NodeId[] {
    const st = this.c.status(leader);
    if (!st?.membership) return this.c.active();
    const inConfig = new Set(members(st.membership));
    return this.c.active().filter((i) => inConfig.has(i));
  }

  /**
   * Once a marker of the healed cluster's leader has committed, no log without it can ever
   * lead again, so a server its configuration leaves out (an add that never committed, or a
   * removal whose stop is still pending) will never be in one: the coordinator deletes it.
   */
  private retireStrays(leader: NodeId): void {
    const st = this.c.status(leader);
    if (!st?.membership) return;
    const inConfig = new Set(members(st.membership));
    for (const i of this.c.active()) {
      if (inConfig.has(i)) continue;
      this.c.retire(i, "not in the healed cluster's configuration (an add that never committed): the coordinator deletes it");
    }
  }

  // --- membership changes: the coordinator's way ----------------------------------------------

  /** The leader the coordinator would ask: the one of the highest term among servers that are up. */
  private currentLeader(): NodeId | null {
    const c = this.c;
    let best: NodeId | null = null;
    for (const i of c.ids) {
      const st = c.status(i);
      if (st?.state === "Leader" && (best === null || st.term > c.status(best)!.term)) best = i;
    }
    return best;
  }

  /**
   * One coordinator process: now and then, a change chosen from the leader's configuration,
   * pursued as the coordinator will (ask the leader, retry the refusals that say "later",
   * give up after a deadline). Two run at once, so changes are also asked for while another
   * is in flight (the core must refuse: change_in_progress).
   */
  *membershipChanges(k: number): Proc {
    const c = this.c;
    const rng = new Rng(this.opts.seed, "membership-changes", k);
    while (!this.stopped) {
      yield rng.float(0, 2 * MEAN_CHANGE_GAP_MS);
      if (this.stopped) return;
      const leader = this.currentLeader();
      const m = leader === null ? null : c.status(leader)!.membership;
      if (leader === null || !m) continue;
      const goal = this.pickGoal(rng, leader, m);
      if (goal === null) continue;
      const deadline = c.now + CHANGE_DEADLINE_MS;
      switch (goal.kind) {
        case "addVoter":
        case "addLearner": {
          const id = c.addServer();
          this.membershipStats.created++;
          c.narrate(`[TEST] coordinator ${k}: add server ${id} as a ${goal.kind === "addVoter" ? "voter (learner first)" : "learner"}`);
          const added = yield* this.pursue(k, rng, { op: "add_learner", id }, deadline);
          if (added && goal.kind === "addVoter") yield* this.pursue(k, rng, { op: "promote", id }, deadline + CHANGE_DEADLINE_MS);
          break;
        }
        case "promote":
          c.narrate(`[TEST] coordinator ${k}: promote learner ${goal.id}`);
          yield* this.pursue(k, rng, { op: "promote", id: goal.id }, deadline);
          break;
        case "remove":
          c.narrate(`[TEST] coordinator ${k}: remove ${goal.leader ? "the leader " : ""}${goal.id}`);
          yield* this.pursue(k, rng, { op: "remove", id: goal.id }, deadline, goal.leader);
          break;
      }
    }
  }

  /**
   * Voters stay between 1 and 9, learners at most 9: adding is likelier when few voters are
   * left, removing when many, so the cluster shrinks to one or two voters now and then and
   * grows back.
   */
  private pickGoal(rng: Rng, leader: NodeId, m: Membership): Goal | null {
    const v = m.voters.length;
    const l = m.learners.length;
    const canCreate = this.c.active().length < MAX_ACTIVE_SERVERS && l < 9;
    const options: [number, Goal][] = [];
    if (canCreate && v < 9) options.push([v <= 2 ? 3 : v < 5 ? 1.5 : 0.6, { kind: "addVoter" }]);
    if (canCreate) options.push([0.4, { kind: "addLearner" }]);
    if (l > 0 && v < 9) options.push([0.8, { kind: "promote", id: rng.pick(m.learners) }]);
    if (l > 0) options.push([0.6, { kind: "remove", id: rng.pick(m.learners), leader: false }]);
    const others = m.voters.filter((i) => i !== leader);
    if (v > 1 && others.length > 0) options.push([v >= 5 ? 1.5 : 1, { kind: "remove", id: rng.pick(others), leader: false }]);
    if (v > 1 && m.voters.includes(leader)) options.push([0.6, { kind: "remove", id: leader, leader: true }]);
    const total = options.reduce((t, [w]) => t + w, 0);
    if (total === 0) return null;
    let x = rng.float(0, total);
    for (const [w, g] of options) {
      x -= w;
      if (x < 0) return g;
    }
    return options[options.length - 1]![1];
  }

  /**
   * Ask the leader for `change` until it is committed: refusals not_leader, not_ready,
   * not_caught_up and change_in_progress are retried 10–50 ms later; last_voter and invalid
   * end it; an accepted change whose entry is lost (the leader deposed) is asked again.
   * Answers whether it committed before the deadline.
   */
  private *pursue(k: number, rng: Rng, change: MembershipChange, deadline: number, ofLeader = false): Generator<number, boolean, undefined> {
    const c = this.c;
    const stats = this.membershipStats;
    while (c.now < deadline && !this.stopped) {
      const leader = this.currentLeader();
      if (leader === null) {
        this.noLeaderWake();
        yield rng.float(10, 50);
        continue;
      }
      stats.asked++;
      const r = c.changeMembership(leader, change);
      if (!r.accepted) {
        stats.refused[r.reason]++;
        if (r.reason === "last_voter" || r.reason === "invalid") break;
        yield rng.float(10, 50);
        continue;
      }
      // Accepted: wait for the entry to commit (first applied somewhere), or to be lost.
      for (;;) {
        yield 5;
        const e = c.checker.committedEntries().get(r.index);
        if (e !== undefined && e.term === r.term) {
          if (change.op === "add_learner") stats.adds++;
          else if (change.op === "promote") stats.promotes++;
          else if (ofLeader && change.id === leader) stats.leaderRemovals++;
          else stats.removes++;
          c.narrate(`[TEST] coordinator ${k}: ${change.op} ${change.id} committed at (${r.index}, term ${r.term})`);
          return true;
        }
        if (e !== undefined) break; // another entry committed there: this one is lost, ask again
        if (c.now >= deadline) break;
      }
    }
    stats.abandoned++;
    c.narrate(`[TEST] coordinator ${k}: gives up on ${change.op} ${change.id}`);
    return false;
  }

  private states(): string {
    const c = this.c;
    return c.ids
      .map((i) => {
        const st = c.status(i);
        return st ? `${i}:${st.state}/t${st.term}/commit${st.commitIndex}/log${st.logLength}${st.asleep ? "/asleep" : ""}` : `${i}:down`;
      })
      .join(" ");
  }

  /** The one leader whose term no server that is up exceeds, or null. */
  private stableLeader(): NodeId | null {
    const c = this.c;
    let leader: NodeId | null = null;
    for (const i of c.ids) {
      const st = c.status(i);
      if (st?.state !== "Leader") continue;
      if (leader !== null && c.status(leader)!.term === st.term) return null;
      if (leader === null || st.term > c.status(leader)!.term) leader = i;
    }
    if (leader === null) return null;
    // Only the servers of its configuration count (without membership changes, every server): one
    // it leaves out (a removal or an add not committed yet, whose server still runs) talks to no
    // one who listens, however high its term climbs.
    const st = c.status(leader)!;
    const inConfig = new Set(members(st.membership));
    for (const i of c.ids) {
      const other = c.status(i);
      if (other !== null && other.term > st.term && inConfig.has(i)) return null;
    }
    return leader;
  }

  /** The membership counts, with the cluster's own (servers stopped, the range of committed configurations). */
  finalMembershipStats(): MembershipStats {
    const s = { ...this.membershipStats, retired: this.c.retirements };
    const configs = [{ membership: { voters: this.c.initialVoters, learners: [] as readonly NodeId[] } }, ...this.c.checker.committedConfigs()];
    for (const { membership } of configs) {
      s.minVoters = Math.min(s.minVoters, membership.voters.length);
      s.maxVoters = Math.max(s.maxVoters, membership.voters.length);
      s.maxLearners = Math.max(s.maxLearners, membership.learners.length);
      const v = membership.voters.length;
      const l = membership.learners.length;
      // Voters one short of their majority (the leader among them) plus every learner make a majority of all members.
      if (v >= 2 && majority(v) - 1 + l >= majority(v + l)) s.learnersDecisive = true;
    }
    s.lateRetire = Math.max(...(this.setup.retireDelaysMs ?? [0])) >= 2_000;
    return s;
  }

  go(): void {
    const c = this.c;
    this.stopped = false;
    c.spawn("client", this.client());
    if (this.setup.disk?.kinds.includes("full")) c.spawn("disk-full", this.diskFull());
    if (this.setup.disk?.kinds.includes("tooLarge")) c.spawn("big-client", this.bigProposals());
    if (this.setup.membership) {
      c.spawn("coordinator-0", this.membershipChanges(0));
      c.spawn("coordinator-1", this.membershipChanges(1));
    }
    c.run(this.chaos());
    c.run(this.liveness());
    if (this.sleepOn) c.run(this.sleepChecks());
    c.finalCheck();
  }
}

function runOnce(opts: RandomRunOptions): { run: Run; error: unknown } {
  const run = new Run(opts);
  try {
    run.go();
    return { run, error: null };
  } catch (e) {
    return { run, error: e };
  }
}

export function randomRun(opts: RandomRunOptions): RandomRunResult {
  const { run, error } = runOnce(opts);
  const c = run.c;
  const servers = run.setup.servers;
  const base = {
    seed: opts.seed,
    servers,
    events: c.events,
    virtualMs: c.now,
    proposalsAccepted: run.proposalsAccepted,
    committed: Math.max(...c.ids.map((i) => c.applied(i).length)),
    leaders: c.checker.leaders().size,
    reads: c.readsConfirmed,
    snapshots: c.net.stats.snapshots,
    transfers: { ...c.transfers },
    snapshotSource: run.setup.snapshotSource,
    preVote: run.setup.preVote,
    healMs: run.healMs,
    diskFailures: run.setup.disk?.kinds ?? null,
    refused: c.refusedWrites(),
    resets: c.resets,
    sleepAfterMs: run.setup.sleepAfterMs,
    evictions: c.evictions,
    deploys: c.deploys,
    resumes: c.resumes,
    sleeps: c.sleeps,
    wakes: c.wakes,
    hostWakes: c.hostWakes,
    slowestOperationMs: run.slowestOperationMs,
    membership: run.setup.membership ? run.finalMembershipStats() : null,
    replay: replayCommand(opts.seed, servers, opts.replayArgs),
  };
  const lines = opts.tailLines ?? 60;
  if (error === null) return { ...base, ok: true, invariant: null, message: null, tail: opts.narrate ? c.narrator.tail(lines) : [] };

  const invariant = error instanceof InvariantViolation ? error.invariant : null;
  let message =
    error instanceof InvariantViolation || error instanceof HarnessFailure
      ? error.message
      : `simulator error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  let tail: string[] = [];
  if (lines > 0) {
    if (opts.narrate) tail = c.narrator.tail(lines);
    else {
      // Same seed, same options, narration on: the same run, now with its story.
      const replay = runOnce({ ...opts, narrate: true, echo: undefined });
      tail = replay.run.c.narrator.tail(lines);
      const again = replay.error instanceof InvariantViolation ? replay.error.invariant : null;
      const sameFailure = replay.error !== null && again === invariant && replay.run.c.events === c.events;
      if (!sameFailure) message += "\n(warning: the narrated replay did not fail identically; the simulator is not deterministic)";
    }
  }
  return { ...base, ok: false, invariant, message, tail };
}
