import { describe, expect, test } from "vitest";
import { cluster } from "./lockstep.ts";

describe("ReadIndex", () => {
  test("a read is confirmed by a majority's heartbeat at the current commit index", () => {
    const c = cluster(3, 11, { leaderNoop: true });
    c.advance(400);
    const [leader] = c.leaders();
    leader!.propose("w", c.now());
    c.settle();
    expect(leader!.readIndex("r1", c.now())).toEqual({ accepted: true });
    c.settle();
    expect(c.reads[leader!.id]).toEqual([{ ctx: "r1", index: 2 }]); // no-op at 1, "w" at 2
  });

  test("reads arriving while a round is in flight share the next round", () => {
    const c = cluster(3, 11, { leaderNoop: true });
    c.advance(400);
    const [leader] = c.leaders();
    c.settle();
    const before = c.lines.filter((l) => l.startsWith(`[${leader!.id}] sending AppendEntries`)).length;
    for (let i = 0; i < 10; i++) leader!.readIndex(`r${i}`, c.now());
    c.settle();
    const after = c.lines.filter((l) => l.startsWith(`[${leader!.id}] sending AppendEntries`)).length;
    expect(c.reads[leader!.id]!.map((r) => r.ctx)).toEqual([...Array(10).keys()].map((i) => `r${i}`));
    // One round for the first read, one shared by the nine that came while it was in flight.
    expect(after - before).toBe(2 * 2);
  });

  test("a leader cut off from the majority never confirms a read, and fails it when it steps down", () => {
    const c = cluster(3, 13, { leaderNoop: true });
    c.advance(400);
    const [leader] = c.leaders();
    c.cut.add(leader!.id);
    leader!.readIndex("stale", c.now());
    c.advance(200);
    expect(c.reads[leader!.id]).toEqual([]);
    c.cut.delete(leader!.id);
    c.advance(1000);
    const newLeader = c.leaders()[0]!;
    if (newLeader.id !== leader!.id) expect(c.reads[leader!.id]).toEqual([{ ctx: "stale", index: null }]);
    else expect(c.reads[leader!.id]!.map((r) => r.ctx)).toEqual(["stale"]);
  });

  test("without a commit in its own term a leader waits before fixing the read index", () => {
    const c = cluster(3, 17); // no no-op: the leader has committed nothing of its term
    c.advance(400);
    const [leader] = c.leaders();
    leader!.readIndex("r", c.now());
    c.settle();
    expect(c.reads[leader!.id]).toEqual([]);
    leader!.propose("w", c.now());
    c.settle();
    expect(c.reads[leader!.id]).toEqual([{ ctx: "r", index: 1 }]);
  });

  test("followers refuse reads and name the leader", () => {
    const c = cluster(3, 11, { leaderNoop: true });
    c.advance(400);
    const [leader] = c.leaders();
    const follower = c.nodes.find((r) => r !== leader)!;
    expect(follower.readIndex("r", c.now())).toEqual({ accepted: false, leader: leader!.id });
  });

  test("a single server confirms its reads alone", () => {
    const c = cluster(1, 1, { leaderNoop: true });
    c.advance(301);
    c.nodes[0]!.readIndex("r", c.now());
    c.settle();
    expect(c.reads[0]).toEqual([{ ctx: "r", index: 1 }]);
  });
});
