// What the membership nemesis's own calls imply about the configuration (membership-nemesis
// .test.ts). Each call's answer is booked; from them the ledger says which answers are
// allowed and what the configuration must be at the end:
//
//   - a 200 is a committed change: its body shows it (an added id in the asked role, a
//     promoted id among the voters, a removed id gone), a removed id never shows again in a
//     configuration asked for after that 200 (a read already under way may predate it), an
//     added one stays unless the nemesis asked to remove it, a promoted one stays a voter;
//   - a 404 for a promotion or removal is allowed only for a member the nemesis itself asked
//     to remove (earlier or at the same time) and that the configuration read right after
//     no longer lists: a coordinator whose DELETE answers 404 and removes nothing fails;
//   - 0 (no answer in time), 503, 504 and 409 change_in_progress are "maybe done": both
//     outcomes are allowed (an id the nemesis never learnt may appear, as many as its adds);
//   - nothing leaves the configuration that the nemesis did not ask to remove, and nothing
//     is demoted (there is no such change).
import { members, said, type MemberView } from "./membership-harness.ts";
import type { Answer } from "./kv-harness.ts";

type Role = "voter" | "learner";

/** When a request went out (performance.now()): what it answers cannot be older. */
export type SentAt = number;

export const sentNow = (): SentAt => performance.now();

export class MembershipLedger {
  /** Ids the nemesis asked to remove (before the call went out). */
  private readonly removalAsked = new Set<number>();
  /** Ids a promotion was asked for (promote, add-learner+promote). */
  private readonly promotionAsked = new Set<number>();
  /** Removals answered 200, and when: gone for good from then on. */
  private readonly removed = new Map<number, SentAt>();
  /** Ids known to be voters since a 200 (initial voters, add-voter, promote). */
  private readonly voters = new Set<number>();
  /** Ids added as learners with a 200. */
  private readonly learners = new Set<number>();
  /** Every id ever seen in a configuration or an answer. */
  private readonly seen = new Set<number>();
  private addCalls = 0;
  committedAdds = 0;
  committedRemovals = 0;

  constructor(private readonly initial: readonly number[]) {
    for (const id of initial) {
      this.voters.add(id);
      this.seen.add(id);
    }
  }

  askRemove(id: number): void {
    this.removalAsked.add(id);
  }

  askPromote(id: number): void {
    this.promotionAsked.add(id);
  }

  /** An add goes out: answers the ids seen so far (a new id must not be one of them). */
  askAdd(): ReadonlySet<number> {
    this.addCalls++;
    return new Set(this.seen);
  }

  /** An add sent at `sent` answered; what is wrong with a 200's body (empty when nothing). */
  added(role: Role, res: Answer<MemberView>, sent: SentAt, seenBefore: ReadonlySet<number>): string[] {
    if (res.status !== 200) return [];
    const id = res.body.added;
    if (typeof id !== "number") return [`add ${role} answered 200 without an id: ${JSON.stringify(res.body)}`];
    this.committedAdds++;
    const wrong: string[] = [];
    if (seenBefore.has(id)) wrong.push(`add ${role} answered 200 with id ${id}, an id seen before the call`);
    this.seen.add(id);
    (role === "voter" ? this.voters : this.learners).add(id);
    if (!(role === "voter" ? res.body.voters : res.body.learners).includes(id)) wrong.push(`add ${role} ${id} answered 200 with ${conf(res.body)}`);
    return wrong.concat(this.look(res.body, sent, `the 200 of add ${role} ${id}`));
  }

  /** A promotion of `id` sent at `sent` answered; `now`: the configuration read right after a 404. */
  promoted(id: number, res: Answer<MemberView>, sent: SentAt, now?: MemberView): string[] {
    if (res.status === 404) return this.notFound("promote", id, res, now);
    if (res.status !== 200) return [];
    this.voters.add(id);
    this.learners.delete(id);
    const wrong = res.body.voters.includes(id) ? [] : [`promote ${id} answered 200 with ${conf(res.body)}`];
    return wrong.concat(this.look(res.body, sent, `the 200 of promote ${id}`));
  }

  /** A removal of `id` sent at `sent` answered; `now`: the configuration read right after a 404. */
  removedAnswer(id: number, res: Answer<MemberView>, sent: SentAt, now?: MemberView): string[] {
    if (res.status === 404) return this.notFound("remove", id, res, now);
    if (res.status !== 200) return [];
    this.committedRemovals++;
    const wrong = members(res.body).includes(id) ? [`remove ${id} answered 200 with ${conf(res.body)}`] : [];
    this.removed.set(id, sentNow());
    return wrong.concat(this.look(res.body, sent, `the 200 of remove ${id}`));
  }

  private notFound(what: string, id: number, res: Answer, now: MemberView | undefined): string[] {
    if (!this.removalAsked.has(id)) return [`${what} ${id}: ${said(res)}, but the nemesis never asked to remove ${id}`];
    if (now && members(now).includes(id)) return [`${what} ${id}: ${said(res)}, but the configuration read right after still lists it: ${conf(now)}`];
    return [];
  }

  /**
   * A configuration asked for at `sent`: what contradicts the 200s answered before that
   * (a removal answered while the request was under way may postdate the answer).
   */
  look(v: Pick<MemberView, "voters" | "learners">, sent: SentAt, where: string): string[] {
    for (const id of members(v)) this.seen.add(id);
    return members(v)
      .filter((id) => (this.removed.get(id) ?? Infinity) < sent)
      .map((id) => `${where}: ${id} listed after its removal answered 200 (${conf(v)})`);
  }

  /** The final (committed) configuration against everything the answers imply. */
  final(v: Pick<MemberView, "voters" | "learners">): string[] {
    const wrong = this.look(v, sentNow(), "the final configuration");
    const all = members(v);
    for (const id of [...this.voters, ...this.learners]) {
      if (!all.includes(id) && !this.removalAsked.has(id)) wrong.push(`${id} is gone though the nemesis never asked to remove it (${conf(v)})`);
    }
    for (const id of this.voters) {
      if (v.learners.includes(id)) wrong.push(`${id} is a learner though it was a voter (answered 200): nothing demotes (${conf(v)})`);
    }
    for (const id of this.learners) {
      if (v.voters.includes(id) && !this.promotionAsked.has(id)) wrong.push(`${id} is a voter though it was added as a learner and never promoted (${conf(v)})`);
    }
    const fresh = [...this.seen].filter((id) => !this.initial.includes(id));
    if (fresh.length > this.addCalls) wrong.push(`${fresh.length} ids besides the initial ones appeared (${JSON.stringify(fresh)}) for ${this.addCalls} add calls`);
    return wrong;
  }
}

const conf = (v: Pick<MemberView, "voters" | "learners">) => `voters ${JSON.stringify(v.voters)}, learners ${JSON.stringify(v.learners)}`;
