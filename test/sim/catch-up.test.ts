// Issue 23.1 and 23.2 in the simulator (catch-up.ts tells the story and states the bound).
import { describe, expect, test } from "vitest";
import { catchUpUnderLoad, OLD_COMPACTION_RULE, type CatchUpResult } from "./catch-up.ts";
import { InvariantViolation } from "./invariants.ts";
import { forEachSeed } from "./seeds.ts";

/**
 * The story run with a follower too slow for the cap: threshold 3 keeps at most 96 entries,
 * ~0.35 s of 250 writes/s (and their compactions), less than a transfer (~40 pieces of one row
 * each, ~0.45 s: a streamed snapshot carries rows, at least one per piece).
 */
const TOO_SLOW_FOR_THE_CAP = { threshold: 3, writesPerS: 250, checkBound: false } as const;

function violation(run: () => unknown): InvariantViolation | null {
  try {
    run();
    return null;
  } catch (e) {
    if (e instanceof InvariantViolation) return e;
    throw e;
  }
}

describe("a lagging follower catches up through snapshots under load", () => {
  test("CatchUp: back from a crash under 50 writes/s, it gets within the kept tail within the bound, through one snapshot", () => {
    const runs: CatchUpResult[] = [];
    forEachSeed((seed) => runs.push(catchUpUnderLoad({ seed })));
    for (const r of runs) {
      expect(r.withinAfterMs).not.toBeNull();
      expect(r.withinAfterMs!).toBeLessThanOrEqual(r.boundMs);
      expect(r.replies, "transfers completed").toBe(1);
    }
    const slowest = Math.max(...runs.map((r) => r.withinAfterMs!));
    console.log(
      `CatchUp: ${runs.length} seeds, ${runs[0]!.writes} writes each, state ${runs[0]!.stateChars} characters in ${runs[0]!.pieces} pieces; ` +
        `within the kept tail after ${runs.map((r) => r.withinAfterMs!.toFixed(0)).join(", ")} ms (bound ${runs[0]!.boundMs} ms, slowest ${slowest.toFixed(0)})`,
    );
  });

  test("the old compaction rule (applied − threshold/2 whatever is in flight) is caught by CatchUp", () => {
    forEachSeed((seed) => {
      const v = violation(() => catchUpUnderLoad({ seed, faults: { compactionPoint: OLD_COMPACTION_RULE } }));
      expect(v?.invariant, `seed ${seed}`).toBe("Liveness");
      expect(v?.detail).toMatch(/^CatchUp/);
    });
  });

  // Issue 23.2: when the leader had to compact past a snapshot in flight (here, the cap), the
  // core asks for the next one on the reply itself; the mark must be gone by then, or the
  // request is dropped and the next transfer waits out the core's "presumed lost" timer.
  test("a transfer's reply frees its mark before the core sees it: the next transfer starts at once", () => {
    forEachSeed((seed) => {
      const r = catchUpUnderLoad({ seed, ...TOO_SLOW_FOR_THE_CAP });
      expect(r.replies, `seed ${seed}: the cap forced more than one transfer`).toBeGreaterThan(1);
      expect(r.maxReplyToNextMs, `seed ${seed}`).toBe(0);
    });
  });

  test("mutant: a mark released after the reply reached the core costs an election timeout per round", () => {
    forEachSeed((seed) => {
      const r = catchUpUnderLoad({ seed, ...TOO_SLOW_FOR_THE_CAP, faults: { releaseAfterHandover: true } });
      expect(r.maxReplyToNextMs, `seed ${seed}`).toBeGreaterThanOrEqual(150);
    });
  });
});
