import { describe, expect, test } from "vitest";
import { cluster } from "./lockstep.ts";

describe("PreVote", () => {
  test("a follower cut off for 650 ms raises no term and does not depose the leader on return", () => {
    const c = cluster(3, 7, { preVote: true });
    c.advance(400);
    const [leader] = c.leaders();
    expect(leader).toBeDefined();
    const term = leader!.status().term;
    const follower = c.nodes.find((r) => r !== leader)!;
    c.cut.add(follower.id);
    c.advance(650);
    expect(follower.status().term).toBe(term);
    expect(c.lines.some((l) => l.startsWith(`[${follower.id}] becomes PreCandidate`))).toBe(true);
    c.cut.delete(follower.id);
    c.advance(150);
    expect(c.leaders().map((r) => r.id)).toEqual([leader!.id]);
    expect(leader!.status().term).toBe(term);
  });

  test("without PreVote the same story raises the term (the seed's story)", () => {
    const c = cluster(3, 7);
    c.advance(400);
    const [leader] = c.leaders();
    const term = leader!.status().term;
    const follower = c.nodes.find((r) => r !== leader)!;
    c.cut.add(follower.id);
    c.advance(650);
    c.cut.delete(follower.id);
    c.advance(400);
    expect(c.leaders()).toHaveLength(1);
    expect(c.leaders()[0]!.status().term).toBeGreaterThan(term);
  });

  test("pre-candidates still elect a leader when the leader is gone", () => {
    const c = cluster(3, 3, { preVote: true });
    c.advance(400);
    const [leader] = c.leaders();
    c.cut.add(leader!.id);
    c.advance(700);
    const others = c.leaders();
    expect(others).toHaveLength(1);
    expect(others[0]!.id).not.toBe(leader!.id);
  });
});

describe("CheckQuorum", () => {
  test("a leader cut off from the majority steps down and refuses proposals", () => {
    const c = cluster(3, 5, { checkQuorum: true });
    c.advance(400);
    const [leader] = c.leaders();
    c.cut.add(leader!.id);
    c.advance(650);
    expect(leader!.status().state).not.toBe("Leader");
    expect(leader!.propose("x", c.now()).accepted).toBe(false);
    expect(c.lines.some((l) => l.startsWith(`[${leader!.id}] steps down`))).toBe(true);
  });

  test("a healthy leader stays leader", () => {
    const c = cluster(3, 5, { checkQuorum: true, preVote: true });
    c.advance(400);
    const [leader] = c.leaders();
    c.advance(2000);
    expect(c.leaders().map((r) => r.id)).toEqual([leader!.id]);
  });
});

describe("leadership transfer", () => {
  test("hands leadership to the chosen follower, which has every committed entry", () => {
    const c = cluster(3, 9);
    c.advance(400);
    const [leader] = c.leaders();
    leader!.propose("a", c.now());
    c.settle();
    const target = c.nodes.find((r) => r !== leader)!;
    expect(leader!.transferLeadership(target.id, c.now())).toEqual({ ok: true });
    expect(leader!.propose("refused", c.now()).accepted).toBe(false);
    c.settle();
    c.advance(10);
    expect(c.leaders().map((r) => r.id)).toEqual([target.id]);
    expect(target.propose("b", c.now())).toMatchObject({ accepted: true, index: 2 });
    c.settle();
    c.advance(50); // followers learn the commit with the next heartbeat (lazy commit propagation)
    for (const a of c.applied) expect(a.map((e) => e.command)).toEqual(["a", "b"]);
  });

  test("refuses when not leader", () => {
    const c = cluster(3, 9);
    c.advance(400);
    const follower = c.nodes.find((r) => r.status().state !== "Leader")!;
    expect(follower.transferLeadership(0, c.now())).toMatchObject({ ok: false, reason: "not_leader" });
  });
});
