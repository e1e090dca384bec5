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

  test("a read no majority confirms within an election timeout fails, though the cut-off leader leads on", () => {
    const c = cluster(3, 13, { leaderNoop: true }); // CheckQuorum off: the leader never steps down by itself
    c.advance(400);
    const [leader] = c.leaders();
    c.cut.add(leader!.id);
    leader!.readIndex("unconfirmable", c.now());
    c.advance(250);
    expect(c.reads[leader!.id]).toEqual([]);
    c.advance(100); // past the 300 ms upper election timeout, at the next heartbeat tick
    expect(c.reads[leader!.id]).toEqual([{ ctx: "unconfirmable", index: null }]);
    expect(leader!.status().state).toBe("Leader");
    expect(c.lines.some((l) => l.includes("gives up on 1 read(s)"))).toBe(true);
  });

  test("without a commit in its own term a leader appends a no-op and fixes the read index once it commits", () => {
    const c = cluster(3, 17); // leaderNoop off: the leader has nothing of its term in its log
    c.advance(400);
    const [leader] = c.leaders();
    expect(leader!.status().logLength).toBe(0);
    leader!.readIndex("r", c.now());
    expect(leader!.status().logLength).toBe(1);
    c.settle();
    expect(c.reads[leader!.id]).toEqual([{ ctx: "r", index: 1 }]);
    c.advance(50); // followers learn the commit with the next heartbeat (lazy commit propagation)
    for (const a of c.applied) expect(a.map((e) => e.command)).toEqual([null]);
  });

  test("a read that finds an uncommitted entry of the leader's term waits for it, adding nothing", () => {
    const c = cluster(3, 17);
    c.advance(400);
    const [leader] = c.leaders();
    c.cut.add((leader!.id + 1) % 3);
    c.cut.add((leader!.id + 2) % 3);
    leader!.propose("w", c.now());
    leader!.readIndex("r", c.now());
    c.settle();
    expect(leader!.status().logLength).toBe(1);
    expect(c.reads[leader!.id]).toEqual([]);
    c.cut.clear();
    c.advance(150); // the lost appends are resent after a heartbeat without an answer
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

describe("ReadIndex across terms", () => {
  test("a reply to an older leader's AppendEntries echoes no readSeq (it would confirm the new leader's round)", async () => {
    const { Raft } = await import("../../../src/raft/index.ts");
    const r = new Raft(
      { id: 1, peers: [0, 1, 2], electionTimeoutMs: [150, 300], heartbeatMs: 50, rand: () => 0.5 },
      { hardState: { term: 5, votedFor: 0 }, entries: [], applied: 0 },
      0,
    );
    r.step(
      { type: "AppendEntries", from: 0, to: 1, term: 3, leaderId: 0, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readSeq: 8 },
      1,
    );
    const [reply] = r.ready().messages;
    expect(reply).toMatchObject({ type: "AppendEntriesReply", term: 5, success: false });
    expect(reply).not.toHaveProperty("readSeq");
    expect(reply).not.toHaveProperty("rejectedIndex");
    r.step(
      { type: "AppendEntries", from: 0, to: 1, term: 5, leaderId: 0, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readSeq: 2 },
      2,
    );
    expect(r.ready().messages[0]).toMatchObject({ success: true, readSeq: 2 });
  });
});
