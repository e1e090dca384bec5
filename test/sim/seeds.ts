// The reference runs each scenario once on a real clock, where timing varies from run to run.
// Here a run is exactly determined by its seed, so each scenario runs under several seeds to
// cover several timings; a failure names the seed that broke it.

export const SCENARIO_SEEDS: readonly number[] = Array.from(
  { length: Number(process.env["SIM_SCENARIO_SEEDS"] ?? 8) },
  (_, i) => i + 1,
);

/** Run `body` once per seed. */
export function forEachSeed(body: (seed: number) => void, seeds: readonly number[] = SCENARIO_SEEDS): void {
  for (const seed of seeds) body(seed);
}
