// The wire side of a streamed InstallSnapshot (src/server/snapshot-assembly.ts): pieces in
// order per transfer, and whatever the sink staged is discarded when a transfer is cut.
import { expect, test } from "vitest";
import type { InstallSnapshot } from "../../../src/raft/types.ts";
import { SnapshotAssembly, chunkOf, type ChunkSink } from "../../../src/server/snapshot-assembly.ts";

const m: InstallSnapshot = { type: "InstallSnapshot", from: 0, to: 1, term: 2, leaderId: 0, lastIncludedIndex: 40, lastIncludedTerm: 2 };

/** A sink that records what it took and whether it was discarded; refuses the text "bad". */
function recordingSinks() {
  const sinks: Array<{ taken: string[]; discarded: boolean }> = [];
  const open = (): ChunkSink<string> => {
    const s = { taken: [] as string[], discarded: false };
    sinks.push(s);
    return {
      add: (t) => {
        if (t === "bad") throw new Error("refused");
        s.taken.push(t);
      },
      finish: () => s.taken.join(""),
      discard: () => void (s.discarded = true),
    };
  };
  return { sinks, assembly: new SnapshotAssembly(open) };
}

test("pieces in order make the snapshot; the last one hands it over", () => {
  const { sinks, assembly } = recordingSinks();
  expect(assembly.add(chunkOf(m, 7, 0, { text: "a", last: false })).kind).toBe("more");
  expect(assembly.add(chunkOf(m, 7, 1, { text: "b", last: false })).kind).toBe("more");
  expect(assembly.add(chunkOf(m, 7, 2, { text: "c", last: true }))).toEqual({ kind: "complete", value: "abc" });
  expect(sinks).toHaveLength(1);
  expect(sinks[0]!.discarded).toBe(false); // the caller owns it now (installs or discards it)
});

test("a piece out of order, of another transfer, or refused by the sink ends the transfer and discards what was staged", () => {
  for (const [what, bad] of [
    ["skipped", chunkOf(m, 7, 3, { text: "d", last: false })],
    ["repeated", chunkOf(m, 7, 1, { text: "b", last: false })],
    ["another transfer", chunkOf(m, 8, 2, { text: "c", last: false })],
    ["another snapshot", chunkOf({ ...m, lastIncludedIndex: 41 }, 7, 2, { text: "c", last: false })],
    ["refused by the sink", chunkOf(m, 7, 2, { text: "bad", last: false })],
  ] as const) {
    const { sinks, assembly } = recordingSinks();
    assembly.add(chunkOf(m, 7, 0, { text: "a", last: false }));
    assembly.add(chunkOf(m, 7, 1, { text: "b", last: false }));
    expect(assembly.add(bad).kind, what).toBe("refused");
    expect(sinks[0]!.discarded, what).toBe(true);
    // The transfer is over: its next piece is refused too.
    expect(assembly.add(chunkOf(m, 7, 3, { text: "d", last: true })).kind, what).toBe("refused");
  }
});

test("piece 0 of a new transfer discards the one being assembled; clear() (a reset) discards it too", () => {
  const { sinks, assembly } = recordingSinks();
  assembly.add(chunkOf(m, 7, 0, { text: "a", last: false }));
  assembly.add(chunkOf(m, 9, 0, { text: "x", last: false }));
  expect(sinks[0]!.discarded).toBe(true);
  expect(assembly.add(chunkOf(m, 9, 1, { text: "y", last: true }))).toEqual({ kind: "complete", value: "xy" });
  assembly.add(chunkOf(m, 10, 0, { text: "p", last: false }));
  assembly.clear();
  expect(sinks[2]!.discarded).toBe(true);
});
