// The key/value workload in the simulator: the nemesis test of test/workerd/kv-nemesis.test.ts
// in virtual time, one seed per run, as many seeds as wanted.
//
// One run:
//  - the cluster and its faults are random-run.ts's (3 or 5 servers; partitions, one-way
//    cuts, crashes also half-way through a Ready, restarts, loss, duplication, long delays,
//    leadership transfers, compaction; every Raft invariant checked after every event), with
//    its own raw proposals switched off and the host's `apply` hook feeding each server's
//    KvStateMachine (kv-replicas.ts: durable or volatile as the seed draws it);
//  - 4–6 clients do random get/put/cas/append on 2–4 keys, one request at a time, with
//    exactly-once sessions (Client-Id = "c<i>", Request-Id increasing from 1). Every value a
//    client writes is unique ("<client>.<seq>;"), so a value seen twice means a double apply;
//  - a simulated coordinator, as src/coordinator/kv-forward.ts: find the leader (cached hint,
//    `not_leader` redirects; none found: wake every server, at most once per election timeout,
//    as a cluster that slept may have lost its leader), propose, wait until that server applies the entry's index; the
//    same term there gives the state machine's answer, another term means "not applied"
//    (retry), a wait that runs out or a server that dies means "unknown" (retry with the SAME
//    ids), until the client's deadline (then: unknown if some attempt may have been applied,
//    else failed). The coordinator's own hops to the servers lose, delay past the deadline
//    (the request then lands later, unasked-for) and duplicate requests, from the seed;
//  - after the fault phase and random-run's liveness phase (everything healed and up), the
//    clients finish, the replicas settle, and the run is judged: Raft invariants; the
//    history linearizable (test/lin's WGL checker, verdict "ok" — "unknown" counts as a
//    failure); no appended value twice in any server's final value; no written value applied
//    twice by any replica; all replicas equal.
//
//  - 2–4 etcd clients beside them (kv-etcd-calls.ts) on keys "e/0".., through the routes'
//    paths: writes (put, deleterange, txn, compaction) checked as the route checks them and
//    proposed as makeEtcdCommand, with the same coordinator and sessions; linearizable ranges
//    read through the log (an entry proposed for the read; the range answered by the machine's
//    `range(body)` at the instant that entry is applied, as gets are read); serializable ones
//    from the reached server's own state. The history of every etcd call, plus every /kv
//    write at the revision it made (kv-replicas.ts `onKvWrite`), must pass test/lin's revision
//    check; historical reads must obey the compaction rule (kv-compaction-check.ts).
//
// The mutants (MUTANT_COORDINATORS): "new-id-on-unknown" retries an unknown outcome with a new
// request id, which breaks exactly-once; "local-reads" and "stale-ranges" answer reads from a
// server's own state; "compaction-drops-live" and "compaction-forgotten" break the store's
// compaction. Some seed must catch each (kv-workload.test.ts).

import { type KvOperation, type KvResult, makeKvCommand, type Session } from "../../src/kv/index.ts";
import { checkEtcdWrite, type EtcdWritePath, makeEtcdCommand } from "../../src/kv/etcd-command.ts";
import { MemoryMvccStore } from "../../src/kv/etcd/memory-store.ts";
import type { ResponseOp } from "../../src/kv/etcd/types.ts";
import type { EtcdAnswer } from "../../src/kv/results.ts";
import type { KvStateMachine } from "../../src/kv/state-machine.ts";
import { del, put } from "../lin/etcd-fixtures.ts";
import type { EtcdRequest } from "../lin/etcd-model.ts";
import { checkRevisions, explainRevisionReport } from "../lin/revisions.ts";
import type { SnapshotSource } from "./disk.ts";
import { checkCompactions, type CompactionCall, type HistoricalRead } from "./kv-compaction-check.ts";
import { decodeAnswer, decodeCompactionRevision, type EtcdCall, EtcdKnowledge, etcdKeys, nextEtcdCall } from "./kv-etcd-calls.ts";
import type { KvWriteSeen } from "./kv-replicas.ts";
import type { NodeId } from "../../src/raft/types.ts";
import { checkKvHistory, explainReport, type Verdict } from "../lin/checker.ts";
import { HistoryRecorder } from "../lin/history.ts";
import { kvModel } from "../lin/kv-model.ts";
import type { Cluster, Proc } from "./cluster.ts";
import { InvariantViolation } from "./invariants.ts";
import { KvReplicas, type ProposalAnswer } from "./kv-replicas.ts";
import { Rng } from "./prng.ts";
import { randomRun } from "./random-run.ts";

/**
 * The coordinator: the real one, or a mutant. "new-id-on-unknown" retries an unknown outcome
 * with a new request id (exactly-once is gone); "local-reads" answers a get from whichever
 * server it reaches, from that server's applied state, without going through the log (reads
 * are no longer linearizable).
 */
export type CoordinatorKind = "exactly-once" | "new-id-on-unknown" | "local-reads" | "stale-ranges" | "compaction-drops-live" | "compaction-forgotten";
/**
 * The mutants: three coordinators and one store. "stale-ranges" answers a linearizable etcd
 * range from the state of whichever server it reaches, as a serializable one (a follower's
 * stale state). "compaction-drops-live" gives every server a store whose compaction also drops
 * each key's newest version at or below the compacted revision (the live one): a key read
 * after a compaction is gone, or shows an older life. Both are for the revision check.
 * "compaction-forgotten" gives every server a store that compacts its rows but does not keep
 * the compacted revision: a read below it answers what is left instead of etcd's compacted
 * error (the compaction check).
 */
export const MUTANT_COORDINATORS = ["new-id-on-unknown", "local-reads", "stale-ranges", "compaction-drops-live", "compaction-forgotten"] as const;

/** A client call's overall deadline (the client library's per-call deadline). */
export const CLIENT_DEADLINE_MS = 3_000;
/** One attempt's wait at a server: two election timeouts, as kv-forward.ts. */
export const ATTEMPT_MS = 600;
/** Mean pause between a client's calls. */
const MEAN_THINK_MS = 25;
/** A client makes at most this many calls: keeps each key's history small enough to decide. */
const MAX_CALLS_PER_CLIENT = 100;
/** Default length of the fault phase (virtual ms). */
export const DEFAULT_FAULT_MS = 4_000;
/** Clients keep starting calls this long into the healed phase: a clean tail of answers. */
const CALM_CALLS_MS = 300;
/** The coordinator wakes a leaderless cluster at most once per (longest) election timeout. */
const WAKE_EVERY_MS = 300;
/** How often a waiting coordinator notices that its server died. */
const DEATH_POLL_MS = 20;
/** After the clients finish, the replicas get this long to apply everything. */
const SETTLE_MS = 1_000;
/** random-run.ts's own raw proposals: a mean gap this long means none. */
const NO_RAW_PROPOSALS_MS = 1e12;

/** The coordinator's hops to and from the servers. */
export interface HopProfile {
  readonly delayMs: readonly [number, number];
  /** A request or an answer lost: the coordinator waits out the attempt and calls it unknown. */
  readonly lossRate: number;
  /** A hop that takes `slowMs` instead (past the attempt's wait: the request lands later, unwatched). */
  readonly slowRate: number;
  readonly slowMs: readonly [number, number];
  /** The request is delivered twice: the server proposes the same command again a little later. */
  readonly duplicateRate: number;
}

export interface KvRunOptions {
  readonly seed: number;
  /** Drawn from the seed (3 or 5) when absent. */
  readonly servers?: 3 | 5;
  /** Drawn from the seed (4–6) when absent. */
  readonly clients?: number;
  /** Drawn from the seed (2–4) when absent. */
  readonly keys?: number;
  readonly faultMs?: number;
  readonly coordinator?: CoordinatorKind;
  /** Forces what InstallSnapshot carries (random-run.ts draws it otherwise; "live" is the Durable Object's way). */
  readonly snapshotSource?: SnapshotSource;
  /** Narrate the run (slow): the cores' lines, the faults, and one [KV] line per call. */
  readonly narrate?: boolean;
  readonly echo?: (line: string) => void;
  /** Lines of narration kept for a failure report (a Raft invariant failure is replayed narrated to get them). */
  readonly tailLines?: number;
  /** Give the linearizability checker this long (wall ms) before it answers "unknown". */
  readonly checkTimeoutMs?: number;
}

export interface KvTally {
  /** Client calls: started, answered, unknown outcome, certainly not applied. */
  calls: number;
  ok: number;
  unknown: number;
  failed: number;
  /** Coordinator attempts, and how they ended when not with an answer. */
  attempts: number;
  notLeader: number;
  notApplied: number;
  unknownAttempts: number;
  lostAnswers: number;
  /** Requests the coordinator's hop delivered twice, or late (after giving up on them). */
  duplicatedRequests: number;
  lateRequests: number;
  /** Answers that came from the session table (a retry of something already applied). */
  answeredFromSession: number;
  /** etcd calls by kind, answered (any answer, errors included). */
  etcdRanges: number;
  etcdWrites: number;
  etcdTxns: number;
  etcdCompactions: number;
  /** Historical ranges answered with etcd's compacted error. */
  compactedReads: number;
  /** Txns that took their failure branch. */
  txnFailures: number;
}

/** A tally with every count at zero. */
export function emptyTally(): KvTally {
  return {
    calls: 0,
    ok: 0,
    unknown: 0,
    failed: 0,
    attempts: 0,
    notLeader: 0,
    notApplied: 0,
    unknownAttempts: 0,
    lostAnswers: 0,
    duplicatedRequests: 0,
    lateRequests: 0,
    answeredFromSession: 0,
    etcdRanges: 0,
    etcdWrites: 0,
    etcdTxns: 0,
    etcdCompactions: 0,
    compactedReads: 0,
    txnFailures: 0,
  };
}

export type KvProblemKind =
  | "invariant"
  | "simulator"
  | "workload"
  | "divergence"
  | "linearizability"
  | "revisions"
  | "compaction"
  | "undecided"
  | "duplicate-append"
  | "double-apply";

export interface KvProblem {
  readonly kind: KvProblemKind;
  readonly message: string;
}

export interface KvRunResult {
  readonly ok: boolean;
  readonly seed: number;
  readonly servers: number;
  readonly clients: number;
  readonly keys: number;
  readonly coordinator: CoordinatorKind;
  /** What the seed drew for the servers' state machines (see kv-replicas.ts). */
  readonly stateMachine: "durable" | "volatile";
  readonly tally: KvTally;
  readonly events: number;
  readonly virtualMs: number;
  /** Operations in the checked history (failed calls are left out), and the checker's verdict and time. */
  readonly historySize: number;
  readonly verdict: Verdict | null;
  readonly checkMs: number;
  /** The revision history (etcd calls and the /kv writes), its verdict and time. */
  readonly revisionHistorySize: number;
  readonly revisionVerdict: "ok" | "illegal" | "unknown" | null;
  readonly revisionCheckMs: number;
  readonly etcdClients: number;
  /** Replicas that rebuilt their state machine by re-applying (crash of a volatile one, restart, snapshot). */
  readonly rebuilds: number;
  /** Live snapshots installed from their reassembled text (KvStateMachine.fromSnapshot), each checked against the replay. */
  readonly snapshotRestores: number;
  /**
   * What the replicas' state machines said of newly committed kv commands, summed over
   * servers: "duplicate" and "stale" are the session table stopping a second application.
   */
  readonly outcomes: { readonly applied: number; readonly duplicate: number; readonly stale: number; readonly ignored: number };
  /** The store's retention the seed drew (0: no automatic compaction), and the compactions leaders proposed. */
  readonly compactionRetention: number;
  readonly compactions: number;
  readonly problems: readonly KvProblem[];
  /** The end of the narration, for a Raft invariant failure; empty otherwise (replay with --verbose). */
  readonly tail: readonly string[];
  readonly replay: string;
}

interface KvSetup {
  readonly servers: 3 | 5;
  readonly clients: number;
  readonly keys: readonly string[];
  readonly faultMs: number;
  readonly coordinator: CoordinatorKind;
  readonly hop: HopProfile;
  readonly etcdClients: number;
  readonly etcdKeys: readonly string[];
  readonly compactionRetention: number;
}

function drawSetup(opts: KvRunOptions): KvSetup {
  // Every draw happens whatever the options say, so "--seed S --servers N" replays seed S.
  const rng = new Rng(opts.seed, "kv-setup");
  const servers = rng.pick([3, 5] as const);
  const clients = rng.int(4, 7);
  const keys = rng.int(2, 5);
  const hop: HopProfile = {
    delayMs: [0.2, 2],
    lossRate: rng.pick([0, 0.01, 0.05]),
    slowRate: rng.pick([0, 0.02, 0.1]),
    slowMs: [20, 900],
    duplicateRate: rng.pick([0, 0.02, 0.1]),
  };
  // From a stream of its own, so the draws above (and the seeds' stories) stay as they were.
  // Small retentions, so a seed's few dozen writes are compacted, some many times over.
  const compactionRetention = new Rng(opts.seed, "kv-compaction").pick([0, 2, 5, 10, 30]);
  // Drawn after the rest of this stream, so the draws above stay what they were.
  const etcdClients = rng.int(2, 4);
  const nEtcdKeys = rng.int(3, 5);
  const nKeys = opts.keys ?? keys;
  return {
    servers: opts.servers ?? servers,
    clients: opts.clients ?? clients,
    keys: Array.from({ length: nKeys }, (_, k) => `k${k}`),
    faultMs: opts.faultMs ?? DEFAULT_FAULT_MS,
    coordinator: opts.coordinator ?? "exactly-once",
    hop,
    etcdClients,
    etcdKeys: etcdKeys(nEtcdKeys),
    compactionRetention,
  };
}

export function kvReplayCommand(opts: KvRunOptions, servers: number): string {
  const extra = [
    opts.clients !== undefined ? `--clients ${opts.clients}` : "",
    opts.keys !== undefined ? `--keys ${opts.keys}` : "",
    opts.faultMs !== undefined ? `--fault-ms ${opts.faultMs}` : "",
    opts.coordinator !== undefined && opts.coordinator !== "exactly-once" ? `--mutant ${opts.coordinator}` : "",
    opts.snapshotSource !== undefined ? `--snapshot-source ${opts.snapshotSource}` : "",
  ].filter((s) => s !== "");
  return `npx tsx test/sim/kv-cli.ts --seed ${opts.seed} --servers ${servers}${extra.map((s) => ` ${s}`).join("")} --verbose`;
}

/**
 * A simulated process that can be woken before its sleep ends (cluster.ts's `spawn` cannot):
 * a coordinator waiting for an apply resumes at the instant the entry is applied, so the
 * recorded return times are as tight as the simulated hops allow.
 */
class Task {
  done = false;
  private token = 0;
  private running = false;
  private wokenWhileRunning = false;
  private proc: Proc | null = null;

  constructor(private readonly c: Cluster) {}

  start(proc: Proc): void {
    this.proc = proc;
    this.after(0);
  }

  wake(): void {
    if (this.done) return;
    if (this.running) this.wokenWhileRunning = true;
    else this.after(0);
  }

  private after(ms: number): void {
    const token = ++this.token;
    this.c.at(this.c.now + ms, () => {
      if (token === this.token) this.resume();
    });
  }

  private resume(): void {
    this.running = true;
    this.wokenWhileRunning = false;
    let r: IteratorResult<number, void>;
    try {
      r = this.proc!.next();
    } finally {
      this.running = false;
    }
    if (r.done) this.done = true;
    else this.after(this.wokenWhileRunning ? 0 : Math.max(0, r.value));
  }
}

type Attempt =
  | { readonly kind: "ok"; readonly result: unknown }
  /** The server was down when the request arrived: it proposed nothing. */
  | { readonly kind: "unreachable" }
  | { readonly kind: "not_leader"; readonly leader: NodeId | null }
  | { readonly kind: "not_applied" }
  | { readonly kind: "unknown" }
  /** An answer no correct service gives to this workload (stale, ignored). */
  | { readonly kind: "wrong"; readonly message: string };

/** One client call in flight: whether any of its requests may have been (or may yet be) applied. */
interface CallState {
  mayHaveApplied: boolean;
}

type Recorder = HistoryRecorder<KvOperation, KvResult>;

/**
 * What one call asks of a server, whichever API: the log command it proposes (with the call's
 * session), or an answer from the server's own state without the log (`local`); `read` is run
 * on the machine at the instant the proposal's entry is applied (a read through the log).
 */
interface ServerRequest {
  readonly describe: string;
  readonly command: (now: number, session: Session) => unknown;
  readonly local?: (machine: KvStateMachine) => unknown;
  readonly read?: (machine: KvStateMachine) => unknown;
}

function kvRequest(op: KvOperation, coordinator: CoordinatorKind): ServerRequest {
  return {
    describe: describe(op),
    command: (now, session) => makeKvCommand(op, now, session),
    ...(op.op === "get" && coordinator === "local-reads"
      ? {
          local: (m: KvStateMachine) => {
            const value = m.peek(op.key);
            return value === undefined ? { found: false, value: null } : { found: true, value };
          },
        }
      : {}),
  };
}

/**
 * An etcd call as the routes serve it: a write checked as the route checks it
 * (checkEtcdWrite) and proposed as makeEtcdCommand; a linearizable range answered by
 * `range(body)` where an entry proposed for it is applied (a read through the log, as the
 * simulator reads gets); a serializable range from the server's own state.
 */
function etcdRequest(call: EtcdCall, coordinator: CoordinatorKind): ServerRequest | string {
  if (call.kind === "range") {
    const answer = (m: KvStateMachine) => m.range(call.body);
    const what = `range ${JSON.stringify(call.body)}`;
    if (call.request.range.serializable || coordinator === "stale-ranges") return { describe: what, command: () => null, local: answer };
    // The read's own entry: a /kv get writes nothing, and carries no session (a read needs none).
    return { describe: what, command: (now) => makeKvCommand({ op: "get", key: "e/" }, now), read: answer };
  }
  const op = call.kind === "compaction" ? "compaction" : call.op;
  const checked = checkEtcdWrite(`/v3/kv/${op}` as EtcdWritePath, JSON.stringify(call.body));
  if (!checked.ok) return `the route refused ${op} ${JSON.stringify(call.body)}: ${JSON.stringify(checked.answer.body)}`;
  return { describe: `${op} ${JSON.stringify(call.body)}`, command: (now, session) => makeEtcdCommand(checked.op, checked.request, now, session) };
}

/** etcd's compacted error, as the gateway answers it. */
function isCompactedError(a: EtcdAnswer): boolean {
  const body = a.body as { code?: unknown; error?: unknown };
  return a.status === 400 && body.code === 11 && body.error === "etcdserver: mvcc: required revision has been compacted";
}

function isFutureRevisionError(a: EtcdAnswer): boolean {
  const body = a.body as { code?: unknown; error?: unknown };
  return a.status === 400 && body.code === 11 && body.error === "etcdserver: mvcc: required revision is a future revision";
}

/** A store that compacts its rows but keeps no compacted revision (a mutant): reads below it are not refused. */
class CompactionForgotten extends MemoryMvccStore {
  override writeMeta(meta: Parameters<MemoryMvccStore["writeMeta"]>[0]): void {
    super.writeMeta({ ...meta, compactedRevision: -1 });
  }
}

/** A store whose compaction drops every key's live version at or below the compacted revision too (a mutant). */
class CompactionDropsLive extends MemoryMvccStore {
  override compact(revision: number): void {
    super.compact(revision);
    // What the correct compaction kept below `revision` is each key's live version: drop it.
    const rows = this.allRows().filter((r) => r.modRevision > revision);
    this.clear();
    this.append(rows);
  }
}

class Workload {
  readonly replicas: KvReplicas;
  readonly recorder: Recorder;
  /** Every write to the store and every etcd call, for the revision check. */
  readonly etcdRecorder = new HistoryRecorder<EtcdRequest, ResponseOp>(() => this.c.now);
  private readonly known = new EtcdKnowledge();
  readonly compactions: CompactionCall[] = [];
  readonly historicalReads: HistoricalRead[] = [];
  readonly tally: KvTally = emptyTally();
  readonly problems: KvProblem[] = [];
  private readonly tasks: Task[] = [];
  /** The coordinator's cached leader (a hint, never trusted for correctness). */
  private hint: NodeId | null = null;
  /** The coordinator wakes the cluster when it finds no leader, at most once per election timeout. */
  private nextWake = 0;
  /** Clients start no call after this (virtual ms). */
  private readonly stopAt: number;
  /** A durable state machine is the disk's own list (cluster.ts `boot`); a volatile one a copy. */
  readonly stateMachine: "durable" | "volatile";

  constructor(
    readonly c: Cluster,
    readonly setup: KvSetup,
  ) {
    this.replicas = new KvReplicas(c, {
      ...(setup.coordinator === "compaction-drops-live" ? { store: () => new CompactionDropsLive() } : {}),
      ...(setup.coordinator === "compaction-forgotten" ? { store: () => new CompactionForgotten() } : {}),
      onKvWrite: (w) => this.recordKvWrite(w),
      // A leader's automatic compaction may take effect any time after it is proposed: for the compaction rule, a call of unknown outcome.
      onCompactionProposed: (revision) => this.compactions.push({ revision, call: c.now, ret: Infinity, ok: false }),
    });
    this.replicas.autoCompact(setup.compactionRetention);
    this.recorder = new HistoryRecorder(() => c.now);
    this.stopAt = setup.faultMs + CALM_CALLS_MS;
    this.stateMachine = c.applied(0) === c.disk(0).machine ? "durable" : "volatile";
    for (let i = 0; i < setup.clients; i++) {
      const task = new Task(c);
      this.tasks.push(task);
      task.start(this.client(i, task));
    }
    for (let i = 0; i < setup.etcdClients; i++) {
      const task = new Task(c);
      this.tasks.push(task);
      task.start(this.etcdClient(i, task));
    }
  }

  /**
   * A /kv write in the revision history: the etcd write it is (a put of the value it left, or
   * a delete of its key), made at the instant its entry was first applied, at the revision it
   * made there. Its call and return are that instant: it was committed by then (so a read
   * invoked later must see it), and nobody could see it before.
   */
  private recordKvWrite(w: KvWriteSeen): void {
    const cmd = w.command;
    const r = w.result.result as { prev?: string | null };
    let request: EtcdRequest;
    let output: ResponseOp;
    if (cmd.op === "delete") {
      request = del(cmd.key);
      output = { kind: "deleteRange", deleteRange: { header: { revision: w.revision }, deleted: 1, prevKvs: [] } };
    } else if (cmd.op === "put" || cmd.op === "cas" || cmd.op === "append") {
      const value = cmd.op === "append" ? (r.prev ?? "") + cmd.value : cmd.value;
      request = put(cmd.key, value);
      output = { kind: "put", put: { header: { revision: w.revision }, prevKv: null } };
    } else {
      this.problems.push({ kind: "workload", message: `a /kv ${cmd.op} at index ${w.index} made revision ${w.revision}` });
      return;
    }
    this.etcdRecorder.ok(this.etcdRecorder.invoke(`kv@${w.index}`, request), output);
  }

  private *etcdClient(i: number, task: Task): Proc {
    const c = this.c;
    const rng = new Rng(c.seed, "etcd-client", i);
    const clientId = `e${i}`;
    const ids = { next: 1 };
    yield rng.float(0, 2 * MEAN_THINK_MS);
    for (let seq = 0; seq < MAX_CALLS_PER_CLIENT && c.now < this.stopAt; seq++) {
      yield* this.etcdCall(clientId, ids, nextEtcdCall(rng, i, seq, this.setup.etcdKeys, this.known), task, rng);
      ids.next++;
      yield rng.float(0, 2 * MEAN_THINK_MS);
    }
  }

  /** One etcd call, recorded for the revision check (writes and ranges) or the compaction check. */
  private *etcdCall(clientId: string, ids: { next: number }, call: EtcdCall, task: Task, rng: Rng): Generator<number, void, undefined> {
    const t = this.tally;
    const req = etcdRequest(call, this.setup.coordinator);
    if (typeof req === "string") {
      this.problems.push({ kind: "workload", message: req });
      return;
    }
    const invoked = this.c.now;
    const handle = call.kind === "compaction" ? null : this.etcdRecorder.invoke(clientId, call.request);
    const answer = yield* this.request(clientId, ids, req, task, rng);
    if (typeof answer !== "object") {
      if (call.kind === "compaction") {
        if (answer === "unknown") this.compactions.push({ revision: call.revision, call: invoked, ret: Infinity, ok: false });
      } else if (answer === "unknown") this.etcdRecorder.unknown(handle!);
      else this.etcdRecorder.fail(handle!);
      return;
    }
    const a = answer.result as EtcdAnswer;
    const wrong = (why: string) => this.problems.push({ kind: "workload", message: `${clientId}#${ids.next} ${req.describe}: ${why}: ${a.status} ${JSON.stringify(a.body)}` });
    if (call.kind === "compaction") {
      t.etcdCompactions++;
      if (a.status === 200) {
        decodeCompactionRevision(a.body);
        this.compactions.push({ revision: call.revision, call: invoked, ret: this.c.now, ok: true });
      } else if (!isCompactedError(a) && !isFutureRevisionError(a)) wrong("a compaction answered neither OK nor etcd's compacted or future-revision error");
      return;
    }
    const request = call.request;
    if (request.kind === "range") t.etcdRanges++;
    else if (request.kind === "txn") t.etcdTxns++;
    else t.etcdWrites++;
    const historical = request.kind === "range" && request.range.revision !== 0 && !request.range.serializable;
    if (a.status !== 200) {
      this.etcdRecorder.fail(handle!);
      if (historical && isCompactedError(a)) {
        t.compactedReads++;
        this.historicalReads.push({ client: clientId, revision: request.range.revision, call: invoked, ret: this.c.now, compacted: true });
      } else if (request.kind === "range" && request.range.serializable && (isCompactedError(a) || isFutureRevisionError(a))) {
        // A serializable read's server may be behind (future) or have compacted.
      } else wrong("an error answer");
      return;
    }
    let resp: ResponseOp;
    try {
      resp = decodeAnswer(request, a.body);
    } catch (e) {
      this.etcdRecorder.unknown(handle!);
      wrong(`the answer does not decode (${(e as Error).message})`);
      return;
    }
    this.etcdRecorder.ok(handle!, resp);
    this.known.learn(resp);
    if (resp.kind === "txn" && !resp.txn.succeeded) t.txnFailures++;
    if (historical) this.historicalReads.push({ client: clientId, revision: request.range.revision, call: invoked, ret: this.c.now, compacted: false });
  }

  clientsDone(): boolean {
    return this.tasks.every((t) => t.done);
  }

  private *client(i: number, task: Task): Proc {
    const c = this.c;
    const rng = new Rng(c.seed, "kv-client", i);
    const clientId = `c${i}`;
    const ids = { next: 1 };
    const lastSeen = new Map<string, string>(); // CAS operands that sometimes match
    yield rng.float(0, 2 * MEAN_THINK_MS);
    for (let seq = 0; seq < MAX_CALLS_PER_CLIENT && c.now < this.stopAt; seq++) {
      const key = rng.pick(this.setup.keys);
      const value = `${i}.${seq};`;
      const roll = rng.next();
      const op: KvOperation =
        roll < 0.3
          ? { op: "get", key }
          : roll < 0.5
            ? { op: "put", key, value }
            : roll < 0.85
              ? { op: "append", key, value }
              : { op: "cas", key, compare: rng.chance(0.8) ? (lastSeen.get(key) ?? value) : value, value };
      const result = yield* this.call(clientId, ids, op, task, rng);
      if (result !== null) {
        const after = valueAfter(op, result);
        if (after !== null) lastSeen.set(key, after);
      }
      ids.next++; // the next call gets a fresh id; a call's retries keep theirs
      yield rng.float(0, 2 * MEAN_THINK_MS);
    }
  }

  /** One client call, as the client library and the coordinator make it: retried until an answer or the deadline. */
  private *call(clientId: string, ids: { next: number }, op: KvOperation, task: Task, rng: Rng): Generator<number, KvResult | null, undefined> {
    const handle = this.recorder.invoke(clientId, op);
    const answer = yield* this.request(clientId, ids, kvRequest(op, this.setup.coordinator), task, rng);
    if (answer === "unknown") this.recorder.unknown(handle);
    else if (answer === "failed") this.recorder.fail(handle);
    else this.recorder.ok(handle, answer.result as KvResult); // the /kv commands answer KvResults
    return typeof answer === "object" ? (answer.result as KvResult) : null;
  }

  /** One client call to a server, as the client library and the coordinator make it: retried until an answer or the deadline. */
  private *request(clientId: string, ids: { next: number }, req: ServerRequest, task: Task, rng: Rng): Generator<number, { result: unknown } | "unknown" | "failed", undefined> {
    const c = this.c;
    const t = this.tally;
    t.calls++;
    const deadline = c.now + CLIENT_DEADLINE_MS;
    const state: CallState = { mayHaveApplied: false };
    let target: NodeId | null = this.hint;
    while (c.now < deadline) {
      if (target === null) target = this.findLeader(rng);
      if (target === null) {
        // An election is probably under way, or the cluster fell asleep and lost its leader
        // meanwhile (sleeping followers notice nothing): as kv-forward.ts, wake every server,
        // at most once per election timeout.
        if (c.now >= this.nextWake) {
          this.nextWake = c.now + WAKE_EVERY_MS;
          c.wakeAll("a kv operation found no leader");
        }
        yield 20;
        continue;
      }
      const session = { clientId, requestId: ids.next };
      t.attempts++;
      const a = yield* this.attempt(target, req, session, Math.min(ATTEMPT_MS, deadline - c.now), state, task, rng);
      if (a.kind !== "ok") c.narrate(`[KV] ${clientId}#${session.requestId} ${req.describe} at server ${target}: ${a.kind}${a.kind === "not_leader" ? ` (leader hint ${a.leader})` : ""}`);
      switch (a.kind) {
        case "ok":
          this.hint = target;
          t.ok++;
          c.narrate(`[KV] ${clientId}#${session.requestId} ${req.describe} -> ${JSON.stringify(a.result)} (server ${target})`);
          return { result: a.result };
        case "not_leader":
          t.notLeader++;
          this.hint = null;
          target = a.leader !== null && a.leader !== target ? a.leader : null;
          if (target === null) yield 10;
          break;
        case "unreachable":
          this.hint = null;
          target = null;
          yield 10;
          break;
        case "not_applied":
          t.notApplied++;
          this.hint = null;
          target = null;
          break;
        case "unknown":
          t.unknownAttempts++;
          this.hint = null;
          target = null;
          // The mutant: a "fresh" request for the same operation. Exactly-once is gone.
          if (this.setup.coordinator === "new-id-on-unknown") ids.next++;
          break;
        case "wrong":
          this.problems.push({ kind: "workload", message: `${clientId}#${session.requestId} ${req.describe}: ${a.message}` });
          t.unknown++;
          return "unknown";
      }
    }
    c.narrate(`[KV] ${clientId}#${ids.next} ${req.describe} -> ${state.mayHaveApplied ? "unknown" : "failed"} (deadline)`);
    if (state.mayHaveApplied) {
      t.unknown++;
      return "unknown";
    }
    t.failed++;
    return "failed";
  }

  /** One coordinator attempt at one server: the request's hop, the proposal, the wait for the apply, the answer's hop. */
  private *attempt(
    target: NodeId,
    req: ServerRequest,
    session: Session,
    waitMs: number,
    state: CallState,
    task: Task,
    rng: Rng,
  ): Generator<number, Attempt, undefined> {
    const c = this.c;
    const hop = this.setup.hop;
    const until = c.now + waitMs;
    if (rng.chance(hop.lossRate)) {
      yield waitMs; // the request was lost: no answer comes
      return { kind: "unknown" };
    }
    const there = this.hopDelay(rng);
    if (there >= waitMs) {
      // The coordinator stops waiting; the request still arrives, later, and may be applied.
      this.late(target, req, session, there, state);
      yield waitMs;
      return { kind: "unknown" };
    }
    yield there;
    if (!c.alive(target)) {
      yield this.hopDelay(rng);
      return { kind: "unreachable" };
    }
    if (req.local !== undefined) {
      // Answered from the server's own state, at once.
      const result = req.local(this.replicas.machine(target));
      yield this.hopDelay(rng);
      return { kind: "ok", result };
    }
    const life = c.life(target);
    const res = c.propose(target, req.command(c.now, session));
    if (!c.alive(target) || c.life(target) !== life) {
      // The host died handling the proposal, maybe after persisting the entry: the call fails.
      state.mayHaveApplied = true;
      yield this.hopDelay(rng);
      return { kind: "unknown" };
    }
    if (!res.accepted) {
      yield this.hopDelay(rng);
      return { kind: "not_leader", leader: res.leader };
    }
    state.mayHaveApplied = true;
    if (rng.chance(hop.duplicateRate)) this.late(target, req, session, rng.float(1, 300), state, "duplicated");

    const box: { answer: ProposalAnswer | null } = { answer: null };
    const settle = (a: ProposalAnswer): void => {
      box.answer = a;
      task.wake();
    };
    this.replicas.wait(target, res.index, res.term, settle, req.read);
    while (box.answer === null && c.now < until && c.alive(target) && c.life(target) === life) {
      yield Math.min(until - c.now, DEATH_POLL_MS);
    }
    const answer = box.answer as ProposalAnswer | null;
    if (answer === null) {
      this.replicas.cancel(target, res.index, settle);
      if (c.now < until) yield this.hopDelay(rng); // the server died: the call fails a hop later
      return { kind: "unknown" };
    }
    if (answer.kind === "not_applied") {
      yield this.hopDelay(rng);
      return answer;
    }
    const o = answer.outcome;
    if (o.status === "stale") return { kind: "wrong", message: `answered stale (the session's last id is ${o.lastRequestId})` };
    if (o.status === "ignored") return { kind: "wrong", message: `its entry was ignored: ${o.message}` };
    // The workload's results stay far below the session table's budget: a forgotten one would be a bug.
    if (o.status === "forgotten") return { kind: "wrong", message: "answered with a forgotten result" };
    // The workload's values stay far below the value limit: a refusal would be a bug.
    if (o.status === "refused") return { kind: "wrong", message: `refused: ${o.refusal.message}` };
    if (o.status === "duplicate") this.tally.answeredFromSession++;
    const back = rng.chance(hop.lossRate) ? Infinity : this.hopDelay(rng);
    if (c.now + back > until) {
      // Applied, but the answer is lost or comes after the coordinator stopped waiting.
      this.tally.lostAnswers++;
      yield Math.max(0, until - c.now);
      return { kind: "unknown" };
    }
    yield back;
    return { kind: "ok", result: req.read !== undefined ? answer.read : o.result };
  }

  /** A copy of a request that reaches the server `delay` ms from now, with nobody waiting for its answer. */
  private late(target: NodeId, req: ServerRequest, session: Session, delay: number, state: CallState, why: "late" | "duplicated" = "late"): void {
    const c = this.c;
    if (req.local !== undefined) return; // answered from local state: nothing to propose
    state.mayHaveApplied = true; // from now on it may be proposed, and applied, at any time
    if (why === "late") this.tally.lateRequests++;
    else this.tally.duplicatedRequests++;
    c.at(c.now + delay, () => {
      if (!c.alive(target)) return;
      const res = c.propose(target, req.command(c.now, session));
      c.narrate(`[KV] ${why} request ${session.clientId}#${session.requestId} ${req.describe} reaches ${target}: ${res.accepted ? `proposed at ${res.index}` : "refused"}`);
    });
  }

  /** The leader of the highest term among servers that are up and connected, as kv-forward.ts's findLeader; now and then any server. */
  private findLeader(rng: Rng): NodeId | null {
    const c = this.c;
    const alive = c.ids.filter((i) => c.alive(i));
    if (alive.length === 0) return null;
    if (rng.chance(0.1)) return rng.pick(alive); // a wrong guess: exercises not_leader redirects
    let best: NodeId | null = null;
    let bestTerm = -1;
    for (const i of alive) {
      const st = c.status(i);
      if (st !== null && st.state === "Leader" && c.net.connected[i] && st.term > bestTerm) {
        best = i;
        bestTerm = st.term;
      }
    }
    return best;
  }

  private hopDelay(rng: Rng): number {
    const h = this.setup.hop;
    return rng.chance(h.slowRate) ? rng.float(h.slowMs[0], h.slowMs[1]) : rng.float(h.delayMs[0], h.delayMs[1]);
  }
}

/** The key's value right after `op` answered `result` (null: absent). */
function valueAfter(op: KvOperation, result: KvResult): string | null {
  const r = result as { value?: string | null; prev?: string | null; swapped?: boolean };
  switch (op.op) {
    case "get":
      return r.value ?? null;
    case "put":
      return op.value;
    case "append":
      return (r.prev ?? "") + op.value;
    case "cas":
      return r.swapped === true ? op.value : (r.prev ?? null);
    case "delete":
      return null;
  }
}

function describe(op: KvOperation): string {
  switch (op.op) {
    case "get":
      return `get(${op.key})`;
    case "cas":
      return `cas(${op.key}, ${JSON.stringify(op.compare)} -> ${JSON.stringify(op.value)})`;
    case "delete":
      return `delete(${op.key})`;
    default:
      return `${op.op}(${op.key}, ${JSON.stringify(op.value)})`;
  }
}

/** Run one seed: faults and clients, then every check. Deterministic: the seed (and options) decide everything. */
export function kvRun(opts: KvRunOptions): KvRunResult {
  const setup = drawSetup(opts);
  const workloads: Workload[] = [];
  let current: Workload | null = null;
  const raw = randomRun({
    seed: opts.seed,
    servers: setup.servers,
    knobs: { faultMs: setup.faultMs, meanProposalGapMs: NO_RAW_PROPOSALS_MS },
    ...(opts.snapshotSource !== undefined ? { snapshotSource: opts.snapshotSource } : {}),
    // A fixed set of servers: the kv replicas are one per server, and configuration entries are no kv commands.
    membership: false,
    // The host's apply step: the kv state machines follow what each server applies.
    faults: {
      apply: (id, entries) => {
        current?.replicas.onApply(id, entries);
        return entries;
      },
    },
    tamper: (c) => {
      current = new Workload(c, setup);
      workloads.push(current);
    },
    // The sleep checks wait until the clients' last calls (retried up to their deadline) are over.
    clientsDone: () => current?.clientsDone() ?? true,
    narrate: opts.narrate ?? false,
    ...(opts.echo ? { echo: opts.echo } : {}),
    tailLines: opts.tailLines ?? 60,
  });
  // A failed run was replayed narrated, with a workload of its own: judge the first one.
  const w = workloads[0]!;
  current = w;
  const c = w.c;
  const problems: KvProblem[] = [];
  const base = {
    seed: opts.seed,
    servers: setup.servers,
    clients: setup.clients,
    keys: setup.keys.length,
    coordinator: setup.coordinator,
    etcdClients: setup.etcdClients,
    stateMachine: w.stateMachine,
    tally: w.tally,
    replay: kvReplayCommand(opts, setup.servers),
  };
  let revisions: Pick<KvRunResult, "revisionHistorySize" | "revisionVerdict" | "revisionCheckMs"> = { revisionHistorySize: 0, revisionVerdict: null, revisionCheckMs: 0 };
  const finish = (verdict: Verdict | null, historySize: number, checkMs: number, tail: readonly string[]): KvRunResult => ({
    ...base,
    ...revisions,
    ok: problems.length === 0,
    events: c.events,
    virtualMs: c.now,
    historySize,
    verdict,
    checkMs,
    rebuilds: w.replicas.rebuilds,
    snapshotRestores: w.replicas.restores,
    outcomes: { ...w.replicas.outcomes },
    compactionRetention: setup.compactionRetention,
    compactions: w.replicas.compactionsProposed,
    problems,
    tail,
  });

  if (!raw.ok) {
    problems.push({ kind: raw.invariant !== null ? "invariant" : "simulator", message: raw.message ?? "random run failed" });
    return finish(null, 0, 0, raw.tail);
  }

  // The healed tail: the clients finish their last calls, the replicas catch up.
  try {
    const limit = c.now + CLIENT_DEADLINE_MS + 1_000;
    while (!w.clientsDone() && c.now < limit) c.runFor(50);
    if (!w.clientsDone()) problems.push({ kind: "workload", message: `clients still busy ${CLIENT_DEADLINE_MS + 1_000} ms after the faults stopped` });
    c.runFor(SETTLE_MS);
    c.finalCheck();
  } catch (e) {
    const invariant = e instanceof InvariantViolation;
    problems.push({ kind: invariant ? "invariant" : "simulator", message: e instanceof Error ? (invariant ? e.message : (e.stack ?? e.message)) : String(e) });
    return finish(null, 0, 0, []);
  }
  problems.push(...w.problems);
  problems.push(...checkReplicas(w));
  for (const d of w.replicas.doubleApplies().slice(0, 5)) problems.push({ kind: "double-apply", message: d });

  const history = w.recorder.history();
  const report = checkKvHistory(history, { timeoutMs: opts.checkTimeoutMs ?? 10_000 });
  if (report.verdict === "illegal") {
    problems.push({ kind: "linearizability", message: clip(explainReport(kvModel, history, report), 80) });
  } else if (report.verdict === "unknown") {
    problems.push({ kind: "undecided", message: `the checker gave up after ${report.elapsedMs} ms on ${history.length} operations` });
  }

  // Every write to the store and every etcd call, by revision; the compaction rule beside it.
  const etcdHistory = w.etcdRecorder.history();
  let byRevision: ReturnType<typeof checkRevisions>;
  try {
    byRevision = checkRevisions(etcdHistory, { initialRevision: 1, timeoutMs: opts.checkTimeoutMs ?? 10_000 });
  } catch (e) {
    // The checker refuses a history where two writes put one value: the workload's values are
    // unique, so one of its writes was applied twice (a /kv write is recorded once per log entry).
    if (!(e instanceof RangeError)) throw e;
    revisions = { revisionHistorySize: etcdHistory.length, revisionVerdict: "illegal", revisionCheckMs: 0 };
    problems.push({ kind: "revisions", message: `a write applied twice: ${e.message}` });
    return finish(report.verdict, history.length, report.elapsedMs, []);
  }
  revisions = { revisionHistorySize: etcdHistory.length, revisionVerdict: byRevision.verdict, revisionCheckMs: byRevision.elapsedMs };
  if (byRevision.verdict === "illegal") problems.push({ kind: "revisions", message: clip(explainRevisionReport(byRevision), 80) });
  else if (byRevision.verdict === "unknown") {
    problems.push({ kind: "undecided", message: `the revision checker gave up after ${byRevision.elapsedMs} ms on ${etcdHistory.length} operations` });
  }
  for (const message of checkCompactions(w.compactions, w.historicalReads).slice(0, 5)) problems.push({ kind: "compaction", message });
  return finish(report.verdict, history.length, report.elapsedMs, []);
}

/** Every server up, caught up and holding the same kv state; no appended value twice in any value. */
function checkReplicas(w: Workload): KvProblem[] {
  const c = w.c;
  const problems: KvProblem[] = [];
  const counts = c.ids.map((i) => w.replicas.appliedCount(i));
  const most = Math.max(...counts);
  const lagging = c.ids.filter((i) => counts[i] !== most || !c.alive(i));
  if (lagging.length > 0) {
    problems.push({ kind: "divergence", message: `servers ${lagging.join(",")} did not catch up (applied: ${counts.join(", ")}; up: ${c.ids.map((i) => c.alive(i)).join(", ")})` });
  }
  const snapshots = c.ids.map((i) => JSON.stringify(w.replicas.machine(i).snapshot()));
  for (const i of c.ids) {
    if (counts[i] === most && snapshots[i] !== snapshots[counts.indexOf(most)]) {
      problems.push({ kind: "divergence", message: `server ${i}'s kv state differs from server ${counts.indexOf(most)}'s after the same ${most} entries` });
    }
  }
  // Every written value is unique, so a value twice in a final value was applied twice.
  const repeated = new Map<string, NodeId[]>();
  for (const i of c.ids) {
    for (const { key, value } of w.replicas.machine(i).list("", null, Number.MAX_SAFE_INTEGER - 1).keys) {
      const tokens = value.split(";").slice(0, -1);
      const twice = tokens.find((token, n) => tokens.indexOf(token) !== n);
      if (twice === undefined) continue;
      const what = `${key} = ${JSON.stringify(value)} holds "${twice};" twice`;
      repeated.set(what, [...(repeated.get(what) ?? []), i]);
    }
  }
  for (const [what, servers] of repeated) problems.push({ kind: "duplicate-append", message: `${what} (on servers ${servers.join(",")})` });
  return problems;
}

function clip(text: string, lines: number): string {
  const all = text.split("\n");
  return all.length <= lines ? text : [...all.slice(0, lines), `... (${all.length - lines} more lines)`].join("\n");
}
