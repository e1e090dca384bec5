// Seeded pseudo-random numbers. Every source of chance in the simulator (network, timers,
// each server's election timeouts, the random schedules) draws from a stream made here, so
// one seed replays one run exactly. Math.random is never used.

/** A uniform number in [0, 1). */
export type Rand = () => number;

/** mulberry32: tiny, fast, good enough for simulation (not for cryptography). */
export function mulberry32(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An independent 32-bit seed for one named stream of one run ("network", "server", 2, "life", 3):
 * FNV-1a over the labels, then murmur3's finaliser so that neighbouring seeds diverge at once.
 */
export function deriveSeed(seed: number, ...labels: readonly (string | number)[]): number {
  const text = [seed, ...labels].join("/");
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A stream with the helpers schedules need. */
export class Rng {
  readonly next: Rand;

  constructor(seed: number, ...labels: readonly (string | number)[]) {
    this.next = mulberry32(deriveSeed(seed, ...labels));
  }

  /** Uniform in [lo, hi). */
  float(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  /** Uniform integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo));
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Rng.pick: empty list");
    return items[Math.floor(this.next() * items.length)]!;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}
