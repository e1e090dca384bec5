// Seeded randomness for tests: a failing seed replays exactly. The generator itself is the
// simulator's (one PRNG for every test); this module adds the helpers the checker tests use.
import { mulberry32 } from "../sim/prng.ts";

export { mulberry32 };

/** An integer in [lo, hi]. */
export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** One element of a non-empty array. */
export function pick<T>(rand: () => number, items: readonly T[]): T {
  const item = items[Math.floor(rand() * items.length)];
  if (item === undefined) throw new Error("pick from an empty array");
  return item;
}
