// What the two command-line searches (cli.ts: Raft invariants, kv-cli.ts: the key/value
// workload) share: run seeds S..S+N-1 one after another, print a progress line every 10 s,
// report the first few failures in full and the rest in one line each, and end with the
// failing seeds and exit code 1 if there are any. Each tool keeps its own arguments, run
// and summary.

export interface SeedLoop<R> {
  readonly first: number;
  readonly count: number;
  /** Failures reported in full; the rest get `oneLine`. */
  readonly show: number;
  /** Narrating every run: no progress lines in between. */
  readonly verbose: boolean;
  readonly run: (seed: number) => R;
  readonly ok: (r: R) => boolean;
  readonly report: (r: R) => void;
  readonly oneLine: (r: R) => string;
}

/** Runs every seed; returns the failures and the wall time in seconds. */
export function runSeeds<R>(loop: SeedLoop<R>): { failures: R[]; wallSeconds: number } {
  // `| head` closing the pipe is not an error.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
  const started = performance.now();
  let lastProgress = started;
  const failures: R[] = [];
  for (let k = 0; k < loop.count; k++) {
    const r = loop.run(loop.first + k);
    if (!loop.ok(r)) {
      failures.push(r);
      if (failures.length <= loop.show) loop.report(r);
      else console.log(loop.oneLine(r));
    }
    const now = performance.now();
    if (!loop.verbose && now - lastProgress > 10_000) {
      lastProgress = now;
      console.log(`... ${k + 1}/${loop.count} seeds, ${failures.length} failing, ${((now - started) / 1000).toFixed(1)} s`);
    }
  }
  return { failures, wallSeconds: (performance.now() - started) / 1000 };
}

/** The last line of a search: the failing seeds (exit code 1), after the tool's own lines. */
export function exitWithFailures(seeds: readonly number[], extra: readonly string[] = []): void {
  if (seeds.length === 0) return;
  console.log(`failing seeds: ${seeds.join(" ")}`);
  for (const line of extra) console.log(line);
  process.exit(1);
}
