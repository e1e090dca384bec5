import type { FollowerProgress } from "./compaction.ts";
import { checkAppend } from "./follower-append.ts";
import { installSnapshot } from "./follower-snapshot.ts";
import { RaftLog } from "./log.ts";
import { describe, isMember, MembershipHistory } from "./membership.ts";
import { ignoresCandidate, mayStand, otherMembers, syncProgress } from "./membership-rules.ts";
import { formatAppendEntries, formatAppendReply, formatInstallSnapshot, formatLog, formatPreVote, formatRequestVote, formatVoteReply, receiptLine, staleTermReason } from "./narrate.ts";
import { LeaderTimers } from "./leader-timers.ts";
import { changeMembership, type ChangingLeader } from "./membership-change.ts";
import { maybeHandOver, stepDownIfRemoved, transferTo, type HandingLeader } from "./hand-over.ts";
import { LeaderLife, type FollowerView } from "./leader-life.ts";
import { afterFailedQuiesce, heartbeatOrQuiesce, startQuiesce, type SleepingLeader } from "./leader-sleep.ts";
import { Progress } from "./progress.ts";
import { ReadRounds, type ReadLeader } from "./read-only.ts";
import { hardStateToPersist, wakeAt } from "./ready.ts";
import { snapshotMetaAt } from "./snapshot-meta.ts";
import { appendEntriesFor, retryFrom, snapshotFor, type Sender } from "./replication.ts";
import { voteRequests } from "./vote-requests.ts";
import { majority, quorumIndex } from "./quorum.ts";
import type { AppendEntries, AppendEntriesReply, Entry, HardState, InstallSnapshot, InstallSnapshotReply, Membership } from "./types.ts";
import type { MembershipChange, MembershipChangeResult, Message, NodeId, PreVote, PreVoteReply } from "./types.ts";
import type { ProposeResult, RaftConfig, RaftStatus, ReadIndexResult, Ready, RequestVote, RequestVoteReply } from "./types.ts";
import type { RestoredState, Role, SnapshotMeta, TimeoutNow, TransferResult } from "./types.ts";

/** The roles the core moves between; a pre-candidate is a follower polling for an election. */
type CoreRole = Role | "PreCandidate";

const DEFAULT_MAX_ENTRIES = 256;
const DEFAULT_MAX_BYTES = 256 * 1024;

/**
 * One Raft server, as Figure 2 of the paper describes it, with no I/O of its own.
 *
 * Events come in through `step` (a message from a peer), `tick` (time has passed) and
 * `propose` (a client command); each runs to completion synchronously. What the host must
 * do next accumulates and is drained by `ready()` (see types.ts for the order: persist,
 * send, apply, sleep). Behaviour that differs by role lives in `stepFollower`,
 * `stepCandidate` and `stepLeader`, one of which is installed as `stepRole` on every role
 * change, as etcd's raft does.
 */
export class Raft {
  readonly id: NodeId;
  private readonly config: RaftConfig;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  // Persistent state (Figure 2). Durable via Ready.hardState and Ready.logWrite.
  private term: number;
  private votedFor: NodeId | null;
  private readonly log: RaftLog;
  /**
   * The configurations in the log (membership.ts): the one in force is the latest, committed
   * or not, and a truncation of the log rolls it back.
   */
  private readonly history: MembershipHistory;

  // Volatile state on all servers.
  private role: CoreRole = "Follower";
  private leader: NodeId | null = null;
  /** When this server last heard from a leader of its term (for PreVote's and CheckQuorum's lease). */
  private lastLeaderContact = -Infinity;
  private commitIndex: number;
  private lastApplied: number;

  // Time. `now` is the time of the event being handled; deadlines are absolute on the same clock.
  private now: number;
  private electionTimeout = 0;
  private electionDeadline = 0;

  // Candidate and pre-candidate state.
  private votes = new Set<NodeId>();

  // Leader state, reinitialised after every election.
  private progress = new Map<NodeId, Progress>();
  /** Heartbeat, CheckQuorum and leadership-transfer deadlines, and the transferee (leader-timers.ts). */
  private readonly timers = new LeaderTimers();
  /** ReadIndex reads and their rounds (read-only.ts). */
  private readonly reads = new ReadRounds();
  private readonly readLeader: ReadLeader = { self: () => this.id, voters: () => this.conf.voters, heartbeat: () => this.broadcastAppend(true) };
  /** A membership change's view of the leader (membership-change.ts); the rules' mutation points stay methods here. */
  private readonly changing: ChangingLeader = {
    leader: () => ({ self: this.id, leading: this.role === "Leader", leader: this.role === "Leader" ? this.id : this.leader }),
    state: () => ({ term: this.term, lastTerm: this.log.lastTerm, change: { self: this.id, history: this.history, commitIndex: this.commitIndex, maxEntries: this.maxEntries, progress: this.progress, lastIndex: this.log.lastIndex,
      transferee: this.timers.transferee, ownTermCommitted: this.log.term(this.commitIndex) === this.term, requiresOwnTermCommit: this.requiresOwnTermCommit(), allowsChangeWhilePending: this.allowsChangeWhilePending() } }),
    activity: (why) => this.activity(why), appendNoop: (why) => this.appendNoop(why), narrate: (line) => this.narrate(line), detail: (line) => this.detail(line),
    appendAndSend: (entry) => {
      this.appendEntry(entry);
      this.maybeCommit();
      this.broadcastAppend(false);
    },
  };
  /** The leader's quiesce rounds (leader-sleep.ts); the steps a mutant replaces stay methods here. */
  private readonly sleeping: SleepingLeader = {
    lives: () => this.lives,
    view: () => ({ now: this.now, self: this.id, progress: this.progress, lastIndex: this.log.lastIndex, voters: this.conf.voters, liveWindowMs: this.config.electionTimeoutMs[1],
      term: this.term, commitIndex: this.commitIndex, lastTerm: this.log.lastTerm, busy: this.timers.transferee !== null || this.reads.waiting, sleepAfterMs: this.config.sleepAfterMs ?? 0 }),
    narrate: (line) => this.narrate(line), appendNoop: (why) => this.appendNoop(why), askToSleep: (peer) => this.sendAppend(peer, this.progress.get(peer)!, false, true), heartbeat: () => this.broadcastAppend(true),
    startQuiesce: () => this.startQuiesce(), afterFailedQuiesce: () => this.afterFailedQuiesce(), fallAsleep: () => this.fallAsleep(),
  };
  /** Leadership transfer and a removed leader's hand-over (hand-over.ts). */
  private readonly handing: HandingLeader = {
    timers: this.timers, giveUpAt: () => this.now + this.config.electionTimeoutMs[1], narrate: (line) => this.narrate(line), stepDown: () => this.becomeFollower(this.term, null),
    sendTimeoutNow: (peer) => this.sendTimeoutNow(peer), sendAppend: (peer, pr) => this.sendAppend(peer, pr),
    state: () => ({ self: this.id, conf: this.conf, confIndex: this.history.currentIndex, commitIndex: this.commitIndex, lastIndex: this.log.lastIndex, progress: this.progress, leading: this.role === "Leader" }),
  };
  /** A snapshot from the leader accepted since the last ready(). */
  private installedSnapshot: SnapshotMeta | null = null;

  /** Its lives: the count of loads, the led-term mark, resuming, sleep (leader-life.ts). */
  private readonly lives: LeaderLife;

  // Output, drained by ready().
  private outbox: Message[] = [];
  private lastHardState: HardState;

  private stepRole: (m: Message) => void;

  constructor(config: RaftConfig, restored: RestoredState, now: number) {
    this.config = config;
    this.id = config.id;
    this.maxEntries = config.maxEntriesPerAppend ?? DEFAULT_MAX_ENTRIES;
    this.maxBytes = config.maxBytesPerAppend ?? DEFAULT_MAX_BYTES;

    this.term = restored.hardState.term;
    this.votedFor = restored.hardState.votedFor;
    this.lives = new LeaderLife(restored.hardState);
    this.lastHardState = restored.hardState;
    this.log = new RaftLog(restored.entries, restored.snapshot?.index ?? 0, restored.snapshot?.term ?? 0);
    // A server added later passes the initial voters too: it is in no configuration it
    // knows of, so it waits (never campaigning) until a leader's log or snapshot tells it more.
    const initial: Membership = restored.snapshot?.membership ?? { voters: [...config.peers].sort((a, b) => a - b), learners: [] };
    this.history = new MembershipHistory(initial, this.log.snapshotIndex, restored.entries);
    // What the host applied durably was committed; nothing below it needs handing out again.
    this.lastApplied = Math.min(Math.max(restored.applied, this.log.snapshotIndex), this.log.lastIndex);
    this.commitIndex = this.lastApplied;
    this.now = now;
    this.stepRole = this.stepFollower;
    this.resetElectionTimer();
    if (this.lives.asleep) {
      this.electionDeadline = Infinity;
      this.narrate(`reloads asleep (term=${this.term})`);
    }
    if (config.resumeLeadership && this.lives.mayResume(this.term)) this.becomeLeader(true);
  }

  // ---------------------------------------------------------------------------------------
  // Events in.

  /** A message from a peer. */
  step(m: Message, now: number): void {
    this.now = now;
    if (m.to !== this.id || m.from === this.id) return;
    if (ignoresCandidate(m, this.history, this.commitIndex, this.log.lastTerm, this.log.lastIndex)) {
      this.narrate(`ignoring ${m.type} from ${m.from}: not a voter in ${describe(this.conf)}`);
      return;
    }
    // Any Raft traffic wakes a sleeping server (a returning server's RequestVote, the
    // leader's first AppendEntries after a client woke it, a late reply).
    if (this.lives.asleep && !this.lives.asksAgain(m, this.followerView())) this.wakeUp(`woken by ${m.type} from ${m.from}`);
    this.narrateReceipt(m);

    const lease = m.type === "RequestVote" && m.term > this.term && this.config.checkQuorum && !m.transfer ? this.lease() : null;
    if (lease !== null) {
      // CheckQuorum's other half: while a leader is known to be alive, a higher-term
      // candidate is a server that was cut off, not a sign the leader died. Ignore it.
      this.narrate(`... ignoring RequestVote: ${lease} within the election timeout`);
      return;
    }
    if (m.term > this.term) {
      this.narrate(`${m.type === "RequestVote" || m.type === "AppendEntries" ? "... " : ""}${staleTermReason(m)}`);
      // A higher term alone is no reason to wait longer before standing ourselves: only
      // hearing a leader or granting a vote restarts the countdown (Figure 2). Otherwise a
      // stale candidate's hopeless RequestVote would keep delaying the one server that can win.
      const fromLeader = m.type === "AppendEntries" || m.type === "InstallSnapshot" || m.type === "TimeoutNow";
      this.becomeFollower(m.term, fromLeader ? (m.type === "TimeoutNow" ? m.from : m.leaderId) : null, fromLeader);
    }

    switch (m.type) {
      case "RequestVote":
        return this.handleRequestVote(m);
      case "AppendEntries":
        return this.handleAppendEntries(m);
      case "PreVote":
        return this.handlePreVote(m);
      case "InstallSnapshot":
        return this.handleInstallSnapshot(m);
      case "TimeoutNow":
        return this.handleTimeoutNow(m);
      case "PreVoteReply":
        // Matched to the poll by forTerm, not by the voter's term (which may lag ours).
        return this.stepRole(m);
      default:
        // Replies from an older term answer questions nobody is asking any more.
        if (m.term < this.term) return;
        return this.stepRole(m);
    }
  }

  /** Time has passed: fire whichever deadline is due. Calling it early is harmless. */
  tick(now: number): void {
    this.now = now;
    if (this.lives.asleep) return; // nothing is due while asleep
    if (this.role === "Leader") {
      if (now >= this.timers.checkQuorum && !this.checkQuorum()) return;
      if (now >= this.timers.transferDeadline) {
        this.narrate(`leadership transfer to ${this.timers.transferee} timed out`);
        this.timers.endTransfer();
        if (stepDownIfRemoved(this.handing, "no voter took over in time")) return;
      }
      if (now >= this.timers.heartbeat) {
        const gone = this.reads.expire(now - this.config.electionTimeoutMs[1]);
        if (gone > 0) this.narrate(`gives up on ${gone} read(s) not confirmed by a majority within the election timeout`);
        this.timers.heartbeat = now + this.config.heartbeatMs;
        heartbeatOrQuiesce(this.sleeping, now);
      }
    } else if (now >= this.electionDeadline) {
      if (!this.mayStand()) {
        this.electionDeadline = Infinity;
        return;
      }
      this.campaign(this.config.preVote ? "PreCandidate" : "Candidate", false);
    }
  }

  /** A client command. Only a leader accepts it; it is replicated at once, not at the next heartbeat. */
  propose(command: unknown, now: number): ProposeResult {
    this.now = now;
    if (this.role !== "Leader") return { accepted: false, leader: this.leader };
    // During a transfer new entries would only delay the transferee's catching up.
    if (this.timers.transferee !== null) {
      this.activity("woken by a proposal");
      return { accepted: false, leader: this.timers.transferee };
    }
    const entry: Entry = { index: this.log.lastIndex + 1, term: this.term, command };
    this.appendEntry(entry);
    // Woken with the entry already in its log, the leader's wake-up AppendEntries carry it:
    // the first write after sleeping costs one message per follower, as a warm write does,
    // not a heartbeat each follower handles (and persists) first and then the entry.
    this.activity("woken by a proposal");
    this.detail(`Submit received by Leader: ${formatLog([entry])}`);
    this.maybeCommit();
    this.broadcastAppend(false);
    return { accepted: true, index: entry.index, term: entry.term };
  }

  /** Hand leadership to `target` (thesis §3.10; hand-over.ts): TimeoutNow once it holds the whole log. */
  transferLeadership(target: NodeId, now: number): TransferResult {
    this.now = now;
    if (this.role !== "Leader") return { ok: false, reason: "not_leader", leader: this.leader };
    this.activity("woken by a leadership transfer");
    return transferTo(this.handing, target);
  }

  /** Change the membership by one server (membership-change.ts): the change is done when its configuration entry commits. */
  changeMembership(change: MembershipChange, now: number): MembershipChangeResult {
    this.now = now;
    return changeMembership(this.changing, change);
  }

  /** Mutation points for the simulator's mutants (test/sim/mutants.ts); never overridden here. */
  protected requiresOwnTermCommit(): boolean {
    return true;
  }

  protected allowsChangeWhilePending(): boolean {
    return false;
  }

  /**
   * Whose vote (or pre-vote) counts: a voter of the configuration in force, the candidate
   * itself included only if it is one. Protected for a mutant.
   */
  protected countsVote(id: NodeId): boolean {
    return this.isVoter(id);
  }

  /** Votes that win an election: a majority of the voters. Protected for a mutant. */
  protected electionQuorum(): number {
    return majority(this.conf.voters.length);
  }

  /**
   * A linearizable read without writing to the log. The answer comes through a later
   * Ready: in `reads` (answer once applied up to its index) or `failedReads`.
   */
  readIndex(ctx: string, now: number): ReadIndexResult {
    this.now = now;
    if (this.role !== "Leader") return { accepted: false, leader: this.leader };
    this.activity("woken by a read");
    const known = this.lives.mayServeReads && this.log.term(this.commitIndex) === this.term; // commitIndex is current
    this.reads.arrive(ctx, now, known ? this.commitIndex : null);
    // Nothing of our term left to commit: append a no-op so the reads need not wait for a write.
    if (!known && (this.log.lastTerm !== this.term || this.log.lastIndex === this.commitIndex)) this.appendNoop("so reads can be served");
    this.reads.maybeStartRound(this.readLeader);
    return { accepted: true };
  }

  /**
   * The host has snapshotted its state machine up to `index` (at most what it has applied)
   * and stored that snapshot durably: entries up to there can go. The host deletes its
   * stored copies with the snapshot; a follower that later needs them gets the snapshot.
   */
  compact(index: number): void {
    const upTo = Math.min(index, this.lastApplied);
    if (upTo <= this.log.snapshotIndex) return;
    this.log.compact(upTo);
    this.history.compactedTo(upTo);
    this.narrate(`compacts its log up to index ${upTo} (term ${this.log.snapshotTerm})`);
  }

  /**
   * Something outside Raft wants the cluster awake (the coordinator: a fault, a membership
   * change, a client that found no leader). A sleeping server wakes; for a leader it is also
   * client activity. An awake server's timers are left alone (waking must never delay an
   * election that is due).
   */
  wake(now: number): void {
    this.now = now;
    if (this.role === "Leader") this.activity("woken by the coordinator");
    else if (this.lives.asleep) this.wakeUp("woken by the coordinator");
  }

  // ---------------------------------------------------------------------------------------
  // Output.

  /** Everything to persist, send and apply since the last call, and when to wake next. */
  ready(): Ready {
    const hardState = hardStateToPersist({ term: this.term, votedFor: this.votedFor, ...this.lives.marks() }, this.lastHardState);
    if (hardState) this.lastHardState = hardState;
    const committed = this.commitIndex > this.lastApplied ? this.log.slice(this.lastApplied + 1, this.commitIndex) : [];
    this.lastApplied = this.commitIndex;
    const snapshot = this.installedSnapshot;
    this.installedSnapshot = null;
    const messages = this.outbox;
    this.outbox = [];
    const { reads, failedReads } = this.reads.take();
    return {
      reads,
      failedReads,
      snapshot,
      hardState,
      logWrite: this.log.takeWrite(),
      messages,
      committed,
      wakeAt: wakeAt(this.lives.asleep, this.role === "Leader", this.timers.deadlines(this.electionDeadline)),
    };
  }

  status(): RaftStatus {
    return {
      id: this.id,
      state: this.role === "PreCandidate" ? "Follower" : this.role,
      preCandidate: this.role === "PreCandidate",
      transferringTo: this.timers.transferee,
      term: this.term,
      votedFor: this.votedFor,
      leader: this.leader,
      commitIndex: this.commitIndex,
      lastApplied: this.lastApplied,
      logLength: this.log.lastIndex,
      snapshotIndex: this.log.snapshotIndex,
      asleep: this.lives.asleep,
      life: this.lives.life,
      membership: this.conf,
      membershipIndex: this.history.currentIndex,
      member: this.isVoter() ? "voter" : isMember(this.conf, this.id) ? "learner" : "removed",
    };
  }

  /** The (index, term) a snapshot of the state machine taken at applied index `index` covers (snapshot-meta.ts). */
  snapshotMetaAt(index: number): SnapshotMeta {
    return snapshotMetaAt(this.log, this.history, this.lastApplied, index);
  }

  /**
   * Leader: each follower's matchIndex and when it last answered, for the host's compaction
   * rule (compaction.ts: keep what followers that keep up still need). Empty unless leading.
   */
  followerProgress(): FollowerProgress[] {
    if (this.role !== "Leader") return [];
    return [...this.progress].map(([id, pr]) => ({ id, match: pr.match, lastHeard: pr.lastHeard }));
  }

  /** Entries [from, to] of the in-memory log (for hosts that show or re-derive state). */
  entries(from = 1, to?: number): Entry[] {
    return this.log.slice(from, to);
  }

  // ---------------------------------------------------------------------------------------
  // Role changes.

  private becomeFollower(term: number, leader: NodeId | null, restartTimer = true): void {
    if (term > this.term) {
      this.term = term;
      this.votedFor = null;
    }
    // A deposed leader's election deadline is long past: it always gets a fresh one.
    const wasLeader = this.role === "Leader";
    // Whatever the reason (a newer term, CheckQuorum, its removal handed over), it no longer
    // leads: a reload must not resume. Durable with this event's Ready, before anything it sends.
    if (wasLeader) this.lives.steppedDown();
    this.role = "Follower";
    this.leader = leader;
    this.stepRole = this.stepFollower;
    this.timers.endTransfer();
    this.timers.checkQuorum = Infinity;
    this.reads.failAll();
    this.narrate(`becomes Follower with term=${this.term}; log=${this.logSummary()}`);
    if (restartTimer || wasLeader) this.resetElectionTimer();
  }

  /**
   * Stand (as etcd's campaign). A candidate votes for itself in the next term; a pre-candidate
   * (PreVote) polls the cluster without touching term or vote, and a majority's yes starts the
   * real election.
   */
  private campaign(role: "PreCandidate" | "Candidate", transfer: boolean): void {
    const pre = role === "PreCandidate";
    this.role = role;
    this.stepRole = pre ? this.stepPreCandidate : this.stepCandidate;
    if (!pre) {
      this.term += 1;
      this.votedFor = this.id;
    }
    this.leader = null;
    this.votes = new Set(this.countsVote(this.id) ? [this.id] : []);
    this.narrate(`becomes ${role} (currentTerm=${this.term}); log=${this.logSummary()}`);
    for (const m of voteRequests(pre, transfer, this.conf, { self: this.id, term: this.term, lastLogIndex: this.log.lastIndex, lastLogTerm: this.log.lastTerm })) {
      this.narrate(`sending ${m.type} to ${m.to}: ${m.type === "PreVote" ? formatPreVote(m) : formatRequestVote(m)}`);
      this.send(m);
    }
    this.resetElectionTimer();
    if (this.votes.size < this.electionQuorum()) return;
    if (pre) this.campaign("Candidate", false);
    else this.becomeLeader();
  }

  /**
   * Lead the current term: after winning its election, or, `resumed`, after a reload of a
   * server whose durable state says it won this term and that has heard of no newer one
   * (leader-life.ts says why that is safe, and when reads may be served again).
   */
  private becomeLeader(resumed = false): void {
    this.role = "Leader";
    this.stepRole = this.stepLeader;
    this.leader = this.id;
    this.progress = new Map(otherMembers(this.conf, this.id).map((p) => [p, new Progress(this.log.lastIndex, this.now)]));
    this.narrate(
      resumed
        ? `becomes Leader again after a reload (its durable state says it won this term); term=${this.term}, log=${this.logSummary()}`
        : `becomes Leader; term=${this.term}, log=${this.logSummary()}`,
    );
    this.lives.startLeading(this.term, resumed, this.log.lastIndex, this.commitIndex, this.now);
    this.reads.reset(); // rounds are numbered per life (read-only.ts, reset)
    if (this.lives.asleep) {
      // A sleeping leader reloaded: it stays asleep until something wakes it.
      this.timers.sleep();
      return;
    }
    this.timers.start(this.now, this.config.heartbeatMs, this.config.checkQuorum, this.config.electionTimeoutMs[1]);
    if (this.config.leaderNoop) this.appendNoop("to commit earlier terms");
    else if (this.history.currentIndex > this.commitIndex) {
      // An uncommitted configuration entry is in force: commit it (and so unblock the next
      // change, or a removed leader's hand-over) without waiting for a client's write.
      this.appendNoop("to commit the pending configuration");
    }
    this.broadcastAppend(true);
  }

  // ---------------------------------------------------------------------------------------
  // Handlers common to every role.

  private handleRequestVote(m: RequestVote): void {
    const upToDate = this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
    const grant =
      m.term === this.term && (this.votedFor === null || this.votedFor === m.candidateId) && upToDate;
    if (grant) {
      this.votedFor = m.candidateId;
      this.resetElectionTimer(false);
    } else if (m.term === this.term && !upToDate) {
      this.narrate(`... candidate's log is not up to date (lastLogTerm=${this.log.lastTerm}, lastLogIndex=${this.log.lastIndex})`);
    }
    const reply: RequestVoteReply = { type: "RequestVoteReply", from: this.id, to: m.from, term: this.term, voteGranted: grant };
    this.narrate(`... RequestVote reply: ${formatVoteReply(reply)}`);
    this.send(reply);
  }

  /** Would we vote for this server at term m.term + 1? Nothing of ours changes either way. */
  private handlePreVote(m: PreVote): void {
    const upToDate = this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
    const lease = this.lease();
    const granted = m.term >= this.term && upToDate && lease === null;
    if (lease !== null) this.narrate(`... refusing PreVote: ${lease} within the election timeout`);
    else if (!upToDate) this.narrate(`... refusing PreVote: candidate's log is not up to date`);
    const reply: PreVoteReply = { type: "PreVoteReply", from: this.id, to: m.from, term: this.term, forTerm: m.term, granted };
    this.narrate(`... PreVote reply: {Term:${reply.term} Granted:${granted}}`);
    this.send(reply);
  }

  /** A follower's side of InstallSnapshot (§7): adopt the leader's snapshot unless we already have its contents. */
  private handleInstallSnapshot(m: InstallSnapshot): void {
    let matchIndex = 0;
    if (m.term === this.term) {
      if (this.role !== "Follower") this.becomeFollower(m.term, m.leaderId);
      this.leader = m.leaderId;
      this.lastLeaderContact = this.now;
      this.resetElectionTimer(false);
      matchIndex = m.lastIncludedIndex;
      if (m.lastIncludedIndex <= this.commitIndex) {
        this.narrate(`... snapshot up to ${m.lastIncludedIndex} is already committed here (commitIndex=${this.commitIndex})`);
      } else {
        const before = this.conf;
        this.installedSnapshot = installSnapshot(this.log, this.history, m); // follower-snapshot.ts
        this.commitIndex = this.lastApplied = m.lastIncludedIndex;
        this.narrate(`installs snapshot up to index ${m.lastIncludedIndex} (term ${m.lastIncludedTerm}); log=${this.logSummary()}`);
        if (this.conf !== before) this.configurationChanged(`from the snapshot up to ${m.lastIncludedIndex}`);
      }
    }
    const reply: InstallSnapshotReply = { type: "InstallSnapshotReply", from: this.id, to: m.from, term: this.term, matchIndex };
    this.send(reply);
  }

  private handleTimeoutNow(m: TimeoutNow): void {
    if (m.term < this.term || this.role === "Leader" || !this.isVoter()) return;
    this.narrate(`received TimeoutNow from ${m.from}: starting an election at once`);
    this.campaign("Candidate", true);
  }

  private handleAppendEntries(m: AppendEntries): void {
    let reply: AppendEntriesReply;
    if (m.term < this.term) {
      reply = this.appendReply(m.from, false, 0, 0, -1);
    } else {
      if (this.role === "Leader") throw new Error(`raft: two leaders in term ${this.term} (${this.id} and ${m.leaderId})`);
      if (this.role !== "Follower") this.becomeFollower(m.term, m.leaderId);
      this.leader = m.leaderId;
      this.lastLeaderContact = this.now;
      this.resetElectionTimer(false);
      reply = this.appendFromLeader(m);
    }
    // Echo only to a leader of our own term: a reply to an older leader's message carries
    // our (newer) term, and its echo would be taken by the new leader as an answer to its
    // own round of the same number (found by the simulator: a stale read, seed 833, 7 servers).
    if (m.term === this.term) {
      const life = m.life !== undefined ? { life: m.life } : {};
      if (m.readSeq !== undefined) reply = { ...reply, readSeq: m.readSeq, ...life };
      if (!reply.success) reply = { ...reply, rejectedIndex: m.prevLogIndex };
      else if (this.lives.maySleepOn(m, this.followerView())) {
        // Our log is exactly the leader's and all of it is committed here: nothing can be
        // lost by sleeping. Any message (or the coordinator) wakes us. Asked again (the
        // leader's round lost our answer), we answer again without waking.
        if (!this.lives.asleep) this.narrate(`sleeps (term=${this.term}, commitIndex=${this.commitIndex})`);
        this.lives.fallAsleep();
        this.electionDeadline = Infinity;
        reply = { ...reply, asleep: true, quiesce: m.quiesce, ...life };
      }
    }
    this.detail(`AppendEntries reply: ${formatAppendReply(reply)}`);
    this.send(reply);
  }

  /** The follower's side of AppendEntries (Figure 2, receiver implementation, steps 2–5; follower-append.ts). */
  private appendFromLeader(m: AppendEntries): AppendEntriesReply {
    const c = checkAppend(this.log, m);
    if (!c.ok) return this.appendReply(m.from, false, 0, c.conflictIndex, c.conflictTerm);
    if (c.truncateFrom !== null) this.truncateFrom(c.truncateFrom);
    for (const e of c.fresh) this.appendEntry(e);
    const newCommit = Math.min(m.leaderCommit, c.matchIndex);
    if (newCommit > this.commitIndex) {
      this.detail(`... setting commitIndex=${newCommit}`);
      this.commitIndex = newCommit;
    }
    return this.appendReply(m.from, true, c.matchIndex, 0, -1);
  }

  private appendReply(to: NodeId, success: boolean, matchIndex: number, conflictIndex: number, conflictTerm: number): AppendEntriesReply {
    return { type: "AppendEntriesReply", from: this.id, to, term: this.term, success, matchIndex, conflictIndex, conflictTerm };
  }

  // ---------------------------------------------------------------------------------------
  // Role-specific handling of replies (requests are handled the same in every role).

  private stepFollower(m: Message): void {
    if (m.type === "RequestVoteReply") this.narrate(`while waiting for reply, state = ${this.role}`);
  }

  private stepPreCandidate(m: Message): void {
    if (m.type === "PreVoteReply" && m.forTerm === this.term && m.granted && this.tally(m.from, "pre-vote")) this.campaign("Candidate", false);
  }

  private stepCandidate(m: Message): void {
    if (m.type === "RequestVoteReply" && m.term === this.term && m.voteGranted && this.tally(m.from, "election")) this.becomeLeader();
  }

  /** Count a granted (pre-)vote if it counts; answers whether the votes now win. */
  private tally(from: NodeId, what: "pre-vote" | "election"): boolean {
    if (!this.countsVote(from)) return false;
    this.votes.add(from);
    if (this.votes.size < this.electionQuorum()) return false;
    this.narrate(`wins ${what} with ${this.votes.size} votes`);
    return true;
  }

  private stepLeader(m: Message): void {
    if (m.type === "RequestVoteReply") {
      this.narrate(`while waiting for reply, state = ${this.role}`);
      return;
    }
    if (m.type === "InstallSnapshotReply") {
      const pr = this.progress.get(m.from);
      if (!pr || m.term !== this.term) return;
      pr.snapshotAnswered(m.matchIndex, this.now);
      this.narrate(`InstallSnapshot reply from ${m.from}: matchIndex := ${pr.match}`);
      // A commit advance is not broadcast: followers learn it with the next append or heartbeat.
      this.maybeCommit();
      if (this.role === "Leader" && pr.next <= this.log.lastIndex) this.sendAppend(m.from, pr);
      return;
    }
    if (m.type !== "AppendEntriesReply" || m.term !== this.term) return;
    const pr = this.progress.get(m.from);
    if (!pr) return;
    if (pr.snapshotSentAt !== null) {
      // A snapshot is on its way; this reply (to a bare heartbeat) only shows the follower is alive.
      pr.lastHeard = this.now;
      this.readAcknowledged(m);
      return;
    }
    pr.lastHeard = this.now;
    if (m.asleep && this.answersQuiesceRound(m)) {
      if (this.lives.agreed(m.from)) this.fallAsleep();
      return;
    }
    // Any reply of this term, success or not, shows the follower still takes us as leader.
    this.readAcknowledged(m);
    // Replies may come late, twice or out of order. Only the answer to the append in flight
    // (or a rejection of the attempt at pr.next) may trigger a new send; acting on every
    // copy would multiply messages with each duplicate.
    if (m.success) {
      pr.succeeded(m.matchIndex);
      if (m.from === this.timers.transferee && pr.match === this.log.lastIndex) this.sendTimeoutNow(m.from);
      // Lazy commit propagation: a commit advance is not broadcast on its own. Followers
      // learn it with the next AppendEntries that carries entries or with the next
      // heartbeat, at most heartbeatMs later (SCENARIOS.md, Part 3): under load the next
      // append follows at once, and a lone write saves a round of messages and a
      // transaction on every follower.
      this.maybeCommit();
      if (this.role !== "Leader") return; // it handed over: its removal committed
    } else {
      // Fast backtracking (§5.3; replication.ts): skip the follower's conflicting term.
      if (!pr.rejected(m.rejectedIndex, retryFrom(this.log, m), this.log.lastIndex)) return;
      this.detail(`AppendEntries reply from ${m.from} !success: nextIndex := ${pr.next}`);
    }
    if (!pr.inflight && pr.next <= this.log.lastIndex) this.sendAppend(m.from, pr);
  }

  // ---------------------------------------------------------------------------------------
  // Leader machinery.

  /**
   * CheckQuorum: step down unless a majority (ourselves included) answered since the last
   * check, so a leader cut off from its cluster stops taking writes it cannot commit.
   */
  private checkQuorum(): boolean {
    const lastHeard = (v: NodeId) => this.progress.get(v)?.lastHeard ?? -Infinity;
    const heard = this.timers.quorumLost(this.conf.voters, this.id, lastHeard, this.now, this.config.electionTimeoutMs[1]);
    if (heard === null) return true;
    this.narrate(`steps down: heard from ${heard} of ${this.conf.voters.length} voters within the election timeout`);
    this.becomeFollower(this.term, null);
    return false;
  }

  private sendTimeoutNow(peer: NodeId): void {
    const m: TimeoutNow = { type: "TimeoutNow", from: this.id, to: peer, term: this.term };
    this.narrate(`sending TimeoutNow to ${peer}`);
    this.send(m);
    stepDownIfRemoved(this.handing, `handed leadership to ${peer}`);
  }

  /** Advance commitIndex to the highest index stored on a majority, if it is of this term. */
  private maybeCommit(): boolean {
    // Voters only; a leader being removed still leads but no longer counts itself (thesis §4.2.2).
    const matches = this.conf.voters.map((v) => (v === this.id ? this.log.lastIndex : (this.progress.get(v)?.match ?? 0)));
    const q = quorumIndex(matches);
    if (q <= this.commitIndex || !this.isCommittable(q)) return false;
    this.detail(`leader sets commitIndex := ${q}`);
    this.commitIndex = q;
    // The first commit of our term (after resuming: up to the reloaded log's end): now the
    // commit index is known to be current.
    if (this.lives.committed(q) && this.reads.commitKnown(q)) this.reads.maybeStartRound(this.readLeader);
    maybeHandOver(this.handing);
    return true;
  }

  /** An empty entry of this term: once it commits, so has everything before it. */
  private appendNoop(why: string): void {
    const noop: Entry = { index: this.log.lastIndex + 1, term: this.term, command: null };
    this.appendEntry(noop);
    this.narrate(`appends a no-op entry at index ${noop.index} ${why}`);
    this.maybeCommit();
    if (this.role === "Leader" && this.progress.size > 0) this.broadcastAppend(false);
  }

  /**
   * A reply echoing a read round: it counts for rounds this leader started in this life only.
   * A late reply from before a reset (same term) echoes an earlier life's round numbers.
   */
  private readAcknowledged(m: AppendEntriesReply): void {
    if (m.readSeq === undefined || m.life !== this.lives.life) return;
    if (this.reads.acknowledge(m.from, m.readSeq)) this.reads.confirmAndGoOn(this.readLeader);
  }

  /**
   * The Figure 8 rule: a leader only commits by counting replicas an entry of its own term
   * (earlier ones follow implicitly). Terms never decrease along the log, so checking the
   * quorum index alone is exact. Protected so a test can subclass a mutant that breaks it.
   */
  protected isCommittable(index: number): boolean {
    return this.log.term(index) === this.term;
  }

  /**
   * Send AppendEntries to followers. A heartbeat goes to everyone (and doubles as the retry
   * of anything lost); otherwise only to followers with nothing in flight and entries to
   * receive. A commit advance alone sends nothing: it rides on the next of either.
   */
  private broadcastAppend(heartbeat: boolean): void {
    if (this.role !== "Leader") return; // a removed leader may have just stepped down
    for (const [peer, pr] of this.progress) {
      pr.presumeLost(this.now, heartbeat, this.config.heartbeatMs, this.config.electionTimeoutMs[1]);
      if (!pr.inflight && (heartbeat || pr.next <= this.log.lastIndex)) {
        this.sendAppend(peer, pr);
      } else if (heartbeat) {
        // Entries are already on their way: a bare heartbeat asserts leadership without
        // sending them twice.
        this.sendAppend(peer, pr, false);
      }
    }
  }

  /** AppendEntries to `peer` (replication.ts), or its snapshot if the entries it needs are compacted away. */
  private sendAppend(peer: NodeId, pr: Progress, withEntries = true, quiesce = false): void {
    if (withEntries && pr.next <= this.log.snapshotIndex) return this.sendSnapshot(peer, pr);
    const reading = this.reads.round > 0;
    const m = appendEntriesFor(this.sender(), peer, pr, withEntries, {
      ...(reading ? { readSeq: this.reads.round } : {}),
      ...(quiesce && this.lives.round !== null ? { quiesce: this.lives.round } : {}),
      ...(reading || quiesce ? { life: this.lives.life } : {}),
    });
    this.detail(`sending AppendEntries to ${peer}: ni=${pr.next}, args=${formatAppendEntries(m)}`);
    this.send(m);
  }

  private sendSnapshot(peer: NodeId, pr: Progress): void {
    const m = snapshotFor(this.sender(), peer, pr, this.history.at(this.log.snapshotIndex));
    this.narrate(`sending InstallSnapshot to ${peer}: ni=${pr.next}, args=${formatInstallSnapshot(m)}`);
    this.send(m);
  }

  private sender(): Sender {
    const { id, term, commitIndex, log, now, maxEntries, maxBytes } = this;
    return { id, term, commitIndex, log, now, maxEntries, maxBytes };
  }

  // ---------------------------------------------------------------------------------------
  // Sleep (leader-life.ts has the rules and why).

  private startQuiesce(): void {
    startQuiesce(this.sleeping, this.now + this.config.electionTimeoutMs[1]);
  }

  /** A quiesce round failed: an entry of this term may be what the cluster needs to sleep (leader-sleep.ts). */
  private afterFailedQuiesce(): void {
    afterFailedQuiesce(this.sleeping);
  }

  /** Leader: is this "asleep" the answer to the round under way, in this life? Protected for a mutant. */
  protected answersQuiesceRound(m: AppendEntriesReply): boolean {
    return this.lives.answersRound(m);
  }

  private fallAsleep(): void {
    this.lives.fallAsleep();
    this.timers.sleep();
    this.narrate(`sleeps: its followers are asleep (term=${this.term}, commitIndex=${this.commitIndex})`);
  }

  /** Leader: a client (or the coordinator) wants something: the idle clock restarts, and a sleeping leader wakes. */
  private activity(why: string): void {
    this.lives.activity(this.now);
    if (this.lives.asleep) this.wakeUp(why);
  }

  private wakeUp(why: string): void {
    this.lives.wake(this.now, this.role === "Leader");
    this.narrate(`wakes (${why})`);
    if (this.role !== "Leader") return this.resetElectionTimer();
    // Nobody was expected to answer while the cluster slept: CheckQuorum counts from now.
    for (const pr of this.progress.values()) pr.lastHeard = this.now;
    this.timers.start(this.now, this.config.heartbeatMs, this.config.checkQuorum, this.config.electionTimeoutMs[1]);
    this.broadcastAppend(true);
  }

  private followerView(): FollowerView {
    const { term, leader, commitIndex } = this;
    return { term, leader, commitIndex, lastIndex: this.log.lastIndex, lastTerm: this.log.lastTerm };
  }

  // ---------------------------------------------------------------------------------------
  // Small helpers.

  /**
   * Start a new election countdown with a fresh random timeout. `announce` narrates it; the
   * silent form is the reference's "reset" on hearing from a leader or granting a vote.
   */
  private resetElectionTimer(announce = true): void {
    if (!this.mayStand()) {
      // Learners and removed servers never stand: no election timer (and no alarm) at all.
      this.electionDeadline = Infinity;
      return;
    }
    if (announce) {
      const [lo, hi] = this.config.electionTimeoutMs;
      this.electionTimeout = lo + Math.floor(this.config.rand() * Math.max(0, hi - lo));
      this.detail(`election timer started (${this.electionTimeout}ms), term=${this.term}`);
    }
    this.electionDeadline = this.now + this.electionTimeout;
  }

  private send(m: Message): void {
    this.outbox.push(m);
  }

  // ---------------------------------------------------------------------------------------
  // Membership (membership.ts has the algorithm and why).

  private get conf(): Membership {
    return this.history.current;
  }

  private isVoter(id: NodeId = this.id): boolean {
    return this.conf.voters.includes(id);
  }

  private mayStand(): boolean {
    return mayStand(this.history, this.commitIndex, this.id);
  }

  /** Every append to the log goes through here, so a configuration entry is in force at once. */
  private appendEntry(e: Entry): void {
    this.log.append(e);
    if (this.history.appended(e)) this.configurationChanged(`appended at index ${e.index}`);
  }

  /** A follower drops a conflicting suffix: a configuration entry in it is rolled back with it. */
  private truncateFrom(index: number): void {
    this.log.truncateFrom(index);
    if (this.history.truncatedFrom(index)) this.configurationChanged(`rolled back: entries from ${index} were truncated`);
  }

  private configurationChanged(why: string): void {
    // A leader's own change was narrated as it appended it ("appends configuration ...").
    const line = `configuration is ${describe(this.conf)} (${why})`;
    if (this.role === "Leader") this.detail(line);
    else this.narrate(line);
    if (this.role === "Leader") {
      const want = syncProgress(this.progress, this.conf, this.id, this.log.lastIndex, this.now);
      if (this.timers.transferee !== null && !want.has(this.timers.transferee)) this.timers.endTransfer();
    } else if (!this.mayStand()) {
      this.electionDeadline = Infinity; // a learner, or removed: never stands
    } else if (this.electionDeadline === Infinity && !this.lives.asleep) {
      this.resetElectionTimer(); // promoted: it may stand from now on
    }
  }

  /** Whose lease this server is in, as the narration says it, or null (leader-life.ts). */
  private lease(): string | null {
    return this.lives.lease(this.now, this.leader, this.lastLeaderContact, this.config.electionTimeoutMs[0], this.role === "Leader");
  }

  private narrateReceipt(m: Message): void {
    const r = receiptLine(m, this.term, this.votedFor);
    if (r) this.config.log?.(`[${this.id}] ${r.line}`, r.level);
  }

  private logSummary(): string {
    return formatLog(this.log.slice(this.log.lastIndex - 5), this.log.lastIndex);
  }

  /** A line of the story (NarrationLevel "decision"): what a reader of the console follows. */
  private narrate(line: string): void {
    this.config.log?.(`[${this.id}] ${line}`, "decision");
  }

  /** A line of replication traffic (NarrationLevel "detail"): one or more per message or operation. */
  private detail(line: string): void {
    this.config.log?.(`[${this.id}] ${line}`, "detail");
  }
}
