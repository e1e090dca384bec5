// The leader's in-flight snapshot marks (src/server/snapshot-transfers.ts).
import { expect, test } from "vitest";
import { SnapshotTransfers } from "../../../src/server/snapshot-transfers.ts";

test("one transfer per peer; its index is kept for compaction until it ends", () => {
  const t = new SnapshotTransfers();
  const a = t.start(1, 40)!;
  expect(a).not.toBeNull();
  expect(t.start(1, 50)).toBeNull();
  const b = t.start(2, 45)!;
  expect(t.indexes().sort()).toEqual([40, 45]);
  t.release(1, a);
  t.release(2, b);
  expect(t.indexes()).toEqual([]);
});

test("an old transfer's cleanup cannot clear a new transfer's mark", () => {
  const t = new SnapshotTransfers();
  const old = t.start(1, 40)!;
  t.release(1, old); // released before its reply was handed to the core...
  const next = t.start(1, 60)!; // ...which asked for the next snapshot at once
  t.release(1, old); // the old transfer's own cleanup (its .finally) runs later
  expect(t.current(1, next)).toBe(true);
  expect(t.indexes()).toEqual([60]);
  expect(t.start(1, 70)).toBeNull();
});
