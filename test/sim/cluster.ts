// The deterministic simulator: a cluster of pure Raft cores on a virtual clock.
//
// Every server is a host loop around one `Raft`: feed it one event (a message, a timer tick,
// a proposal), take its Ready, then, in this order, write hardState and logWrite to the
// server's Disk, put the messages on the simulated Network, hand `committed` to the server's
// state machine (an applied list), and arrange a tick at `wakeAt`. Events sit in one priority
// queue ordered by (virtual time, insertion order), so a seed replays a run exactly. The
// Checker is consulted at each of those steps and after every event.
//
// A disk may refuse a write (ClusterOptions.diskFaults; see disk.ts). Then, as the Durable
// Object shell does (ctx.abort()), the host resets the server before anything else happens:
// nothing is written (a write is atomic), sent, applied or rescheduled; the core and its
// pending outputs are dropped; and the server boots again from its disk at once or after a
// few ms (an eviction: it is not kept down), its pending alarm still set.
//
// Evictions (issue 11). The platform resets objects at any moment (an eviction, or a deploy,
// which resets every object at once): `evict` drops the core (memory lost: the core, its
// pending outputs, a volatile state machine), keeps the disk, the links and the pending alarm,
// and boots the server again from its disk at once or a few ms later, with
// `resumeLeadership: true`, as the Durable Object does: a leader whose durable state says it
// won its current term resumes leading it. A reset after a refused write is the same reset. A
// `crash` followed by `restart` (the reference harness's ordered crash) boots with
// `resumeLeadership: false`, as before. With `sleepAfterMs` an idle cluster sleeps (no timer
// is due: the core's wakeAt is Infinity and no tick is scheduled); `wake`/`wakeAll` are the
// coordinator's core.wake(now), which the tests and the random search call where the real
// coordinator does (fault calls, an operation that finds no leader).

import { Raft } from "../../src/raft/raft.ts";
import { members, membershipOf } from "../../src/raft/membership.ts";
import type {
  Entry,
  HardState,
  InstallSnapshot,
  Membership,
  MembershipChange,
  MembershipChangeResult,
  Message,
  NodeId,
  ProposeResult,
  RaftConfig,
  ReadIndexResult,
  TransferResult,
  RaftStatus,
  Ready,
  RestoredState,
  SnapshotMeta,
} from "../../src/raft/types.ts";
import { Disk, type DiskFailureKind, type DiskFaults, type SnapshotSource } from "./disk.ts";
import { compactionPoint, type CompactionInput } from "../../src/raft/compaction.ts";
import { SnapshotAssembly, chunkOf, type ChunkSink, type ChunkSource } from "../../src/server/snapshot-assembly.ts";
import { textSink, textSource } from "./text-snapshot.ts";
import { SnapshotTransfers, staleTransfer } from "../../src/server/snapshot-transfers.ts";
import { EventQueue } from "./event-queue.ts";
import { Checker, InvariantViolation, jsonOf, type InvariantName } from "./invariants.ts";
import { Narrator } from "./narration.ts";
import { Network, RELIABLE, type NetworkProfile } from "./network.ts";
import { Rng } from "./prng.ts";

export type RaftFactory = (config: RaftConfig, restored: RestoredState, now: number) => Raft;

/** Where a host can die while handling a Ready. */
export type CrashPoint = "beforePersist" | "beforeSend";

/** Ways to make the host misbehave: random faults for the search, broken hosts for mutant tests. */
export interface HostFaults {
  /** Rewrite the hard state on its way to disk (a disk that forgets votedFor or the term). */
  persistHardState?(id: NodeId, onDisk: HardState, next: HardState): HardState;
  /** Rewrite a Ready before the host acts on it. */
  ready?(id: NodeId, ready: Ready, cluster: Cluster): Ready;
  /** Change what the state machine applies (for example, apply a batch in the wrong order). */
  apply?(id: NodeId, entries: readonly Entry[]): readonly Entry[];
  /** Crash the server part-way through handling a Ready, or not (null). */
  crashPoint?(id: NodeId): CrashPoint | null;
  /**
   * Rewrite the state machine content a snapshot up to `upTo` is made of: what a "stored" host
   * folds into its snapshot when it compacts, or what a "live" host attaches to an InstallSnapshot.
   */
  snapshot?(id: NodeId, machine: readonly Entry[], upTo: number): readonly Entry[];
  /** Rewrite the configuration a snapshot carries on its way to disk (a host that forgets it). */
  snapshotMembership?(id: NodeId, membership: Membership | undefined): Membership | undefined;
  /**
   * The broken shell of old (a mutant): when the disk refuses a write, catch the error and go
   * on with the core's in-memory state (send, apply, keep the core) instead of resetting.
   */
  swallowRefusedWrites?: boolean;
  /**
   * "live": replace the compaction rule (src/raft/compaction.ts), e.g. by the old one that
   * compacted to applied - compactEvery/2 whatever was in flight (a mutant).
   */
  compactionPoint?(input: CompactionInput): number | null;
  /**
   * "live": release a transfer's mark only after its reply reached the core (the shell of
   * old, issue 23.2): the core's request for the next snapshot is then dropped (a mutant).
   */
  releaseAfterHandover?: boolean;
}

/**
 * The real state machine's side of a "live" snapshot (kv-replicas.ts puts the KvStateMachine
 * behind it): the pieces an InstallSnapshot streams, as the Durable Object reads them from its
 * store (src/kv/snapshot-stream.ts), where the receiver stages them, and what it does with
 * them once installed.
 */
export interface LiveSnapshotCodec {
  /** Server `id`'s state machine at its applied index `index`, as a transfer's pieces (its SnapshotReader). */
  source(id: NodeId, index: number): ChunkSource;
  /** Where one transfer's pieces arriving at server `id` are checked and staged. */
  sink(id: NodeId): ChunkSink<unknown>;
  /** Server `id` installed the snapshot up to `index` whose pieces were staged as `staged`. */
  installed(id: NodeId, index: number, staged: unknown): void;
}

export interface ClusterOptions {
  readonly n: number;
  readonly seed: number;
  /** Reference: [150, 300). */
  readonly electionTimeoutMs?: readonly [number, number];
  /** Reference: 50. */
  readonly heartbeatMs?: number;
  readonly maxEntriesPerAppend?: number;
  readonly maxBytesPerAppend?: number;
  readonly network?: Partial<NetworkProfile>;
  /** Timers fire up to this long after wakeAt (Durable Object alarms run 0–6 ms late). */
  readonly tickJitterMs?: number;
  /**
   * "volatile": a crash loses the state machine and a restart has every committed entry
   * handed to it again (the reference harness). "durable": the state machine survives and
   * the restart passes `applied` (what the Durable Object shell does).
   */
  readonly stateMachine?: "volatile" | "durable";
  readonly raftFactory?: RaftFactory;
  /**
   * Log compaction (0: never). "stored": once a server has applied this many entries past its
   * last snapshot, the host snapshots its state machine, persists the copy and calls
   * core.compact() up to everything applied. "live": this is the Durable Object's
   * snapshotThreshold: once more than this many applied entries sit in the log, the host
   * compacts up to applied - floor(compactEvery / 2), keeping the newest half as a tail.
   */
  readonly compactEvery?: number;
  /**
   * What an InstallSnapshot carries. "stored" (default): the copy of the state machine the
   * sender took when it last compacted, named as the core names it. "live" (what the Durable
   * Object shell does): no copies are kept; the sender attaches its current applied state
   * machine and renames the message to core.snapshotMetaAt(applied). Needs a durable state machine.
   */
  readonly snapshotSource?: SnapshotSource;
  /**
   * "live": InstallSnapshot travels as the Durable Object sends it, the state's JSON text in
   * pieces of at most this many characters, one round trip each (default: one piece), through
   * the shell's own SnapshotAssembly; one transfer per follower at a time (SnapshotTransfers).
   */
  readonly snapshotChunkChars?: number;
  /** The core's optional behaviours (all off by default, as in the reference). */
  readonly raftOptions?: Partial<Pick<RaftConfig, "preVote" | "checkQuorum" | "leaderNoop">>;
  readonly faults?: HostFaults;
  /** Disks that refuse some writes (off by default); also settable later (Cluster.diskFaults). */
  readonly diskFaults?: DiskFaults;
  /**
   * The core's sleepAfterMs (idle clusters sleep; see the core's "Sleep" section). Absent: the
   * cores never sleep, as the reference scenarios assume.
   */
  readonly sleepAfterMs?: number;
  /** Invariants not to enforce (mutant tests switch one off to prove the next one fires). */
  readonly disabled?: readonly InvariantName[];
  /**
   * Membership (issue 12): once a configuration that leaves a server out is committed (first
   * applied by some server), the host stops that server for good, as the coordinator does:
   * no timer, no answer, never restarted. After a delay drawn from `retireDelaysMs` (default
   * [0, 1, 5, 50, 500]: the coordinator learns of the commit late, and a removed server keeps
   * running meanwhile). false: removed servers run on (scenarios that need one to).
   */
  readonly retireRemoved?: boolean;
  readonly retireDelaysMs?: readonly number[];
  readonly narrationCapacity?: number;
  /** Print every narrated line as it happens. */
  readonly echo?: (line: string) => void;
  /** Narrate every lost message ([NET] lines). */
  readonly narrateNetwork?: boolean;
  /**
   * false: keep no narration at all, and give the cores no log sink (they then build no
   * strings). Several times faster; a run is deterministic, so a failing seed is simply
   * replayed with narration on to show its story.
   */
  readonly narrate?: boolean;
}

type SimEvent =
  | { readonly kind: "deliver"; readonly msg: Message }
  | { readonly kind: "tick"; readonly id: NodeId; readonly life: number; readonly token: number }
  | { readonly kind: "run"; readonly fn: () => void };

/** A simulated process (a client, a fault injector): a generator that yields how long to sleep, in ms. */
export type Proc<T = void> = Generator<number, T, undefined>;

export class ProcessHandle<T> {
  done = false;
  result: T | undefined = undefined;
  constructor(readonly name: string) {}
}

/** What the host attaches to an InstallSnapshot: the sender's snapshotted state machine. */
interface SnapshotData {
  readonly index: number;
  readonly term: number;
  readonly machine: readonly Entry[];
  /** "live": what the receiver's sink made of the pieces (the staged snapshot). */
  readonly staged?: unknown;
}

interface Slot {
  readonly id: NodeId;
  readonly disk: Disk;
  core: Raft | null;
  life: number;
  /** What this server's state machine applied, in order. */
  applied: Entry[];
  /** How far the core has handed out committed entries (ApplyOrder's expectation). */
  lastApplied: number;
  /** Status after the last event of this life (null when down). */
  status: RaftStatus | null;
  /** The state machine carried by the InstallSnapshot being delivered (the host holds it while the core decides). */
  inboundSnapshot: SnapshotData | null;
  /** "live", as a leader: the snapshots on their way to followers (one life's; the token count goes on across lives). */
  readonly transfers: SnapshotTransfers;
  /** "live", as a follower: the pieces of the snapshot arriving (memory: cleared by a crash). */
  readonly assembly: SnapshotAssembly<unknown>;
  /** While a complete snapshot is handed to this server's core: whose transfer its reply ends. */
  replyTo: { readonly leader: NodeId; readonly token: number; used: boolean } | null;
  /** The pending tick: its target time (NaN when none) and a token that invalidates older ones. */
  wakeAt: number;
  wakeToken: number;
}

const MAX_EVENTS_AT_ONE_INSTANT = 100_000;
/** How long a server reset by a refused write stays down before it boots again (drawn per reset). */
const RESET_REBOOT_MS: readonly number[] = [0, 0, 1, 5];
/** A busy 7-server run under long delays keeps a few thousand events pending; 50k means runaway traffic. */
const MAX_PENDING_EVENTS = 50_000;

export class Cluster {
  /** The initial number of servers (servers 0..n-1, the initial voters). */
  readonly n: number;
  readonly seed: number;
  /** Every server ever created: 0..n-1, then those added (membership changes), retired ones included. */
  ids: readonly NodeId[];
  /** The initial configuration's voters: RaftConfig.peers of every server, added ones included. */
  readonly initialVoters: readonly NodeId[];
  readonly net: Network;
  readonly narrator: Narrator;
  readonly checker: Checker;
  faults: HostFaults;
  tickJitterMs: number;
  /** Events handled by some server (deliveries, ticks, proposals, restarts). */
  events = 0;
  /** How disks fail (null: they never do). The random search switches it off for the liveness phase. */
  diskFaults: DiskFaults | null;
  /** Servers reset because their disk refused a write. */
  resets = 0;
  /** Evictions (one server each; a deploy counts one per server) and deploys (evict all at once). */
  evictions = 0;
  deploys = 0;
  /** Boots that came up leading (a reset leader resuming its term). */
  resumes = 0;
  /** Servers that fell asleep, and sleeping servers woken (by a message, a proposal or wake()). */
  sleeps = 0;
  wakes = 0;
  /** wake() calls made by the host (the coordinator's wakes), on servers that were up. */
  hostWakes = 0;
  /** Servers added, and servers stopped for good after their removal committed. */
  added = 0;
  retirements = 0;
  /** The latest committed configuration (first applied by some server) and its index. */
  committedMembership: { index: number; membership: Membership };

  private readonly opts: ClusterOptions;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly slots: Slot[];
  /** The disks, by server id (the checker keeps this array and sees added servers' disks). */
  private readonly disks: Disk[] = [];
  /** Servers stopped for good (their removal committed). */
  private readonly retiredIds = new Set<NodeId>();
  private readonly retireRng: Rng;
  private readonly timerRng: Rng;
  private readonly diskRng: Rng;
  private readonly factory: RaftFactory;
  private readonly narrateNetwork: boolean;
  private clock = 0;
  private running = false;
  private instant = -1;
  private atInstant = 0;
  private captured: Message[] | null = null;
  /** ReadIndex reads asked for and not yet answered: ctx -> maxApplied when asked. */
  private readonly readFloors = new Map<string, number>();
  /** ReadIndex reads the cores confirmed (and the host would answer once applied). */
  readsConfirmed = 0;
  private readonly quiet: boolean;
  /** snapshotSource "live". */
  private readonly live: boolean;
  /** "live": the real state machine's snapshot text (null: the applied commands as JSON stand in). */
  liveSnapshots: LiveSnapshotCodec | null = null;
  /** "live": transfers started, completed (the last piece handed to the core), and refused because one was under way. */
  readonly transfers = { started: 0, completed: 0, busy: 0, chunks: 0 };
  /** "live": when each transfer started and when its reply reached the leader (the catch-up stories read it). */
  readonly transferLog: { readonly at: number; readonly from: NodeId; readonly to: NodeId; readonly what: "start" | "reply" }[] = [];
  /** InstallSnapshotReply -> the transfer it ends (the leader releases its mark when it arrives or is lost). */
  private readonly replyTokens = new WeakMap<Message, number>();
  private readonly chunkRng: Rng;

  constructor(opts: ClusterOptions) {
    this.opts = opts;
    this.n = opts.n;
    this.seed = opts.seed;
    this.ids = Array.from({ length: opts.n }, (_, i) => i);
    this.initialVoters = this.ids;
    this.committedMembership = { index: 0, membership: { voters: this.initialVoters, learners: [] } };
    this.retireRng = new Rng(opts.seed, "retire");
    this.quiet = opts.narrate === false;
    this.narrator = new Narrator(this.quiet ? 1 : (opts.narrationCapacity ?? 4000), opts.echo ?? null);
    this.checker = new Checker(opts.n, opts.disabled ?? []);
    this.checker.lives.electionMinMs = (opts.electionTimeoutMs ?? [150, 300])[0];
    this.net = new Network(opts.n, new Rng(opts.seed, "network"), { ...RELIABLE, ...opts.network });
    this.timerRng = new Rng(opts.seed, "timers");
    this.diskRng = new Rng(opts.seed, "disk-faults");
    this.chunkRng = new Rng(opts.seed, "snapshot-chunks");
    this.diskFaults = opts.diskFaults ?? null;
    this.factory = opts.raftFactory ?? ((config, restored, now) => new Raft(config, restored, now));
    this.faults = opts.faults ?? {};
    this.tickJitterMs = opts.tickJitterMs ?? 0;
    this.narrateNetwork = opts.narrateNetwork ?? true;
    this.live = opts.snapshotSource === "live";
    if (this.live && opts.stateMachine !== "durable") {
      throw new Error('snapshotSource "live" needs stateMachine "durable": the live state machine is the only copy of the snapshot');
    }
    this.slots = this.ids.map((id) => this.newSlot(id));
    this.checker.attachDisks(this.disks);
    for (const slot of this.slots) this.boot(slot);
  }

  private newSlot(id: NodeId): Slot {
    const slot: Slot = {
      id,
      disk: new Disk(this.opts.snapshotSource ?? "stored"),
      core: null,
      life: 0,
      applied: [],
      lastApplied: 0,
      status: null,
      inboundSnapshot: null,
      transfers: new SnapshotTransfers(),
      assembly: new SnapshotAssembly<unknown>(() => this.liveSnapshots?.sink(id) ?? textSink()),
      replyTo: null,
      wakeAt: Number.NaN,
      wakeToken: 0,
    };
    this.disks[id] = slot.disk;
    return slot;
  }

  // --- membership ----------------------------------------------------------------------------

  /**
   * Create a new server (a fresh object: a new id, never reused, and an empty disk), up and
   * connected. Its peers are the initial voters, as every server's: it is in no configuration
   * it knows of until a leader's log or snapshot says otherwise.
   */
  addServer(): NodeId {
    const id = this.slots.length;
    if (this.net.addServer() !== id) throw new Error("cluster: the network and the servers disagree on ids");
    this.checker.addServer(id);
    const slot = this.newSlot(id);
    this.slots.push(slot);
    this.ids = [...this.ids, id];
    this.added++;
    this.narrate(`[SIM] server ${id} is created (empty disk)`);
    this.boot(slot);
    return id;
  }

  /** Ask server `id` (the leader, hopefully) for a configuration change. */
  changeMembership(id: NodeId, change: MembershipChange): MembershipChangeResult {
    const slot = this.slot(id);
    if (!slot.core) return { accepted: false, reason: "not_leader", message: `server ${id} is down`, leader: null };
    const res = this.handle(slot, `changeMembership ${change.op} ${change.id}`, (core) => core.changeMembership(change, this.clock));
    if (!slot.core) return { accepted: false, reason: "not_leader", message: `server ${id} died while persisting`, leader: null };
    this.narrate(
      `[SIM] ${change.op} ${change.id} asked of ${id}: ` +
        (res.accepted ? `accepted at (${res.index}, term ${res.term})` : `refused (${res.reason}: ${res.message})`),
    );
    if (res.accepted) {
      const e = this.durableEntry(slot, res.index);
      const m = e ? membershipOf(e.command) : null;
      if (!m || e!.term !== res.term) {
        // The answer to the coordinator is a message too: what it reports must be durable.
        this.checker.fail("DurableBeforeSend", `server ${id} accepted a configuration change at (${res.index}, term ${res.term}) that is not on its disk`);
      }
    }
    return res;
  }

  /**
   * Entry `index` as durably held: in the log, or (compacted in the same event: a lone voter
   * commits and applies at once) in the snapshot's state machine.
   */
  private durableEntry(slot: Slot, index: number): Entry | undefined {
    return index > slot.disk.snapshotIndex ? slot.disk.entry(index) : slot.disk.snapshotMachine[index - 1];
  }

  /** Stopped for good (its removal committed): no timer, no answer, never restarted. */
  isRetired(id: NodeId): boolean {
    return this.retiredIds.has(id);
  }

  /** Servers not stopped for good (up or down). */
  active(): NodeId[] {
    return this.ids.filter((i) => !this.retiredIds.has(i));
  }

  /** Stop server `id` for good, as the coordinator does once its removal is committed. */
  retire(id: NodeId, why = "its removal is committed"): void {
    const slot = this.slot(id);
    if (this.retiredIds.has(id)) return;
    this.retiredIds.add(id);
    this.retirements++;
    this.narrate(`[SIM] ${id} is stopped for good: ${why}`);
    if (slot.core) this.crashNow(slot);
  }

  /** Entries first applied somewhere: a configuration committed that leaves servers out stops them (after a delay). */
  private noteCommitted(entries: readonly Entry[]): void {
    for (const e of entries) {
      if (e.index <= this.committedMembership.index) continue;
      const m = membershipOf(e.command);
      if (m === null) continue;
      const before = members(this.committedMembership.membership);
      this.committedMembership = { index: e.index, membership: m };
      if (this.opts.retireRemoved === false) continue;
      const now = new Set(members(m));
      for (const gone of before.filter((x) => !now.has(x))) {
        const delay = this.retireRng.pick(this.opts.retireDelaysMs ?? [0, 1, 5, 50, 500]);
        this.queue.push(this.clock + delay, { kind: "run", fn: () => this.retire(gone, `its removal (index ${e.index}) is committed`) });
      }
    }
  }

  // --- looking in ----------------------------------------------------------------------------

  /** Virtual time, ms since the cluster was created. */
  get now(): number {
    return this.clock;
  }

  alive(id: NodeId): boolean {
    return this.slot(id).core !== null;
  }

  /** Up and not disconnected (the reference harness's "connected"). */
  connected(id: NodeId): boolean {
    return this.alive(id) && this.net.connected[id]!;
  }

  /** The core's status after its last event, or null while it is down. */
  status(id: NodeId): RaftStatus | null {
    return this.slot(id).status;
  }

  disk(id: NodeId): Disk {
    return this.slot(id).disk;
  }

  /** What the server's state machine has applied (emptied by a crash unless the state machine is durable). */
  applied(id: NodeId): readonly Entry[] {
    return this.slot(id).applied;
  }

  /** The live core itself (tests that inspect or poke it directly). */
  core(id: NodeId): Raft | null {
    return this.slot(id).core;
  }

  life(id: NodeId): number {
    return this.slot(id).life;
  }

  narrate(line: string): void {
    if (!this.quiet) this.narrator.add(this.clock, line);
  }

  // --- driving time ------------------------------------------------------------------------

  runFor(ms: number): void {
    this.runUntil(this.clock + ms);
  }

  /** Handle every event due at or before `t`, then set the clock to `t`. */
  runUntil(t: number): void {
    if (this.running) throw new Error("simulator re-entered: a process must yield, not sleep");
    this.running = true;
    try {
      for (;;) {
        const next = this.queue.peekTime();
        if (next === undefined || next > t) break;
        const ev = this.queue.pop()!;
        this.clock = ev.time;
        this.dispatch(ev.item);
      }
      if (t > this.clock) this.clock = t;
    } finally {
      this.running = false;
    }
  }

  /** Run a process to completion on the calling stack (the test's main flow). */
  run<T>(proc: Proc<T>): T {
    for (;;) {
      const r = proc.next();
      if (r.done) return r.value;
      this.runFor(Math.max(0, r.value));
    }
  }

  /** Start a process that runs concurrently with the test, interleaved by virtual time. */
  spawn<T>(name: string, proc: Proc<T>): ProcessHandle<T> {
    const handle = new ProcessHandle<T>(name);
    const resume = (): void => {
      const r = proc.next();
      if (r.done) {
        handle.done = true;
        handle.result = r.value;
      } else {
        this.queue.push(this.clock + Math.max(0, r.value), { kind: "run", fn: resume });
      }
    };
    this.queue.push(this.clock, { kind: "run", fn: resume });
    return handle;
  }

  /** Run `fn` at virtual time `at` (in the middle of whatever else is happening). */
  at(at: number, fn: () => void): void {
    this.queue.push(Math.max(at, this.clock), { kind: "run", fn });
  }

  // --- acting on servers ---------------------------------------------------------------------

  propose(id: NodeId, command: unknown): ProposeResult {
    const slot = this.slot(id);
    if (!slot.core) return { accepted: false, leader: null };
    const res = this.handle(slot, "propose", (core) => core.propose(command, this.clock));
    // A host that died while persisting never answered its client.
    if (!slot.core) return { accepted: false, leader: null };
    if (res.accepted) {
      const st = slot.status!;
      const same = (e: Entry | undefined): boolean => !!e && e.term === res.term && jsonOf(e.command) === jsonOf(command);
      // Compacted in the same event (a lone voter commits and applies at once): the snapshot holds it.
      const held = slot.core.entries(res.index, res.index)[0] ?? this.durableEntry(slot, res.index);
      if (st.state !== "Leader" || !same(held)) {
        this.checker.fail("WellFormed", `server ${id} accepted a proposal at (${res.index}, term ${res.term}) it does not hold as leader`);
      } else if (!same(this.durableEntry(slot, res.index))) {
        // The answer to a client is a message too: what it reports must be durable.
        this.checker.fail("DurableBeforeSend", `server ${id} answered a proposal at (${res.index}, term ${res.term}) that is not on its disk`);
      }
    }
    return res;
  }

  /** Ask server `id` for a linearizable read (ReadIndex); its confirmation comes in a later Ready. */
  readIndex(id: NodeId, ctx: string): ReadIndexResult {
    const slot = this.slot(id);
    if (!slot.core) return { accepted: false, leader: null };
    this.readFloors.set(ctx, this.checker.maxApplied);
    this.checker.lives.onReadAsked(id, ctx, this.clock);
    const r = this.handle(slot, "readIndex", (core) => core.readIndex(ctx, this.clock));
    if (!r.accepted) this.readFloors.delete(ctx);
    this.narrate(`[SIM] read ${ctx} asked of ${id}: ${r.accepted ? `accepted (index ${this.checker.maxApplied} already applied somewhere)` : "refused"}`);
    return r;
  }

  /** Ask the leader `id` to hand leadership to `target`. */
  transferLeadership(id: NodeId, target: NodeId): TransferResult {
    const slot = this.slot(id);
    if (!slot.core) return { ok: false, reason: "not_leader", leader: null };
    return this.handle(slot, "transferLeadership", (core) => core.transferLeadership(target, this.clock));
  }

  /** Hand a fabricated message straight to a server's core; returns what it sent in response (also put on the network). */
  inject(id: NodeId, msg: Message): readonly Message[] {
    const slot = this.slot(id);
    if (!slot.core) throw new Error(`inject: server ${id} is down`);
    this.narrate(`[TEST] inject into ${id}: ${JSON.stringify(msg)}`);
    const out: Message[] = [];
    this.captured = out;
    this.checker.delivering = msg;
    try {
      this.handle(slot, `injected ${msg.type}`, (core) => core.step(msg, this.clock));
    } finally {
      this.captured = null;
      this.checker.delivering = null;
    }
    return out;
  }

  /** An extra, early tick (the contract says calling tick early is harmless). */
  pokeTick(id: NodeId): void {
    const slot = this.slot(id);
    if (slot.core) this.handle(slot, "early tick", (core) => core.tick(this.clock));
  }

  /**
   * The coordinator's wake (core.wake(now)): a sleeping server wakes; for a leader it is
   * client activity (its idle clock restarts). An awake follower's timers are left alone.
   */
  wake(id: NodeId): void {
    const slot = this.slot(id);
    if (!slot.core) return;
    this.hostWakes++;
    this.handle(slot, "wake", (core) => core.wake(this.clock));
  }

  /** Wake every server that is up, as the coordinator does on a fault call or when an operation finds no leader. */
  wakeAll(why: string): void {
    this.narrate(`[SIM] the host wakes every server (${why})`);
    for (const id of this.ids) this.wake(id);
  }

  /**
   * The platform resets server `id`'s object (an eviction): memory lost, disk, links and
   * pending alarm kept; it boots again from its disk `delayMs` later (0: at once), resuming
   * leadership if its durable state says it leads its term. Nothing keeps it down.
   */
  evict(id: NodeId, delayMs = 0): void {
    const slot = this.slot(id);
    if (!slot.core) return;
    this.evictions++;
    this.reset(slot, "is evicted: memory lost, storage kept; it reloads from disk", delayMs > 0 ? delayMs : null);
  }

  /** A deploy: every server that is up is evicted at once; each reloads after its own delay (0: at once). */
  evictAll(delayMs: (id: NodeId) => number = () => 0): void {
    this.deploys++;
    this.narrate("[SIM] deploy: every object is reset");
    for (const id of this.ids) this.evict(id, delayMs(id));
  }

  /** Server `id`'s disk is full (refuses every write) for the next `ms` of virtual time (needs diskFaults). */
  fillDisk(id: NodeId, ms: number): void {
    const disk = this.slot(id).disk;
    disk.fullUntil = Math.max(disk.fullUntil, this.clock + ms);
    this.narrate(`[SIM] ${id}'s disk is full for ${ms.toFixed(0)} ms`);
  }

  /** Writes refused so far, summed over every disk, by reason. */
  refusedWrites(): Record<DiskFailureKind, number> {
    const sum = { full: 0, tooLarge: 0, transient: 0 };
    for (const s of this.slots) for (const k of ["full", "tooLarge", "transient"] as const) sum[k] += s.disk.refused[k];
    return sum;
  }

  /** Memory lost, disk kept, links cut; stays down until restart. */
  crash(id: NodeId): void {
    const slot = this.slot(id);
    if (!slot.core) throw new Error(`crash: server ${id} is already down`);
    this.crashNow(slot);
  }

  /** Boot a new core from exactly what the disk holds, and reconnect it. */
  restart(id: NodeId): void {
    const slot = this.slot(id);
    if (slot.core) throw new Error(`restart: server ${id} is up`);
    if (this.retiredIds.has(id)) throw new Error(`restart: server ${id} was stopped for good (removed)`);
    slot.life++;
    this.boot(slot);
  }

  /** Cross-check the cluster-wide properties from scratch (call at the end of a run). */
  finalCheck(): void {
    this.checker.fullCheck(
      this.disks,
      this.slots.map((s) => s.applied),
    );
  }

  // --- the host loop -------------------------------------------------------------------------

  private slot(id: NodeId): Slot {
    const s = this.slots[id];
    if (!s) throw new Error(`no server ${id}`);
    return s;
  }

  private dispatch(ev: SimEvent): void {
    if (this.clock === this.instant) {
      if (++this.atInstant > MAX_EVENTS_AT_ONE_INSTANT) {
        throw new InvariantViolation("Livelock", `more than ${MAX_EVENTS_AT_ONE_INSTANT} events at virtual time ${this.clock} ms`);
      }
    } else {
      this.instant = this.clock;
      this.atInstant = 0;
    }
    switch (ev.kind) {
      case "run":
        return ev.fn();
      case "tick": {
        const slot = this.slot(ev.id);
        if (!slot.core || slot.life !== ev.life || slot.wakeToken !== ev.token) return;
        slot.wakeAt = Number.NaN;
        this.handle(slot, "tick", (core) => core.tick(this.clock));
        return;
      }
      case "deliver":
        return this.deliver(ev.msg);
    }
  }

  private deliver(m: Message): void {
    const slot = this.slot(m.to);
    if (!slot.core) return this.lost(m, "receiver is down");
    if (!this.net.linkUp(m.from, m.to)) return this.lost(m, "link cut while in flight");
    this.net.stats.delivered++;
    if (m.type === "InstallSnapshot") slot.inboundSnapshot = (m.data as SnapshotData | undefined) ?? null;
    // The reply that ends a transfer frees the mark before the core sees it (as the shell).
    const late = this.faults.releaseAfterHandover === true;
    if (!late) this.endTransferOf(m, true);
    this.checker.delivering = m;
    try {
      this.handle(slot, `${m.type} from ${m.from}`, (core) => core.step(m, this.clock));
    } finally {
      if (late) this.endTransferOf(m, true);
      slot.inboundSnapshot = null;
      this.checker.delivering = null;
    }
  }

  private lost(m: Message, why: string): void {
    this.endTransferOf(m, false);
    if (this.narrateNetwork && !this.quiet) this.narrate(`[NET] ${m.type} ${m.from}->${m.to} (term ${m.term}) lost: ${why}`);
  }

  /** One event on one server: run it, then carry out its Ready. */
  private handle<T>(slot: Slot, what: string, event: (core: Raft) => T): T {
    const core = slot.core!;
    const before = slot.status;
    let result: T;
    let ready: Ready;
    let after: RaftStatus;
    try {
      result = event(core);
      ready = core.ready();
      after = core.status();
    } catch (e) {
      if (e instanceof InvariantViolation) throw e;
      throw new InvariantViolation("CoreAssertion", `server ${slot.id} threw while handling ${what}: ${(e as Error).message}`);
    }
    this.events++;
    this.carryOut(slot, core, ready, before, after);
    return result;
  }

  /** The persistence contract, in order: persist, send, apply, sleep. */
  private carryOut(slot: Slot, core: Raft, original: Ready, before: RaftStatus | null, after: RaftStatus): void {
    const id = slot.id;
    const disk = slot.disk;
    const c = this.checker;
    c.lives.now = this.clock;
    c.beforeCarryOut(id, before, after);
    const ready = this.faults.ready ? this.faults.ready(id, original, this) : original;
    const crashAt = this.faults.crashPoint ? this.faults.crashPoint(id) : null;
    if (crashAt === "beforePersist") return this.crashNow(slot, "before persisting its Ready");

    // 1. Persist: one atomic write (hard state, snapshot, log, and a durable state machine's
    // applied entries), which the disk may refuse as a whole. Then the server resets.
    const refused = this.refusedWrite(slot, ready);
    if (refused !== null && !this.faults.swallowRefusedWrites) return this.resetAfterRefusedWrite(slot, refused);
    if (refused === null) {
      if (ready.hardState) {
        c.onHardState(id, disk.hardState, ready.hardState, after);
        const hs = this.faults.persistHardState ? this.faults.persistHardState(id, disk.hardState, ready.hardState) : ready.hardState;
        disk.writeHardState(hs);
      }
      if (ready.snapshot) this.installSnapshot(slot, ready.snapshot, after);
      if (ready.logWrite) {
        c.beforeLogWrite(id, ready.logWrite, before, after, disk);
        disk.writeLog(ready.logWrite);
        c.afterLogWrite(id, ready.logWrite, disk);
      }
    } else this.narrate(`[SIM] ${id}'s disk refused a write (${refused}); the host swallows the error and goes on`);
    if (crashAt === "beforeSend") return this.crashNow(slot, "after persisting, before sending");
    const lastInMemory =
      after.logLength > (after.snapshotIndex ?? 0) ? core.entries(after.logLength, after.logLength)[0] : undefined;
    c.persisted(id, disk, after, lastInMemory);

    // 2. Send.
    for (const m of ready.messages) {
      c.onSend(id, m, disk, this.ids);
      this.captured?.push(m);
      this.send(m);
    }

    // 3. Apply.
    c.onCommitted(id, ready.committed, slot.lastApplied, disk, after);
    slot.lastApplied += ready.committed.length;
    const toApply = this.faults.apply ? this.faults.apply(id, ready.committed) : ready.committed;
    for (const e of toApply) {
      slot.applied.push(e);
      c.onApply(id, slot.applied.length, e);
    }
    if (ready.committed.length > 0) this.noteCommitted(ready.committed);

    for (const rs of ready.reads ?? []) {
      const floor = this.readFloors.get(rs.ctx);
      if (floor === undefined) continue; // a read asked of an earlier life of this server
      this.readFloors.delete(rs.ctx);
      this.readsConfirmed++;
      this.narrate(`[SIM] read ${rs.ctx} confirmed by ${id} at index ${rs.index}`);
      c.onRead(id, rs.ctx, rs.index, floor);
      c.lives.onReadConfirmed(id, rs.ctx, after);
    }
    for (const ctx of ready.failedReads ?? []) this.readFloors.delete(ctx);

    slot.status = after;
    c.afterEvent(id, before, after, disk);
    if (before && !before.asleep && after.asleep) this.sleeps++;
    else if (before?.asleep && !after.asleep) this.wakes++;
    c.onWakeAt(id, after, ready.wakeAt);

    // 4. Sleep until wakeAt.
    this.scheduleWake(slot, ready.wakeAt);

    // A host-side chore between events: snapshot the state machine and compact the log.
    const every = this.opts.compactEvery ?? 0;
    if (every > 0 && this.live) {
      // The Durable Object's rule (src/raft/compaction.ts), on what this leader knows.
      const input: CompactionInput = {
        lastApplied: after.lastApplied,
        snapshotIndex: disk.snapshotIndex,
        threshold: every,
        followers: core.followerProgress(),
        snapshotsInFlight: slot.transfers.indexes(),
        now: this.clock,
        recentMs: (this.opts.electionTimeoutMs ?? [150, 300])[1],
      };
      const upTo = this.faults.compactionPoint ? this.faults.compactionPoint(input) : compactionPoint(input);
      if (upTo !== null) this.compact(slot, core, upTo);
    } else if (every > 0 && after.lastApplied - disk.snapshotIndex >= every) this.compact(slot, core, after.lastApplied);
  }

  /** Would the disk refuse this Ready's write? null if it lands (or writes nothing). */
  private refusedWrite(slot: Slot, ready: Ready): DiskFailureKind | null {
    if (!this.diskFaults) return null;
    const applies = this.opts.stateMachine === "durable" && ready.committed.length > 0;
    if (!ready.hardState && !ready.logWrite && !ready.snapshot && !applies) return null;
    return slot.disk.refusal(ready.logWrite?.entries ?? [], this.clock, this.diskFaults, this.diskRng);
  }

  /**
   * The Durable Object's answer to a failed write (ctx.abort()): memory gone (the core, its
   * pending outputs, a volatile state machine), disk as it was before the write, links as
   * they were. The server boots again from its disk alone, at once or after a few ms; its
   * pending alarm survives the reset and still fires (an early tick is harmless).
   */
  private resetAfterRefusedWrite(slot: Slot, kind: DiskFailureKind, what = "a write"): void {
    this.resets++;
    this.reset(slot, `resets: its disk refused ${what} (${kind}); it reloads from disk`, this.diskRng.pick(RESET_REBOOT_MS));
  }

  /**
   * A platform reset (ctx.abort(), an eviction, a deploy): the core and its pending outputs
   * are dropped, the disk and the links stay, and the server boots again from its disk after
   * `delayMs` (null: at once, before this call returns), resuming leadership if its durable
   * state says so. The alarm it
   * had pending survives and still fires (an early tick is harmless).
   */
  private reset(slot: Slot, why: string, delayMs: number | null): void {
    const connected = this.net.connected[slot.id]!;
    const alarm = slot.wakeAt;
    this.narrate(`[SIM] ${slot.id} ${why}`);
    this.crashNow(slot);
    const life = slot.life;
    const reload = (): void => {
      if (slot.core || slot.life !== life || this.retiredIds.has(slot.id)) return; // restarted by someone else meanwhile, or stopped for good
      slot.life++;
      this.boot(slot, connected, true);
      if (!Number.isFinite(alarm) || !slot.core) return;
      const bootedLife = slot.life;
      this.at(alarm, () => {
        if (slot.core && slot.life === bootedLife) this.handle(slot, "alarm set before the reset", (core) => core.tick(this.clock));
      });
    };
    // At once, on the caller's stack (a test or a process evicting it), or as an event of its own.
    if (delayMs === null) reload();
    else this.queue.push(this.clock + Math.max(0, delayMs), { kind: "run", fn: reload });
  }

  private compact(slot: Slot, core: Raft, upTo: number): void {
    const previous = slot.disk.snapshotIndex;
    // Compacting is a write of its own (the snapshot's row, log rows deleted), made before the
    // core forgets anything, as the shell does; the disk may refuse it too.
    const refused = this.diskFaults ? slot.disk.refusal([], this.clock, this.diskFaults, this.diskRng) : null;
    if (refused !== null) {
      if (!this.faults.swallowRefusedWrites) this.resetAfterRefusedWrite(slot, refused, `a compaction to ${upTo}`);
      return;
    }
    if (slot.disk.termAt(upTo) === undefined) {
      // Not a simulator error: memory got ahead of the disk (a host that swallowed a refused write).
      throw new InvariantViolation(
        "PersistenceContract",
        `server ${slot.id} compacts to ${upTo}, which its disk does not hold (it holds ${slot.disk.snapshotIndex + 1}..${slot.disk.lastIndex})`,
      );
    }
    try {
      core.compact(upTo);
    } catch (e) {
      throw new InvariantViolation("CoreAssertion", `server ${slot.id} threw in compact(${upTo}): ${(e as Error).message}`);
    }
    const snapshotIndex = core.status().snapshotIndex;
    if (snapshotIndex !== upTo) {
      this.checker.fail("WellFormed", `server ${slot.id} compacted to ${snapshotIndex} when asked for ${upTo} (all applied)`);
      return;
    }
    // "live": the durable state machine is the snapshot; "stored": the host keeps a copy of it.
    const machine = !this.live && this.faults.snapshot ? this.faults.snapshot(slot.id, slot.applied, upTo) : slot.applied;
    // The snapshot's row keeps the configuration as of its last entry, as the core names it.
    let membership: Membership | undefined;
    try {
      membership = core.snapshotMetaAt(upTo).membership;
    } catch (e) {
      throw new InvariantViolation("CoreAssertion", `server ${slot.id} threw in snapshotMetaAt(${upTo}) after compacting: ${(e as Error).message}`);
    }
    this.checker.onSnapshotConfig(slot.id, "compacted", upTo, membership);
    if (this.faults.snapshotMembership) membership = this.faults.snapshotMembership(slot.id, membership);
    slot.disk.compactTo(upTo, machine, membership);
    this.checker.onSnapshot(slot.id, "compacted", { index: upTo, term: slot.disk.termAt(upTo)! }, slot.disk.snapshotMachine, previous);
  }

  /** Ready.snapshot: the state machine becomes the leader's snapshot, and the disk log starts after it. */
  private installSnapshot(slot: Slot, meta: SnapshotMeta, after: RaftStatus): void {
    const data = slot.inboundSnapshot;
    if (!data || data.index !== meta.index || data.term !== meta.term) {
      this.checker.fail(
        "WellFormed",
        `server ${slot.id} accepted a snapshot up to (${meta.index}, term ${meta.term}) that did not come with this delivery` +
          (data ? ` (the message carried (${data.index}, term ${data.term}))` : ""),
      );
      return;
    }
    this.checker.onInstallSnapshot(slot.id, meta, data.machine, slot.disk.snapshotIndex, after);
    this.checker.onSnapshotConfig(slot.id, "installed", meta.index, meta.membership);
    const membership = this.faults.snapshotMembership ? this.faults.snapshotMembership(slot.id, meta.membership) : meta.membership;
    const { membership: _, ...bare } = meta;
    slot.disk.installSnapshot(membership ? { ...bare, membership } : bare, data.machine);
    slot.applied = data.machine.slice(0, meta.index);
    if (this.opts.stateMachine === "durable") slot.disk.machine = slot.applied;
    slot.lastApplied = meta.index;
    if (data.staged !== undefined) this.liveSnapshots?.installed(slot.id, meta.index, data.staged);
    this.noteCommitted(data.machine.slice(0, meta.index));
  }

  private send(original: Message): void {
    let m = original;
    if (m.type === "InstallSnapshot") {
      // The core never sees the snapshot's bytes: the host attaches them.
      m = this.live ? this.attachLiveSnapshot(m) : this.attachStoredSnapshot(m);
      this.checker.onSnapshotConfig(m.from, "sent", m.lastIncludedIndex, m.membership);
      if (this.live) return this.startTransfer(this.net.tamper ? (this.net.tamper(m) as InstallSnapshot) : m);
    }
    if (this.net.tamper) {
      const t = this.net.tamper(m);
      if (t === null) return this.lost(m, "dropped by the test");
      m = t;
    }
    if (m.type === "InstallSnapshotReply") this.tagReply(m);
    const route = this.net.route(m);
    if (route.lost !== null) return this.lost(m, route.lost);
    for (const d of route.delays) this.queue.push(this.clock + d, { kind: "deliver", msg: m });
    if (this.queue.size > MAX_PENDING_EVENTS) {
      throw new InvariantViolation(
        "MessageStorm",
        `${this.queue.size} events pending at virtual time ${this.clock.toFixed(3)} ms (last sent: ${m.type} ${m.from}->${m.to}, ` +
          `${this.net.stats.sent} messages sent so far)`,
      );
    }
  }

  // --- "live" snapshot transfers, as the Durable Object shell makes them ---------------------
  //
  // raft-server.ts streams a snapshot in pieces, one RPC each, each read from the store as it
  // leaves, the next once the previous one was taken; the follower stages them (SnapshotAssembly
  // and its sink) and hands the message to its core with the last one; that piece's reply
  // carries the core's answer back. A leader whose store was compacted under the transfer stops it.
  // One transfer per follower at a time (SnapshotTransfers): a core's InstallSnapshot while one
  // is under way is dropped. A piece that does not arrive, is refused or finds the sender
  // reset ends the transfer; the core asks again after its "presumed lost" timer.

  /** Start sending `m` (its data attached) piece by piece, unless a transfer to its follower is under way. */
  private startTransfer(m: InstallSnapshot): void {
    const slot = this.slot(m.from);
    const data = m.data as SnapshotData;
    const token = slot.transfers.start(m.to, data.index);
    if (token === null) {
      this.transfers.busy++;
      return this.lost(m, "a snapshot to it is already on its way (one transfer per follower)");
    }
    this.transfers.started++;
    this.transferLog.push({ at: this.clock, from: m.from, to: m.to, what: "start" });
    const source = this.liveSnapshots?.source(m.from, data.index) ?? textSource(JSON.stringify(data.machine.map((e) => e.command)));
    this.sendChunk(slot, slot.life, m, token, source, 0);
  }

  private sendChunk(sender: Slot, life: number, m: InstallSnapshot, token: number, source: ChunkSource, seq: number): void {
    const end = (why: string) => {
      source.close();
      sender.transfers.release(m.to, token);
      this.lost(m, `snapshot transfer ended at piece ${seq}: ${why}`);
    };
    if (sender.life !== life || !sender.core || !sender.transfers.current(m.to, token)) return end("the sender was reset");
    const stale = staleTransfer(sender.core, m); // as the shell asks before each piece
    if (stale !== null) return end(stale);
    const route = this.net.route(m); // a piece is an RPC: the link, loss, delay and call limits apply
    if (route.lost !== null) return end(route.lost);
    // Read as it leaves (the shell reads in the same turn as its checks).
    const piece = source.next(this.opts.snapshotChunkChars ?? Infinity);
    if ("aborted" in piece) return end(piece.aborted);
    this.transfers.chunks++;
    const chunk = chunkOf(m, token, seq, piece);
    this.queue.push(this.clock + route.delays[0]!, {
      kind: "run",
      fn: () => {
        const receiver = this.slot(m.to);
        if (sender.life !== life || !sender.transfers.current(m.to, token)) return end("the sender was reset");
        if (!receiver.core) return end("receiver is down");
        if (!this.net.linkUp(m.from, m.to)) return end("link cut while in flight");
        receiver.assembly.dropOlderThan(receiver.core.status().term); // as installChunk
        if (chunk.term < receiver.core.status().term) return end("a deposed leader's snapshot"); // as installChunk
        const got = receiver.assembly.add(chunk);
        if (got.kind === "refused") return end("piece refused");
        if (got.kind === "complete") {
          source.close(); // the last piece is in: the leader's store may delete rows again
          return this.handOver(sender, receiver, { ...m, data: { ...(m.data as SnapshotData), staged: got.value } }, token);
        }
        // The piece's answer travels back; then the next piece leaves.
        const p = this.net.profile;
        if (!this.net.linkUp(m.to, m.from) || this.chunkRng.chance(p.dropRate)) return end("the answer to a piece was lost");
        const back = this.chunkRng.float(p.delayMs[0], p.delayMs[1]);
        this.queue.push(this.clock + back, { kind: "run", fn: () => this.sendChunk(sender, life, m, token, source, seq + 1) });
      },
    });
  }

  /** The last piece is in: the follower's core gets the InstallSnapshot; its reply will end the transfer. */
  private handOver(sender: Slot, receiver: Slot, m: InstallSnapshot, token: number): void {
    this.transfers.completed++;
    receiver.replyTo = { leader: m.from, token, used: false };
    try {
      this.deliver(m);
    } finally {
      const tag = receiver.replyTo;
      receiver.replyTo = null;
      if (!tag?.used) sender.transfers.release(m.to, token); // no reply left (the follower died handling it)
    }
  }

  /** An InstallSnapshotReply sent while a transfer's last piece is handed over ends that transfer. */
  private tagReply(m: Message): void {
    const tag = this.slot(m.from).replyTo;
    if (!tag || tag.leader !== m.to) return;
    tag.used = true;
    this.replyTokens.set(m, tag.token);
  }

  /** `m` ends a transfer (its reply arrived or was lost): the leader's mark goes. */
  private endTransferOf(m: Message, delivered: boolean): void {
    const token = this.replyTokens.get(m);
    if (token === undefined || !this.slot(m.to).transfers.current(m.from, token)) return;
    this.slot(m.to).transfers.release(m.from, token);
    if (delivered) this.transferLog.push({ at: this.clock, from: m.to, to: m.from, what: "reply" });
  }

  /** "stored": the sender's durable snapshot, which must be the one the core names. */
  private attachStoredSnapshot(m: InstallSnapshot): InstallSnapshot {
    const disk = this.slot(m.from).disk;
    const data: SnapshotData = { index: disk.snapshotIndex, term: disk.termAt(disk.snapshotIndex)!, machine: disk.snapshotMachine };
    if (data.index !== m.lastIncludedIndex || data.term !== m.lastIncludedTerm) {
      this.checker.fail(
        "DurableBeforeSend",
        `server ${m.from} sent a snapshot up to (${m.lastIncludedIndex}, term ${m.lastIncludedTerm}) but holds (${data.index}, term ${data.term}) on disk`,
      );
    }
    return { ...m, data };
  }

  /**
   * "live", as the Durable Object does it: the state machine as applied right now (a copy, as
   * the shell serialises it), and the message renamed to what that state covers. The core
   * compacts only what was applied, so the applied count is never below its snapshot.
   */
  private attachLiveSnapshot(m: InstallSnapshot): InstallSnapshot {
    const slot = this.slot(m.from);
    const applied = slot.applied.length;
    let meta: SnapshotMeta;
    try {
      meta = slot.core!.snapshotMetaAt(applied);
    } catch (e) {
      throw new InvariantViolation("CoreAssertion", `server ${m.from} threw in snapshotMetaAt(${applied}): ${(e as Error).message}`);
    }
    if (meta.index < m.lastIncludedIndex || slot.disk.termAt(meta.index) !== meta.term) {
      this.checker.fail(
        "DurableBeforeSend",
        `server ${m.from} has applied up to (${meta.index}, term ${meta.term}), short of the snapshot up to ${m.lastIncludedIndex} its core ` +
          `sends, or not what its disk holds there (term ${slot.disk.termAt(meta.index)})`,
      );
    }
    const current = slot.applied.slice(0, meta.index);
    const machine = this.faults.snapshot ? this.faults.snapshot(m.from, current, meta.index) : current;
    this.narrate(
      `[SIM] ${m.from} attaches its live state machine to InstallSnapshot for ${m.to}: up to (${meta.index}, term ${meta.term}) ` +
        `where the core named (${m.lastIncludedIndex}, term ${m.lastIncludedTerm})`,
    );
    return {
      ...m,
      lastIncludedIndex: meta.index,
      lastIncludedTerm: meta.term,
      ...(meta.membership ? { membership: meta.membership } : {}),
      data: { index: meta.index, term: meta.term, machine },
    };
  }

  private scheduleWake(slot: Slot, wakeAt: number): void {
    if (wakeAt === Infinity && slot.status?.asleep) return; // asleep: nothing is due (a pending tick still fires, harmlessly)
    // A learner or a removed server never stands: no election timer (a pending tick still fires, harmlessly).
    if (wakeAt === Infinity && slot.status !== null && slot.status.member !== "voter" && slot.status.state !== "Leader") return;
    if (!Number.isFinite(wakeAt)) {
      this.checker.fail("WellFormed", `server ${slot.id} asked to wake at ${wakeAt}${wakeAt === Infinity ? " while awake" : ""}`);
      return;
    }
    if (wakeAt === slot.wakeAt) return; // that tick is already pending
    slot.wakeAt = wakeAt;
    slot.wakeToken++;
    const jitter = this.tickJitterMs > 0 ? this.timerRng.float(0, this.tickJitterMs) : 0;
    this.queue.push(Math.max(this.clock, wakeAt) + jitter, { kind: "tick", id: slot.id, life: slot.life, token: slot.wakeToken });
  }

  private crashNow(slot: Slot, why?: string): void {
    slot.core = null;
    slot.transfers.clear();
    slot.assembly.clear();
    slot.status = null;
    slot.wakeAt = Number.NaN;
    slot.wakeToken++;
    this.net.connected[slot.id] = false;
    if (this.opts.stateMachine !== "durable") slot.applied = [];
    if (why) this.narrate(`[SIM] ${slot.id} crashes ${why}`);
  }

  /**
   * Build a core from the disk; `connected`: the server's network state once up (a reset keeps
   * it); `resume`: a platform reset (resumeLeadership), not a restart after an ordered crash.
   */
  private boot(slot: Slot, connected = true, resume = false): void {
    const id = slot.id;
    const durable = this.opts.stateMachine === "durable";
    // A volatile state machine is rebuilt from the snapshot (if any), then from the log.
    slot.applied = durable ? slot.disk.machine : slot.disk.snapshotMachine.slice();
    const restored = slot.disk.restored(slot.applied.length);
    const config: RaftConfig = {
      id,
      peers: this.initialVoters,
      electionTimeoutMs: this.opts.electionTimeoutMs ?? [150, 300],
      heartbeatMs: this.opts.heartbeatMs ?? 50,
      ...this.opts.raftOptions,
      ...(this.opts.maxEntriesPerAppend !== undefined ? { maxEntriesPerAppend: this.opts.maxEntriesPerAppend } : {}),
      ...(this.opts.maxBytesPerAppend !== undefined ? { maxBytesPerAppend: this.opts.maxBytesPerAppend } : {}),
      ...(this.opts.sleepAfterMs !== undefined ? { sleepAfterMs: this.opts.sleepAfterMs } : {}),
      ...(resume ? { resumeLeadership: true } : {}),
      rand: new Rng(this.seed, "server", id, "life", slot.life).next,
      ...(this.quiet ? {} : { log: (line: string) => this.narrator.add(this.clock, line) }),
    };
    let core: Raft;
    try {
      core = this.factory(config, restored, this.clock);
    } catch (e) {
      throw new InvariantViolation("CoreAssertion", `server ${id} failed to start: ${(e as Error).message}`);
    }
    slot.core = core;
    this.net.connected[id] = connected;
    const first = core.status();
    this.checker.onBoot(id, first, slot.life, slot.disk);
    if (first.state === "Leader") {
      this.resumes++;
      this.narrate(`[SIM] ${id} resumes leading term ${first.term} after a reset`);
    }
    slot.lastApplied = first.lastApplied;
    slot.status = null;
    this.handle(slot, "start", () => undefined);
  }
}
