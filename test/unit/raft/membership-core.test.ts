import { describe, expect, test } from "vitest";
import { membershipOf } from "../../../src/raft/membership.ts";
import type { Raft } from "../../../src/raft/index.ts";
import { cluster } from "./lockstep.ts";

/** A cluster with an elected leader that has committed an entry of its own term. */
function ready(n: number, seed = 1) {
  const c = cluster(n, seed, { leaderNoop: true });
  c.advance(1000);
  const leader = c.leaders()[0]!;
  expect(leader.status().commitIndex).toBeGreaterThan(0);
  return { c, leader };
}

function change(c: ReturnType<typeof cluster>, leader: Raft, op: "add_learner" | "promote" | "remove", id: number) {
  const r = leader.changeMembership({ op, id }, c.now());
  c.settle();
  return r;
}

describe("membership changes in the core", () => {
  test("a learner is added, catches up, counts toward nothing, and is promoted", () => {
    const { c, leader } = ready(3);
    const id = c.add();
    const r = change(c, leader, "add_learner", id);
    expect(r).toMatchObject({ accepted: true, membership: { voters: [0, 1, 2], learners: [id] } });
    c.advance(200);
    expect(c.nodes[id]!.status()).toMatchObject({ member: "learner", membership: { voters: [0, 1, 2], learners: [id] } });
    expect(c.nodes[id]!.status().commitIndex).toBe(leader.status().commitIndex);
    // A learner has no election timer: it never stands.
    expect(c.nodes[id]!.ready().wakeAt).toBe(Infinity);
    // It does not count: with two voters cut off, leader + learner commit nothing.
    const others = [0, 1, 2].filter((v) => v !== leader.id);
    others.forEach((v) => c.cut.add(v));
    const p = leader.propose("x", c.now());
    c.advance(100);
    expect(leader.status().commitIndex).toBeLessThan((p as { index: number }).index);
    others.forEach((v) => c.cut.delete(v));
    c.advance(200);
    const promoted = change(c, c.leaders()[0]!, "promote", id);
    expect(promoted).toMatchObject({ accepted: true, membership: { voters: [0, 1, 2, id], learners: [] } });
    c.advance(200);
    expect(c.nodes[id]!.status().member).toBe("voter");
  });

  test("one change at a time, and none before the leader committed an entry of its own term", () => {
    const c = cluster(3, 2); // no leader no-op
    c.advance(1000);
    const leader = c.leaders()[0]!;
    const id = c.add();
    const early = leader.changeMembership({ op: "add_learner", id }, c.now());
    expect(early).toMatchObject({ accepted: false, reason: "not_ready" });
    c.advance(200); // the no-op it appended commits
    const first = leader.changeMembership({ op: "add_learner", id }, c.now());
    expect(first.accepted).toBe(true);
    // Not yet committed: a second change is refused.
    const second = leader.changeMembership({ op: "remove", id: (leader.id + 1) % 3 }, c.now());
    expect(second).toMatchObject({ accepted: false, reason: "change_in_progress" });
    c.settle();
    expect(change(c, leader, "remove", (leader.id + 1) % 3).accepted).toBe(true);
  });

  test("refusals: not the leader, last voter, not a learner, not caught up", () => {
    const { c, leader } = ready(1);
    expect(change(c, leader, "remove", 0)).toMatchObject({ accepted: false, reason: "last_voter" });
    expect(change(c, leader, "promote", 5)).toMatchObject({ accepted: false, reason: "invalid" });
    const id = c.add();
    c.cut.add(id); // never hears the leader
    expect(change(c, leader, "add_learner", id).accepted).toBe(true);
    c.advance(100);
    expect(change(c, leader, "promote", id)).toMatchObject({ accepted: false, reason: "not_caught_up" });
    expect(c.nodes[id]!.changeMembership({ op: "remove", id: 0 }, c.now())).toMatchObject({ accepted: false, reason: "not_leader" });
  });

  test("removing a follower: it is ignored when it campaigns and cannot depose the leader", () => {
    const { c, leader } = ready(3);
    const gone = [0, 1, 2].find((v) => v !== leader.id)!;
    expect(change(c, leader, "remove", gone).accepted).toBe(true);
    c.advance(100);
    const term = leader.status().term;
    // The removed server never got the configuration without it: it still thinks it votes.
    expect(c.nodes[gone]!.status().member).toBe("voter");
    c.advance(2000);
    expect(c.lines.some((l) => l.includes(`ignoring RequestVote from ${gone}`))).toBe(true);
    expect(leader.status()).toMatchObject({ state: "Leader", term });
  });

  test("removing the leader: it leads until the change commits, then hands over and steps down", () => {
    const { c, leader } = ready(3);
    const r = change(c, leader, "remove", leader.id);
    expect(r.accepted).toBe(true);
    c.advance(300);
    const next = c.leaders().find((l) => l.id !== leader.id)!;
    expect(next).toBeDefined();
    expect(leader.status()).toMatchObject({ state: "Follower", member: "removed" });
    expect(next.status().membership.voters).not.toContain(leader.id);
    expect(next.status().commitIndex).toBeGreaterThanOrEqual((r as { index: number }).index);
    expect(c.lines.some((l) => l.startsWith(`[${leader.id}] its removal is committed`))).toBe(true);
    // The remaining two go on committing.
    const p = next.propose("after", c.now());
    c.advance(100);
    expect(next.status().commitIndex).toBeGreaterThanOrEqual((p as { index: number }).index);
  });

  test("a truncated configuration entry is rolled back on the follower", () => {
    const { c, leader } = ready(5);
    const [a, ...rest] = [0, 1, 2, 3, 4].filter((v) => v !== leader.id) as [number, ...number[]];
    const id = c.add();
    // The change reaches a alone: two of five hold it, so it cannot commit.
    for (const v of [...rest, id]) c.cut.add(v);
    expect(leader.changeMembership({ op: "add_learner", id }, c.now()).accepted).toBe(true);
    c.advance(60);
    expect(c.nodes[a]!.status().membership.learners).toEqual([id]);
    // The other three elect a leader of a newer term, which writes another entry at that index.
    c.cut.add(leader.id);
    c.cut.add(a);
    for (const v of rest) c.cut.delete(v);
    c.advance(1000);
    const next = c.leaders().find((l) => l.id !== leader.id)!;
    next.propose("other", c.now());
    c.advance(100);
    // When a hears it (after its own hopeless campaigns while cut off have been settled),
    // the conflicting suffix goes, and the configuration in it with it.
    c.cut.delete(a);
    c.advance(2000);
    expect(c.nodes[a]!.status().membership).toEqual({ voters: [0, 1, 2, 3, 4], learners: [] });
    expect(c.lines.some((l) => l.startsWith(`[${a}] configuration is voters=[0 1 2 3 4] learners=[] (rolled back`))).toBe(true);
    const conf = (r: Raft) => r.entries().filter((e) => membershipOf(e.command));
    expect(conf(c.nodes[a]!)).toEqual(conf(c.leaders()[0]!));
  });

  test("a snapshot carries the configuration to a server that never saw the entry", () => {
    const { c, leader } = ready(3);
    const id = c.add();
    expect(change(c, leader, "add_learner", id).accepted).toBe(true);
    c.cut.add(id);
    for (let i = 0; i < 5; i++) leader.propose(i, c.now());
    c.advance(100);
    for (const r of c.nodes) if (r.status().lastApplied >= 6 && r.id !== id) c.compact(r.id, r.status().lastApplied);
    // A fourth server, added as learner too, catches up through the snapshot only.
    const late = c.add();
    c.cut.delete(id);
    expect(change(c, leader, "add_learner", late).accepted).toBe(true);
    c.advance(400);
    expect(c.disk[late]!.snapshot?.membership?.learners).toContain(id);
    expect(c.nodes[late]!.status()).toMatchObject({ member: "learner", membership: { learners: [id, late] } });
  });
});
