// Client commands a leader proposed and is waiting to see applied.
//
// A proposal is known by its (index, term). When the entry at that index is applied, the
// wait ends: with the state machine's answer if the entry is ours (same term), or with
// "not_applied" if another leader's entry took that index (ours can then never be applied:
// it existed in one entry only). A wait that outlives its deadline ends "unknown": the
// entry may still commit later, so only a retry with the same exactly-once ids is safe.
import type { ApplyOutcome, MachineResult } from "../kv/index.ts";
import type { Entry, Membership } from "../raft/types.ts";
import type { KvAnswer, MembershipAnswer } from "./protocol.ts";

interface Waiter<A> {
  readonly term: number;
  readonly resolve: (answer: A) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * Waits keyed by the (index, term) of an entry this server appended as leader, for the
 * entry at that index to be applied. Several can wait at one index: a leader that lost its
 * uncommitted entry and, leading again, appended another there. The older one is not known
 * to be lost (another server may still hold it and win): only the applied entry decides.
 */
class IndexWaiters<A> {
  private readonly waiters = new Map<number, Waiter<A>[]>();

  constructor(private readonly unknown: (index: number) => A) {}

  get size(): number {
    return this.waiters.size;
  }

  wait(index: number, term: number, timeoutMs: number): Promise<A> {
    return new Promise((resolve) => {
      const waiter: Waiter<A> = {
        term,
        resolve,
        timer: setTimeout(() => {
          const rest = (this.waiters.get(index) ?? []).filter((w) => w !== waiter);
          if (rest.length > 0) this.waiters.set(index, rest);
          else this.waiters.delete(index);
          resolve(this.unknown(index));
        }, timeoutMs),
      };
      this.waiters.set(index, [...(this.waiters.get(index) ?? []), waiter]);
    });
  }

  /** Entry `e` was applied: each waiter at its index learns `answer(ours)`, ours = same term. */
  settle(e: Entry, answer: (ours: boolean) => A): void {
    const ws = this.waiters.get(e.index);
    if (!ws) return;
    this.waiters.delete(e.index);
    for (const w of ws) {
      clearTimeout(w.timer);
      w.resolve(answer(e.term === w.term));
    }
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
        w.resolve(this.unknown(i));
      }
    }
  }

  /**
   * The incarnation these waits belong to is gone (the cluster was deleted): none can learn
   * its fate here any more, and none may be answered by the entries of the next incarnation,
   * which fill the same indices in the same terms. Unknown.
   */
  failAll(): void {
    this.forgetUpTo(Number.MAX_SAFE_INTEGER);
  }
}

export class PendingProposals {
  private readonly waiters = new IndexWaiters<KvAnswer<MachineResult>>(() => ({ kind: "unknown" }));

  /** The answer to a key/value command or an etcd write (the caller narrows it: onlyResults). */
  wait(index: number, term: number, timeoutMs: number): Promise<KvAnswer<MachineResult>> {
    return this.waiters.wait(index, term, timeoutMs);
  }

  forgetUpTo(index: number): void {
    this.waiters.forgetUpTo(index);
  }

  failAll(): void {
    this.waiters.failAll();
  }

  /** Entries just applied, with what the state machine said of each. */
  settle(entries: readonly Entry[], outcomes: readonly ApplyOutcome[]): void {
    if (this.waiters.size === 0) return;
    entries.forEach((e, i) => this.waiters.settle(e, (ours) => (ours ? answerOf(e.index, outcomes[i]!) : { kind: "not_applied" })));
  }
}

/**
 * The answer with its result of the kind the caller proposed (a key/value result, or an etcd
 * answer): a result of the other kind is "rejected", as the state machine's fingerprints keep
 * a retry from ever being answered with another kind's result.
 */
export function onlyResults<R extends MachineResult>(answer: KvAnswer<MachineResult>, ofKind: (r: MachineResult) => r is R): KvAnswer<R> {
  if (answer.kind !== "ok") return answer;
  if (!ofKind(answer.result)) return { kind: "rejected", message: "answered with the result of another kind of command" };
  return { ...answer, result: answer.result };
}

function answerOf(index: number, outcome: ApplyOutcome): KvAnswer<MachineResult> {
  switch (outcome.status) {
    case "applied":
      return { kind: "ok", index, result: outcome.result, duplicate: false };
    // A retry is answered with the index where its request was applied, not the retry's own
    // entry. A session stored before that index was kept has none: the retry's index, as before.
    case "duplicate":
      return { kind: "ok", index: outcome.index ?? index, result: outcome.result, duplicate: true };
    case "refused":
      return { kind: "too_large", index: outcome.index ?? index, message: outcome.refusal.message };
    case "stale":
      return { kind: "stale", lastRequestId: outcome.lastRequestId };
    case "forgotten":
      return { kind: "forgotten" };
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
  private readonly waiters = new IndexWaiters<MembershipAnswer>((index) => ({ kind: "unknown", index }));

  wait(index: number, term: number, membership: Membership, timeoutMs: number): Promise<MembershipAnswer> {
    return this.waiters.wait(index, term, timeoutMs).then((answer) => (answer.kind === "committed" ? { ...answer, membership } : answer));
  }

  /** Entries just applied. */
  settle(entries: readonly Entry[]): void {
    if (this.waiters.size === 0) return;
    for (const e of entries) {
      this.waiters.settle(e, (ours) =>
        ours
          ? { kind: "committed", index: e.index, term: e.term, membership: { voters: [], learners: [] } }
          : { kind: "not_applied", index: e.index },
      );
    }
  }

  /** A snapshot replaced the log up to `index`: unknown. */
  forgetUpTo(index: number): void {
    this.waiters.forgetUpTo(index);
  }

  failAll(): void {
    this.waiters.failAll();
  }
}
