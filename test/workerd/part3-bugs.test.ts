// Part 3, the persistence and election bugs the reference series found later (scenarios
// 24–30), on a real Durable Object cluster. Where the reference pokes a ConsensusModule
// directly, these deliver one hand-made Raft message to a server object and look at its
// memory and its storage in the same turn (h.inside), so nothing can change in between.
import { expect, test } from "vitest";
import type { Message } from "../../src/raft/types.ts";
import { Harness, sleep } from "./harness.ts";

let h: Harness;
async function cluster(n = 3): Promise<Harness> {
  h = await Harness.create(n);
  return h;
}

/** Poll until `pred` holds for server i's status (a positive check: deadline, not sleep). */
async function waitFor(i: number, what: string, pred: (s: Awaited<ReturnType<Harness["statuses"]>>[number]) => boolean) {
  const until = Date.now() + 3000;
  for (;;) {
    const s = (await h.statuses())[i]!;
    if (pred(s)) return s;
    if (Date.now() > until) throw new Error(`server ${i} never ${what}: ${JSON.stringify(s)}`);
    await sleep(20);
  }
}

test("Bug_StartElectionMissingPersist", async () => {
  await cluster();
  const { leader, term } = await h.checkSingleLeader();
  const victim = (leader + 1) % 3;
  await h.disconnect(victim);
  await sleep(1200); // it keeps starting elections, each in a new term
  const s = await h.server(victim); // status and storage, read in one turn
  expect(s.term).toBeGreaterThan(term);
  expect(s.durable.term).toBeGreaterThanOrEqual(s.term);
  expect(s.durable.votedFor).toBe(s.votedFor);
});

test("Bug_BecomeFollowerMissingPersist", async () => {
  await cluster();
  const orig = await h.checkSingleLeader();
  await h.disconnect(orig.leader);
  await sleep(350);
  const next = await h.checkSingleLeader();
  expect(next.term).toBeGreaterThan(orig.term);

  // The new leader stays silent, so the old one can only learn the new term from a reply.
  await h.dropCallsAfterN(next.leader, 0);
  await h.reconnect(orig.leader);
  const stepped = await waitFor(orig.leader, "stepped down", (s) => s.state !== "Leader");
  expect(stepped.term).toBeGreaterThanOrEqual(next.term);

  await h.crash(orig.leader);
  expect((await h.server(orig.leader)).durable.term).toBeGreaterThanOrEqual(stepped.term);
  await h.restart(orig.leader);
  expect((await h.statuses())[orig.leader]!.term).toBeGreaterThanOrEqual(stepped.term);
  await h.dontDropCalls(next.leader);
});

test("BecomeFollowerSameTermPreservesVotedFor", async () => {
  await cluster();
  // Left alone, a follower keeps standing for election (and voting for itself). (Not the
  // leader: a leader left alone stays leader.)
  const alone = ((await h.checkSingleLeader()).leader + 1) % 3;
  const [x, y] = [0, 1, 2].filter((i) => i !== alone);
  await Promise.all([h.crash(x!), h.crash(y!)]);
  await waitFor(alone, "became a candidate", (s) => s.state === "Candidate");
  const epoch = await h.epoch();
  const seen = await h.inside(alone, (s) => {
    const before = s.status()!;
    // A leader of the same term announces itself: the candidate steps down, in that term.
    const heartbeat: Message = {
      type: "AppendEntries", from: x!, to: alone, term: before.term, leaderId: x!,
      prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0,
    };
    s.receive(epoch, heartbeat);
    return { before, after: s.inspect()! };
  });
  expect(seen.before).toMatchObject({ state: "Candidate", votedFor: alone });
  expect(seen.after).toMatchObject({ state: "Follower", term: seen.before.term, votedFor: alone });
  expect(seen.after.durable).toMatchObject({ term: seen.before.term, votedFor: alone });
});

test("BecomeFollowerHigherTermResetsVotedFor", async () => {
  await cluster();
  const { leader, term } = await h.checkSingleLeader();
  const voter = (await h.statuses()).find((s) => s.id !== leader && s.votedFor !== null && s.term === term);
  expect(voter, "a follower that voted in the leader's term").toBeDefined();
  const other = 3 - leader - voter!.id;
  const epoch = await h.epoch();
  const seen = await h.inside(voter!.id, (s) => {
    const before = s.status()!;
    // Any message of a newer term: here a refused vote from a later election.
    const reply: Message = { type: "RequestVoteReply", from: other, to: voter!.id, term: before.term + 1, voteGranted: false };
    s.receive(epoch, reply);
    return { before, after: s.inspect()! };
  });
  expect(seen.before.votedFor).not.toBeNull();
  expect(seen.after).toMatchObject({ state: "Follower", term: seen.before.term + 1, votedFor: null });
  expect(seen.after.durable).toMatchObject({ term: seen.before.term + 1, votedFor: null });
  await h.checkSingleLeader(); // the cluster gets over it
});

test("StaleVoteReplyIgnored", async () => {
  await cluster(5);
  // The reference's run: two leaders cut off in turn, then back, must not make two leaders.
  const orig = await h.checkSingleLeader();
  await h.disconnect(orig.leader);
  await sleep(450);
  const next = await h.checkSingleLeader();
  expect(next.term).toBeGreaterThan(orig.term);
  await h.disconnect(next.leader);
  await sleep(450);
  await h.reconnect(orig.leader);
  await h.reconnect(next.leader);
  await sleep(450);
  const final = await h.checkSingleLeader();

  // And directly: a lone candidate of 5 needs 3 votes; two grants from an older term must
  // not give them to it, two from its own term must. (Not the leader: a leader left alone
  // stays leader.)
  const alone = (final.leader + 1) % 5;
  const others = [0, 1, 2, 3, 4].filter((i) => i !== alone);
  await Promise.all(others.map((i) => h.crash(i)));
  await waitFor(alone, "became a candidate", (s) => s.state === "Candidate" && s.term > 1);
  const epoch = await h.epoch();
  const seen = await h.inside(alone, (s) => {
    const term = s.status()!.term;
    const grant = (from: number, t: number): Message => ({ type: "RequestVoteReply", from, to: alone, term: t, voteGranted: true });
    const [a, b] = others;
    s.receive(epoch, grant(a!, term - 1));
    s.receive(epoch, grant(b!, term - 1));
    const afterStale = s.status()!.state;
    s.receive(epoch, grant(a!, term));
    s.receive(epoch, grant(b!, term));
    return { afterStale, afterCurrent: s.status()!.state };
  });
  expect(seen).toEqual({ afterStale: "Candidate", afterCurrent: "Leader" });
});

test("SameTermDoubleVotePrevented", async () => {
  await cluster();
  const { leader, term } = await h.checkSingleLeader();
  const voter = (await h.statuses()).find((s) => s.id !== leader && s.votedFor === leader && s.term === term);
  expect(voter, "a follower that voted for the leader").toBeDefined();
  const other = 3 - leader - voter!.id;
  const epoch = await h.epoch();
  const seen = await h.inside(voter!.id, (s) => {
    const before = s.status()!;
    // Another candidate of the same term, with a log at least as good as anyone's.
    const ask: Message = {
      type: "RequestVote", from: other, to: voter!.id, term: before.term, candidateId: other,
      lastLogIndex: 1_000, lastLogTerm: before.term,
    };
    const replies = s.receive(epoch, ask) ?? [];
    return { before, replies, after: s.inspect()! };
  });
  expect(seen.before).toMatchObject({ term, votedFor: leader });
  expect(seen.replies).toEqual([expect.objectContaining({ type: "RequestVoteReply", voteGranted: false, term })]);
  expect(seen.after).toMatchObject({ votedFor: leader, durable: { votedFor: leader } });
});

test("ElectionSafetyStress", async () => {
  await cluster(5);
  for (let cycle = 0; cycle < 8; cycle++) {
    const { leader } = await h.checkSingleLeader();
    await h.disconnect(leader);
    await sleep(350);
    await h.checkSingleLeader();
    await h.reconnect(leader);
    await sleep(150);
  }
  await sleep(300);
  await h.checkSingleLeader();
});
