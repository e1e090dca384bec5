// The properties the simulator checks after every event, and the error that names the one
// that broke. The cluster calls the `on*` hooks at each step of a server's event (persist,
// send, apply) and `afterEvent` once the event is done. Checks are incremental: an event
// changes one server, so comparing that server's change against the recorded cluster history
// is the same as re-checking every server after every event, without the quadratic cost.
// `fullCheck` re-derives the cluster-wide properties from scratch, as a cross-check at the end.

import type { Disk } from "./disk.ts";
import { LeaderLivesChecks, type SleepAck } from "./lives-checks.ts";
import { membershipOf } from "../../src/raft/membership.ts";
import { majority } from "../../src/raft/quorum.ts";
import type { Entry, HardState, LogWrite, Membership, Message, NodeId, RaftStatus } from "../../src/raft/types.ts";

export const INVARIANTS = [
  /** At most one leader per term, across the whole history (restarts included). */
  "ElectionSafety",
  /**
   * Two logs holding an entry with the same index and term are identical up to it; and a
   * follower that tells the leader of its term "I match you up to k" holds there the entry
   * the leader holds.
   */
  "LogMatching",
  /**
   * An entry committed in term T is in the log (or snapshot) of the leader of every term above
   * T, as the paper states it: leaders elected after the commit (checked when they win) and
   * leaders of later terms already elected when it commits (checked then). "Committed in T":
   * a leader of term T advanced its commitIndex over it; failing that (a commit nobody saw),
   * the highest term in existence when some server first applied it.
   */
  "LeaderCompleteness",
  /** No two servers apply different commands at the same position of their state machines. */
  "StateMachineSafety",
  /**
   * A leader never deletes or overwrites entries of its own log while it leads its term,
   * including across a reset after which it resumed leading that term.
   */
  "LeaderAppendOnly",
  /** A server's term never decreases, within a life or across a crash and restart. */
  "MonotonicTerm",
  /** A server's commitIndex and lastApplied never decrease within a life. */
  "MonotonicCommit",
  /** A leader advances commitIndex only onto an entry of its own term (the Figure 8 rule). */
  "CommitRule",
  /** A server grants at most one vote per term (judged from the messages it sent), even across restarts. */
  "NoDoubleVote",
  /**
   * Disk equals memory once a Ready is persisted: the host wrote what the core asked (term,
   * vote, log, snapshot), and nothing the core holds in memory is missing from the disk.
   */
  "PersistenceContract",
  /**
   * Whatever a message claims is already durable when it leaves: the term it carries, a
   * candidate's own vote and the log it campaigns on, a granted vote, the entries and the
   * previous entry a leader sends, the index a follower acknowledges, the snapshot sent.
   */
  "DurableBeforeSend",
  /** Ready.committed hands out log entries in order, without gaps or repeats, and only committed ones. */
  "ApplyOrder",
  /**
   * A ReadIndex read is answered at an index no lower than anything applied anywhere before
   * the read was asked for (so the answer reflects every write acknowledged before it: linearizable).
   */
  "ReadIndexSafety",
  /**
   * PreVote's promise: polling changes nothing durable. A server that becomes a pre-candidate
   * keeps the term and vote it had, and keeps that term for as long as it stays one (its vote
   * may only go, as any follower's may, from nobody to another candidate of that term); the
   * PreVote and PreVoteReply messages it sends never carry a term above its durable term.
   */
  "PreVoteTermStable",
  /**
   * A snapshot never loses a committed entry: whenever a server compacts its log into a
   * snapshot up to k, or installs a leader's snapshot up to k, the state machine content that
   * snapshot stands for holds, at every index 1..k, exactly the command the cluster committed
   * there. And a server's snapshotIndex never goes back, within a life or across a restart.
   */
  "SnapshotSafety",
  /**
   * Resuming leadership (issue 11): a server comes up leading only if its durable state says
   * it won its durable term (ledTerm === term) and the history agrees that it won that term;
   * and the durable led-term mark it writes only ever names a term it is leading as it writes it.
   */
  "ResumeSafety",
  /**
   * Sleeping (issue 11): a follower falls asleep only on a quiesce heartbeat of the leader of
   * its term, with its log ending exactly at the leader's last entry and all of it committed
   * (so nothing can be lost by sleeping); a leader falls asleep only with its whole log
   * committed and after a majority (itself included) agreed to sleep at that last index; and
   * nothing is due while asleep (the core asks for no timer).
   */
  "SleepSafety",
  /**
   * Membership (issue 12): at most one configuration change in flight. A leader appends a
   * configuration entry only when every earlier configuration entry of its log is at or
   * below its own commitIndex; and a leader's log never holds two configuration entries
   * above the cluster's commit index (the highest commitIndex any server has had). A new
   * leader may inherit an uncommitted one (or, as commits propagate lazily, two it does not
   * yet know are committed: hence the cluster's index, not its own), but with the own-term
   * commit rule it adds none of its own before its no-op commits, which commits those.
   */
  "OneChangeAtATime",
  /**
   * One configuration per log index: every server that applies index k applies the same
   * configuration entry there (or the same non-configuration entry). Checked before
   * StateMachineSafety, which would also see it, so that a lost configuration is reported as one.
   */
  "ConfigAgreement",
  /**
   * A server's configuration is the latest configuration entry in its log, committed or not;
   * with none, its snapshot's (the configuration committed as of the snapshot's last entry);
   * with no snapshot, the cluster's initial one. Checked against the disk after every
   * persisted Ready (status.membership, membershipIndex and member), so a truncation must roll
   * the configuration back and a reload must restore it. And every snapshot (compacted,
   * installed, sent) carries the configuration as of its last entry.
   */
  "ConfigInForce",
  /**
   * A leader moves its commitIndex to k only when a majority of the voters of its
   * configuration (the latest in its log; learners and itself, if it is not a voter, do not
   * count) hold entry k on disk (or in a snapshot).
   */
  "CommitQuorum",
  /**
   * A server becomes leader by election only with the votes of a majority of the voters of
   * its configuration (the latest in its log): granted votes delivered to it, and its own if
   * it is one of those voters. A vote from a learner or a removed server, or the candidate's own
   * when its configuration leaves it out, does not count.
   */
  "ElectionQuorum",
  /** Messages and Ready values are well formed (addresses, contiguous log writes, accepted proposals). */
  "WellFormed",
  /** The core threw (one of its own assertions fired). */
  "CoreAssertion",
  /** Virtual time stopped advancing (endless events at one instant). */
  "Livelock",
  /** Pending events (messages in flight, timers) grew past a bound: traffic that feeds on itself. */
  "MessageStorm",
  /**
   * After faults stop and the network heals, a leader emerges and new proposals commit
   * everywhere in bounded time; with sleep on, an idle healthy cluster falls asleep, and every
   * operation that arrives afterwards (the leader lost while asleep, a deploy while asleep)
   * completes within a bound.
   */
  "Liveness",
  /**
   * PreVote's lease (issue 19): a server grants a PreVote only when it has neither heard from
   * the leader of its term nor woken from sleep within the minimum election timeout. A
   * sleeping cluster's leader is silent by agreement, not gone: a follower woken (by the
   * returning server's PreVote itself, or after a reload that lost who its leader was) that
   * granted at once let a returning server depose a healthy leader.
   */
  "PreVoteLease",
  /**
   * ReadIndex rounds (issue 19): a leader confirms a read only once a majority of the voters
   * of its configuration (itself, if a voter, included) answered, in this life of the leader
   * and its term, a round it started after the read arrived. A late answer to a round of an
   * earlier life (same term, same round number) is no confirmation.
   */
  "ReadRoundQuorum",
] as const;

export type InvariantName = (typeof INVARIANTS)[number];

export class InvariantViolation extends Error {
  constructor(
    readonly invariant: InvariantName,
    readonly detail: string,
  ) {
    super(`invariant ${invariant} violated: ${detail}`);
    this.name = "InvariantViolation";
  }
}

export function jsonOf(command: unknown): string {
  return JSON.stringify(command) ?? "undefined";
}

/**
 * JSON of an entry's command, cached per entry object: the core hands the same Entry objects
 * out again and again (every AppendEntries, every retry), and re-serialising them dominated
 * the checker's cost.
 */
const entryJsonCache = new WeakMap<object, string>();
export function entryJson(e: Entry): string {
  let j = entryJsonCache.get(e);
  if (j === undefined) {
    j = jsonOf(e.command);
    entryJsonCache.set(e, j);
  }
  return j;
}

interface Identity {
  readonly json: string;
  readonly prevTerm: number;
  readonly by: NodeId;
}

interface Applied {
  readonly index: number;
  readonly term: number;
  readonly json: string;
  readonly by: NodeId;
}

interface Committed {
  readonly term: number;
  readonly json: string;
  /**
   * Leaders of this term or later must hold the entry: one past the term of the first leader
   * seen to commit it, or one past the highest term that existed when it was first applied,
   * whichever is lower.
   */
  minLeaderTerm: number;
}

export class Checker {
  private readonly disabled: ReadonlySet<InvariantName>;
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** "index:term" -> the command and predecessor term every copy of that entry must have. */
  private readonly identity = new Map<string, Identity>();
  /** State machine position (1-based) -> what the first server to apply it applied. */
  private readonly machine: (Applied | undefined)[] = [];
  /** Log index -> the committed entry, recorded when some server first applies it. */
  private readonly committed = new Map<number, Committed>();
  /** "server:term" -> the candidate that server voted for. */
  private readonly votes = new Map<string, NodeId>();
  /** "voter:term:candidate" for every granted vote delivered to its candidate (ElectionQuorum). */
  private readonly grants = new Set<string>();
  /** Per server: the highest term it ever acted on (sent, or held after a fully persisted event). */
  private readonly termFloor: number[];
  private maxTerm = 0;
  /** Per server: the term and vote it had when it became a pre-candidate (null: not one now). */
  private readonly preVoteFrom: ({ term: number; votedFor: NodeId | null } | null)[];
  /** Per server: the highest snapshotIndex it has held on disk (snapshots never go back). */
  private readonly snapshotFloor: number[];
  /**
   * Per server: the entries of the last snapshot content found equal to the committed history.
   * The next snapshot mostly repeats them (the same Entry objects): those positions are
   * re-verified by reference, which keeps a check per compaction linear in what is new.
   */
  private readonly verifiedSnapshot: (readonly Entry[])[];
  /** The highest log index any server has applied (what a client may have been told is done). */
  maxApplied = 0;
  /** The highest term that has had a leader. */
  private maxLeaderTerm = 0;
  /** Every server's disk, to check leaders of later terms when an entry commits (attachDisks). */
  private disks: readonly Disk[] = [];
  /**
   * Per server: the term it leads, from the moment it is seen leading until an event of its
   * starts in which it no longer does (null: none). While set, its log only grows in that
   * term, so its disk is the reference a follower's acknowledgement is checked against.
   */
  private readonly leading: (number | null)[];
  /** Per server: the commitIndex its core came up with (a first event's commit advance is measured from it). */
  private readonly bootCommit: number[];
  /**
   * Per leader: the followers that answered its quiesce heartbeat "asleep", with the term and
   * the index they sleep at. Cleared when it wakes or boots.
   */
  private readonly sleepAcks: Map<NodeId, SleepAck>[];
  /** Per server: the led-term mark its core last asked to persist (0: none), or came up with. */
  private readonly ledAsked: number[];
  /** The message whose delivery is being handled (the cluster sets it), null for any other event. */
  delivering: Message | null = null;
  /** The checks of a leader's lives (lives-checks.ts); the cluster sets its clock. */
  readonly lives = new LeaderLivesChecks((invariant, detail) => this.fail(invariant, detail));
  /** The cluster's initial configuration (RaftConfig.peers: servers 0..n-1 vote). */
  readonly initial: Membership;
  /** The configuration entries committed so far (first applied by some server), by index, ascending. */
  private readonly configHistory: { readonly index: number; readonly membership: Membership; readonly json: string }[] = [];
  /** The highest commitIndex any server has reported (the cluster's commit index, as far as anyone knows). */
  private clusterCommit = 0;

  constructor(n: number, disabled: Iterable<InvariantName> = []) {
    this.initial = { voters: Array.from({ length: n }, (_, i) => i), learners: [] };
    this.bootCommit = new Array<number>(n).fill(0);
    this.ledAsked = new Array<number>(n).fill(0);
    this.sleepAcks = Array.from({ length: n }, () => new Map());
    this.disabled = new Set(disabled);
    this.termFloor = new Array<number>(n).fill(0);
    this.preVoteFrom = new Array<null>(n).fill(null);
    this.snapshotFloor = new Array<number>(n).fill(0);
    this.leading = new Array<null>(n).fill(null);
    this.verifiedSnapshot = Array.from({ length: n }, () => []);
  }

  /**
   * The cluster's disks, indexed by server (LeaderCompleteness looks at leaders other than the
   * one acting). Kept by reference: the cluster pushes the disk of every server it adds.
   */
  attachDisks(disks: readonly Disk[]): void {
    this.disks = disks;
  }

  /** A server was added (membership changes): its id is the next one. */
  addServer(id: NodeId): void {
    this.bootCommit[id] = 0;
    this.ledAsked[id] = 0;
    this.sleepAcks[id] = new Map();
    this.termFloor[id] = 0;
    this.preVoteFrom[id] = null;
    this.snapshotFloor[id] = 0;
    this.leading[id] = null;
    this.verifiedSnapshot[id] = [];
  }

  /** The configuration committed as of log index `index` (the latest configuration entry applied at or below it), and its index. */
  configAt(index: number): { readonly index: number; readonly membership: Membership } {
    const h = this.configHistory;
    let lo = 0;
    let hi = h.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (h[mid]!.index <= index) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? { index: 0, membership: this.initial } : h[found]!;
  }

  /** The configuration entries committed so far, ascending. */
  committedConfigs(): readonly { readonly index: number; readonly membership: Membership }[] {
    return this.configHistory;
  }

  fail(invariant: InvariantName, detail: string): void {
    if (!this.disabled.has(invariant)) throw new InvariantViolation(invariant, detail);
  }

  /** The largest term any server has held so far. */
  get highestTerm(): number {
    return this.maxTerm;
  }

  /** The term history: which server led which term. */
  leaders(): ReadonlyMap<number, NodeId> {
    return this.leaderOfTerm;
  }

  /** Log index -> committed entry (term, command JSON), as far as any server applied. */
  committedEntries(): ReadonlyMap<number, { readonly term: number; readonly json: string }> {
    return this.committed;
  }

  observeTerm(term: number): void {
    if (term > this.maxTerm) this.maxTerm = term;
  }

  // --- persist -----------------------------------------------------------------------------

  onHardState(id: NodeId, onDisk: HardState, next: HardState, after?: RaftStatus): void {
    if (next.term < onDisk.term) {
      this.fail("MonotonicTerm", `server ${id} asked to persist term ${next.term} over durable term ${onDisk.term}`);
    }
    // The led-term mark is what a reset leader resumes from: it may only name the term this
    // server leads as it writes it (the history then records it as that term's leader).
    // Judged against the mark the core itself last asked for (a faulty disk may have lost it).
    const led = next.ledTerm ?? 0;
    const earlier = this.ledAsked[id]!;
    this.ledAsked[id] = led;
    if (after && led > 0 && led !== earlier) {
      if (!(after.state === "Leader" && after.term === led)) {
        this.fail("ResumeSafety", `server ${id} writes the durable mark "led term ${led}" while ${after.state} of term ${after.term}`);
      }
      // It won that term: recorded now, for a host that dies before the event ends (after
      // persisting, before sending) and whose server then resumes leading it.
      this.recordLeader(id, led);
    }
  }

  /** Server `id` leads `term`: at most one server ever does (ElectionSafety). */
  private recordLeader(id: NodeId, term: number): void {
    const holder = this.leaderOfTerm.get(term);
    if (holder === undefined) {
      this.leaderOfTerm.set(term, id);
      if (term > this.maxLeaderTerm) this.maxLeaderTerm = term;
    } else if (holder !== id) {
      this.fail("ElectionSafety", `servers ${holder} and ${id} both became leader of term ${term}`);
    }
  }

  beforeLogWrite(id: NodeId, w: LogWrite, before: RaftStatus | null, after: RaftStatus, disk: Disk): void {
    for (let k = 0; k < w.entries.length; k++) {
      if (w.entries[k]!.index !== w.fromIndex + k) {
        this.fail("WellFormed", `server ${id} logWrite from ${w.fromIndex} holds entry index ${w.entries[k]!.index} at position ${k}`);
      }
    }
    if (w.fromIndex < 1 || w.fromIndex > disk.lastIndex + 1) {
      this.fail("WellFormed", `server ${id} logWrite from ${w.fromIndex} leaves a gap after durable last index ${disk.lastIndex}`);
    }
    if (w.fromIndex <= disk.snapshotIndex) {
      this.fail("WellFormed", `server ${id} logWrite from ${w.fromIndex} reaches into its snapshot (up to ${disk.snapshotIndex})`);
    }
    // A leader of this term since its last event, or (the first event of a life) one that
    // already led this term in an earlier life: a reset leader that resumed.
    const leaderThroughout =
      after.state === "Leader" &&
      (before !== null ? before.state === "Leader" && before.term === after.term : this.leaderOfTerm.get(after.term) === id);
    if (after.state === "Leader") this.checkConfigAppend(id, w, after, disk);
    if (!leaderThroughout) return;
    if (w.fromIndex <= disk.lastIndex) {
      this.fail(
        "LeaderAppendOnly",
        `leader ${id} (term ${after.term}) rewrote its log from index ${w.fromIndex} (durable last index ${disk.lastIndex})`,
      );
    }
    for (const e of w.entries) {
      if (e.term !== after.term) {
        this.fail("LeaderAppendOnly", `leader ${id} (term ${after.term}) appended entry ${e.index} of term ${e.term}`);
      }
    }
  }

  /**
   * OneChangeAtATime, when a leader appends a configuration entry of its term: no other
   * configuration entry of its log (durable, or in the same write) is above its commitIndex.
   */
  private checkConfigAppend(id: NodeId, w: LogWrite, after: RaftStatus, disk: Disk): void {
    for (const e of w.entries) {
      if (e.term !== after.term || membershipOf(e.command) === null) continue;
      const pending = [
        ...disk.configsAbove(after.commitIndex).filter((k) => k < w.fromIndex),
        ...w.entries.filter((x) => x.index > after.commitIndex && x !== e && membershipOf(x.command) !== null).map((x) => x.index),
      ];
      if (pending.length > 0) {
        this.fail(
          "OneChangeAtATime",
          `leader ${id} (term ${after.term}, commitIndex ${after.commitIndex}) appends configuration entry ${e.index} ` +
            `while configuration entr${pending.length > 1 ? "ies" : "y"} ${pending.join(", ")} ${pending.length > 1 ? "are" : "is"} not committed`,
        );
      }
    }
  }

  afterLogWrite(id: NodeId, w: LogWrite, disk: Disk): void {
    for (const e of w.entries) {
      const prevTerm = disk.termAt(e.index - 1) ?? -1;
      if (e.term < prevTerm) {
        this.fail("LogMatching", `server ${id}: entry ${e.index} has term ${e.term} below its predecessor's ${prevTerm}`);
      }
      const key = `${e.index}:${e.term}`;
      const json = disk.json(e.index)!;
      const known = this.identity.get(key);
      if (!known) {
        this.identity.set(key, { json, prevTerm, by: id });
      } else if (known.json !== json || known.prevTerm !== prevTerm) {
        this.fail(
          "LogMatching",
          `entry (index ${e.index}, term ${e.term}) is ${json} after term ${prevTerm} on server ${id}, ` +
            `but ${known.json} after term ${known.prevTerm} on server ${known.by}`,
        );
      }
    }
  }

  /** After the Ready is durable: the disk must mirror memory. */
  persisted(id: NodeId, disk: Disk, after: RaftStatus, lastInMemory: Entry | undefined): void {
    const hs = disk.hardState;
    if (hs.term !== after.term || hs.votedFor !== after.votedFor) {
      this.fail(
        "PersistenceContract",
        `server ${id} has term=${after.term} votedFor=${after.votedFor} in memory but ` +
          `term=${hs.term} votedFor=${hs.votedFor} on disk after persisting its Ready`,
      );
    }
    if (after.snapshotIndex !== undefined && disk.snapshotIndex !== after.snapshotIndex) {
      this.fail("PersistenceContract", `server ${id} has a snapshot up to ${after.snapshotIndex} in memory but up to ${disk.snapshotIndex} on disk`);
    }
    if ((hs.asleep ?? false) !== after.asleep) {
      this.fail("PersistenceContract", `server ${id} is ${after.asleep ? "" : "not "}asleep in memory but ${hs.asleep ? "" : "not "}on disk`);
    }
    if (after.state === "Leader" && hs.ledTerm !== after.term) {
      this.fail("PersistenceContract", `server ${id} leads term ${after.term} but its durable led-term mark is ${hs.ledTerm ?? "absent"}`);
    }
    this.snapshotNotBack(id, disk.snapshotIndex, "on disk");
    this.checkConfigInForce(id, disk, after);
    if (disk.lastIndex !== after.logLength) {
      this.fail("PersistenceContract", `server ${id} has ${after.logLength} entries in memory but ${disk.lastIndex} on disk`);
    } else if (lastInMemory) {
      const d = disk.entry(lastInMemory.index);
      if (!d || d.term !== lastInMemory.term || disk.json(lastInMemory.index) !== entryJson(lastInMemory)) {
        this.fail("PersistenceContract", `server ${id}: last entry ${lastInMemory.index} in memory differs from disk`);
      }
    }
  }

  /** ConfigInForce: the configuration a server uses is the latest in its (durable) log, else its snapshot's, else the initial one. */
  private checkConfigInForce(id: NodeId, disk: Disk, after: RaftStatus): void {
    if (after.membership === undefined) return; // a hand-made status (invariants.test.ts)
    const latest = disk.latestConfig();
    const expected = latest ?? (disk.snapshotIndex > 0 ? { ...this.configAt(disk.snapshotIndex), index: disk.snapshotIndex } : { index: 0, membership: this.initial });
    const where = latest
      ? `its log's latest configuration entry ${latest.index}`
      : disk.snapshotIndex > 0
        ? `the configuration committed as of its snapshot's last entry ${disk.snapshotIndex}`
        : "the initial configuration";
    if (!sameMembership(after.membership, expected.membership) || after.membershipIndex !== expected.index) {
      this.fail(
        "ConfigInForce",
        `server ${id} uses ${describeM(after.membership)} (index ${after.membershipIndex}) where ${where} says ${describeM(expected.membership)} (index ${expected.index})`,
      );
    }
    const member = after.membership.voters.includes(id) ? "voter" : after.membership.learners.includes(id) ? "learner" : "removed";
    if (after.member !== member) this.fail("ConfigInForce", `server ${id} says it is a ${after.member} of ${describeM(after.membership)}`);
  }

  /** A snapshot up to `index` (compacted, installed or sent) carries `membership`: it must be the configuration committed as of `index`. */
  onSnapshotConfig(id: NodeId, what: string, index: number, membership: Membership | undefined): void {
    const expected = this.configAt(index).membership;
    if (membership === undefined || !sameMembership(membership, expected)) {
      this.fail(
        "ConfigInForce",
        `server ${id} ${what} a snapshot up to ${index} carrying ${membership ? describeM(membership) : "no configuration"}, ` +
          `where the configuration as of ${index} is ${describeM(expected)}`,
      );
    }
  }

  // --- send --------------------------------------------------------------------------------

  onSend(id: NodeId, m: Message, disk: Disk, peers: readonly NodeId[]): void {
    if (m.from !== id || m.to === id || !peers.includes(m.to)) {
      this.fail("WellFormed", `server ${id} sent ${m.type} from ${m.from} to ${m.to}`);
    }
    this.observeTerm(m.term);
    if (m.term > this.termFloor[id]!) this.termFloor[id] = m.term;
    const hs = disk.hardState;
    if ((m.type === "PreVote" || m.type === "PreVoteReply") && m.term > hs.term) {
      // Checked before the general rule below, so that this is reported as what it is: a poll
      // that claims a term nobody holds durably (as if the pre-candidate had bumped its term).
      this.fail("PreVoteTermStable", `server ${id} sent ${m.type} of term ${m.term} while its durable term is ${hs.term}`);
    }
    if (m.term > hs.term) {
      this.fail("DurableBeforeSend", `server ${id} sent ${m.type} of term ${m.term} while its durable term is ${hs.term}`);
    }
    this.lives.onSend(id, m);
    switch (m.type) {
      case "RequestVote": {
        if (hs.term !== m.term || hs.votedFor !== id) {
          this.fail(
            "DurableBeforeSend",
            `candidate ${id} asked for votes in term ${m.term} before durably voting for itself (disk: term=${hs.term} votedFor=${hs.votedFor})`,
          );
        }
        // The log it campaigns on must be durable (it may have grown since, in the same event).
        if (m.lastLogIndex > disk.lastIndex || disk.termAt(m.lastLogIndex) !== m.lastLogTerm) {
          this.fail(
            "DurableBeforeSend",
            `candidate ${id} claims last log (${m.lastLogIndex}, term ${m.lastLogTerm}) that is not on its disk (which ends at (${disk.lastIndex}, term ${disk.termAt(disk.lastIndex)}))`,
          );
        }
        this.recordVote(id, m.term, id);
        break;
      }
      case "RequestVoteReply": {
        if (!m.voteGranted) break;
        if (hs.term !== m.term || hs.votedFor !== m.to) {
          this.fail(
            "DurableBeforeSend",
            `server ${id} granted its term-${m.term} vote to ${m.to} before it was durable (disk: term=${hs.term} votedFor=${hs.votedFor})`,
          );
        }
        this.recordVote(id, m.term, m.to);
        break;
      }
      case "AppendEntries": {
        // A prev index inside the sender's snapshot cannot be checked against its disk (and no follower can match it).
        const checkable = m.prevLogIndex === 0 || m.prevLogIndex >= disk.snapshotIndex;
        if (checkable && (m.prevLogIndex > disk.lastIndex || disk.termAt(m.prevLogIndex) !== m.prevLogTerm)) {
          this.fail("DurableBeforeSend", `leader ${id} sent prev (${m.prevLogIndex}, term ${m.prevLogTerm}) not on its disk`);
        }
        for (const e of m.entries) {
          const d = disk.entry(e.index);
          if (!d || d.term !== e.term || disk.json(e.index) !== entryJson(e)) {
            this.fail("DurableBeforeSend", `leader ${id} sent entry ${e.index} (term ${e.term}) that is not on its disk`);
          }
        }
        break;
      }
      case "AppendEntriesReply": {
        if (m.success && m.matchIndex > disk.lastIndex) {
          this.fail("DurableBeforeSend", `server ${id} acknowledged index ${m.matchIndex} but holds ${disk.lastIndex} entries on disk`);
        }
        if (m.success) this.checkAcknowledgedMatch(id, m.to, m.term, m.matchIndex, disk);
        if (m.asleep) {
          // A late copy of an earlier round's question, answered again, does not replace the answer to a later round.
          const prev = this.sleepAcks[m.to]?.get(id);
          const older = prev !== undefined && prev.term === m.term && prev.life === m.life && (prev.round ?? 0) > (m.quiesce ?? 0);
          if (!older) this.sleepAcks[m.to]?.set(id, { term: m.term, index: m.matchIndex, life: m.life, round: m.quiesce });
        }
        break;
      }
    }
  }

  /**
   * A follower told `leader` (of `term`) that its log matches the leader's up to `index`: if
   * that leader still leads the term, its disk must hold, at `index`, an entry of the term the
   * follower's disk holds there (a follower that skipped the consistency check would not).
   */
  private checkAcknowledgedMatch(id: NodeId, leader: NodeId, term: number, index: number, disk: Disk): void {
    if (this.leading[leader] !== term || this.leaderOfTerm.get(term) !== leader) return;
    const theirs = this.disks[leader]?.termAt(index);
    const mine = disk.termAt(index);
    if (theirs === undefined || mine === undefined || theirs === mine) return;
    this.fail(
      "LogMatching",
      `server ${id} told leader ${leader} (term ${term}) it matches its log up to ${index}, but holds an entry of term ${mine} ` +
        `there where the leader holds one of term ${theirs}`,
    );
  }

  private recordVote(voter: NodeId, term: number, candidate: NodeId): void {
    const key = `${voter}:${term}`;
    const earlier = this.votes.get(key);
    if (earlier === undefined) this.votes.set(key, candidate);
    else if (earlier !== candidate) {
      this.fail("NoDoubleVote", `server ${voter} voted for ${earlier} and then for ${candidate} in term ${term}`);
    }
  }

  // --- apply -------------------------------------------------------------------------------

  /** Ready.committed as the core handed it out, before the state machine sees it. */
  onCommitted(id: NodeId, entries: readonly Entry[], lastApplied: number, disk: Disk, after: RaftStatus): void {
    entries.forEach((e, k) => {
      const want = lastApplied + 1 + k;
      if (e.index !== want) {
        this.fail("ApplyOrder", `server ${id} was handed entry ${e.index} to apply where ${want} was next`);
      }
      const d = disk.entry(e.index);
      if (!d || d.term !== e.term || disk.json(e.index) !== entryJson(e)) {
        this.fail("ApplyOrder", `server ${id} was handed entry ${e.index} (term ${e.term}) that differs from its durable log`);
      }
      if (e.index > after.commitIndex) {
        this.fail("ApplyOrder", `server ${id} was handed entry ${e.index} beyond its commitIndex ${after.commitIndex}`);
      }
    });
    const now = lastApplied + entries.length;
    if (after.lastApplied !== now) {
      this.fail("ApplyOrder", `server ${id} reports lastApplied=${after.lastApplied} but has handed out entries up to ${now}`);
    }
  }

  /** The state machine of `id` applied `e` as its `position`-th command. */
  onApply(id: NodeId, position: number, e: Entry): void {
    const json = entryJson(e);
    const known = this.committed.get(e.index);
    const config = membershipOf(e.command);
    if (known && known.json !== json && (config !== null || membershipOf(JSON.parse(known.json === "undefined" ? "null" : known.json)) !== null)) {
      this.fail(
        "ConfigAgreement",
        `server ${id} applied ${json} (term ${e.term}) at index ${e.index}, where ${known.json} (term ${known.term}) was committed before: ` +
          `two configurations at one index`,
      );
    }
    const first = this.machine[position];
    if (!first) {
      this.machine[position] = { index: e.index, term: e.term, json, by: id };
    } else if (first.json !== json || first.term !== e.term || first.index !== e.index) {
      this.fail(
        "StateMachineSafety",
        `server ${id} applied ${json} (index ${e.index}, term ${e.term}) as command #${position}, ` +
          `but server ${first.by} applied ${first.json} (index ${first.index}, term ${first.term}) there`,
      );
    }
    if (e.index > this.maxApplied) this.maxApplied = e.index;
    if (!known) {
      this.committed.set(e.index, { term: e.term, json, minLeaderTerm: this.maxTerm + 1 });
      if (config !== null) this.recordCommittedConfig(e.index, config, json);
    } else if (known.term !== e.term || known.json !== json) {
      this.fail(
        "StateMachineSafety",
        `server ${id} applied ${json} (term ${e.term}) at index ${e.index}, where ${known.json} (term ${known.term}) was applied before`,
      );
    }
  }

  private recordCommittedConfig(index: number, membership: Membership, json: string): void {
    const h = this.configHistory;
    let at = h.length;
    while (at > 0 && h[at - 1]!.index > index) at--;
    h.splice(at, 0, { index, membership, json });
  }

  /** Server `id` says read `ctx` may be answered once index `index` is applied; `floor` was maxApplied when it was asked. */
  onRead(id: NodeId, ctx: string, index: number, floor: number): void {
    if (index < floor) {
      this.fail(
        "ReadIndexSafety",
        `server ${id} would answer read ${ctx} at index ${index}, but index ${floor} was already applied when the read was asked`,
      );
    }
  }

  /**
   * Server `id` folded its state machine into a snapshot up to `meta.index` ("compacted"), or
   * took a leader's ("installed"); `machine` is the state machine content that snapshot stands
   * for (at least `meta.index` commands: position p holds log entry p), and `previous` the
   * snapshotIndex the server had before. Checked the moment the snapshot is made, so a host
   * that folds the wrong content is caught at once, not when a follower or a restart uses it.
   */
  onSnapshot(
    id: NodeId,
    how: "compacted" | "installed",
    meta: { index: number; term: number },
    machine: readonly Entry[],
    previous: number,
  ): void {
    const k = meta.index;
    if (k < previous) {
      this.fail("SnapshotSafety", `server ${id} ${how} a snapshot up to ${k} over its snapshot up to ${previous}`);
    }
    this.snapshotNotBack(id, k, how);
    const seen = this.verifiedSnapshot[id]!;
    for (let p = 1; p <= k; p++) {
      const e = machine[p - 1];
      if (e !== undefined && e === seen[p - 1]) continue;
      const c = this.committed.get(p);
      const has = e === undefined ? "nothing" : `${entryJson(e)} (index ${e.index}, term ${e.term})`;
      if (!c) {
        this.fail("SnapshotSafety", `server ${id} ${how} a snapshot up to ${k} holding ${has} at position ${p}, which no server applied`);
      } else if (!e || e.index !== p || e.term !== c.term || entryJson(e) !== c.json) {
        this.fail(
          "SnapshotSafety",
          `server ${id} ${how} a snapshot up to ${k} that lacks committed entry ${p} (${c.json}, term ${c.term}): it holds ${has} there`,
        );
      }
    }
    if (k > 0 && machine[k - 1]?.term !== meta.term) {
      this.fail("SnapshotSafety", `server ${id} ${how} a snapshot named (${k}, term ${meta.term}) whose entry ${k} is of term ${machine[k - 1]?.term}`);
    }
    this.verifiedSnapshot[id] = machine.slice(0, k);
  }

  /** The host installs a leader's snapshot as its state machine: those commands now count as applied by it. */
  onInstallSnapshot(id: NodeId, meta: { index: number; term: number }, machine: readonly Entry[], previous: number, after: RaftStatus): void {
    this.onSnapshot(id, "installed", meta, machine, previous);
    if (machine.length < meta.index) {
      // Reported above as SnapshotSafety; with that switched off, it is still a state machine gone wrong.
      this.fail("StateMachineSafety", `server ${id} got a snapshot up to (${meta.index}, term ${meta.term}) holding only ${machine.length} commands`);
      return;
    }
    for (let p = 1; p <= meta.index; p++) this.onApply(id, p, machine[p - 1]!);
    if (after.commitIndex < meta.index) {
      this.fail("ApplyOrder", `server ${id} installed a snapshot up to ${meta.index} beyond its commitIndex ${after.commitIndex}`);
    }
  }

  private snapshotNotBack(id: NodeId, index: number, where: string): void {
    const floor = this.snapshotFloor[id]!;
    if (index < floor) {
      this.fail("SnapshotSafety", `server ${id} has a snapshot up to ${index} (${where}) after having had one up to ${floor}`);
    } else this.snapshotFloor[id] = index;
  }

  /**
   * PreVoteTermStable, judged from the server's status before and after an event: becoming a
   * pre-candidate changes neither term nor vote, and staying one keeps the term. The one
   * change allowed meanwhile is granting its still-free vote of that term to another
   * candidate, which any follower may do (etcd's pre-candidates do too; NoDoubleVote and
   * PersistenceContract police the vote itself).
   */
  private checkPreVote(id: NodeId, before: RaftStatus | null, after: RaftStatus): void {
    if (!after.preCandidate) {
      this.preVoteFrom[id] = null;
      return;
    }
    let from = this.preVoteFrom[id];
    if (!from) {
      // Just became one: measured against what it had before this event.
      from = before ? { term: before.term, votedFor: before.votedFor } : { term: after.term, votedFor: after.votedFor };
      this.preVoteFrom[id] = from;
    }
    if (after.term !== from.term) {
      this.fail(
        "PreVoteTermStable",
        `server ${id} is a pre-candidate at term ${after.term}, but was at term ${from.term} when it began to poll`,
      );
    }
    if (after.votedFor !== from.votedFor) {
      if (from.votedFor === null && after.votedFor !== id && before?.preCandidate) from.votedFor = after.votedFor;
      else {
        this.fail(
          "PreVoteTermStable",
          `server ${id} is a pre-candidate with votedFor=${after.votedFor}, but had votedFor=${from.votedFor} when it began to poll (term ${from.term})`,
        );
      }
    }
  }

  // --- whole event -------------------------------------------------------------------------

  /**
   * First thing after an event, before its Ready is carried out: how the server's own state
   * moved. Checked first so that a regression is reported as itself, not as whatever it breaks next.
   */
  beforeCarryOut(id: NodeId, before: RaftStatus | null, after: RaftStatus): void {
    this.observeTerm(after.term);
    if (after.state !== "Leader" || after.term !== this.leading[id]) this.leading[id] = null;
    this.checkPreVote(id, before, after);
    const m = this.delivering;
    if (m?.type === "RequestVoteReply" && m.voteGranted && m.to === id) this.grants.add(`${m.from}:${m.term}:${id}`);
    this.lives.beforeCarryOut(id, before, after, this.delivering);
    if (!before) return;
    if (after.state === "Leader" && !(before.state === "Leader" && before.term === after.term)) this.checkElectionQuorum(id, after);
    if (after.snapshotIndex < before.snapshotIndex) {
      this.fail("SnapshotSafety", `server ${id} snapshotIndex went from ${before.snapshotIndex} back to ${after.snapshotIndex}`);
    }
    if (after.term < before.term) {
      this.fail("MonotonicTerm", `server ${id} went from term ${before.term} back to ${after.term}`);
    }
    if (after.commitIndex < before.commitIndex) {
      this.fail("MonotonicCommit", `server ${id} commitIndex went from ${before.commitIndex} back to ${after.commitIndex}`);
    }
    if (after.lastApplied < before.lastApplied) {
      this.fail("MonotonicCommit", `server ${id} lastApplied went from ${before.lastApplied} back to ${after.lastApplied}`);
    }
    if (after.term === before.term && before.votedFor !== null && after.votedFor !== before.votedFor) {
      this.fail("NoDoubleVote", `server ${id} changed its term-${after.term} vote from ${before.votedFor} to ${after.votedFor}`);
    }
  }

  /**
   * ElectionQuorum, judged in the event in which a server wins (before its Ready is carried
   * out, so a host that dies before persisting or sending does not hide it; a leader that
   * resumes its term at boot won it earlier and is ResumeSafety's). The votes are the grants
   * of its term delivered to it (whether the voter should have granted them is NoDoubleVote's
   * and DurableBeforeSend's to judge), and its own: counting anything else (a learner's, a
   * removed server's, its own as a non-voter) is the bug.
   */
  private checkElectionQuorum(id: NodeId, after: RaftStatus): void {
    const voters = (after.membership ?? this.initial).voters;
    const term = after.term;
    // Its own: it votes for itself as it stands (recorded when it asks the others; a lone voter asks no one).
    const own = after.votedFor === id || this.votes.get(`${id}:${term}`) === id;
    const from = voters.filter((v) => this.grants.has(`${v}:${term}:${id}`) || (v === id && own));
    if (from.length < majority(voters.length)) {
      this.fail(
        "ElectionQuorum",
        `server ${id} became leader of term ${after.term} with the votes of voters [${from.join(" ")}] of ` +
          `${describeM(after.membership ?? this.initial)}; a majority is ${majority(voters.length)}`,
      );
    }
  }

  /** Once the event's Ready is carried out (persisted, sent, applied). */
  afterEvent(id: NodeId, before: RaftStatus | null, after: RaftStatus, disk: Disk): void {
    if (after.term > this.termFloor[id]!) this.termFloor[id] = after.term;
    if (after.commitIndex > this.clusterCommit) this.clusterCommit = after.commitIndex;

    this.checkSleep(id, before, after, disk);
    this.lives.afterEvent(id, before, after);

    if (after.state === "Leader" && after.commitIndex > (before?.commitIndex ?? this.bootCommit[id]!)) {
      const t = disk.termAt(after.commitIndex);
      if (t !== after.term) {
        this.fail(
          "CommitRule",
          `leader ${id} of term ${after.term} advanced commitIndex to ${after.commitIndex}, an entry of term ${t}`,
        );
      }
    }

    if (after.state !== "Leader") return;
    this.recordLeader(id, after.term);
    this.leading[id] = after.term;
    const inFlight = disk.configsAbove(this.clusterCommit);
    if (inFlight.length > 1) {
      this.fail(
        "OneChangeAtATime",
        `leader ${id} (term ${after.term}) holds configuration entries ${inFlight.join(", ")} above the cluster's commit index ${this.clusterCommit}`,
      );
    }
    if (after.membership !== undefined && after.commitIndex > (before?.commitIndex ?? this.bootCommit[id]!)) {
      this.checkCommitQuorum(id, after, disk);
    }
    const newLeader = !before || before.state !== "Leader" || before.term !== after.term;
    if (newLeader) this.checkLeaderCompleteness(id, after.term, disk);
    if (before && after.commitIndex > before.commitIndex) this.leaderCommitted(after.term, before.commitIndex, after.commitIndex);
  }

  /** CommitQuorum: the entry a leader just committed is on the disks of a majority of its configuration's voters. */
  private checkCommitQuorum(id: NodeId, after: RaftStatus, disk: Disk): void {
    const k = after.commitIndex;
    const term = disk.termAt(k);
    const voters = after.membership.voters;
    const holders = voters.filter((v) => {
      const d = this.disks[v];
      return d !== undefined && (d.snapshotIndex >= k || (term !== undefined && d.termAt(k) === term));
    });
    if (holders.length < majority(voters.length)) {
      this.fail(
        "CommitQuorum",
        `leader ${id} (term ${after.term}) advanced commitIndex to ${k}, held only by voters [${holders.join(" ")}] of ${describeM(after.membership)}`,
      );
    }
  }

  /**
   * The leader of `term` moved its commitIndex from `from` to `to`: entries from+1..to are
   * committed in `term` at the latest (those below `from` were committed earlier, by this
   * leader or, when it was a follower, by a leader of a lower term). Leaders of later terms
   * are checked from now on; any already elected must hold them already. Cost: the advance,
   * plus the later leaders, which exist only when this leader is already deposed.
   */
  private leaderCommitted(term: number, from: number, to: number): void {
    const min = term + 1;
    let lowest = Infinity;
    for (let index = from + 1; index <= to; index++) {
      const c = this.committed.get(index);
      if (!c || c.minLeaderTerm <= min) continue;
      c.minLeaderTerm = min;
      if (lowest === Infinity) lowest = index;
    }
    if (lowest === Infinity || this.maxLeaderTerm < min) return;
    // Leaders of later terms, already elected (their disks now: a committed entry, once held, stays).
    for (const [later, leader] of this.leaderOfTerm) {
      const disk = this.disks[leader];
      if (later < min || !disk) continue;
      for (let index = lowest; index <= to; index++) {
        const c = this.committed.get(index);
        if (c && c.minLeaderTerm <= later) this.leaderHolds(leader, later, disk, index, c, ` (committed in term ${term} after that)`);
      }
    }
  }

  /** Every committed entry that leaders of `term` must hold is on the disk of `id`, which just became its leader. */
  private checkLeaderCompleteness(id: NodeId, term: number, disk: Disk): void {
    for (const [index, c] of this.committed) {
      if (c.minLeaderTerm <= term) this.leaderHolds(id, term, disk, index, c, "");
    }
  }

  private leaderHolds(id: NodeId, term: number, disk: Disk, index: number, c: Committed, when: string): void {
    if (index <= disk.snapshotIndex) {
      // Folded into the leader's snapshot: its state machine must hold it. (A snapshot that
      // lost a committed entry is SnapshotSafety's failure, found when the snapshot was made;
      // this re-checks it where it would do harm.)
      const s = disk.snapshotMachine[index - 1];
      if (!s || s.term !== c.term || entryJson(s) !== c.json) {
        this.fail("SnapshotSafety", `server ${id} became leader of term ${term} with a snapshot lacking committed entry ${index} (${c.json})${when}`);
      }
      return;
    }
    const d = disk.entry(index);
    if (!d || d.term !== c.term || disk.json(index) !== c.json) {
      const has = d ? `${disk.json(index)} of term ${d.term}` : "nothing";
      this.fail(
        "LeaderCompleteness",
        `server ${id} became leader of term ${term} without committed entry ${index} (${c.json}, term ${c.term})${when}; it holds ${has}`,
      );
    }
  }

  /**
   * SleepSafety, judged when a server falls asleep (awake before this event, asleep after): a
   * follower on its term's leader's quiesce heartbeat, its log ending exactly where the
   * leader's did and all of it committed; a leader with its whole log committed, after a
   * majority (itself included) answered "asleep" at its last index.
   */
  private checkSleep(id: NodeId, before: RaftStatus | null, after: RaftStatus, disk: Disk): void {
    if (!after.asleep) {
      if (before?.asleep) this.sleepAcks[id]!.clear();
      return;
    }
    if (before === null || before.asleep) return; // came up asleep from its disk, or was asleep already
    const what = `server ${id} (${after.state}, term ${after.term}) fell asleep`;
    if (after.commitIndex !== after.logLength) {
      this.fail("SleepSafety", `${what} with commitIndex ${after.commitIndex} short of its last index ${after.logLength}`);
    }
    if (after.state === "Leader") {
      // A majority of the voters of its configuration (itself, if it is one, included).
      const voters = (after.membership ?? this.initial).voters;
      // Answers to its latest quiesce round of this life only (issue 19): an earlier round's
      // "asleep" says nothing of a follower woken since. And every follower that round asked
      // must have answered it: one that did not may be awake, its election timer running.
      const latest = this.lives.latestQuiesce(id, after.term, after.life);
      const answered = (from: NodeId, a: SleepAck) =>
        a.term === after.term && a.index === after.logLength && a.life === after.life && a.round === latest?.round;
      const acks = [...this.sleepAcks[id]!.entries()].filter(([from, a]) => answered(from, a));
      const agreed = acks.filter(([from]) => voters.includes(from)).length;
      const needed = majority(voters.length) - (voters.includes(id) ? 1 : 0);
      if (agreed < needed) {
        this.fail("SleepSafety", `${what} after ${agreed} follower(s) agreed to sleep at index ${after.logLength}; a majority needs ${needed}`);
      }
      const silent = needed > 0 && latest ? [...latest.asked].filter((f) => !acks.some(([from]) => from === f)) : [];
      if (silent.length > 0) {
        this.fail("SleepSafety", `${what} though ${silent.join(", ")}, asked in its quiesce round ${latest!.round}, did not answer that round`);
      }
      return;
    }
    const m = this.delivering;
    const q = m !== null && m.type === "AppendEntries" && m.quiesce !== undefined && m.to === id ? m : null;
    if (q === null || q.term !== after.term || this.leaderOfTerm.get(after.term) !== q.from) {
      this.fail("SleepSafety", `${what} without a quiesce heartbeat from the leader of its term`);
    } else if (after.logLength !== q.prevLogIndex || disk.termAt(q.prevLogIndex) !== q.prevLogTerm || after.commitIndex !== q.leaderCommit) {
      this.fail(
        "SleepSafety",
        `${what} with its log ending at (${after.logLength}, term ${disk.termAt(after.logLength)}) and commitIndex ${after.commitIndex}, ` +
          `where leader ${q.from}'s quiesce heartbeat said (${q.prevLogIndex}, term ${q.prevLogTerm}), commit ${q.leaderCommit}`,
      );
    }
  }

  /** Nothing is due while asleep: the core asks for no timer. */
  onWakeAt(id: NodeId, after: RaftStatus, wakeAt: number): void {
    if (after.asleep && wakeAt !== Infinity) this.fail("SleepSafety", `server ${id} is asleep but asks to be woken at ${wakeAt}`);
  }

  /**
   * A core was built from its disk: `life` 0 at creation, then after every restart or reset
   * (with resumeLeadership or not: either way, coming up leading must be justified by the
   * disk). `disk` is what it was built from (nothing of this life is written yet).
   */
  onBoot(id: NodeId, first: RaftStatus, life: number, disk: Disk): void {
    this.bootCommit[id] = first.commitIndex;
    this.ledAsked[id] = disk.hardState.ledTerm ?? 0;
    this.sleepAcks[id]!.clear();
    this.lives.onBoot(id, first);
    if (life > 0) this.onRestart(id, first);
    if (first.state !== "Leader") return;
    const hs = disk.hardState;
    const winner = this.leaderOfTerm.get(first.term);
    const why =
      hs.term !== first.term || (hs.ledTerm ?? 0) !== first.term
        ? `but its durable state says term=${hs.term}, ledTerm=${hs.ledTerm ?? "none"}`
        : winner !== id
          ? `but ${winner === undefined ? "nobody" : `server ${winner}`} won that term`
          : null;
    if (why !== null) this.fail("ResumeSafety", `server ${id} came up leading term ${first.term} ${why}`);
  }

  onRestart(id: NodeId, status: RaftStatus): void {
    if (status.term < this.termFloor[id]!) {
      this.fail("MonotonicTerm", `server ${id} restarted at term ${status.term} after having acted in term ${this.termFloor[id]}`);
    }
    this.preVoteFrom[id] = null;
    this.snapshotNotBack(id, status.snapshotIndex, "after a restart");
  }

  /**
   * Re-derive the cluster-wide safety properties from the final disks and state machines,
   * independently of the incremental bookkeeping above.
   */
  fullCheck(disks: readonly Disk[], machines: readonly (readonly Entry[])[]): void {
    for (let a = 0; a < disks.length; a++) {
      for (let b = a + 1; b < disks.length; b++) {
        const da = disks[a]!;
        const db = disks[b]!;
        const upTo = Math.min(da.lastIndex, db.lastIndex);
        const from = Math.max(da.snapshotIndex, db.snapshotIndex) + 1;
        let lastSame = 0;
        for (let k = upTo; k >= from; k--) {
          if (da.termAt(k) === db.termAt(k)) {
            lastSame = k;
            break;
          }
        }
        for (let k = from; k <= lastSame; k++) {
          if (da.termAt(k) !== db.termAt(k) || da.json(k) !== db.json(k)) {
            this.fail("LogMatching", `servers ${a} and ${b} share entry (${lastSame}, term ${da.termAt(lastSame)}) but differ at index ${k}`);
          }
        }
      }
    }
    for (let a = 0; a < machines.length; a++) {
      for (let b = a + 1; b < machines.length; b++) {
        const ma = machines[a]!;
        const mb = machines[b]!;
        for (let k = 0; k < Math.min(ma.length, mb.length); k++) {
          if (ma[k]!.index !== mb[k]!.index || jsonOf(ma[k]!.command) !== jsonOf(mb[k]!.command)) {
            this.fail("StateMachineSafety", `servers ${a} and ${b} applied different commands as command #${k + 1}`);
          }
        }
      }
    }
  }
}

/** A configuration's canonical form (sorted ids), cached per object: cores and disks hand out the same objects again and again. */
const membershipKeys = new WeakMap<Membership, string>();
function membershipKey(m: Membership): string {
  let k = membershipKeys.get(m);
  if (k === undefined) {
    const ids = (l: readonly NodeId[]): string => [...l].sort((p, q) => p - q).join(",");
    k = `${ids(m.voters)}|${ids(m.learners)}`;
    membershipKeys.set(m, k);
  }
  return k;
}

export function sameMembership(a: Membership, b: Membership): boolean {
  return a === b || membershipKey(a) === membershipKey(b);
}

export function describeM(m: Membership): string {
  return `voters=[${m.voters.join(" ")}] learners=[${m.learners.join(" ")}]`;
}
