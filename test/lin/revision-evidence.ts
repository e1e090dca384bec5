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
 * now alive with create c, or its version leaves fewer puts to come in (r, m] than answers
 * prove there, or more than there are open revisions); 3 that answer shows the key modified exactly at `r` as it now is; 2 it
 * leaves exactly the version that answer shows; 1 a delete followed by a later life; 0
 * possible, no more.
 */
export function fit(facts: Facts, model: EtcdModel, key: string, r: number): Fit {
  const s = facts.seen.get(key);
  const i = s === undefined ? 0 : lowerBound(s.at, r);
  if (s === undefined || i === s.at.length) {
    const endless = model.get(key, r) !== null ? absentWithoutEnd(facts, key, r) : null;
    return endless !== null ? { score: -1, by: endless } : { score: 0, by: null };
  }
  if (s.minModFrom[i]! < r) return { score: -1, by: s.minModOp[i]! };
  const next = s.kvs[i]!;
  const by = s.ops[i]!;
  const now = model.get(key, r);
  const endless = now !== null ? absentWithoutEnd(facts, key, r) : null;
  if (endless !== null) return { score: -1, by: endless };
  if (next.mod === r) return now !== null && now.create === next.create && now.version === next.version ? { score: 3, by: null } : { score: -1, by };
  if (next.create > r) return { score: now === null ? 1 : 0, by: null }; // a later life of the key: a delete may come between
  if (now === null || now.create !== next.create) return { score: -1, by };
  const slack = next.version - now.version - certainPuts(facts, key, r + 1, next.mod);
  if (slack < 0 || slack > openIn(facts, r + 1, next.mod)) return { score: -1, by };
  return { score: slack === 0 ? 2 : 0, by: null };
}

/**
 * For a key present at revision `r`: the operation of the first answer that shows it absent at
 * some s ≥ r when no revision in (r, s] can have deleted it (no gap, no known write that deletes
 * a range holding it), or null.
 */
function absentWithoutEnd(facts: Facts, key: string, r: number): number | null {
  const a = facts.absent.get(key);
  if (a === undefined) return null;
  const j = lowerBound(a.at, r);
  if (j === a.at.length) return null;
  return mayEndIn(facts, key, r + 1, a.at[j]!) ? null : a.ops[j]!;
}

/** Whether some revision in [from, to] can have deleted `key`. */
function mayEndIn(facts: Facts, key: string, from: number, to: number): boolean {
  if (to < from) return false;
  const last = facts.gapUpTo.length - 2;
  if (facts.gapUpTo[Math.min(to, last)]! - facts.gapUpTo[Math.max(from, facts.base + 1) - 1]! > 0) return true;
  const d = facts.mayDelete.get(key) ?? [];
  const k = lowerBound(d, from);
  return k < d.length && d[k]! <= to;
}

/** How many puts of `key` answers prove at revisions in [from, to]. */
function certainPuts(facts: Facts, key: string, from: number, to: number): number {
  const puts = facts.certainPuts.get(key) ?? [];
  return lowerBound(puts, to + 1) - lowerBound(puts, from);
}

/** How many revisions in [from, to] may have put a key no answer names (see Facts.openUpTo). */
function openIn(facts: Facts, from: number, to: number): number {
  if (to < from) return 0;
  const last = facts.openUpTo.length - 2;
  return facts.openUpTo[Math.min(to, last)]! - facts.openUpTo[Math.max(from, facts.base + 1) - 1]!;
}

/**
 * What later answers demand of the gap at `r`, in the state before it: the keys it must change,
 * namely a key whose next sighting (in the same life) needs as many more puts as there are
 * open revisions left up to it, this one included, and a key present now that an answer shows
 * absent later with no other revision able to end it; or else the operation whose answer no way
 * of filling the gaps can satisfy any more (more puts needed than open revisions). `known`
 * limits it to keys whose state is known (the certain replay).
 */
export function demands(
  facts: Facts,
  model: EtcdModel,
  r: number,
  known: (key: string) => boolean = () => true,
): { mustChange: Array<{ key: string; by: number }>; impossibleBy: number | null } {
  const mustChange: Array<{ key: string; by: number }> = [];
  // A key present before `r` and shown absent later with no other revision able to end it: `r` must.
  for (const [key, a] of facts.absent) {
    if (!known(key) || model.get(key, r - 1) === null) continue;
    const j = lowerBound(a.at, r);
    if (j < a.at.length && !mayEndIn(facts, key, r + 1, a.at[j]!)) mustChange.push({ key, by: a.ops[j]! });
  }
  for (const [key, s] of facts.seen) {
    if (!known(key)) continue;
    const i = lowerBound(s.at, r);
    if (i === s.at.length) continue;
    const next = s.kvs[i]!;
    if (next.create >= r || next.mod < r) continue; // a later life, or nothing changes up to it
    const now = model.get(key, r - 1);
    if (now === null || now.create !== next.create) continue; // the replay judges that answer itself
    const required = next.version - now.version - certainPuts(facts, key, r, next.mod);
    const room = openIn(facts, r, next.mod);
    if (required > room) return { mustChange, impossibleBy: s.ops[i]! };
    if (required > 0 && required === room) mustChange.push({ key, by: s.ops[i]! });
  }
  return { mustChange, impossibleBy: null };
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
