// When a leader compacts the store's history (src/kv/auto-compaction.ts) and how it keeps to
// one compaction in flight (src/server/auto-compactor.ts).
import { describe, expect, it } from "vitest";
import { autoCompactionTarget, compactionStep, DEFAULT_COMPACTION_RETENTION } from "../../../src/kv/auto-compaction.ts";
import { AutoCompactor } from "../../../src/server/auto-compactor.ts";

const meta = (revision: number, compactedRevision = -1) => ({ revision, compactedRevision });

describe("autoCompactionTarget", () => {
  it("keeps retention + a tenth of it before compacting, then goes back to exactly retention", () => {
    expect(DEFAULT_COMPACTION_RETENTION).toBe(10_000);
    expect(compactionStep(10_000)).toBe(1_000);
    // A fresh store's history starts at revision 1: 11,000 writes make revision 11,001.
    expect(autoCompactionTarget(meta(11_001), 10_000)).toBeNull();
    expect(autoCompactionTarget(meta(11_002), 10_000)).toBe(1_002);
    // After that compaction, the next one waits for another step of writes.
    expect(autoCompactionTarget(meta(12_002, 1_002), 10_000)).toBeNull();
    expect(autoCompactionTarget(meta(12_003, 1_002), 10_000)).toBe(2_003);
  });

  it("the step is a tenth of the retention, at least one revision", () => {
    expect(compactionStep(1)).toBe(1);
    expect(compactionStep(9)).toBe(1);
    expect(compactionStep(50)).toBe(5);
    expect(autoCompactionTarget(meta(3), 1)).toBeNull();
    expect(autoCompactionTarget(meta(4), 1)).toBe(3);
    expect(autoCompactionTarget(meta(56), 50)).toBeNull();
    expect(autoCompactionTarget(meta(57), 50)).toBe(7);
  });

  it("counts from a client's compaction too, and never targets at or below it", () => {
    // A client compacted to 90 at revision 100: nothing is due until 90 + 55.
    expect(autoCompactionTarget(meta(145, 90), 50)).toBeNull();
    expect(autoCompactionTarget(meta(146, 90), 50)).toBe(96);
    for (let revision = 1; revision < 400; revision++) {
      for (const compacted of [-1, 0, 1, Math.floor(revision / 2), revision - 1, revision]) {
        const target = autoCompactionTarget(meta(revision, compacted), 20);
        if (target !== null) {
          expect(target).toBeGreaterThan(compacted);
          expect(target).toBeLessThanOrEqual(revision);
          expect(revision - target).toBe(20);
        }
      }
    }
  });

  it("retention 0 never compacts, as etcd's 0", () => {
    expect(autoCompactionTarget(meta(1_000_000), 0)).toBeNull();
  });
});

describe("AutoCompactor", () => {
  const leader = (term: number) => ({ state: "Leader", term });

  it("proposes only as leader, once until its entry is applied", () => {
    const c = new AutoCompactor(50);
    expect(c.due({ state: "Follower", term: 2 }, 60, meta(100))).toBeNull();
    expect(c.due(leader(2), 60, meta(100))).toBe(50);
    c.proposed(61, 2);
    // The store's meta moves only when index 61 is applied: nothing new is proposed meanwhile.
    expect(c.due(leader(2), 60, meta(101))).toBeNull();
    expect(c.due(leader(2), 61, meta(101, 50))).toBeNull(); // applied, and not due again
    expect(c.due(leader(2), 70, meta(160, 50))).toBe(110);
  });

  it("a proposal of an earlier leadership holds nothing back (its entry may have been overwritten)", () => {
    const c = new AutoCompactor(50);
    expect(c.due(leader(2), 60, meta(100))).toBe(50);
    c.proposed(61, 2);
    expect(c.due({ state: "Follower", term: 3 }, 60, meta(100))).toBeNull();
    expect(c.due(leader(4), 60, meta(100))).toBe(50);
    c.proposed(62, 4);
    expect(c.due(leader(4), 61, meta(100))).toBeNull();
  });
});
