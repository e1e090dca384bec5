// Sleeping idle clusters and leaders that resume after a reload (issue 11), in lock step.
import { describe, expect, test } from "vitest";
import type { AppendEntries, Raft } from "../../../src/raft/index.ts";
import { cluster } from "./lockstep.ts";

const SLEEP_AFTER = 600;

/** Messages of every type sent so far. */
const total = (sent: Map<string, number>) => [...sent.values()].reduce((a, b) => a + b, 0);

describe("sleep", () => {
  test("an idle cluster sleeps: the leader tells its followers, they agree, then nothing is sent and no timer is due", () => {
    const c = cluster(3, 21, { sleepAfterMs: SLEEP_AFTER });
    c.advance(400);
    const [leader] = c.leaders();
    leader!.propose("x", c.now());
    c.advance(SLEEP_AFTER + 200);
    for (const n of c.nodes) expect(n.status().asleep, `server ${n.id} asleep`).toBe(true);
    expect(c.lines.some((l) => l === `[${leader!.id}] idle: telling followers to sleep (term=${leader!.status().term}, commitIndex=1)`)).toBe(true);
    expect(c.lines.filter((l) => /\] sleeps \(term=/.test(l))).toHaveLength(2);
    const before = total(c.sent);
    c.advance(5000);
    expect(total(c.sent)).toBe(before);
    for (const n of c.nodes) expect(n.ready().wakeAt).toBe(Infinity);
    // The sleep mark is durable: a reloaded server comes back asleep.
    for (const d of c.disk) expect(d.hs.asleep).toBe(true);
  });

  test("a proposal wakes the cluster in the same term and commits on every server", () => {
    const c = cluster(3, 22, { sleepAfterMs: SLEEP_AFTER });
    c.advance(400);
    const [leader] = c.leaders();
    const term = leader!.status().term;
    c.advance(SLEEP_AFTER + 200);
    expect(leader!.status().asleep).toBe(true);
    const r = leader!.propose("after-sleep", c.now());
    expect(r).toMatchObject({ accepted: true, term });
    c.advance(5);
    expect(leader!.status()).toMatchObject({ asleep: false, term, commitIndex: 1 });
    c.advance(50); // followers learn the commit with the next heartbeat (lazy commit propagation)
    for (const n of c.nodes) {
      expect(n.status()).toMatchObject({ asleep: false, term, commitIndex: 1 });
    }
    expect(c.lines.some((l) => l === `[${leader!.id}] wakes (woken by a proposal)`)).toBe(true);
    // Awake again, it goes back to sleep after another idle period.
    c.advance(SLEEP_AFTER + 200);
    for (const n of c.nodes) expect(n.status().asleep).toBe(true);
  });

  test("wake() on a sleeping follower starts its election timer: with the leader gone, it is elected", () => {
    const c = cluster(3, 23, { sleepAfterMs: SLEEP_AFTER });
    c.advance(400);
    const [leader] = c.leaders();
    const term = leader!.status().term;
    c.advance(SLEEP_AFTER + 200);
    c.cut.add(leader!.id); // lost while asleep: nobody notices...
    c.advance(2000);
    expect(c.nodes.filter((n) => n.id !== leader!.id).every((n) => n.status().asleep)).toBe(true);
    // ...until someone asks: the coordinator wakes the followers.
    for (const n of c.nodes) if (n.id !== leader!.id) n.wake(c.now());
    c.advance(400);
    const next = c.leaders().find((n) => n.id !== leader!.id);
    expect(next, "a new leader among the woken followers").toBeDefined();
    expect(next!.status().term).toBeGreaterThan(term);
  });

  test("a follower the leader does not hear from is not waited for; its return wakes the cluster", () => {
    const c = cluster(3, 24, { sleepAfterMs: SLEEP_AFTER });
    c.advance(400);
    const [leader] = c.leaders();
    const [gone, other] = c.nodes.filter((n) => n.id !== leader!.id);
    c.cut.add(gone!.id);
    c.advance(SLEEP_AFTER + 600);
    expect(leader!.status().asleep).toBe(true);
    expect(other!.status().asleep).toBe(true);
    expect(gone!.status().asleep).toBe(false); // it keeps holding elections nobody hears
    c.cut.delete(gone!.id);
    c.advance(1000);
    expect(c.leaders()).toHaveLength(1);
    expect(c.nodes.every((n) => n.status().term === c.leaders()[0]!.status().term)).toBe(true);
  });

  test("a follower sleeps only if its log ends where the leader's does, all committed", () => {
    const c = cluster(3, 25, { sleepAfterMs: SLEEP_AFTER });
    c.advance(400);
    const [leader] = c.leaders();
    const [matching, behind] = c.nodes.filter((n) => n.id !== leader!.id) as [Raft, Raft];
    c.advance(SLEEP_AFTER - 100);
    /** A quiesce heartbeat from the leader, as if its log ended at `last` with everything committed. */
    const quiesce = (to: Raft, last: number): AppendEntries => ({
      type: "AppendEntries",
      from: leader!.id,
      to: to.id,
      term: leader!.status().term,
      leaderId: leader!.id,
      prevLogIndex: last,
      prevLogTerm: last === 0 ? 0 : leader!.status().term,
      entries: [],
      leaderCommit: last,
      quiesce: 1,
    });
    matching.step(quiesce(matching, 0), c.now());
    expect(matching.status().asleep).toBe(true); // its log is empty, as the leader's: it sleeps
    leader!.propose("y", c.now()); // entry 1, not yet on `behind`
    behind.step(quiesce(behind, 1), c.now());
    expect(behind.status().asleep).toBe(false); // it does not hold entry 1 yet
  });
});

describe("resuming leadership after a reload", () => {
  test("a leader reloaded from its storage resumes in the same term, and commits without an election", () => {
    const c = cluster(3, 31);
    c.advance(400);
    const [leader] = c.leaders();
    const { term } = leader!.status();
    leader!.propose("before", c.now());
    c.settle();
    expect(c.disk[leader!.id]!.hs.ledTerm).toBe(term);
    c.restart(leader!.id, { resumeLeadership: true });
    expect(c.nodes[leader!.id]!.status()).toMatchObject({ state: "Leader", term });
    const r = c.nodes[leader!.id]!.propose("after", c.now());
    expect(r).toMatchObject({ accepted: true, term, index: 2 });
    c.advance(20);
    expect(c.nodes[leader!.id]!.status()).toMatchObject({ term, commitIndex: 2 });
    c.advance(50); // followers learn the commit with the next heartbeat (lazy commit propagation)
    for (const n of c.nodes) expect(n.status()).toMatchObject({ term, commitIndex: 2 });
    expect(c.lines.some((l) => l.startsWith(`[${leader!.id}] becomes Leader again after a reload`))).toBe(true);
  });

  test("a candidate that voted for itself but lost does not resume: votedFor does not say it won", () => {
    const c = cluster(3, 32);
    c.advance(400);
    const [leader] = c.leaders();
    const loser = c.nodes.find((n) => n.id !== leader!.id)!;
    c.cut.add(loser.id);
    c.advance(400); // it times out and stands alone: votedFor = itself, a term nobody else has
    expect(loser.status().state).toBe("Candidate");
    expect(c.disk[loser.id]!.hs.votedFor).toBe(loser.id);
    c.restart(loser.id, { resumeLeadership: true });
    expect(c.nodes[loser.id]!.status().state).toBe("Follower");
  });

  test("a leader that heard of a newer term follows after a reload", () => {
    const c = cluster(3, 33);
    c.advance(400);
    const [old] = c.leaders();
    c.cut.add(old!.id);
    c.advance(600);
    const [next] = c.leaders();
    expect(next!.id).not.toBe(old!.id);
    c.cut.delete(old!.id);
    c.advance(100); // the old leader hears the new term and steps down
    expect(c.disk[old!.id]!.hs.term).toBe(next!.status().term);
    c.restart(old!.id, { resumeLeadership: true });
    expect(c.nodes[old!.id]!.status().state).toBe("Follower");
  });

  test("a resumed leader answers a read only after a commit of its own in this life", () => {
    const c = cluster(3, 34);
    c.advance(400);
    const [leader] = c.leaders();
    leader!.propose("w", c.now());
    c.settle();
    const committedBefore = leader!.status().commitIndex;
    c.restart(leader!.id, { resumeLeadership: true });
    const resumed = c.nodes[leader!.id]!;
    // Its restored commitIndex is what its host had applied (here nothing): not the cluster's.
    expect(resumed.status().commitIndex).toBeLessThan(committedBefore);
    expect(resumed.readIndex("r", c.now())).toEqual({ accepted: true });
    expect(c.reads[leader!.id]).toEqual([]);
    c.settle();
    // Answered once it committed again (its followers' acknowledgements) and a round confirmed it.
    expect(c.reads[leader!.id]).toEqual([{ ctx: "r", index: committedBefore }]);
    expect(c.lines.some((l) => l.startsWith(`[${leader!.id}] leader sets commitIndex := ${committedBefore}`))).toBe(true);
  });

  test("a sleeping leader reloads asleep, as does a sleeping follower: a reset wakes nobody", () => {
    const c = cluster(3, 35, { sleepAfterMs: SLEEP_AFTER });
    c.advance(400);
    const [leader] = c.leaders();
    const { term } = leader!.status();
    c.advance(SLEEP_AFTER + 200);
    const before = total(c.sent);
    for (const n of [...c.nodes]) c.restart(n.id, { resumeLeadership: true });
    c.advance(3000);
    expect(total(c.sent)).toBe(before);
    expect(c.nodes[leader!.id]!.status()).toMatchObject({ state: "Leader", term, asleep: true });
    // Then a proposal wakes it, in the same term.
    expect(c.nodes[leader!.id]!.propose("z", c.now())).toMatchObject({ accepted: true, term });
    c.advance(20);
    for (const n of c.nodes) expect(n.status()).toMatchObject({ term, asleep: false });
  });
});
