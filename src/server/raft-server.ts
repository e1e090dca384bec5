// One Raft server as a Durable Object: a thin shell around the pure core (src/raft).
//
// The shell's loop, for every event (a peer's message, the alarm, a client's command):
//   1. feed the core synchronously (step / tick / propose);
//   2. take ready();
//   3. persist hardState + logWrite in ONE synchronous SQLite transaction;
//   4. send the messages;
//   5. apply the committed entries;
//   6. arm the alarm for wakeAt.
// Steps 1–6 run without an `await`, so no other event can slip in between the core's
// decision and its persistence: the core sees each event whole.
//
// Why sending right after a synchronous write is safe — the OUTPUT GATE: a Durable Object
// holds back every outgoing message (RPC calls to other objects, and the return value of
// the RPC it is answering) until the storage writes made before it are confirmed durable.
// So a vote grant or an AppendEntries success can never reach a peer before the term, vote
// or entries that justify it are on disk, even though we do not await the write. If the
// write fails, the object is reset and the messages are never delivered.
//
// A FAILED WRITE IS A CRASH. The output gate covers a write that fails to become durable
// after it was made; a write that throws at once (SQLITE_TOOBIG, a full database, a
// transient error) is the shell's to handle, and the rule is: the object resets itself
// (ctx.abort()) before anything else happens — no message sent, no answer, no apply, no
// alarm change — and rebuilds from storage alone. Swallowing the error would leave memory
// ahead of disk: a follower would find the entries in its in-memory log on the next
// AppendEntries and acknowledge what it never stored, and later applies would write an
// applied index past rows that were rolled back. So the state machine's applied index moves
// only after its rows were written (kv-state.ts), and every persist goes through
// crashOnFailedWrite. The state machine refuses, identically on every replica, what would
// grow a row past the limits (an append past the value limit: 413), so a failed write is a
// fault of the platform, never a property of the log.
//
// Crash and restart: an object can be reset at any moment (eviction, ctx.abort()). The
// constructor then rebuilds everything from storage alone, inside blockConcurrencyWhile,
// and the pending alarm (which survives the reset) wakes it. A crash ordered by the
// coordinator additionally leaves a durable "down" mark: the server then answers no Raft
// RPC and runs no timer until restarted.
import { DurableObject } from "cloudflare:workers";
import {
  isEtcdAnswer,
  withHeaderIds,
  type EtcdAnswer,
  type KvListing,
  makeEtcdCommand,
  makeKvCommand,
  type ApplyOutcome,
  type EtcdWriteOp,
  type KvOperation,
  type KvResult,
  type MachineResult,
  type Session,
  type StagedSnapshot,
} from "../kv/index.ts";
import { compactionDue, compactionPoint } from "../raft/compaction.ts";
import { Raft } from "../raft/raft.ts";
import {
  isRequest,
  type Entry,
  type InstallSnapshot,
  type LogWrite,
  type MembershipChange,
  type Message,
  type NodeId,
  type ProposeResult,
  type Ready,
  type TransferResult,
} from "../raft/types.ts";
import { LazyAlarm } from "./alarm.ts";
import { AutoCompactor } from "./auto-compactor.ts";
import { headerIdsOf } from "./etcd-ids.ts";
import { KvState } from "./kv-state.ts";
import type { SqliteSnapshotStaging } from "./etcd-store.ts";
import { onlyResults, PendingChanges, PendingProposals } from "./pending.ts";
import { PendingReads } from "./pending-reads.ts";
import { unwrapRawCommand, wrapRawCommand } from "./raw-command.ts";
import { SnapshotAssembly } from "./snapshot-assembly.ts";
import { SnapshotTransfers } from "./snapshot-transfers.ts";
import { Links, withNetwork } from "./links.ts";
import { narrationEcho, Narration } from "./narration.ts";
import {
  fullyConnected,
  ids,
  type ClusterConfig,
  type DurableSummary,
  type EventLine,
  type InitOptions,
  type InitResult,
  type EtcdWriteAnswer,
  type KvAnswer,
  type LocationHint,
  type MembershipAnswer,
  type NetworkSettings,
  type ServerStatus,
  type SnapshotChunk,
  locationHintOf,
  sleepAfterOf,
  withOptionDefaults,
} from "./protocol.ts";
import { ServerStorage } from "./storage.ts";
import { CLOSE_RESTART, WatchHost } from "./watch-host.ts";
import { Wire } from "./wire.ts";

export interface ServerEnv {
  RAFT_SERVER: DurableObjectNamespace<RaftServer>;
  /**
   * What narration the console gets (it is always kept for /events): "0" none, "1" the
   * decisions (the default outside tests), "verbose" every line (narration.ts).
   */
  NARRATE?: string;
}

export class RaftServer extends DurableObject<ServerEnv> {
  private readonly store: ServerStorage;
  private narration: Narration;
  private timer!: LazyAlarm;

  /** Null until the coordinator has made this object a member of a cluster. */
  private config: ClusterConfig | null = null;
  private id: NodeId = -1;
  /** The hint this object was created with, for a server added after the cluster's creation. */
  private addedHint: LocationHint | null = null;
  /** Removed from the cluster and retired (retire()): durable, nothing runs again. */
  private retired = false;
  /** The network as this server sees it (boot() loads the stored view). */
  private readonly links = new Links(fullyConnected(1, 0));
  /** Null while the server is down (crashed) or not a member of any cluster. */
  private core: Raft | null = null;
  /** The key/value state machine, durable row by row (kv-state.ts). */
  private kvState: KvState;
  /** The watches this server serves from its store, over WebSockets and HTTP streams (watch-host.ts). */
  private readonly watches: WatchHost;
  /** Client commands this server proposed as leader, waiting to be applied. */
  private readonly pending = new PendingProposals();
  /** Membership changes this server appended as leader, waiting for their commit. */
  private readonly changes = new PendingChanges();
  /** ReadIndex reads this server accepted as leader, waiting for their confirmation. */
  private readonly reads = new PendingReads();
  /** The snapshot a leader is sending this server, piece by piece, its rows staged in SQLite as they arrive. */
  private readonly inbound = new SnapshotAssembly<StagedSnapshot<SqliteSnapshotStaging>>(() => this.kvState.openStaging());
  /** Peers a snapshot is on its way to, and up to which index (snapshot-transfers.ts). */
  private readonly transfers = new SnapshotTransfers();
  /** As leader: when to propose a compaction of the store's history (boot() sets the retention). */
  private compactor = new AutoCompactor(0);
  /** Counted since this instance was loaded (`loadedAt`): a reset starts them from zero. */
  private readonly stats = { alarms: 0, rpcsSent: 0, rpcsReceived: 0, snapshotsSent: 0, snapshotsInstalled: 0, loadedAt: Date.now() };
  /** Messages out to peers and their replies back; snapshots streamed (wire.ts). */
  private readonly wire: Wire = new Wire({
    id: () => this.id,
    namespace: this.env.RAFT_SERVER,
    links: this.links,
    narration: () => this.narration,
    transfers: this.transfers,
    stats: this.stats,
    core: () => this.core,
    config: () => this.config!,
    kvState: () => this.kvState,
    drain: (core) => void this.drain(core),
    persistOrCrash: (...args) => this.persistOrCrash(...args),
  });
  /**
   * Group commit: the Ready of a proposal that had nothing to send (every follower already
   * has an append in flight), held in memory and persisted with the next drain of the same
   * core — the reply that frees a follower, the heartbeat, the next proposal that sends —
   * so that the proposals arriving during one round trip cost one transaction, not one
   * each. Nothing of it has left the server, and nothing can leave before it is persisted:
   * every send goes through drain, which writes what is held first. A reset loses it with
   * the rest of memory (the waiting clients get an error, as for any crash).
   */
  private held: { core: Raft; ready: Ready } | null = null;

  constructor(ctx: DurableObjectState, env: ServerEnv) {
    super(ctx, env);
    this.store = new ServerStorage(ctx.storage);
    this.kvState = new KvState(ctx.storage.sql);
    this.narration = new Narration(narrationEcho(env));
    // Before anything can apply (boot below): on a wake from hibernation it takes its sockets back.
    this.watches = new WatchHost(ctx, this.kvState.watchStore, {
      ids: () => (this.config ? headerIdsOf(this.config.epoch, this.id, this.core?.status().term ?? 0) : { clusterId: 0, memberId: 0, raftTerm: 0 }),
      narrate: (line) => this.narration.add(this.id, line),
      id: () => this.id,
      wakeAt: (t) => this.timer.ensure(t),
    });
    void ctx.blockConcurrencyWhile(async () => {
      this.timer = new LazyAlarm(ctx.storage, await ctx.storage.getAlarm(), (e) => this.crashOnFailedWrite(e));
      this.boot();
      this.watches.booted();
    });
  }

  // ---------------------------------------------------------------------------------------
  // Raft traffic (server to server).

  /**
   * A Raft message from peer `m.from`. Answers the replies addressed to the caller in the
   * same round trip; anything else the core wants sent leaves as a call of its own. Null
   * means "no answer": this server is down, the link is cut, or the message is from
   * another incarnation of the cluster.
   */
  receive(epoch: string, m: Message): Message[] | null {
    const core = this.core;
    if (!core || this.config?.epoch !== epoch || !this.links.linkUp(m.from)) return null;
    this.stats.rpcsReceived++;
    core.step(m, Date.now());
    if (this.inbound.active) this.inbound.dropOlderThan(core.status().term); // as in installChunk
    return this.drain(core, m.from);
  }

  /**
   * One piece of a leader's InstallSnapshot (snapshot-assembly.ts): its rows are checked and
   * written to the staging table at once (kv-state.ts openStaging), so memory holds one piece,
   * never the snapshot. Answers [] while more is to come, the core's replies once the last
   * piece is in and the snapshot was handed to the core, and null when the piece is refused
   * (as for `receive`, out of order, or not a valid piece: what was staged is dropped).
   */
  installChunk(epoch: string, chunk: SnapshotChunk): Message[] | null {
    const core = this.core;
    if (!core || this.config?.epoch !== epoch || !this.links.linkUp(chunk.from)) return null;
    this.stats.rpcsReceived++;
    const term = core.status().term;
    this.inbound.dropOlderThan(term); // a transfer of a deposed leader can never end: its staged rows go
    if (chunk.term < term) return null; // a deposed leader's snapshot: not worth assembling
    const got = this.inbound.add(chunk);
    if (got.kind === "refused") return null;
    if (got.kind === "more") return [];
    const m: InstallSnapshot = {
      type: "InstallSnapshot",
      from: chunk.from,
      to: chunk.to,
      term: chunk.term,
      leaderId: chunk.from,
      lastIncludedIndex: chunk.lastIncludedIndex,
      lastIncludedTerm: chunk.lastIncludedTerm,
      ...(chunk.membership ? { membership: chunk.membership } : {}),
    };
    core.step(m, Date.now());
    return this.drain(core, m.from, got.value);
  }

  // ---------------------------------------------------------------------------------------
  // Watches (the coordinator forwards a client's watch request here: routes/watch.ts).

  /** A watch stream: a WebSocket upgrade or a POST, for the incarnation `Raft-Epoch` names, served while this server runs. */
  override async fetch(request: Request): Promise<Response> {
    if (!this.config || request.headers.get("Raft-Epoch") !== this.config.epoch) {
      return Response.json({ error: "stale_config", message: "this server is not part of that cluster incarnation" }, { status: 503 });
    }
    if (!this.core) return Response.json({ error: "unavailable", message: `server ${this.id} is down` }, { status: 503 });
    return this.watches.fetch(request);
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    this.watches.message(ws, message);
  }

  override webSocketClose(ws: WebSocket): void {
    this.watches.closed(ws);
  }

  override webSocketError(ws: WebSocket): void {
    this.watches.closed(ws);
  }

  override async alarm(): Promise<void> {
    this.timer.fired();
    this.stats.alarms++;
    // Progress notifications, if a watcher asked for them: the alarm carries their deadline too.
    this.watches.progress(Date.now());
    this.timer.ensure(this.watches.wakeAt());
    const core = this.core;
    if (!core) return; // down or deleted: no timer runs
    core.tick(Date.now());
    this.drain(core);
  }

  // ---------------------------------------------------------------------------------------
  // Client commands (from the coordinator).

  /** A raw command (the admin submit route): proposed wrapped if it could pass for a system command (raw-command.ts). */
  submit(command: unknown): ProposeResult {
    const core = this.core;
    if (!core) return { accepted: false, leader: null };
    const result = core.propose(wrapRawCommand(command), Date.now());
    this.drain(core);
    return result;
  }

  /**
   * The entries this server has applied and still holds in its log, in order; those up to
   * `snapshotIndex` were folded into the snapshot. Applied state is durable (kv-state.ts),
   * so after a restart this includes what was applied before the crash.
   */
  committed(): { entries: Entry[]; snapshotIndex: number } {
    const core = this.core;
    if (!core) return { entries: [], snapshotIndex: 0 };
    const { snapshotIndex, lastApplied } = core.status();
    const entries = core.entries(snapshotIndex + 1, lastApplied).map((e) => ({ ...e, command: unwrapRawCommand(e.command) }));
    return { entries, snapshotIndex };
  }

  /**
   * A key/value operation, from the coordinator: propose it if this server leads, and
   * answer once it is applied (or once it is known not to be, or after `timeoutMs`).
   * `epoch` names the incarnation of the cluster the coordinator means (its configuration
   * may be a cached one: see coordinator/cluster.ts).
   */
  async kv(epoch: string, operation: KvOperation, session: Session | undefined, timeoutMs: number): Promise<KvAnswer> {
    if (this.config?.epoch !== epoch) return { kind: "other_cluster" };
    const core = this.core;
    if (!core) return { kind: "not_leader", leader: null };
    const now = Date.now();
    const proposed = core.propose(makeKvCommand(operation, now, session), now);
    if (!proposed.accepted) return { kind: "not_leader", leader: proposed.leader };
    const answer = this.pending.wait(proposed.index, proposed.term, timeoutMs).then((a) => onlyResults(a, isKvResult));
    this.drain(core, undefined, undefined, true); // a one-server cluster commits and applies right here
    return answer;
  }

  /**
   * An etcd write (put, deleterange, txn, compaction), as kv() does a key/value operation:
   * proposed if this server leads, answered once applied with etcd's answer. `request` is the
   * decoded body a route's pre-check accepted (checkEtcdWrite).
   */
  async etcdWrite(epoch: string, op: EtcdWriteOp, request: unknown, session: Session | undefined, timeoutMs: number): Promise<EtcdWriteAnswer> {
    if (this.config?.epoch !== epoch) return { kind: "other_cluster" };
    const core = this.core;
    if (!core) return { kind: "not_leader", leader: null };
    const now = Date.now();
    const proposed = core.propose(makeEtcdCommand(op, request, now, session), now);
    if (!proposed.accepted) return { kind: "not_leader", leader: proposed.leader };
    const answer = this.pending.wait(proposed.index, proposed.term, timeoutMs).then((a) => this.withEtcdHeader(onlyResults(a, isEtcdAnswer)));
    this.drain(core, undefined, undefined, true);
    return answer;
  }

  /**
   * etcd's range, linearizable without a log entry: answered from this server's state once
   * ReadIndex confirmed it leads and it applied up to the read's index (as read() does for a
   * key). `request` is the decoded body a route's pre-check accepted (checkEtcdRange).
   */
  async etcdRange(epoch: string, request: unknown, timeoutMs: number): Promise<KvAnswer<EtcdAnswer>> {
    const answer = await this.readIndexed(epoch, () => this.kvState.range(request), timeoutMs);
    return this.withEtcdHeader(answer);
  }

  /**
   * etcd's serializable range: this server's own applied state, now, whatever its role (it
   * may be behind the leader: etcd's serializable reads promise no more). A server that is
   * down answers not_leader, so the caller asks another.
   */
  etcdLocalRange(epoch: string, request: unknown): KvAnswer<EtcdAnswer> {
    if (this.config?.epoch !== epoch) return { kind: "other_cluster" };
    if (!this.core) return { kind: "not_leader", leader: null };
    return this.withEtcdHeader({ kind: "ok", index: this.kvState.applied, result: this.kvState.range(request), duplicate: false });
  }

  /** `GET /kv?prefix=&after=&limit=`: the listing at one revision, linearizable by ReadIndex. */
  async list(epoch: string, prefix: string, after: string | null, limit: number, timeoutMs: number): Promise<KvAnswer<KvListing>> {
    return this.readIndexed(epoch, () => this.kvState.list(prefix, after, limit), timeoutMs);
  }

  /** An etcd answer's header completed with the ids only this server knows: the cluster's, its own, its term now. */
  private withEtcdHeader(answer: KvAnswer<EtcdAnswer>): KvAnswer<EtcdAnswer> {
    if (answer.kind !== "ok" || !this.config) return answer;
    const ids = headerIdsOf(this.config.epoch, this.id, this.core?.status().term ?? 0);
    return { ...answer, result: withHeaderIds(answer.result, ids) };
  }

  /**
   * A linearizable read of `key` without writing to the log (ReadIndex, pending-reads.ts):
   * answered once a majority confirmed this server still leads and the state is applied up
   * to the commit index the read arrived at.
   */
  async read(epoch: string, key: string, timeoutMs: number): Promise<KvAnswer> {
    return this.readIndexed(epoch, () => this.kvState.get(key), timeoutMs);
  }

  /** Any ReadIndex read: `read` runs against the state once the read may be answered (pending-reads.ts). */
  private readIndexed<R>(epoch: string, read: () => R, timeoutMs: number): Promise<KvAnswer<R>> {
    if (this.config?.epoch !== epoch) return Promise.resolve({ kind: "other_cluster" });
    const core = this.core;
    if (!core) return Promise.resolve({ kind: "not_leader", leader: null });
    const ctx = this.reads.nextContext();
    const accepted = core.readIndex(ctx, Date.now());
    if (!accepted.accepted) return Promise.resolve({ kind: "not_leader", leader: accepted.leader });
    const answer = this.reads.wait(ctx, read, timeoutMs);
    this.drain(core); // a one-server cluster confirms right here
    return answer;
  }

  /**
   * One membership change (src/raft/membership.ts), asked of the leader by the coordinator:
   * the core appends the configuration entry (in force at once) or refuses; an accepted
   * change is answered once its entry is committed and applied here, or after `timeoutMs`
   * ("unknown": it may still commit). A refusal `not_ready` means the core appended a no-op
   * of its term first: the drain below persists and sends it, and the caller asks again.
   */
  async changeMembership(epoch: string, change: MembershipChange, timeoutMs: number): Promise<MembershipAnswer> {
    if (this.config?.epoch !== epoch) return { kind: "other_cluster" };
    const core = this.core;
    if (!core) return { kind: "refused", reason: "not_leader", message: `server ${this.id} is down`, leader: null };
    const result = core.changeMembership(change, Date.now());
    if (!result.accepted) {
      this.drain(core);
      return { kind: "refused", reason: result.reason, message: result.message, leader: result.leader };
    }
    const answer = this.changes.wait(result.index, result.term, result.membership, timeoutMs);
    this.drain(core); // a one-voter cluster commits right here
    return answer;
  }

  /**
   * This server was removed from the cluster's configuration (and the removal committed):
   * it stops for good. Its alarm is deleted, it answers no Raft RPC and runs no timer, and a
   * durable mark keeps it so across resets and restarts, until the cluster is deleted. Its
   * status stays readable (state "Dead", `retired: true`). Idempotent.
   */
  async retire(): Promise<void> {
    if (!this.config || this.retired) return;
    this.core = null; // from here on, nothing of the server runs
    this.held = null;
    this.retired = true;
    this.watches.closeAll(CLOSE_RESTART, "server removed: re-watch from your last event's revision + 1");
    this.store.setRetired();
    await this.ctx.storage.deleteAlarm();
    this.timer = new LazyAlarm(this.ctx.storage, null, (e) => this.crashOnFailedWrite(e));
    this.pending.failAll();
    this.reads.failAll();
    this.changes.failAll();
    this.inbound.clear();
    this.transfers.clear();
    this.narration.add(this.id, `[${this.id}] retired: removed from the cluster, it runs nothing and answers no Raft RPC from now on`);
  }

  /** Hand leadership to `target` (the core catches it up, then sends it TimeoutNow). */
  transferLeadership(target: NodeId): TransferResult {
    const core = this.core;
    if (!core) return { ok: false, reason: "not_leader", leader: null };
    const result = core.transferLeadership(target, Date.now());
    this.drain(core);
    return result;
  }

  /**
   * The coordinator wants the cluster awake (a fault, a membership change, a submit, or a
   * client that found no leader): a sleeping server wakes; a leader's idle clock restarts.
   * Answers whether the server runs (false: down, or not a member).
   */
  wake(): boolean {
    const core = this.core;
    if (!core) return false;
    core.wake(Date.now());
    this.drain(core);
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // Administration (from the coordinator). These answer even while the server is down.

  /**
   * Reset this object the way the platform does (eviction, a deploy): memory is lost,
   * storage and the pending alarm are kept, and it loads again on its next call or alarm.
   * Unlike crash() nothing keeps it down. The caller's call fails with the abort.
   */
  evict(): void {
    this.core = null; // nothing of this instance runs after this point
    this.watches.closeAll(CLOSE_RESTART, "server evicted: re-watch from your last event's revision + 1");
    this.ctx.abort("evicted (as the platform resets objects)");
  }

  /**
   * Make this object server `id` of the cluster `config` describes. Idempotent; a server
   * that already belongs to a cluster keeps its configuration and reports it. A server added
   * after the cluster's creation (`options`) also gets its location hint and its first view
   * of the network; it learns its role from the leader's log or snapshot.
   */
  init(config: ClusterConfig, id: NodeId, options: InitOptions = {}): InitResult {
    if (this.config) return { created: false, config: this.config };
    this.store.setConfig(config, id, options.locationHint);
    this.store.setNet(options.net ?? fullyConnected(config.size, id));
    this.boot();
    return { created: true, config };
  }

  clusterConfig(): ClusterConfig | null {
    return this.config;
  }

  status(): ServerStatus | null {
    if (!this.config) return null;
    const s = this.core?.status();
    const durable = s ? null : this.durableSummary();
    return {
      id: this.id,
      state: s?.state ?? "Dead",
      asleep: s?.asleep ?? false,
      role: s && s.member !== "voter" ? "learner" : "voter",
      member: s?.member ?? null,
      membership: s?.membership ?? null,
      membershipIndex: s?.membershipIndex ?? null,
      retired: this.retired,
      locationHint: this.addedHint ?? locationHintOf(this.config, this.id),
      term: s?.term ?? durable!.term,
      votedFor: s ? s.votedFor : durable!.votedFor,
      leader: s?.leader ?? null,
      commitIndex: s?.commitIndex ?? 0,
      lastApplied: s?.lastApplied ?? 0,
      logLength: s?.logLength ?? durable!.logLength,
      connected: this.links.net.connected,
      peers: this.links.net.peers,
      dropCallsAfter: this.links.dropCallsAfter,
      snapshotIndex: s?.snapshotIndex ?? durable!.snapshotIndex,
      transferringTo: s?.transferringTo ?? null,
      stats: { ...this.stats, watchers: this.watches.watcherCount(), watchStreams: this.watches.streamCount() },
    };
  }

  /**
   * Status and what storage holds (not memory), read in one turn so they can be compared:
   * the test of "persisted before it mattered".
   */
  inspect(): (ServerStatus & { durable: DurableSummary }) | null {
    const status = this.status();
    return status && { ...status, durable: this.durableSummary() };
  }

  private durableSummary(): DurableSummary {
    const kv = this.kvState.stored();
    return {
      ...this.store.summary(kv.applied, kv.rows),
      sessionResultChars: kv.sessionResultChars,
      revision: kv.revision,
      compactedRevision: kv.compactedRevision,
      historyRows: kv.historyRows,
    };
  }

  /**
   * Replace this server's links: `connected` is what status shows, `peers` the servers it
   * will exchange messages with (a link works when both ends list each other).
   */
  setLinks(connected: boolean, peers: NodeId[]): void {
    this.updateNet({ ...this.links.net, connected, peers });
  }

  /** `peer` reconnects: take it back, if this server is connected itself. */
  acceptLink(peer: NodeId): void {
    if (this.links.net.connected) this.setLink(peer, true);
  }

  /** Bring one link up or down, keeping the others. */
  setLink(peer: NodeId, up: boolean): void {
    const others = this.links.net.peers.filter((p) => p !== peer);
    this.updateNet({ ...this.links.net, peers: up ? [...others, peer].sort((a, b) => a - b) : others });
  }

  setNetwork(settings: NetworkSettings): void {
    this.updateNet(withNetwork(this.links.net, settings));
  }

  /** The network settings this server holds (for a server joining: networkWithMember in links.ts). */
  networkSettings(): NetworkSettings {
    return this.links.settings;
  }

  /** The reference's dropCallsAfterN(n) / dontDropCalls() (null). In memory only. */
  dropCalls(after: number | null): void {
    this.links.dropCallsAfter = after;
  }

  /**
   * Lose all memory, keep storage, stay down. The down mark is made durable first (and the
   * alarm removed), then the object is really reset; its next instance boots as Dead.
   * The caller's call fails with the abort: that is the crash.
   */
  async crash(): Promise<void> {
    if (!this.config || this.store.isDown()) return;
    this.core = null; // from here on, nothing of the old server runs
    this.watches.closeAll(CLOSE_RESTART, "server crashed: re-watch from your last event's revision + 1");
    this.store.setDown(true);
    await this.ctx.storage.deleteAlarm();
    // The alarm is gone: forget the belief in it too, or a restart on this same instance
    // (should the abort below not take) would think one is pending and never set it.
    this.timer = new LazyAlarm(this.ctx.storage, null, (e) => this.crashOnFailedWrite(e));
    await this.ctx.storage.sync();
    this.ctx.abort("crashed by the coordinator");
  }

  /**
   * Come back from durable storage alone. True once the server runs (also when it was not
   * down); false for an object that belongs to no cluster. If booting throws, the server
   * stays down, and durably marked so (a later restart tries again), and the error reaches
   * the caller: a restart is a success only once the server has booted.
   */
  restart(): boolean {
    if (!this.config || this.retired) return false;
    if (this.core) return true;
    this.store.setDown(false);
    try {
      this.boot({ resume: false }); // back from an ordered crash: a follower, as the reference's servers
    } catch (error) {
      this.core = null;
      this.store.setDown(true);
      throw error;
    }
    return this.core !== null;
  }

  /** The cluster is deleted: stop every timer and wipe storage. */
  async destroy(): Promise<void> {
    this.config = null;
    this.core = null;
    this.held = null;
    this.wire.clear();
    // Waiters belong to this incarnation: none may be answered by the next one's entries
    // (a re-created cluster fills the same indices, in the same terms).
    this.pending.failAll();
    this.reads.failAll();
    this.changes.failAll();
    this.inbound.clear();
    this.transfers.clear();
    this.compactor.clear();
    this.retired = false;
    this.addedHint = null;
    await this.store.wipe();
    this.kvState = new KvState(this.ctx.storage.sql);
    this.watches.reset(this.kvState.watchStore);
    this.timer = new LazyAlarm(this.ctx.storage, null, (e) => this.crashOnFailedWrite(e));
    this.narration = new Narration(narrationEcho(this.env));
  }

  /** A line of the coordinator's ("[TEST] Disconnect 2"), kept with this server's narration. */
  note(t: number, line: string): void {
    this.narration.add(null, line, t, false);
  }

  events(since: number): EventLine[] {
    return this.narration.since(since);
  }

  // ---------------------------------------------------------------------------------------
  // The loop.

  /**
   * Build this server from storage alone: at construction (a first load, or a reload after
   * the platform reset the object: eviction, a deploy) and on restart after a crash. After a
   * reset a leader resumes its term (`resume`, see the core's becomeLeader); a restart after
   * an ordered crash comes back as a follower.
   */
  private boot({ resume }: { resume: boolean } = { resume: true }): void {
    this.core = null;
    this.held = null;
    this.wire.clear();
    this.reads.failAll();
    this.inbound.clear();
    this.transfers.clear();
    this.links.dropCallsAfter = null;
    const stored = this.store.config();
    if (!stored) return;
    const id = stored.id;
    const config = withOptionDefaults(stored.config);
    this.config = config;
    this.id = id;
    this.addedHint = stored.locationHint ?? null;
    this.links.net = this.store.net() ?? fullyConnected(config.size, id);
    this.retired = this.store.isRetired();
    this.compactor = new AutoCompactor(config.compactionRetention);
    if (this.store.isDown() || this.retired) return;
    const core = new Raft(
      {
        id,
        peers: ids(config.size),
        electionTimeoutMs: config.electionTimeoutMs,
        heartbeatMs: config.heartbeatMs,
        preVote: config.preVote,
        checkQuorum: config.checkQuorum,
        sleepAfterMs: sleepAfterOf(config),
        resumeLeadership: resume,
        rand: Math.random,
        log: (line, level) => this.narration.add(id, line, Date.now(), true, level),
      },
      { ...this.store.restore(), applied: this.kvState.applied },
      Date.now(),
    );
    this.core = core;
    this.drain(core);
  }

  /**
   * Steps 2–6 of the loop for the event the core just handled. Returns the replies addressed
   * to `replyTo` (the caller of `receive`), which travel back on its call. `snapshotData` is
   * the staged snapshot that came with an InstallSnapshot just handed to the core (checked as
   * its pieces arrived: once the core accepts it, installing it cannot fail).
   */
  private drain(core: Raft, replyTo?: NodeId, snapshotData?: StagedSnapshot<SqliteSnapshotStaging>, mayHold = false): Message[] {
    let ready = core.ready();
    if (this.held) {
      if (this.held.core === core) ready = mergeReady(this.held.ready, ready);
      this.held = null;
    }
    if (mayHold && isWriteOnly(ready)) {
      // Nothing to send, apply or answer: this write can wait for the next drain (group commit).
      this.held = { core, ready };
      this.timer.ensure(ready.wakeAt);
      return [];
    }
    const installed = ready.snapshot;
    if (installed && snapshotData === undefined) throw new Error(`snapshot up to ${installed.index} accepted without its data`);
    // Raft state, an accepted snapshot and the entries this Ready commits are written in one
    // transaction, durable before anything leaves (output gate): one transaction per event,
    // whatever the batch size.
    let outcomes: ApplyOutcome[] = [];
    const stateMachineWork =
      installed || ready.committed.length > 0
        ? () => {
            if (installed) {
              this.kvState.installStaged(snapshotData!, installed.index);
              this.store.compactTo(installed);
            }
            outcomes = this.kvState.apply(ready.committed);
          }
        : undefined;
    this.persistOrCrash(ready.hardState, ready.logWrite, stateMachineWork);
    if (snapshotData !== undefined && !installed) snapshotData.staging.discard(); // the core did not want it (stale)
    if (installed) {
      this.stats.snapshotsInstalled++;
      this.pending.forgetUpTo(installed.index);
      this.changes.forgetUpTo(installed.index);
    }
    // Watchers hear of what was just applied, in this same event (nothing applied goes unsent if the object then sleeps).
    if (stateMachineWork) this.watches.afterApply(installed !== null && installed !== undefined);
    this.pending.settle(ready.committed, outcomes);
    this.changes.settle(ready.committed);
    this.reads.settle(ready.reads, ready.failedReads, this.kvState.applied);
    const replies: Message[] = [];
    for (const m of ready.messages) {
      if (m.to === replyTo && !isRequest(m)) replies.push(m);
      else if (m.type === "InstallSnapshot") this.wire.sendSnapshot(core, m);
      else this.wire.send(core, m);
    }
    this.timer.ensure(ready.wakeAt);
    this.maybeCompact(core);
    this.maybePurge();
    this.maybeProposeCompaction(core);
    return replies;
  }

  /**
   * etcd's automatic compaction, as the leader's chore after an event: once the store's
   * history holds more than its retention and a step (src/kv/auto-compaction.ts), propose an
   * etcd compaction to revision − retention through the log, so every replica compacts at the
   * same revision. Nobody waits for its answer; one is in flight at a time (auto-compactor.ts).
   * The proposal is drained at once, and may be held for the next drain (group commit).
   */
  private maybeProposeCompaction(core: Raft): void {
    if (this.core !== core) return;
    const meta = this.kvState.storeMeta;
    const target = this.compactor.due(core.status(), this.kvState.applied, meta);
    if (target === null) return;
    const now = Date.now();
    const proposed = core.propose(makeEtcdCommand("compaction", { revision: String(target) }, now), now);
    if (!proposed.accepted) return;
    this.compactor.proposed(proposed.index, proposed.term);
    this.narration.add(
      this.id,
      `[${this.id}] proposes compacting the store to revision ${target} (revision ${meta.revision}, keeping ${this.config!.compactionRetention}) at index ${proposed.index}`,
    );
    this.drain(core, undefined, undefined, true);
  }

  /**
   * Delete one chunk of the rows a compaction made invisible (kv-state.ts purgeStep), in a
   * transaction of its own, after the event's: a compaction of a big table is spread over
   * many drains instead of holding the object for one long DELETE. Not while a snapshot
   * transfer is under way: a snapshot streamed in chunks reads the rows at or below its
   * revision across many turns, and a compaction applied meanwhile must not take away rows
   * the snapshot's revision still sees.
   */
  private maybePurge(): void {
    if (this.transfers.indexes().length > 0 || !this.kvState.purgePending) return;
    this.persistOrCrash(null, null, () => this.kvState.purgeStep());
  }

  /**
   * Log compaction, a chore after the event: once more than `snapshotThreshold` applied
   * entries sit in the log, fold the older ones into the snapshot, up to the point
   * src/raft/compaction.ts allows: the newest half threshold stays as the log's tail, and a
   * leader also keeps what its snapshots in flight and its followers heard from recently
   * still need (a follower catching up under load must not find the entries after its
   * snapshot gone: issue 23.1), within a cap. The state machine's own rows are the snapshot's
   * contents (they reflect lastApplied, at or past the snapshot's index), so compacting is
   * writing one row and deleting log rows: the cost of a transaction, paid once per half
   * threshold or more.
   */
  private maybeCompact(core: Raft): void {
    const config = this.config;
    if (!config) return;
    const { lastApplied, snapshotIndex } = core.status();
    if (!compactionDue(lastApplied, snapshotIndex, config.snapshotThreshold)) return; // the usual case: gather nothing
    const upTo = compactionPoint({
      lastApplied,
      snapshotIndex,
      threshold: config.snapshotThreshold,
      followers: core.followerProgress(),
      snapshotsInFlight: this.transfers.indexes(),
      now: Date.now(),
      recentMs: config.electionTimeoutMs[1],
    });
    if (upTo === null) return;
    const meta = core.snapshotMetaAt(upTo);
    this.persistOrCrash(null, null, () => this.store.compactTo(meta));
    core.compact(meta.index); // only once the log rows it forgets are gone from storage too
  }

  /** Every persist goes through here: one transaction, and a failure is a crash (below). */
  private persistOrCrash(...args: Parameters<ServerStorage["persist"]>): void {
    try {
      this.store.persist(...args);
    } catch (error) {
      this.crashOnFailedWrite(error);
      throw error;
    }
  }

  /**
   * A write that did not land (SQLITE_TOOBIG, a full database, a transient error) is a crash:
   * what the core decided in memory is ahead of storage, and nothing of it may leave. Before
   * anything else runs: the core is dropped (pending continuations see \`this.core !== core\`
   * and stop), and the object resets itself; the next call or the pending alarm rebuilds it
   * from storage alone. The caller rethrows, so the event that failed answers nothing.
   */
  private crashOnFailedWrite(error: unknown): void {
    this.core = null;
    this.held = null;
    const why = error instanceof Error ? error.message : String(error);
    this.narration.add(this.id, `[${this.id}] storage write failed (${why}): resets itself and reloads from storage`);
    this.ctx.abort(`storage write failed: ${why}`);
  }

  /** A change of the simulated network is a fault: it also wakes a sleeping server. */
  private updateNet(net: Parameters<ServerStorage["setNet"]>[0]): void {
    this.store.setNet(net);
    this.links.net = net;
    if (this.core?.status().asleep) this.wake();
  }
}

/** A Ready that only writes: nothing to send, apply, install or answer. */
function isWriteOnly(r: Ready): boolean {
  return (
    r.messages.length === 0 &&
    r.committed.length === 0 &&
    r.snapshot === null &&
    r.reads.length === 0 &&
    r.failedReads.length === 0 &&
    (r.logWrite !== null || r.hardState !== null)
  );
}

/** Two Readies of one core, taken one after the other (`a` write-only), as one. */
function mergeReady(a: Ready, b: Ready): Ready {
  return {
    ...b,
    hardState: b.hardState ?? a.hardState,
    logWrite: mergeLogWrites(a.logWrite, b.logWrite),
    messages: [...a.messages, ...b.messages],
    committed: [...a.committed, ...b.committed],
    reads: [...a.reads, ...b.reads],
    failedReads: [...a.failedReads, ...b.failedReads],
  };
}

/**
 * Log write `a` then `b` as one. `b` never starts past the end of what `a` leaves (the core
 * writes from at most its last index + 1), so the result is contiguous.
 */
function mergeLogWrites(a: LogWrite | null, b: LogWrite | null): LogWrite | null {
  if (!a) return b;
  if (!b) return a;
  if (b.fromIndex <= a.fromIndex) return b;
  return { fromIndex: a.fromIndex, entries: [...a.entries.filter((e) => e.index < b.fromIndex), ...b.entries] };
}

/** A key/value result, not an etcd answer (what kv() proposed). */
function isKvResult(result: MachineResult): result is KvResult {
  return !isEtcdAnswer(result);
}
