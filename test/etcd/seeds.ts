// The recorded sequences: seed and length. Several hundred ops each, all files together < 3 MB.
// record.ts records these; the fixture test checks the committed files are exactly these.
export const SEEDS: ReadonlyArray<{ seed: number; ops: number }> = [
  { seed: 1, ops: 400 },
  { seed: 2, ops: 400 },
  { seed: 3, ops: 450 },
  { seed: 4, ops: 350 },
  { seed: 5, ops: 500 },
  { seed: 6, ops: 300 },
];

/** The recorded lease sequences (record-lease.ts): each takes about half a minute of real time. */
export const LEASE_SEEDS: ReadonlyArray<{ seed: number; ops: number }> = [
  { seed: 1, ops: 150 },
  { seed: 2, ops: 150 },
  { seed: 3, ops: 150 },
];

/** The recorded watch sequences (record-watch.ts). */
export const WATCH_SEEDS: ReadonlyArray<{ seed: number; ops: number }> = [
  { seed: 1, ops: 80 },
  { seed: 2, ops: 80 },
  { seed: 3, ops: 80 },
];
