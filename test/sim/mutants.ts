// Deliberately broken cores and hosts, one per invariant, to prove that each checker can
// fire: a checker that never fires proves nothing. Each mutant names the invariant that must
// catch it and the options that plug it into a random run. Where the checker that would fire
// first is not the one under test, the mutant switches that one off (`disabled`), so the
// next line of defence is shown to hold on its own.
//
// Some mutants reach into the core's private fields: TypeScript's `private` is a compile-time
// notion, and a mutant is by definition code that does what the real one must not. The core
// mutants (Figure 2's rules broken one at a time) replace one of its private handlers on a
// subclass's prototype (`replaceMethod`), wrapping the real one, so src/raft stays untouched.

import { Raft } from "../../src/raft/raft.ts";
import type {
  AppendEntries,
  AppendEntriesReply,
  Entry,
  Membership,
  Message,
  NodeId,
  ProposeResult,
  RaftConfig,
  Ready,
  RequestVote,
  RestoredState,
} from "../../src/raft/types.ts";
import { COUNTING_MUTANTS, LATE_QUIESCE } from "./counting-mutants.ts";
import type { InvariantName } from "./invariants.ts";
import { DEFAULT_KNOBS, type RandomRunOptions } from "./random-run.ts";

export interface Mutant {
  readonly name: string;
  readonly what: string;
  /** The checker that must catch it. */
  readonly caughtBy: InvariantName;
  /** How to run it (merged into the random run's options). */
  readonly options: Omit<RandomRunOptions, "seed">;
  /** Give up (and fail the test) after this many seeds. */
  readonly maxSeeds: number;
}

function factory(ctor: new (c: RaftConfig, r: RestoredState, now: number) => Raft): RandomRunOptions["raftFactory"] {
  return (config, restored, now) => new ctor(config, restored, now);
}

/** What the core mutants read of the core's private state. */
interface CoreInside {
  term: number;
  votedFor: NodeId | null;
  readonly log: { readonly snapshotIndex: number; term(index: number): number | undefined };
}

/** Raft's own method `name` (private ones included), to call from a replacement. */
function raftMethod<A extends unknown[], R>(name: string): (this: Raft, ...args: A) => R {
  const f = (Raft.prototype as unknown as Record<string, unknown>)[name];
  if (typeof f !== "function") throw new Error(`mutants: Raft has no method ${name}`);
  return f as (this: Raft, ...args: A) => R;
}

/** A subclass of Raft whose method `name` is `body` (which may call the real one). */
function replaceMethod<A extends unknown[], R>(
  name: string,
  body: (self: CoreInside, real: (...args: A) => R, ...args: A) => R,
): new (c: RaftConfig, r: RestoredState, now: number) => Raft {
  const real = raftMethod<A, R>(name);
  class Mutated extends Raft {}
  Object.defineProperty(Mutated.prototype, name, {
    value: function (this: Raft, ...args: A): R {
      return body(this as unknown as CoreInside, (...a: A) => real.apply(this, a), ...args);
    },
    writable: true,
    configurable: true,
  });
  return Mutated;
}

/**
 * Grants a vote whatever the candidate's log (the §5.4.1 election restriction dropped): it
 * judges every candidate's log at least as up to date as its own.
 */
const IgnoresUpToDateCheck = replaceMethod<[RequestVote], void>("handleRequestVote", (_self, real, m) =>
  real({ ...m, lastLogTerm: Number.MAX_SAFE_INTEGER, lastLogIndex: Number.MAX_SAFE_INTEGER }),
);

/** Votes for every candidate of its term that asks, not only the first (votedFor is ignored). */
const VotesTwice = replaceMethod<[RequestVote], void>("handleRequestVote", (self, real, m) => {
  if (m.term === self.term && self.votedFor !== null && self.votedFor !== m.candidateId) self.votedFor = null;
  real(m);
});

/** Grants the vote but does not record it: votedFor stays as it was, so nothing is persisted. */
const GrantsVoteWithoutRecording = replaceMethod<[RequestVote], void>("handleRequestVote", (self, real, m) => {
  const before = self.votedFor;
  real(m);
  self.votedFor = before;
});

/**
 * Skips AppendEntries' consistency check (Figure 2, receiver step 2): any entry it holds at
 * prevLogIndex is taken to match the leader's, whatever its term (a log too short to hold
 * prevLogIndex is still refused: there would be a hole).
 */
const SkipsPrevLogCheck = replaceMethod<[AppendEntries], unknown>("appendFromLeader", (self, real, m) => {
  const mine = m.prevLogIndex >= self.log.snapshotIndex ? self.log.term(m.prevLogIndex) : undefined;
  return real(mine === undefined ? m : { ...m, prevLogTerm: mine });
});

/** Figure 8's bug: a leader commits an entry of an earlier term by counting replicas. */
export class CommitsEarlierTerms extends Raft {
  protected override isCommittable(_index: number): boolean {
    return true;
  }
}

/** A follower that forgets its commitIndex whenever it steps down or hears a higher term. */
class ForgetsCommitIndex extends Raft {
  override step(m: Message, now: number): void {
    const before = this.status();
    super.step(m, now);
    const after = this.status();
    if (after.term > before.term || (before.state === "Leader" && after.state !== "Leader")) {
      (this as unknown as { commitIndex: number }).commitIndex = 0;
    }
  }
}

/** Counts a quorum as one: every candidate wins at once. */
class QuorumOfOne extends Raft {
  protected override electionQuorum(): number {
    return 1;
  }
}

/** Judges every candidate's log out of date: no vote is ever granted, no leader is ever elected. */
class NeverVotes extends Raft {
  override step(m: Message, now: number): void {
    super.step(m.type === "RequestVote" ? { ...m, lastLogTerm: -1, lastLogIndex: -1 } : m, now);
  }
}

/** Answers an accepted proposal with the wrong log index. */
class WrongProposeIndex extends Raft {
  override propose(command: unknown, now: number): ProposeResult {
    const r = super.propose(command, now);
    return r.accepted ? { ...r, index: r.index + 1 } : r;
  }
}

/** Asks to be woken "now", forever, without ever doing anything. */
class WakesNow extends Raft {
  override ready(): Ready {
    return { ...super.ready(), wakeAt: -1 };
  }
}

/** Answers every AppendEntries reply with a fresh AppendEntries, and sends every message twice. */
class Chatty extends Raft {
  override step(m: Message, now: number): void {
    super.step(m, now);
    if (m.type !== "AppendEntriesReply" || this.status().state !== "Leader") return;
    const self = this as unknown as { progress: Map<number, unknown>; sendAppend(peer: number, pr: unknown): void };
    const pr = self.progress.get(m.from);
    if (pr) self.sendAppend(m.from, pr);
  }

  override ready(): Ready {
    const r = super.ready();
    return { ...r, messages: [...r.messages, ...r.messages] };
  }
}

/**
 * A pre-candidate that raises its term before polling (and forgets its vote, as a new term
 * does): what PreVote exists to prevent. Its PreVotes carry the new term, which it persists
 * first, so only the status check of PreVoteTermStable can tell.
 */
class PreCandidateBumpsTerm extends Raft {
  override tick(now: number): void {
    const self = this as unknown as { role: string; term: number; votedFor: number | null; electionDeadline: number };
    if (self.role !== "Leader" && now >= self.electionDeadline) {
      self.term += 1;
      self.votedFor = null;
    }
    super.tick(now);
  }
}

/** What the sleep and resume mutants read and write of the core's private state. */
interface SleepInside {
  role: string;
  term: number;
  votedFor: NodeId | null;
  /** The core's leader-life module (leader-life.ts), whose private state the mutants reach. */
  lives: { ledTerm: number; sleeping: boolean; commitKnown: boolean; quiescing: unknown; wokeAt: number; readonly life: number };
  electionDeadline: number;
  outbox: Message[];
  becomeLeader(resumed?: boolean): void;
  fallAsleep(): void;
}

/**
 * Resumes leading after a reset whenever it voted for itself in its durable term, without the
 * durable "led term" mark: a candidate that lost its election comes back as a leader of a term
 * someone else may have won.
 */
class ResumesWithoutMark extends Raft {
  constructor(config: RaftConfig, restored: RestoredState, now: number) {
    super(config, restored, now);
    const self = this as unknown as SleepInside;
    if (config.resumeLeadership && self.role !== "Leader" && self.term > 0 && self.votedFor === config.id) self.becomeLeader(true);
  }
}

/**
 * Resumes leading after a reset if it ever led a term up to its durable one (ledTerm <= term
 * instead of ===): a leader deposed by a newer term comes back as a leader of that newer term.
 */
class ResumesAfterNewerTerm extends Raft {
  constructor(config: RaftConfig, restored: RestoredState, now: number) {
    super(config, restored, now);
    const self = this as unknown as SleepInside;
    if (config.resumeLeadership && self.role !== "Leader" && self.lives.ledTerm > 0 && self.lives.ledTerm <= self.term) self.becomeLeader(true);
  }
}

/**
 * A resumed leader that trusts its restored commitIndex (what its host had applied) as the
 * cluster's: it answers ReadIndex reads at once, at an index that may be stale.
 */
class ResumedLeaderTrustsItsCommit extends Raft {
  constructor(config: RaftConfig, restored: RestoredState, now: number) {
    super(config, restored, now);
    const self = this as unknown as SleepInside;
    if (self.role === "Leader") self.lives.commitKnown = true;
  }
}

/**
 * A follower that sleeps on any quiesce heartbeat of its term, without checking that its log
 * ends where the leader's does and that it has committed all of it; it answers "asleep".
 */
const SleepsOnAnyQuiesce = replaceMethod<[AppendEntries], void>("handleAppendEntries", (inside, real, m) => {
  real(m);
  const self = inside as unknown as SleepInside;
  if (m.quiesce === undefined || m.term !== self.term || self.lives.sleeping || self.role !== "Follower") return;
  self.lives.sleeping = true;
  self.electionDeadline = Infinity;
  const last = self.outbox[self.outbox.length - 1];
  if (last?.type === "AppendEntriesReply" && last.to === m.from) self.outbox[self.outbox.length - 1] = { ...last, asleep: true, quiesce: m.quiesce, ...(m.life !== undefined ? { life: m.life } : {}) };
});

/** A leader that falls asleep as soon as it tells its followers to, without waiting for them to agree. */
const LeaderSleepsAlone = replaceMethod<[], void>("startQuiesce", (inside, real) => {
  real();
  const self = inside as unknown as SleepInside;
  if (!self.lives.sleeping) self.fallAsleep();
});

// --- membership (issue 12) -------------------------------------------------------------------

/** Two changes in flight: a leader appends a configuration entry while the previous one is uncommitted. */
class ChangesWhilePending extends Raft {
  protected override allowsChangeWhilePending(): boolean {
    return true;
  }
}

/**
 * The raft-dev 2015 bug: a new leader changes the membership before it has committed an entry
 * of its own term, so its change may conflict with an uncommitted one of an earlier leader
 * (raft-dev-membership.ts scripts the schedule that loses a committed configuration).
 */
export class NoOwnTermCommit extends Raft {
  protected override requiresOwnTermCommit(): boolean {
    return false;
  }
}

/** What the membership mutants read of the core's private state. */
interface MembershipInside {
  countLearners?: boolean;
  readonly history: { readonly current: Membership };
  readonly log: { truncateFrom(index: number): void };
}

/**
 * A leader that counts its learners toward the commit quorum (as if they were voters): the
 * commit rule's majority is computed over voters and learners.
 */
export const CommitCountsLearners = (() => {
  const Base = replaceMethod<[], boolean>("maybeCommit", (self, real) => {
    const inside = self as unknown as MembershipInside;
    inside.countLearners = true;
    try {
      return real();
    } finally {
      inside.countLearners = false;
    }
  });
  const conf = Object.getOwnPropertyDescriptor(Raft.prototype, "conf");
  if (!conf?.get) throw new Error("mutants: Raft has no conf getter");
  Object.defineProperty(Base.prototype, "conf", {
    get(this: Raft): Membership {
      const m = conf.get!.call(this) as Membership;
      return (this as unknown as MembershipInside).countLearners ? { voters: [...m.voters, ...m.learners], learners: [] } : m;
    },
    configurable: true,
  });
  return Base;
})();

/** A follower that truncates its log without rolling its configuration back (MembershipHistory is not told). */
const TruncationKeepsConfiguration = replaceMethod<[number], void>("truncateFrom", (self, _real, index) => {
  (self as unknown as MembershipInside).log.truncateFrom(index);
});

/** Trips over its own feet after a while (an assertion in the core). */
class ThrowsLater extends Raft {
  override tick(now: number): void {
    if (now > 3000) throw new Error("mutant: assertion failed in tick");
    super.tick(now);
  }
}

// --- leader lives (issue 19): each bug put back ----------------------------------------------


/** Counts a read round's answer from any life of itself, as when rounds were numbered from the clock. */
const ReadRoundsIgnoreLife = replaceMethod<[AppendEntriesReply], void>("readAcknowledged", (self, real, m) =>
  real({ ...m, life: (self as unknown as SleepInside).lives.life }),
);

/** A leader that steps down keeps its led-term mark: a reload resumes the leadership it gave up. */
const StepDownKeepsLedMark = replaceMethod<[number, NodeId | null, boolean?], void>("becomeFollower", (self, real, ...args) => {
  const lives = (self as unknown as SleepInside).lives;
  const led = lives.ledTerm;
  real(...args);
  lives.ledTerm = led;
});

/** A follower woken from sleep does not count its (sleeping) leader as just heard. */
const WakeForgetsLeader = replaceMethod<[string], void>("wakeUp", (self, real, why) => {
  const lives = (self as unknown as SleepInside).lives;
  const before = lives.wokeAt;
  real(why);
  lives.wokeAt = before;
});

/**
 * A leader counts an "asleep" answer to any quiesce round, of any life. The random search
 * seldom brings a late answer into a later round (its clusters sleep mostly once healed):
 * mutants.test.ts runs it through the story that does (leader-lives-stories.ts).
 */
export class CountsStaleAsleep extends Raft {
  protected override answersQuiesceRound(): boolean {
    return (this as unknown as SleepInside).lives.quiescing !== null;
  }
}

/**
 * The lossy-network sleep bug put back: a quiesce round that did not complete by the next
 * heartbeat is given up without asking again, and the leader waits another whole idle
 * period. mutants.test.ts runs it through the lossy-network story (leader-lives-stories.ts).
 */
export class LostQuiesceRestartsIdleWait extends Raft {
  override tick(now: number): void {
    const lives = (this as unknown as { lives: { quiescing: unknown; lastActivity: number } }).lives;
    const asking = lives.quiescing !== null;
    super.tick(now);
    if (asking && lives.quiescing !== null) {
      lives.quiescing = null; // given up at the first heartbeat...
      lives.lastActivity = now; // ...and the whole idle wait starts over
    }
  }
}

const SHORT = { faultMs: 5000 } as const;
/** Sleep on, evictions and deploys often: the sleep and resume mutants' schedule. */
const SLEEPY = {
  sleep: true,
  knobs: { faultMs: 5000, weights: { ...DEFAULT_KNOBS.weights, evict: 4, evictLeader: 3, deploy: 2 } },
} as const;

export const MUTANTS: readonly Mutant[] = [
  {
    name: "commit-earlier-terms",
    what: "isCommittable() returns true: entries of earlier terms are committed by counting (Figure 8)",
    caughtBy: "CommitRule",
    options: { raftFactory: factory(CommitsEarlierTerms), knobs: SHORT },
    maxSeeds: 20,
  },
  {
    name: "disk-forgets-votedFor",
    what: "the disk never stores votedFor",
    caughtBy: "PersistenceContract",
    options: { faults: { persistHardState: (_id, _onDisk, next) => ({ ...next, votedFor: null }) }, knobs: SHORT },
    maxSeeds: 10,
  },
  {
    name: "disk-forgets-votedFor/double-vote",
    what: "the same, PersistenceContract and DurableBeforeSend off: after a restart the server votes again in the same term",
    caughtBy: "NoDoubleVote",
    options: {
      faults: { persistHardState: (_id, _onDisk, next) => ({ ...next, votedFor: null }) },
      disabled: ["PersistenceContract", "DurableBeforeSend"],
      servers: 3,
    },
    maxSeeds: 200,
  },
  {
    name: "disk-forgets-term",
    what: "the disk never updates the term; PersistenceContract and DurableBeforeSend off: a restart goes back in time",
    caughtBy: "MonotonicTerm",
    options: {
      faults: { persistHardState: (_id, onDisk, next) => ({ ...next, term: onDisk.term }) },
      disabled: ["PersistenceContract", "DurableBeforeSend"],
      knobs: SHORT,
    },
    maxSeeds: 20,
  },
  {
    name: "swallow-persist-failure",
    what: "when the disk refuses a write, the host logs it and goes on with the core's memory (sends, applies) instead of resetting",
    caughtBy: "PersistenceContract",
    options: { diskFaults: true, faults: { swallowRefusedWrites: true }, knobs: SHORT },
    maxSeeds: 20,
  },
  {
    name: "swallow-persist-failure/ack",
    what: "the same, PersistenceContract off: a message claims what was never stored (an ack, a vote, an entry, a term)",
    caughtBy: "DurableBeforeSend",
    options: { diskFaults: true, faults: { swallowRefusedWrites: true }, disabled: ["PersistenceContract"], knobs: SHORT },
    maxSeeds: 20,
  },
  {
    name: "ignores-up-to-date-check",
    what: "a server grants its vote whatever the candidate's log (no election restriction, §5.4.1)",
    caughtBy: "LeaderCompleteness",
    options: { raftFactory: factory(IgnoresUpToDateCheck), knobs: SHORT },
    maxSeeds: 50,
  },
  {
    name: "votes-twice",
    what: "a server grants a vote to every candidate of its term that asks, not only the first",
    caughtBy: "NoDoubleVote",
    options: { raftFactory: factory(VotesTwice), knobs: SHORT },
    maxSeeds: 50,
  },
  {
    name: "votes-twice/two-leaders",
    what: "the same, NoDoubleVote off: two candidates win the same term",
    caughtBy: "ElectionSafety",
    options: { raftFactory: factory(VotesTwice), disabled: ["NoDoubleVote"], knobs: SHORT },
    maxSeeds: 100,
  },
  {
    name: "grants-vote-without-recording",
    what: "a server grants its vote without recording it (votedFor unchanged, nothing persisted)",
    caughtBy: "DurableBeforeSend",
    options: { raftFactory: factory(GrantsVoteWithoutRecording), knobs: SHORT },
    maxSeeds: 20,
  },
  {
    name: "grants-vote-without-recording/double-vote",
    what: "the same, DurableBeforeSend off: having recorded nothing, it votes again in the same term",
    caughtBy: "NoDoubleVote",
    options: { raftFactory: factory(GrantsVoteWithoutRecording), disabled: ["DurableBeforeSend"], knobs: SHORT },
    maxSeeds: 50,
  },
  {
    name: "skips-prev-log-check",
    what: "a follower appends after any entry it holds at prevLogIndex, whatever its term (no consistency check)",
    caughtBy: "LogMatching",
    options: { raftFactory: factory(SkipsPrevLogCheck), knobs: SHORT },
    maxSeeds: 50,
  },
  {
    name: "applier-reorders",
    what: "server 0's state machine applies each batch of committed entries backwards",
    caughtBy: "StateMachineSafety",
    options: { faults: { apply: (id, entries) => (id === 0 ? [...entries].reverse() : entries) }, knobs: SHORT },
    maxSeeds: 50,
  },
  {
    name: "ready-committed-reversed",
    what: "the host receives Ready.committed backwards",
    caughtBy: "ApplyOrder",
    options: { faults: { ready: (_id, r) => ({ ...r, committed: [...r.committed].reverse() }) }, knobs: SHORT },
    maxSeeds: 50,
  },
  {
    name: "leader-rewrites-log",
    what: "a leader's log write restarts one entry early, overwriting an entry it already holds",
    caughtBy: "LeaderAppendOnly",
    options: {
      faults: {
        ready: (id, r, cluster): Ready => {
          const w = r.logWrite;
          const st = cluster.core(id)?.status();
          if (!w || w.fromIndex <= 1 || st?.state !== "Leader" || w.entries.length === 0) return r;
          const prev: Entry | undefined = cluster.disk(id).entry(w.fromIndex - 1);
          return prev ? { ...r, logWrite: { fromIndex: w.fromIndex - 1, entries: [prev, ...w.entries] } } : r;
        },
      },
      knobs: SHORT,
    },
    maxSeeds: 20,
  },
  {
    name: "network-corrupts-entries",
    what: "the network rewrites the command of entries carried to server 1",
    caughtBy: "LogMatching",
    options: {
      tamper: (c) => {
        c.net.tamper = (m) =>
          m.type === "AppendEntries" && m.to === 1 && m.entries.length > 0
            ? { ...m, entries: m.entries.map((e) => ({ ...e, command: "corrupted" })) }
            : m;
      },
      knobs: SHORT,
    },
    maxSeeds: 20,
  },
  {
    name: "reads-without-waiting",
    what: "the host answers every ReadIndex read from whatever it has applied (as if its index were 0)",
    caughtBy: "ReadIndexSafety",
    options: { faults: { ready: (_id, r) => ({ ...r, reads: r.reads.map((x) => ({ ...x, index: 0 })) }) }, knobs: SHORT },
    maxSeeds: 20,
  },
  {
    name: "snapshot-data-corrupted",
    what: "the network corrupts the state machine carried by InstallSnapshot",
    caughtBy: "SnapshotSafety",
    options: corruptedSnapshots([]),
    maxSeeds: 60,
  },
  {
    name: "snapshot-data-corrupted/state-machine",
    what: "the same, SnapshotSafety off: the follower's state machine then disagrees with the others'",
    caughtBy: "StateMachineSafety",
    options: corruptedSnapshots(["SnapshotSafety"]),
    maxSeeds: 60,
  },
  {
    name: "snapshot-drops-entry",
    what: "a host that keeps snapshot copies leaves the second command out of every copy it folds",
    caughtBy: "SnapshotSafety",
    options: {
      servers: 3,
      knobs: SHORT,
      compactEvery: 3,
      snapshotSource: "stored",
      faults: { snapshot: (_id, machine) => [...machine.slice(0, 1), ...machine.slice(2)] },
    },
    maxSeeds: 10,
  },
  {
    name: "live-snapshot-drops-entry",
    what: "a live-snapshot host (the Durable Object's way) leaves the last command out of the state it sends",
    caughtBy: "SnapshotSafety",
    options: {
      servers: 3,
      knobs: SHORT,
      compactEvery: 3,
      snapshotSource: "live",
      faults: { snapshot: (_id, machine) => machine.slice(0, -1) },
    },
    maxSeeds: 60,
  },
  {
    name: "precandidate-bumps-term",
    what: "a server raises its term (and forgets its vote) before it polls with PreVote",
    caughtBy: "PreVoteTermStable",
    options: { raftFactory: factory(PreCandidateBumpsTerm), raftOptions: { preVote: true }, knobs: SHORT },
    maxSeeds: 5,
  },
  {
    name: "prevote-claims-next-term",
    what: "the host sends every PreVote with the term the election would have (term + 1), which nobody persisted",
    caughtBy: "PreVoteTermStable",
    options: {
      raftOptions: { preVote: true },
      faults: {
        ready: (_id, r) => ({ ...r, messages: r.messages.map((m) => (m.type === "PreVote" ? { ...m, term: m.term + 1 } : m)) }),
      },
      knobs: SHORT,
    },
    maxSeeds: 5,
  },
  {
    name: "forgets-commit-index",
    what: "a server resets commitIndex to 0 when it steps down or sees a higher term",
    caughtBy: "MonotonicCommit",
    options: { raftFactory: factory(ForgetsCommitIndex), knobs: SHORT },
    maxSeeds: 50,
  },
  {
    name: "quorum-of-one",
    what: "a candidate counts itself as a majority",
    caughtBy: "ElectionSafety",
    // The first illegitimate leader usually lacks committed entries: LeaderCompleteness would
    // fire first; and ElectionQuorum before it, at the win (quorum-of-one/election-quorum).
    options: { raftFactory: factory(QuorumOfOne), disabled: ["LeaderCompleteness", "ElectionQuorum"], knobs: SHORT },
    maxSeeds: 50,
  },
  {
    name: "quorum-of-one/election-quorum",
    what: "the same, every checker on: the win itself is counted wrong",
    caughtBy: "ElectionQuorum",
    options: { raftFactory: factory(QuorumOfOne), knobs: SHORT },
    maxSeeds: 50,
  },
  {
    name: "never-votes",
    what: "every candidate's log is judged out of date, so no leader is ever elected",
    caughtBy: "Liveness",
    options: { raftFactory: factory(NeverVotes), knobs: { faultMs: 1000, livenessBudgetMs: 3000 } },
    maxSeeds: 5,
  },
  {
    name: "chatty-leader",
    what: "a leader answers every AppendEntries reply with a new AppendEntries and sends every message twice",
    caughtBy: "MessageStorm",
    options: { raftFactory: factory(Chatty), knobs: SHORT },
    maxSeeds: 3,
  },
  {
    name: "wrong-propose-index",
    what: "propose() answers the wrong log index",
    caughtBy: "WellFormed",
    options: { raftFactory: factory(WrongProposeIndex), knobs: SHORT },
    maxSeeds: 10,
  },
  {
    name: "wakes-now-forever",
    what: "every Ready asks to be woken immediately",
    caughtBy: "Livelock",
    // Sleep off: asleep, asking for a timer would be SleepSafety's to report.
    options: { raftFactory: factory(WakesNow), sleep: false, knobs: { faultMs: 1000 } },
    maxSeeds: 3,
  },
  {
    name: "resumes-without-mark",
    what: "after a reset, a server resumes leading whenever it voted for itself in its durable term (no durable led-term mark)",
    caughtBy: "ResumeSafety",
    options: { raftFactory: factory(ResumesWithoutMark), ...SLEEPY },
    maxSeeds: 30,
  },
  {
    name: "resumes-without-mark/two-leaders",
    what:
      "the same, ResumeSafety off: a candidate that lost comes back leading the term another server won " +
      "(LeaderCompleteness and StateMachineSafety off too: a resumed loser of a term nobody won trips them first)",
    caughtBy: "ElectionSafety",
    options: { raftFactory: factory(ResumesWithoutMark), disabled: ["ResumeSafety", "LeaderCompleteness", "StateMachineSafety"], ...SLEEPY },
    maxSeeds: 30,
  },
  {
    name: "resumes-after-newer-term",
    what: "after a reset, a server resumes leading if it led any term up to its durable one (ledTerm <= term, not ===)",
    caughtBy: "ResumeSafety",
    options: { raftFactory: factory(ResumesAfterNewerTerm), ...SLEEPY },
    maxSeeds: 30,
  },
  {
    name: "resumes-after-newer-term/two-leaders",
    what:
      "the same, ResumeSafety off: a deposed leader comes back leading the newer term another server won " +
      "(LeaderCompleteness and StateMachineSafety off too, as above)",
    caughtBy: "ElectionSafety",
    options: { raftFactory: factory(ResumesAfterNewerTerm), disabled: ["ResumeSafety", "LeaderCompleteness", "StateMachineSafety"], ...SLEEPY },
    maxSeeds: 30,
  },
  {
    name: "resumed-leader-trusts-its-commit",
    what: "a resumed leader takes its restored commitIndex (what its host had applied) for the cluster's and answers reads at once",
    caughtBy: "ReadIndexSafety",
    options: { raftFactory: factory(ResumedLeaderTrustsItsCommit), ...SLEEPY },
    maxSeeds: 60,
  },
  {
    name: "sleeps-on-any-quiesce",
    what: "a follower sleeps on any quiesce heartbeat of its term, whatever its log and commit index",
    caughtBy: "SleepSafety",
    // Late quiesce copies: under SLEEPY, 1 seed in 100 reached a follower where it differs.
    // Quiesce rounds ask again at every heartbeat (issue 19), so a follower is rarely behind
    // when asked; the caught-up story in counting.test.ts is the direct test.
    options: { raftFactory: factory(SleepsOnAnyQuiesce), ...LATE_QUIESCE },
    maxSeeds: 180,
  },
  {
    name: "leader-sleeps-alone",
    what: "a leader falls asleep as soon as it tells its followers to, without waiting for a majority to agree",
    caughtBy: "SleepSafety",
    options: { raftFactory: factory(LeaderSleepsAlone), ...SLEEPY },
    maxSeeds: 10,
  },
  {
    name: "host-never-wakes-on-no-leader",
    what: "the host never wakes the servers when an operation finds no leader (and faults are silent): a sleeping cluster that lost its leader",
    caughtBy: "Liveness",
    options: { ...SLEEPY, hostWakes: { noLeader: false, faultRate: 0 } },
    maxSeeds: 5,
  },
  {
    name: "changes-while-pending",
    what: "allowsChangeWhilePending() returns true: a leader appends a configuration change while the previous one is uncommitted",
    caughtBy: "OneChangeAtATime",
    options: { raftFactory: factory(ChangesWhilePending), membership: true, knobs: SHORT },
    maxSeeds: 20,
  },
  {
    name: "commit-counts-learners",
    what: "a leader counts its learners toward the commit quorum",
    caughtBy: "CommitQuorum",
    options: { raftFactory: factory(CommitCountsLearners), membership: true, knobs: SHORT },
    maxSeeds: 40,
  },
  {
    name: "truncation-keeps-configuration",
    what: "a follower that truncates a configuration entry from its log keeps using that configuration",
    caughtBy: "ConfigInForce",
    options: { raftFactory: factory(TruncationKeepsConfiguration), membership: true, knobs: SHORT },
    maxSeeds: 60,
  },
  {
    name: "snapshot-forgets-configuration",
    what: "the host stores snapshots without their configuration: a reload takes the initial voters for the snapshot's",
    caughtBy: "ConfigInForce",
    options: { faults: { snapshotMembership: () => undefined }, membership: true, compactEvery: 10, knobs: SHORT },
    maxSeeds: 30,
  },
  {
    name: "read-rounds-ignore-life",
    what: "a resumed leader counts answers to read rounds of its earlier lives (rounds not tied to the life that sent them)",
    caughtBy: "ReadRoundQuorum",
    options: { raftFactory: factory(ReadRoundsIgnoreLife), ...SLEEPY },
    maxSeeds: 20,
  },
  {
    name: "step-down-keeps-led-mark",
    what: "a leader that steps down within its term keeps its durable led-term mark: a reload resumes leading",
    caughtBy: "ResumeSafety",
    options: { raftFactory: factory(StepDownKeepsLedMark), ...SLEEPY },
    maxSeeds: 20,
  },
  {
    name: "wake-forgets-leader",
    what: "a follower woken from sleep treats its leader as unheard since the quiesce heartbeat and grants PreVotes at once",
    caughtBy: "PreVoteLease",
    options: { raftFactory: factory(WakeForgetsLeader), raftOptions: { preVote: true }, ...SLEEPY },
    maxSeeds: 60,
  },
  {
    name: "core-throws",
    what: "the core throws from tick() after 3 s",
    caughtBy: "CoreAssertion",
    options: { raftFactory: factory(ThrowsLater), knobs: SHORT },
    maxSeeds: 3,
  },
  // Who counts: votes, and agreement to sleep (counting-mutants.ts).
  ...COUNTING_MUTANTS,
];

/** InstallSnapshot's state machine rewritten in flight (every command replaced). */
function corruptedSnapshots(disabled: InvariantName[]): Omit<RandomRunOptions, "seed"> {
  return {
    servers: 3,
    knobs: SHORT,
    disabled,
    tamper: (c) => {
      c.net.tamper = (m) => {
        if (m.type !== "InstallSnapshot" || !m.data) return m;
        const data = m.data as { machine: readonly Entry[] };
        return { ...m, data: { ...data, machine: data.machine.map((e) => ({ ...e, command: "corrupted" })) } };
      };
    },
    compactEvery: 3,
  };
}

export function mutantByName(name: string): Mutant | undefined {
  return MUTANTS.find((m) => m.name === name);
}
