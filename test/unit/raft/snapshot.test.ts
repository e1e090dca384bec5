import { describe, expect, test } from "vitest";
import { cluster } from "./lockstep.ts";

/** The configuration of a three-server cluster that never changed: snapshots carry it. */
const three = { voters: [0, 1, 2], learners: [] };

function commands(c: ReturnType<typeof cluster>, i: number) {
  return c.applied[i]!.map((e) => e.command);
}

/**
 * A leader commits 1..10 while one follower is cut off, then compacts up to `compactTo`:
 * the follower can only catch up through a snapshot once it is back.
 */
function laggingBehindCompaction(seed: number, compactTo: number) {
  const c = cluster(3, seed);
  c.advance(400);
  const leader = c.leaders()[0]!;
  const lagging = c.nodes.find((r) => r !== leader)!;
  c.cut.add(lagging.id);
  for (let i = 1; i <= 10; i++) leader.propose(i, c.now());
  c.settle();
  c.compact(leader.id, compactTo);
  return { c, leader, lagging };
}

describe("snapshots and log compaction", () => {
  test("a follower that missed compacted entries catches up through InstallSnapshot", () => {
    const { c, leader, lagging } = laggingBehindCompaction(21, 8);
    expect(c.disk[leader!.id]!.log.map((e) => e.index)).toEqual([9, 10]);
    c.cut.delete(lagging.id);
    c.advance(120);
    expect(c.lines.some((l) => l.startsWith(`[${leader!.id}] sending InstallSnapshot to ${lagging.id}`))).toBe(true);
    expect(c.lines.some((l) => l.startsWith(`[${lagging.id}] installs snapshot up to index 8`))).toBe(true);
    expect(commands(c, lagging.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(c.disk[lagging.id]!.snapshot).toEqual({ index: 8, term: leader!.status().term, membership: three });
    expect(c.disk[lagging.id]!.log.map((e) => e.index)).toEqual([9, 10]);
    leader!.propose(11, c.now());
    c.settle();
    c.advance(50); // followers learn the commit with the next heartbeat (lazy commit propagation)
    expect(commands(c, lagging.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  test("a follower whose log conflicts with the snapshot drops it all", () => {
    const c = cluster(3, 23);
    c.advance(400);
    const [old] = c.leaders();
    c.cut.add(old!.id);
    old!.propose("lost-1", c.now());
    old!.propose("lost-2", c.now());
    c.settle();
    c.advance(700);
    const [leader] = c.leaders();
    expect(leader!.id).not.toBe(old!.id);
    for (let i = 1; i <= 5; i++) leader!.propose(i, c.now());
    c.settle();
    c.compact(leader!.id, 5);
    c.cut.delete(old!.id);
    c.advance(300);
    expect(commands(c, old!.id)).toEqual([1, 2, 3, 4, 5]);
    expect(c.disk[old!.id]!.log).toEqual([]);
    expect(c.disk[old!.id]!.snapshot?.index).toBe(5);
  });

  test("a restarted server boots from its snapshot plus the tail", () => {
    const c = cluster(3, 25);
    c.advance(400);
    const [leader] = c.leaders();
    for (let i = 1; i <= 6; i++) leader!.propose(i, c.now());
    c.settle();
    c.advance(50); // followers learn the commit with the next heartbeat (lazy commit propagation)
    const f = c.nodes.find((r) => r !== leader)!.id;
    c.compact(f, 4);
    c.restart(f);
    expect(c.nodes[f]!.status()).toMatchObject({ logLength: 6, snapshotIndex: 4, commitIndex: 4 });
    c.advance(100);
    expect(commands(c, f)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test("compaction never passes what was applied", () => {
    const c = cluster(1, 1);
    c.advance(301);
    c.nodes[0]!.propose("a", c.now());
    c.nodes[0]!.compact(5);
    expect(c.nodes[0]!.status().snapshotIndex).toBe(0); // "a" is not applied until ready()
  });

  // The live-snapshot host (the Durable Object) sends its state machine as applied at send
  // time, which may be past the core's snapshot: snapshotMetaAt names that point.
  test("snapshotMetaAt names any applied index from the snapshot on, and nothing else", () => {
    const c = cluster(3, 27);
    c.advance(400);
    const [leader] = c.leaders();
    for (let i = 1; i <= 10; i++) leader!.propose(i, c.now());
    c.settle();
    const term = leader!.status().term;
    c.compact(leader!.id, 6);
    expect(leader!.snapshotMetaAt(6)).toEqual({ index: 6, term, membership: three });
    expect(leader!.snapshotMetaAt(10)).toEqual({ index: 10, term, membership: three });
    expect(() => leader!.snapshotMetaAt(5)).toThrow(/no snapshot at 5/); // compacted away: its term is gone
    leader!.propose(11, c.now()); // in the log, not yet applied
    expect(() => leader!.snapshotMetaAt(11)).toThrow(/no snapshot at 11/);
    c.settle();
    expect(leader!.snapshotMetaAt(11)).toEqual({ index: 11, term, membership: three });
  });

  test("a snapshot named past the sender's compaction point installs there and replication goes on", () => {
    const { c, leader, lagging } = laggingBehindCompaction(29, 4);
    // The leader's host renames every InstallSnapshot to what it has applied, as a live-snapshot
    // host does (the driver then attaches the applied entries up to the new name).
    const ready = leader!.ready.bind(leader);
    leader!.ready = () => {
      const r = ready();
      const meta = () => leader!.snapshotMetaAt(c.applied[leader!.id]!.length);
      return { ...r, messages: r.messages.map((m) => (m.type === "InstallSnapshot" ? { ...m, ...renamed(meta()) } : m)) };
    };
    c.cut.delete(lagging.id);
    c.advance(120);
    expect(c.lines.some((l) => l.startsWith(`[${lagging.id}] installs snapshot up to index 10`))).toBe(true);
    expect(commands(c, lagging.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    leader!.propose(11, c.now());
    c.settle();
    c.advance(50); // followers learn the commit with the next heartbeat (lazy commit propagation)
    expect(commands(c, lagging.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});

function renamed(meta: { index: number; term: number }) {
  return { lastIncludedIndex: meta.index, lastIncludedTerm: meta.term };
}
