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
