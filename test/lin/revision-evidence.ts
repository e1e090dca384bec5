// The evidence the revision checker's replays weigh when a revision was made by a write of
// unknown outcome nobody identified (a gap): which writes may have made it, what later answers
// say about the keys it changed, and the report when none can have. Every rule here holds in
// any history that is linearizable, so dropping a candidate by it never loses an explanation.

import type { EtcdModel, EtcdRequest } from "./etcd-model.ts";
import { type Facts, lowerBound } from "./revision-facts.ts";
import type { Violation } from "./revisions.ts";

/**
 * Whether a write that changed `changed` at revision `r` changed every key answers show
 * created or modified at `r`: null when it did, else an operation whose answer shows one it left.
 */
export function unchangedShownChange(facts: Facts, changed: readonly string[], r: number): number | null {
  for (const [key, op] of facts.changedAt.get(r) ?? []) if (!changed.includes(key)) return op;
  return null;
}

/** The state a read-only answer at revision `r` is judged against, in words: a read of the past names its own revision. */
export function judgedState(req: EtcdRequest, r: number): string {
  if (req.kind === "range" && req.range.revision > 0) return `the state at revision ${req.range.revision} (a read of the past, answered at ${r})`;
  return `the state at revision ${r}`;
}

/** The unknown-outcome writes that may have created revision `r` by real time: invoked before anything that saw `r` returned. */
export function timelyCandidates(facts: Facts, r: number): number[] {
  const deadline = facts.earliestReturnFrom[r]!;
  return facts.unknownWrites.filter((i) => !facts.pinned.has(i) && facts.history[i]!.call <= deadline);
}

/** True when an answer shows `key` with a mod_revision below `r` in a state at or after `r`: it did not change at `r`. */
export function seenUnchangedAcross(facts: Facts, key: string, r: number): boolean {
  const s = facts.seen.get(key);
  if (s === undefined) return false;
  const i = lowerBound(s.at, r);
  return i < s.at.length && s.minModFrom[i]! < r;
}

/** The operation whose answer rules out the change the model now has for `key` at `r` (see fit()), or null. */
export function contradicted(facts: Facts, model: EtcdModel, key: string, r: number): number | null {
  return fit(facts, model, key, r).by;
}

export interface Fit {
  readonly score: number;
  /** When the score is −1: the operation whose answer rules the change out. */
  readonly by: number | null;
}

/**
 * How well the change the model now has for `key` at revision `r` fits the next answer that
 * shows the key. A sighting at revision s ≥ r of the key with create c, mod m, version v says:
 * the key did not change in (m, s]; it lived without a break from c to s; and it was put
 * v − 1 times in (c, m]. Scores: −1 the change cannot be (m < r; or c ≤ r and the key is not
 * now alive with create c, or its version leaves too little room for the puts the answers
 * prove in (r, m]); 3 that answer shows the key modified exactly at `r` as it now is; 2 it
 * leaves exactly the version that answer shows; 1 a delete followed by a later life; 0
 * possible, no more.
 */
export function fit(facts: Facts, model: EtcdModel, key: string, r: number): Fit {
  const s = facts.seen.get(key);
  if (s === undefined) return { score: 0, by: null };
  const i = lowerBound(s.at, r);
  if (i === s.at.length) return { score: 0, by: null };
  if (s.minModFrom[i]! < r) return { score: -1, by: s.minModOp[i]! };
  const next = s.kvs[i]!;
  const by = s.ops[i]!;
  const now = model.get(key, r);
  if (next.mod === r) return now !== null && now.create === next.create && now.version === next.version ? { score: 3, by: null } : { score: -1, by };
  if (next.create > r) return { score: now === null ? 1 : 0, by: null }; // a later life of the key: a delete may come between
  if (now === null || now.create !== next.create) return { score: -1, by };
  const puts = facts.certainPuts.get(key) ?? [];
  const certain = lowerBound(puts, next.mod + 1) - lowerBound(puts, r + 1);
  const slack = next.version - now.version - certain;
  return slack < 0 ? { score: -1, by } : { score: slack === 0 ? 2 : 0, by: null };
}

/**
 * Revision `r` has no writer: no answered write claims it and no write of unknown outcome fits
 * there. Names the values answers show written at `r` and the operations whose answers ruled
 * the candidates out (one of those answers may be the wrong one).
 */
export function noWriter(facts: Facts, r: number, ruledOutBy: ReadonlySet<number>): Violation {
  const shown = [...facts.seen.values()].flatMap((s) => s.kvs.filter((kv) => kv.mod === r)).map((kv) => `${JSON.stringify(kv.key)}=${JSON.stringify(kv.value)}`);
  const by = [...ruledOutBy].sort((a, b) => a - b);
  return {
    kind: "no-writer",
    ops: by,
    revision: r,
    message:
      `revision ${r} was created by no operation of the history: no answered write claims it, and no write of unknown outcome ` +
      `invoked early enough can have made it (a write applied twice, or one the history lacks?)` +
      (shown.length > 0 ? `; answers show ${[...new Set(shown)].join(", ")} written at ${r}` : "") +
      (by.length > 0 ? `; the writes that could have were ruled out by the answers of ${by.map((i) => facts.describeOp(i)).join("; ")}` : ""),
  };
}
