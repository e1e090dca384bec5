// The lives of a server (issue 11, issue 19): the durable count of loads, the led-term mark a
// reset leader resumes from, and sleep (quiescence, as CockroachDB quiesces idle ranges). The
// core asks this module questions ("may I resume?", "may I serve reads yet?", "is everyone
// caught up enough to sleep?", "does this answer count for my quiesce round?") and does the
// sending and narrating itself.
//
// Resuming. A server whose durable state says it won its current term (ledTerm === term)
// reloads as that term's leader. Why that is safe: at most one server wins a term (a
// majority voted for it, each voter once per term, durably), so no other server can lead
// this term. Every entry this leader ever sent is in its durable log (persist, then send,
// under the output gate), so it never creates a second, different entry at an index it
// already used in this term, which is what Log Matching needs; entries it had appended but
// not sent are its own and no one else has that index in this term. Its memory of followers
// is gone, so it starts with fresh leader state and finds them again by backtracking, as a
// newly elected leader does. A higher term anywhere makes it step down as usual; having
// persisted a newer term, it follows instead; having stepped down within its term (CheckQuorum,
// its removal handed over), it cleared the mark durably before sending anything, so it
// follows too. Its commitIndex is only what it had applied, so it answers ReadIndex reads
// only once it has committed up to the end of the log it reloaded (whatever it had committed
// before is at or below it; a commit of its own term is not enough here, unlike after an
// election: the resumed term's entries may have been committed further than the first one it
// commits again; the simulator found that, a stale read in 267 of 10,000 seeds).
//
// Lives. A load that resumes leading is one life more than the durable count it loaded,
// written before the first message of that life leaves. A leader's read and quiesce rounds
// are numbered per term and life and carry both; an answer counts only in the life (and
// round) that asked. A counter, not the clock: two loads in one millisecond, or a clock that
// steps back when the object moves to another machine, must not give two lives one name.
// Only a resume needs a new life (two lives lead the same term only by resuming it); a load
// that follows writes nothing, so a server whose disk is full still boots and answers
// heartbeats (bumping on every load left it resetting in a loop, unheard, and a sleeping
// leader then went to sleep without it: random search, seed 9889 with sleep, membership and
// disk faults on).
//
// Sleep. An idle cluster costs nothing only if nothing runs: no heartbeats, no election
// timers. A leader that has seen no client activity for sleepAfterMs, whose log is committed
// and held by every follower it hears from (at least a majority with itself), starts a
// quiesce round: a quiesce heartbeat to those followers. A follower sleeps only if its log
// ends exactly where the leader's does and it has committed all of it; it answers "asleep",
// naming the round and life. Once every follower asked has answered so, the leader sleeps
// too. Until then it asks again at every heartbeat those that have not answered (a lost
// question or answer costs one heartbeat, not another idle period); after an election
// timeout it starts a new round with the followers it hears from then (having first appended
// a no-op if its log ends in an earlier term: a follower holding an old leader's uncommitted
// entries past the leader's log refuses every round until an entry of this term truncates
// them; the simulator's staleSuffixAtQuiesce story). Followers it did not
// hear from are presumed down: when they return, their election timers run and their
// messages wake everyone. A follower woken from sleep counts as having just heard its
// leader, which slept too, silent by agreement: PreVote is refused for an election timeout.
//
// Safety does not depend on sleep: a sleeping server is a server whose timers are slow.
// Liveness does: a sleeping cluster whose leader died stays leaderless until something wakes
// a follower; the host wakes servers on client demand (wake()).

import type { Progress } from "./progress.ts";
import type { AppendEntries, AppendEntriesReply, HardState, Message, NodeId } from "./types.ts";

interface QuiesceRound {
  readonly round: number;
  readonly asked: ReadonlySet<NodeId>;
  readonly agreed: Set<NodeId>;
  /** When the round is given up if some never answer. */
  readonly until: number;
}

/** What a leader tells the quiesce decision about itself. */
export interface LeaderView {
  readonly now: number;
  readonly lastIndex: number;
  readonly voters: readonly NodeId[];
  readonly self: NodeId;
  readonly progress: ReadonlyMap<NodeId, Progress>;
  /** Followers count as live if heard from within this window (the longest election timeout). */
  readonly liveWindowMs: number;
}

/** What a sleeping follower holds, to tell a leader asking again from news. */
export interface FollowerView {
  readonly term: number;
  readonly leader: NodeId | null;
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly commitIndex: number;
}

export class LeaderLife {
  /** This life: the durable count loaded (HardState.life), one more once it resumes leading. */
  private lives: number;
  /** The term this server won and still leads (or led until a reset); durable. 0: none. */
  private ledTerm: number;
  /** Asleep with the idle cluster: nothing is due until a message, a proposal or wake(). Durable. */
  private sleeping: boolean;
  /** Leader: the last client activity (proposal, read, transfer, wake); idleness is measured from it. */
  private lastActivity = 0;
  private quiescing: QuiesceRound | null = null;
  private rounds = 0;
  /** Leader: commitIndex is known to be the cluster's (after resuming: once it reached resumeFloor). */
  private commitKnown = true;
  private resumeFloor = 0;
  /** Follower: when it last woke from sleep (its leader's lease starts again then). */
  private wokeAt = -Infinity;

  constructor(hs: HardState) {
    this.ledTerm = hs.ledTerm ?? 0;
    this.sleeping = hs.asleep === true;
    this.lives = hs.life ?? 0;
  }

  get life(): number {
    return this.lives;
  }

  get asleep(): boolean {
    return this.sleeping;
  }

  /** The durable marks of this module, for HardState (ledTerm and asleep omitted while unset). */
  marks(): Pick<HardState, "ledTerm" | "asleep" | "life"> {
    return {
      ...(this.ledTerm > 0 ? { ledTerm: this.ledTerm } : {}),
      ...(this.sleeping ? { asleep: true } : {}),
      ...(this.lives > 0 ? { life: this.lives } : {}),
    };
  }

  /** May a server reloaded at durable `term` resume leading it? */
  mayResume(term: number): boolean {
    return term > 0 && this.ledTerm === term;
  }

  /** It leads `term` from now (elected, or resumed with its log ending at `lastIndex`). */
  startLeading(term: number, resumed: boolean, lastIndex: number, commitIndex: number, now: number): void {
    this.ledTerm = term;
    if (resumed) this.lives += 1; // a new life of this term: durable with this event's Ready, before anything is sent
    this.lastActivity = now;
    this.quiescing = null;
    this.rounds = 0;
    this.resumeFloor = resumed ? lastIndex : 0;
    this.commitKnown = commitIndex >= this.resumeFloor;
  }

  /** It no longer leads (any reason): a reload must not resume; no round goes on. */
  steppedDown(): void {
    this.ledTerm = 0;
    this.quiescing = null;
  }

  /** The leader committed up to `index`; answers whether its commitIndex is now known to be the cluster's. */
  committed(index: number): boolean {
    if (index >= this.resumeFloor) this.commitKnown = true;
    return this.commitKnown;
  }

  /** May the leader answer ReadIndex reads at its commit index? (Not before it is known to be current.) */
  get mayServeReads(): boolean {
    return this.commitKnown;
  }

  /** A client (or the coordinator) wants something: the idle clock restarts and any round ends. */
  activity(now: number): void {
    this.lastActivity = now;
    this.quiescing = null;
  }

  /** Has the leader been idle for `sleepAfterMs` (0: never sleeps)? */
  idleFor(now: number, sleepAfterMs: number): boolean {
    return sleepAfterMs > 0 && now - this.lastActivity >= sleepAfterMs;
  }

  /** Followers heard from within the (longest) election timeout. */
  liveFollowers(v: LeaderView): NodeId[] {
    return [...v.progress].filter(([, pr]) => v.now - pr.lastHeard < v.liveWindowMs).map(([id]) => id);
  }

  /**
   * Is everyone caught up enough to sleep? The leader's log is committed (the caller checked);
   * the live voters, itself included, are a majority, and every live follower holds the
   * leader's whole log with nothing in flight.
   */
  caughtUpToSleep(v: LeaderView): boolean {
    const live = this.liveFollowers(v);
    const liveVoters = live.filter((id) => v.voters.includes(id)).length + (v.voters.includes(v.self) ? 1 : 0);
    if (liveVoters < Math.floor(v.voters.length / 2) + 1) return false;
    return live.every((id) => {
      const pr = v.progress.get(id)!;
      return pr.match === v.lastIndex && !pr.inflight && pr.snapshotSentAt === null;
    });
  }

  /**
   * Leader: may the cluster sleep now? Not while `busy` (a transfer or reads waiting); while
   * earlier terms' entries at the log's end keep it from committing, "noop": only an entry
   * of this term commits them (Figure 8).
   */
  mayQuiesce(v: LeaderView, sleepAfterMs: number, busy: boolean, commitIndex: number, lastTerm: number, term: number): boolean | "noop" {
    if (!this.idleFor(v.now, sleepAfterMs) || busy) return false;
    if (commitIndex < v.lastIndex) return lastTerm !== term ? "noop" : false;
    return this.caughtUpToSleep(v);
  }

  /** A quiesce round asking the live followers, given up at `until`; answers whom it asks. */
  startQuiesce(v: LeaderView, until: number): NodeId[] {
    const asked = this.liveFollowers(v);
    this.startRound(asked, until);
    return asked;
  }

  /** A new quiesce round asking `asked`, given up at `until`; answers its number. */
  startRound(asked: readonly NodeId[], until: number): number {
    this.rounds += 1;
    this.quiescing = { round: this.rounds, asked: new Set(asked), agreed: new Set(), until };
    return this.rounds;
  }

  /** The quiesce round under way (null: none). */
  get round(): number | null {
    return this.quiescing?.round ?? null;
  }

  /** The round under way has run past its time. */
  roundOverdue(now: number): boolean {
    return this.quiescing !== null && now >= this.quiescing.until;
  }

  /** The followers the round under way asked that have not answered it. */
  missing(): NodeId[] {
    const q = this.quiescing;
    return q ? [...q.asked].filter((id) => !q.agreed.has(id)) : [];
  }

  /** Give up the round under way; answers who did not answer. */
  abandonRound(): NodeId[] {
    const missing = this.missing();
    this.quiescing = null;
    return missing;
  }

  /** Is this "asleep" the answer to the round under way, in this life? (A late one from an earlier round or life is not.) */
  answersRound(m: AppendEntriesReply): boolean {
    return this.quiescing !== null && m.life === this.life && m.quiesce === this.quiescing.round;
  }

  /** Follower `from` agreed to sleep in the round under way; answers whether everyone asked has. */
  agreed(from: NodeId): boolean {
    const q = this.quiescing!;
    q.agreed.add(from);
    return [...q.asked].every((id) => q.agreed.has(id));
  }

  /** Fall asleep (the leader, its round complete; a follower, on its leader's quiesce heartbeat). */
  fallAsleep(): void {
    this.quiescing = null;
    this.sleeping = true;
  }

  /** Wake; a follower's leader lease starts again now, a leader's idle clock restarts. */
  wake(now: number, leader: boolean): void {
    this.sleeping = false;
    if (leader) this.lastActivity = now;
    else this.wokeAt = now;
  }

  /**
   * Follower: whose lease keeps it from helping a new election, as the narration says it
   * ("heard from leader 2", "woke from sleep"), or null: none. Its leader's lease runs for
   * `minMs` from the later of hearing from it (`leader`, at `lastLeaderContact`) and waking.
   */
  leaseHolder(now: number, leader: NodeId | null, lastLeaderContact: number, minMs: number): string | null {
    const heard = leader !== null ? lastLeaderContact : -Infinity;
    if (now - Math.max(heard, this.wokeAt) >= minMs) return null;
    return now - heard < minMs ? `heard from leader ${leader}` : "woke from sleep";
  }

  /**
   * Whose lease this server is in, as the narration says it, or null: heard from a live leader
   * within the minimum election timeout, or woke from sleep within it (the leader slept too,
   * silent by agreement). A leader (`leading`) is always in its own lease.
   */
  lease(now: number, leader: NodeId | null, lastLeaderContact: number, minMs: number, leading: boolean): string | null {
    return this.leaseHolder(now, leader, lastLeaderContact, minMs) ?? (leading ? "woke from sleep" : null);
  }

  /** Follower: may it sleep on this quiesce heartbeat? Its log ends exactly at the leader's and all of it is committed. */
  maySleepOn(m: AppendEntries, v: FollowerView): boolean {
    return m.quiesce !== undefined && v.lastIndex === m.prevLogIndex && v.commitIndex === m.leaderCommit;
  }

  /** Follower, asleep: is `m` its leader asking again for the sleep it agreed to? Then it need not wake. */
  asksAgain(m: Message, v: FollowerView): boolean {
    return (
      m.type === "AppendEntries" &&
      m.quiesce !== undefined &&
      m.term === v.term &&
      m.leaderId === v.leader &&
      m.entries.length === 0 &&
      m.prevLogIndex === v.lastIndex &&
      m.prevLogTerm === v.lastTerm &&
      m.leaderCommit === v.commitIndex
    );
  }
}
