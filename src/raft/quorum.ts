/** Quorum arithmetic, kept apart so that it can be read (and tested) on its own. */

/** The smallest number of servers that is a majority of `size`. */
export function majority(size: number): number {
  return Math.floor(size / 2) + 1;
}

/**
 * The highest index that a majority of servers hold, given every server's match index
 * (the leader's own included): sort descending and take the majority-th.
 */
export function quorumIndex(matchIndexes: readonly number[]): number {
  const sorted = [...matchIndexes].sort((a, b) => b - a);
  return sorted[majority(sorted.length) - 1] ?? 0;
}

/**
 * CheckQuorum: the moment fewer than a majority of `voters` (`self` included, if a voter)
 * will have been heard from within `windowMs`, unless someone answers before then: the k-th
 * most recent answer plus the window, k being the others a majority needs. Answers only
 * move it later, so checking at this moment (and recomputing) steps down exactly on time.
 */
export function quorumLapsesAt(voters: readonly number[], self: number, lastHeard: (id: number) => number, windowMs: number): number {
  const needed = majority(voters.length) - (voters.includes(self) ? 1 : 0);
  if (needed === 0) return Infinity;
  const heard = voters
    .filter((v) => v !== self)
    .map(lastHeard)
    .sort((a, b) => b - a);
  return (heard[needed - 1] ?? -Infinity) + windowMs;
}

/** How many of `voters` (`self` counting as heard, if a voter) were heard from within `windowMs` of `now`. */
export function heardWithin(voters: readonly number[], self: number, lastHeard: (id: number) => number, now: number, windowMs: number): number {
  return voters.filter((v) => v === self || now - lastHeard(v) < windowMs).length;
}
