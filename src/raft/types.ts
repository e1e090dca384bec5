// The vocabulary of the Raft core: what goes in, what comes out.
//
// The core is a pure, deterministic state machine (in the style of etcd's raft). It never
// touches a disk, a socket or a clock: time arrives as the `now` argument of every event,
// randomness through an injected `rand`, and everything the host must do comes back as one
// `Ready` value. The host's loop is the whole persistence contract:
//
//   1. feed one event (step / tick / propose) — synchronously, never interleaved;
//   2. take the Ready;
//   3. PERSIST `hardState` and `logWrite` durably (one transaction);
//   4. only then SEND `messages` (a vote grant, an AppendEntries success or a leader's
//      entries must never leave before the state that justifies them is durable);
//   5. APPLY `committed` entries in order;
//   6. arrange to call `tick(now)` again no later than `wakeAt`.

export type NodeId = number;

/**
 * Who is in the cluster (membership.ts has the algorithm). Voters elect and count toward
 * every majority; learners receive the log and count toward nothing.
 */
export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** One single-server change (thesis §4.1): a new voter joins as a learner first, then is promoted. */
export type MembershipChange =
  | { readonly op: "add_learner"; readonly id: NodeId }
  | { readonly op: "promote"; readonly id: NodeId }
  | { readonly op: "remove"; readonly id: NodeId };

/**
 * Why a change was not started. `not_ready`: this leader has not yet committed an entry of
 * its own term (it has appended a no-op for it): ask again shortly. `not_caught_up`: the
 * learner to promote does not yet hold the leader's committed log: ask again shortly.
 */
export type MembershipRefusal =
  | "not_leader"
  | "change_in_progress"
  | "not_ready"
  | "not_caught_up"
  | "last_voter"
  | "invalid";

export type MembershipChangeResult =
  | { readonly accepted: true; readonly index: number; readonly term: number; readonly membership: Membership }
  | {
      readonly accepted: false;
      readonly reason: MembershipRefusal;
      readonly message: string;
      readonly leader: NodeId | null;
    };

/** A log entry. `command` is any JSON value (the key/value layer puts its operations here). */
export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly command: unknown;
}

/**
 * The state Figure 2 calls "persistent state on all servers" (the log is persisted apart),
 * plus two marks of this project's (both omitted while unset, so a plain Figure 2 state
 * reads as before):
 *  - `ledTerm`: the term this server won an election in. votedFor alone does not say it
 *    won; with this mark a leader whose object was reset (eviction, a deploy) resumes
 *    leading when it reloads, if its term is still that one (raft.ts, "resuming").
 *  - `asleep`: the server went to sleep with its idle cluster (quiesced); it reloads asleep,
 *    so a reset of a sleeping object wakes nobody.
 * and one counter:
 *  - `life`: how many times this server resumed leading after a load (omitted while 0). The
 *    core bumps it when a load resumes, and the host writes it before the first message of
 *    that life leaves; a leader's ReadIndex and quiesce rounds carry it, so an answer to a
 *    round of an earlier life (same term, same round number) never counts in this one. A
 *    counter, not the clock: two loads in one millisecond, or a clock that steps back when
 *    the object moves to another machine, must not give two lives the same name.
 */
export interface HardState {
  readonly term: number;
  readonly votedFor: NodeId | null;
  readonly ledTerm?: number;
  readonly asleep?: boolean;
  readonly life?: number;
}

export type Role = "Follower" | "Candidate" | "Leader";

export interface RequestVote {
  readonly type: "RequestVote";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly candidateId: NodeId;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** Set when the election was asked for by the leader (TimeoutNow): voters skip the lease check. */
  readonly transfer?: boolean;
}

export interface RequestVoteReply {
  readonly type: "RequestVoteReply";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly voteGranted: boolean;
}

export interface AppendEntries {
  readonly type: "AppendEntries";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly leaderId: NodeId;
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly leaderCommit: number;
  /** The leader's latest ReadIndex round; echoed in the reply, it confirms leadership for reads. */
  readonly readSeq?: number;
  /**
   * The cluster is idle: sleep, if your log ends exactly at (prevLogIndex, prevLogTerm) and
   * everything in it is committed (leaderCommit). A quiesce heartbeat, as CockroachDB's; the
   * number is the leader's quiesce round, echoed with the answer.
   */
  readonly quiesce?: number;
  /** The leader's life (HardState.life), set with readSeq or quiesce and echoed with them. */
  readonly life?: number;
}

export interface AppendEntriesReply {
  readonly type: "AppendEntriesReply";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly success: boolean;
  /**
   * On success: the index of the last entry the follower now knows matches the leader
   * (prevLogIndex + entries.length). Carried in the reply so a late or duplicated reply
   * can never move the leader's matchIndex backwards or past what was really sent.
   */
  readonly matchIndex: number;
  /** On failure (fast backtracking, §5.3): first index of the conflicting term, or lastIndex+1. */
  readonly conflictIndex: number;
  /** On failure: the term of the follower's entry at prevLogIndex, or -1 if it has none. */
  readonly conflictTerm: number;
  /** The request's readSeq, echoed. */
  readonly readSeq?: number;
  /**
   * On failure: the request's prevLogIndex, so the leader can tell the answer to its
   * latest attempt from a late or duplicated one (which it ignores, as etcd does).
   */
  readonly rejectedIndex?: number;
  /** The answer to a quiesce heartbeat: this follower is now asleep. */
  readonly asleep?: boolean;
  /** The request's quiesce round, echoed with `asleep`. */
  readonly quiesce?: number;
  /** The request's life, echoed with readSeq and quiesce: an answer counts only in the life that asked. */
  readonly life?: number;
}

/**
 * PreVote (Raft thesis §9.6): "would you vote for me if I started an election?" It changes
 * nobody's term or vote, so a server cut off from the cluster cannot inflate terms and
 * depose a healthy leader when it returns. `term` is the sender's real current term; the
 * election it asks about would be at term + 1.
 */
export interface PreVote {
  readonly type: "PreVote";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
}

export interface PreVoteReply {
  readonly type: "PreVoteReply";
  readonly from: NodeId;
  readonly to: NodeId;
  /** The voter's real current term. */
  readonly term: number;
  /** The pre-candidate's term the question was asked in (matches the reply to its poll). */
  readonly forTerm: number;
  readonly granted: boolean;
}

/** Leadership transfer (thesis §3.10): the leader tells an up-to-date follower to start an election now. */
export interface TimeoutNow {
  readonly type: "TimeoutNow";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

/**
 * The leader's log no longer holds the entries a follower needs: send the state machine's
 * snapshot instead (§7). The core never sees the snapshot's bytes: the host attaches them
 * (chunked, on platforms whose messages and rows have size limits) and hands the message to
 * the follower's core only once it holds the whole snapshot.
 */
export interface InstallSnapshot {
  readonly type: "InstallSnapshot";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly leaderId: NodeId;
  readonly lastIncludedIndex: number;
  readonly lastIncludedTerm: number;
  /** The configuration as of lastIncludedIndex (snapshots carry the configuration). */
  readonly membership?: Membership;
  /** Filled in by the host that sends it; opaque to the core. */
  readonly data?: unknown;
}

export interface InstallSnapshotReply {
  readonly type: "InstallSnapshotReply";
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** The follower now matches the leader up to here (the snapshot's last index) on success; 0 on a stale term. */
  readonly matchIndex: number;
}

export type Message =
  | InstallSnapshot
  | InstallSnapshotReply
  | RequestVote
  | RequestVoteReply
  | AppendEntries
  | AppendEntriesReply
  | PreVote
  | PreVoteReply
  | TimeoutNow;

/** Requests are what the reference counts as RPCs; replies travel back on the same call. */
export function isRequest(m: Message): m is RequestVote | AppendEntries | PreVote | TimeoutNow | InstallSnapshot {
  return (
    m.type === "RequestVote" ||
    m.type === "AppendEntries" ||
    m.type === "PreVote" ||
    m.type === "TimeoutNow" ||
    m.type === "InstallSnapshot"
  );
}

/** The last log entry a snapshot covers, and the configuration as of that entry. */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  /**
   * Always set by the core. A host restoring a snapshot stored before configurations were
   * kept may omit it: the core then takes `RaftConfig.peers` as the voters.
   */
  readonly membership?: Membership;
}

/**
 * "Delete every stored entry with index >= fromIndex, then store `entries`."
 * `entries[0].index === fromIndex` when entries is non-empty; entries may be empty (pure truncation).
 */
export interface LogWrite {
  readonly fromIndex: number;
  readonly entries: readonly Entry[];
}

/** A linearizable read whose leadership check passed: answer it once `index` is applied. */
export interface ReadState {
  readonly ctx: string;
  readonly index: number;
}

/** Everything the host must do after an event, in this order: persist, send, apply, sleep. */
export interface Ready {
  /** Set when term or votedFor changed: must be durable before any message is sent. */
  readonly hardState: HardState | null;
  /**
   * Set when a leader's snapshot was accepted: install the snapshot data that came with the
   * InstallSnapshot message as the state machine, and delete stored entries up to `index` —
   * durably, with `logWrite` (which then truncates whatever of the old log did not match).
   */
  readonly snapshot: SnapshotMeta | null;
  /** Set when the log changed: must be durable before any message is sent. */
  readonly logWrite: LogWrite | null;
  readonly messages: readonly Message[];
  /** Newly committed entries, in index order, to apply after persisting. */
  readonly committed: readonly Entry[];
  /** Absolute time (same clock as `now`) by which the host must call `tick` again. */
  readonly wakeAt: number;
  /** ReadIndex reads now safe to answer once their index is applied. */
  readonly reads: readonly ReadState[];
  /** ReadIndex reads that cannot be answered here (leadership was lost): retry elsewhere. */
  readonly failedReads: readonly string[];
}

/**
 * What a narrated line tells. "decision": the story (elections, votes, term changes,
 * leadership, snapshots and compaction, sleeping and waking, resumes, failures). "detail":
 * the traffic of replication, a line or more per message or per operation (sending and
 * receiving AppendEntries and heartbeats, their replies, backtracking, submits, commit
 * advances, election timers restarting). A host may print only decisions and keep the rest.
 */
export type NarrationLevel = "decision" | "detail";

export interface RaftConfig {
  readonly id: NodeId;
  /**
   * The cluster's initial voters: the configuration in force before any configuration entry
   * or snapshot says otherwise. Every server passes the same list, including a server added
   * later (which is then in no configuration it knows of, and learns its own role from the
   * leader's log or snapshot).
   */
  readonly peers: readonly NodeId[];
  /** Election timeout is drawn uniformly from [min, max) ms at every reset. Reference: [150, 300]. */
  readonly electionTimeoutMs: readonly [number, number];
  /** Leader heartbeat interval, ms. Reference: 50. */
  readonly heartbeatMs: number;
  /** Most entries one AppendEntries carries. */
  readonly maxEntriesPerAppend?: number;
  /** Most bytes (JSON length of the commands) one AppendEntries carries (at least one entry is always sent). */
  readonly maxBytesPerAppend?: number;
  /**
   * PreVote: before raising its term, a server whose election timer fired asks a majority
   * whether they would vote for it; servers that heard from a leader within the minimum
   * election timeout say no. Off by default (the reference scenarios assume plain Raft).
   */
  readonly preVote?: boolean;
  /**
   * CheckQuorum: a leader that has not heard from a majority within an election timeout
   * (the upper bound) steps down; and servers ignore a RequestVote of a higher term while
   * they still hear from a leader. Off by default.
   */
  readonly checkQuorum?: boolean;
  /**
   * Append an empty entry (command null) on becoming leader, so entries of earlier terms
   * commit without waiting for a client, and ReadIndex reads can be served at once.
   * Off by default: the reference's raw-log scenarios count entries exactly.
   */
  readonly leaderNoop?: boolean;
  /** Uniform random number in [0, 1): injected, seeded by the simulator. */
  readonly rand: () => number;
  /**
   * Sleep: a leader with no client activity (propose, read, transfer, wake) for this long,
   * whose followers hold and have committed its whole log, tells them to sleep, and sleeps
   * once every follower it hears from agreed: no heartbeats, no election timers, wakeAt
   * Infinity. Any message, proposal or `wake()` wakes a server. 0 or absent: never sleeps.
   */
  readonly sleepAfterMs?: number;
  /**
   * Resume leading after a reload when the durable state says this server led its current
   * term (HardState.ledTerm). The Durable Object sets it for resets of its object (eviction,
   * a deploy); a restart after an ordered crash comes back as a follower, as the reference's does.
   */
  readonly resumeLeadership?: boolean;
  /**
   * Narration sink; the core prefixes every line with `[id] `. `level` says what kind of
   * line it is (see NarrationLevel); a sink that wants every line may ignore it.
   */
  readonly log?: (line: string, level?: NarrationLevel) => void;
}

/** What a server durably had when it (re)starts. A brand-new server passes empty state. */
export interface RestoredState {
  readonly hardState: HardState;
  /** The snapshot the stored state machine was restored from, if any; the log starts after it. */
  readonly snapshot?: SnapshotMeta;
  /** The stored log, entries with index (snapshot.index + 1)..n in order. */
  readonly entries: readonly Entry[];
  /**
   * Index up to which the host's state machine has already applied (durably) what it
   * restores itself; 0 to have every committed entry handed to it again.
   */
  readonly applied: number;
}

export type TransferResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: "not_leader" | "unknown_server"; readonly leader: NodeId | null };

export type ReadIndexResult =
  | { readonly accepted: true }
  | { readonly accepted: false; readonly leader: NodeId | null };

export type ProposeResult =
  | { readonly accepted: true; readonly index: number; readonly term: number }
  | { readonly accepted: false; readonly leader: NodeId | null };

export interface RaftStatus {
  readonly id: NodeId;
  /** A pre-candidate reports "Follower": it has raised no term and holds no vote of its own. */
  readonly state: Role;
  /** Polling the cluster with PreVote (only with `preVote` on). */
  readonly preCandidate: boolean;
  /** The follower a leadership transfer is handing over to, if one is under way. */
  readonly transferringTo: NodeId | null;
  readonly term: number;
  readonly votedFor: NodeId | null;
  readonly leader: NodeId | null;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly logLength: number;
  /** The last index folded into a snapshot (0: none). */
  readonly snapshotIndex: number;
  /** Asleep with its idle cluster: no timer runs until a message, a proposal or wake(). */
  readonly asleep: boolean;
  /** This life of the server (HardState.life): 0 until a load resumes leading, one more at each such resume. */
  readonly life: number;
  /** The configuration in force here: the latest in this server's log (committed or not). */
  readonly membership: Membership;
  /** The index of the entry that made it (0 for the initial one, or the snapshot's index). */
  readonly membershipIndex: number;
  /** This server's place in that configuration. */
  readonly member: "voter" | "learner" | "removed";
}
