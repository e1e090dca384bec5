// Client commands a leader proposed and is waiting to see applied.
//
// A proposal is known by its (index, term). When the entry at that index is applied, the
// wait ends: with the state machine's answer if the entry is ours (same term), or with
// "not_applied" if another leader's entry took that index (ours can then never be applied:
// it existed in one entry only). A wait that outlives its deadline ends "unknown": the
// entry may still commit later, so only a retry with the same exactly-once ids is safe.
import type { ApplyOutcome } from "../kv/index.ts";
import type { Entry, Membership } from "../raft/types.ts";
import type { KvAnswer, MembershipAnswer } from "./protocol.ts";

interface Waiter {
  readonly term: number;
  readonly resolve: (answer: KvAnswer) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class PendingProposals {
  /**
   * By index. Several proposals can wait at one index: a leader that lost its uncommitted
   * entry and, leading again, proposed another there. The older one is not known to be
   * lost (another server may still hold it and win): only the applied entry decides.
   */
  private readonly waiters = new Map<number, Waiter[]>();

  wait(index: number, term: number, timeoutMs: number): Promise<KvAnswer> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        term,
        resolve,
        timer: setTimeout(() => {
          const rest = (this.waiters.get(index) ?? []).filter((w) => w !== waiter);
          if (rest.length > 0) this.waiters.set(index, rest);
          else this.waiters.delete(index);
          resolve({ kind: "unknown" });
        }, timeoutMs),
      };
      this.waiters.set(index, [...(this.waiters.get(index) ?? []), waiter]);
    });
  }

  /**
   * A leader's snapshot replaced the state machine up to `index`: entries up to there are
   * never applied here one by one, so their waiters cannot learn their fate. Unknown.
   */
  forgetUpTo(index: number): void {
    for (const [i, ws] of this.waiters) {
      if (i > index) continue;
      this.waiters.delete(i);
      for (const w of ws) {
        clearTimeout(w.timer);
        w.resolve({ kind: "unknown" });
      }
    }
  }

  /**
   * The incarnation these proposals belong to is gone (the cluster was deleted): none can
   * learn its fate here any more, and none may be answered by the entries of the next
   * incarnation, which fill the same indices in the same terms. Unknown.
   */
  failAll(): void {
    const all = [...this.waiters.values()].flat();
    this.waiters.clear();
    for (const w of all) {
      clearTimeout(w.timer);
      w.resolve({ kind: "unknown" });
    }
  }

  /** Entries just applied, with what the state machine said of each. */
  settle(entries: readonly Entry[], outcomes: readonly ApplyOutcome[]): void {
    if (this.waiters.size === 0) return;
    entries.forEach((e, i) => {
      const ws = this.waiters.get(e.index);
      if (!ws) return;
      this.waiters.delete(e.index);
      for (const w of ws) {
        clearTimeout(w.timer);
        w.resolve(e.term === w.term ? answerOf(e.index, outcomes[i]!) : { kind: "not_applied" });
      }
    });
  }
}

function answerOf(index: number, outcome: ApplyOutcome): KvAnswer {
  switch (outcome.status) {
    case "applied":
    case "duplicate":
      return { kind: "ok", index, result: outcome.result, duplicate: outcome.status === "duplicate" };
    case "refused":
      return { kind: "too_large", index, message: outcome.refusal.message };
    case "stale":
      return { kind: "stale", lastRequestId: outcome.lastRequestId };
    case "ignored":
      // Our own command, validated before proposing, cannot be ignored; say so loudly if it is.
      return { kind: "rejected", message: outcome.message };
  }
}

/**
 * Membership changes this server appended as leader, waiting for their configuration entry
 * to commit (and be applied here, which on the leader happens in the same event). The same
 * rules as for proposals: the entry at that index in our term is ours; another term's entry
 * there means ours was dropped ("not_applied"); a wait past its deadline is "unknown".
 */
export class PendingChanges {
  private readonly waiters = new Map<number, { term: number; resolve: (answer: MembershipAnswer) => void; timer: ReturnType<typeof setTimeout> }[]>();

  wait(index: number, term: number, membership: Membership, timeoutMs: number): Promise<MembershipAnswer> {
    return new Promise((resolve) => {
      const waiter = {
        term,
        resolve: (answer: MembershipAnswer) =>
          resolve(answer.kind === "committed" ? { ...answer, membership } : answer),
        timer: setTimeout(() => {
          const rest = (this.waiters.get(index) ?? []).filter((w) => w !== waiter);
          if (rest.length > 0) this.waiters.set(index, rest);
          else this.waiters.delete(index);
          resolve({ kind: "unknown", index });
        }, timeoutMs),
      };
      this.waiters.set(index, [...(this.waiters.get(index) ?? []), waiter]);
    });
  }

  /** Entries just applied. */
  settle(entries: readonly Entry[]): void {
    if (this.waiters.size === 0) return;
    for (const e of entries) {
      const ws = this.waiters.get(e.index);
      if (!ws) continue;
      this.waiters.delete(e.index);
      for (const w of ws) {
        clearTimeout(w.timer);
        w.resolve(
          e.term === w.term
            ? { kind: "committed", index: e.index, term: e.term, membership: { voters: [], learners: [] } }
            : { kind: "not_applied", index: e.index },
        );
      }
    }
  }

  /** A snapshot replaced the log up to `index`, or the incarnation is gone (failAll): unknown. */
  forgetUpTo(index: number): void {
    for (const [i, ws] of this.waiters) {
      if (i > index) continue;
      this.waiters.delete(i);
      for (const w of ws) {
        clearTimeout(w.timer);
        w.resolve({ kind: "unknown", index: i });
      }
    }
  }

  failAll(): void {
    this.forgetUpTo(Number.MAX_SAFE_INTEGER);
  }
}
