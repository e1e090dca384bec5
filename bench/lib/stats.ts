// Percentiles and summaries of latency samples (ms).

export type Summary = { readonly n: number; readonly p50: number; readonly p99: number; readonly mean: number; readonly max: number };

/** The q-quantile (0..1) of `sorted` by the nearest-rank method; NaN when empty. */
export const quantile = (sorted: readonly number[], q: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1]!);

/** Rounded for JSON and tables: 3 decimals below 10, 1 decimal above. */
export const round = (x: number): number => (!Number.isFinite(x) ? x : Math.abs(x) < 10 ? Math.round(x * 1000) / 1000 : Math.round(x * 10) / 10);

/** n, p50, p99, mean and max of `samples`, rounded. */
export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
  return { n: s.length, p50: round(quantile(s, 0.5)), p99: round(quantile(s, 0.99)), mean: round(mean), max: round(s[s.length - 1] ?? NaN) };
}

/** The median of `xs` (the lower one of an even count), NaN when empty. */
export const median = (xs: readonly number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5);

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** Adds `n` to `counts[key]`: the tally of answers by status, errors by kind. */
export const tally = (counts: Record<string, number>, key: string | number, n = 1): void => {
  counts[String(key)] = (counts[String(key)] ?? 0) + n;
};
