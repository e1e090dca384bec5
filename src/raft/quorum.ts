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
