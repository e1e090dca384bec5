// The checks of a leader's lives (issue 19), kept apart from invariants.ts's Checker, which
// calls them from its hooks: a leader that steps down never resumes that term after a reload
// (ResumeSafety), a leader sleeps on answers to its latest quiesce round only (SleepSafety,
// with the Checker), PreVote's lease holds across sleep (PreVoteLease), and a read is confirmed
// by answers to rounds of the life and term that asked (ReadRoundQuorum).

import type { InvariantName } from "./invariants.ts";
import { majority } from "../../src/raft/quorum.ts";
import type { Message, NodeId, RaftStatus } from "../../src/raft/types.ts";

/** A follower's "asleep" answer to a leader: the term, index, and the life and round it answers. */
export interface SleepAck {
  readonly term: number;
  readonly index: number;
  readonly life: number | undefined;
  readonly round: number | undefined;
}

export class LeaderLivesChecks {
  /** The virtual time of the event being handled (the cluster sets it). */
  now = 0;
  /** The minimum election timeout (the cluster sets it): PreVote's lease. */
  electionMinMs = 150;
  /** Per server: the term it stepped down from as leader, once that step-down was carried out. */
  private readonly stoodDown = new Map<NodeId, number>();
  /** Per leader: its latest quiesce round, the term and life it was sent in (rounds are numbered per both), and the followers it asked. */
  private readonly quiesce = new Map<NodeId, { readonly term: number; readonly life: number | undefined; readonly round: number; readonly asked: Set<NodeId> }>();
  /** Per server: when it last heard from the leader of a term (AppendEntries, InstallSnapshot of its term). */
  private readonly heard = new Map<NodeId, { readonly term: number; readonly at: number }>();
  /** Per server: when it last woke from sleep as a follower. */
  private readonly woke = new Map<NodeId, number>();
  /** Per leader: its read rounds, as (term, life, round) and when it first sent each. */
  private readonly rounds = new Map<NodeId, { readonly term: number; readonly life: number; readonly sentAt: Map<number, number> }>();
  /** Per leader, per follower: the highest round of the leader's current term and life the follower answered (delivered). */
  private readonly answered = new Map<NodeId, Map<NodeId, number>>();
  /** Reads asked and not yet confirmed: ctx -> the server asked and when. */
  private readonly asked = new Map<string, { readonly id: NodeId; readonly at: number }>();

  constructor(private readonly fail: (invariant: InvariantName, detail: string) => void) {}

  /** The leader's latest quiesce round in `term` and `life`, and whom it asked (undefined: none asked then). */
  latestQuiesce(id: NodeId, term: number, life: number): { readonly round: number; readonly asked: ReadonlySet<NodeId> } | undefined {
    const q = this.quiesce.get(id);
    return q !== undefined && q.term === term && q.life === life ? q : undefined;
  }

  beforeCarryOut(id: NodeId, before: RaftStatus | null, after: RaftStatus, delivering: Message | null): void {
    if (before?.asleep && !after.asleep && before.state !== "Leader") this.woke.set(id, this.now);
    const m = delivering;
    if (m !== null && m.to === id && (m.type === "AppendEntries" || m.type === "InstallSnapshot") && m.term === after.term) {
      this.heard.set(id, { term: m.term, at: this.now });
    }
    const r = this.rounds.get(id);
    if (m !== null && m.to === id && m.type === "AppendEntriesReply" && m.readSeq !== undefined && r !== undefined) {
      if (m.term === r.term && m.life === r.life) {
        const mine = this.answered.get(id)!;
        mine.set(m.from, Math.max(mine.get(m.from) ?? 0, m.readSeq));
      }
    }
  }

  onReadAsked(id: NodeId, ctx: string, at: number): void {
    this.asked.set(ctx, { id, at });
  }

  /** Leader `id` (now `after`) confirmed read `ctx`: a majority answered a round of this life sent since the read arrived. */
  onReadConfirmed(id: NodeId, ctx: string, after: RaftStatus): void {
    const ask = this.asked.get(ctx);
    this.asked.delete(ctx);
    if (ask === undefined || ask.id !== id) return;
    const r = this.rounds.get(id);
    const voters = after.membership.voters;
    const self = voters.includes(id) ? 1 : 0;
    const needed = majority(voters.length);
    if (self >= needed) return; // a one-voter cluster is its own majority
    let first = Infinity;
    if (r !== undefined && r.term === after.term && r.life === after.life) {
      for (const [round, at] of r.sentAt) if (at >= ask.at && round < first) first = round;
    }
    const mine = this.answered.get(id) ?? new Map<NodeId, number>();
    const answered = voters.filter((v) => v !== id && (mine.get(v) ?? 0) >= first).length;
    if (answered + self < needed) {
      this.fail(
        "ReadRoundQuorum",
        `leader ${id} (term ${after.term}, life ${after.life}) confirmed read ${ctx} with ${answered + self} of the ${needed} answers ` +
          `a majority needs to a round it started since the read arrived (round ${first === Infinity ? "none" : first} on)`,
      );
    }
  }

  onSend(id: NodeId, m: Message): void {
    if (m.type === "AppendEntries" && m.quiesce !== undefined) {
      const q = this.quiesce.get(id);
      if (q !== undefined && q.term === m.term && q.life === m.life && q.round === m.quiesce) q.asked.add(m.to);
      else this.quiesce.set(id, { term: m.term, life: m.life, round: m.quiesce, asked: new Set([m.to]) });
    }
    if (m.type === "AppendEntries" && m.readSeq !== undefined && m.life !== undefined) {
      let r = this.rounds.get(id);
      if (r === undefined || r.term !== m.term || r.life !== m.life) {
        r = { term: m.term, life: m.life, sentAt: new Map() };
        this.rounds.set(id, r);
        this.answered.set(id, new Map());
      }
      if (!r.sentAt.has(m.readSeq)) r.sentAt.set(m.readSeq, this.now);
    }
    if (m.type === "PreVoteReply" && m.granted) {
      const heard = this.heard.get(id);
      const lease = Math.max(heard !== undefined && heard.term === m.term ? heard.at : -Infinity, this.woke.get(id) ?? -Infinity);
      if (this.now - lease < this.electionMinMs) {
        const why = lease === this.woke.get(id) ? "woke from sleep" : `heard from the leader of term ${m.term}`;
        this.fail("PreVoteLease", `server ${id} granted a PreVote to ${m.to} ${(this.now - lease).toFixed(3)} ms after it ${why}`);
      }
    }
  }

  /** Once the event is carried out (persisted, sent): a step-down that a reload will see. */
  afterEvent(id: NodeId, before: RaftStatus | null, after: RaftStatus): void {
    if (before?.state === "Leader" && after.state !== "Leader" && after.term === before.term) this.stoodDown.set(id, after.term);
  }

  /** A new life remembers no leader and no waking: its lease starts over. */
  onBoot(id: NodeId, first: RaftStatus): void {
    this.heard.delete(id);
    this.woke.delete(id);
    if (first.state === "Leader" && this.stoodDown.get(id) === first.term) {
      this.fail("ResumeSafety", `server ${id} came up leading term ${first.term}, which it had stepped down from`);
    }
  }
}
