// Membership (issue 12, API.md "Membership (admin)"): the rules a change obeys, each on a
// fresh cluster in real time.
// - A learner receives the log but does not count toward a majority; promoted, it votes.
// - One change at a time: a second change while one is not committed is 409
//   change_in_progress, and the first one completes once it can.
// - The only voter cannot be removed: 409 last_voter (a learner does not make it second).
// - A removed id is 404 on the membership, fault and raw-log routes, and never reused.
import { expect, test } from "vitest";
import { Harness } from "./harness.ts";
import { checkGetTimesOut, checkStored, eventually, kvClient, storedData } from "./kv-harness.ts";
import {
  addRaw,
  caughtUp,
  ensureAdd,
  ensurePromote,
  ensureRemove,
  expectAnswer,
  expectGone,
  fault,
  members,
  promoteRaw,
  removeRaw,
  said,
  send,
  settledLeader,
  sleep,
  sorted,
  statusOf,
  trafficTo,
  view,
} from "./membership-harness.ts";
import { retryBudget } from "./issue6-harness.ts";

// The ensure... helpers ask again after a 409/503/504. One is by design: the second test's
// ensurePromote is 409 change_in_progress until the first change commits (in 3 of 6
// measured runs on a loaded machine, the only retry seen). Allowed: that one and two
// changes meeting an election.
retryBudget(3, "the second test's by-design 409, and two changes meeting an election");

test("a learner gets the log but is no majority with the leader; promoted, it is a voter", async () => {
  const h = await Harness.create(3, { sleepAfterMs: 0 });
  await settledLeader(h);
  const learner = await ensureAdd(h, "learner", "weur");
  let v = await view(h);
  expect(sorted(v.voters)).toEqual([0, 1, 2]);
  expect(v.learners).toEqual([learner]);
  expect(v.size, "size counts the voters").toBe(3);
  expect(statusOf(v, learner)).toMatchObject({ role: "learner", locationHint: "weur" });
  const put = await kvClient(h).put("before", "cut");
  expect(put.found).toBe(false);
  await caughtUp(h, learner);

  // Cut both other voters off: the leader and the learner can still talk, and are two of
  // four servers, but only one of three voters.
  const { leader } = await settledLeader(h);
  const others = [0, 1, 2].filter((i) => i !== leader);
  for (const i of others) await fault(h, `servers/${i}/disconnect`);
  v = await view(h);
  const commitBefore = statusOf(v, leader).commitIndex;
  const r = await send("POST", `/clusters/${h.name}/servers/${leader}/submit`, { command: "leader and learner only" });
  expect(r.status, said(r)).toBe(200);
  expect(r.body.accepted, JSON.stringify(r.body)).toBe(true);
  const index = r.body.index as number;

  // The learner receives the entry (so it could be counted, if it wrongly were)...
  await eventually(`learner ${learner} stores entry ${index}`, async () => {
    const s = statusOf(await view(h), learner);
    return s.logLength >= index || `logLength ${s.logLength}`;
  });
  // ...and a key/value write through the coordinator gets no answer in time either.
  const impatient = kvClient(h, { deadlineMs: 1_200, coordinatorTimeoutMs: 500, attemptTimeoutMs: 800 });
  const err = await impatient.put("during", "cut").then(
    (x) => new Error(`put answered ${JSON.stringify(x)} with one voter of three`),
    (e: unknown) => e,
  );
  expect([503, 504], String(err)).toContain((err as { status?: number }).status);
  // Nothing committed past what was committed before the cut (looked at after the write's
  // whole deadline, and more than an election timeout after the entry reached the learner).
  v = await view(h);
  expect(statusOf(v, leader).commitIndex, "the leader's commitIndex with only leader + learner").toBe(commitBefore);
  for (const id of [leader, learner]) expect(statusOf(v, id).commitIndex, `server ${id}'s commitIndex`).toBeLessThan(index);
  await checkGetTimesOut(impatient, "before");

  // Heal; a leader among the voters; then promote the learner.
  await fault(h, "heal");
  await settledLeader(h);
  const promoted = await ensurePromote(h, learner);
  expect(sorted(promoted.voters)).toEqual([0, 1, 2, learner]);
  expect(promoted.learners).toEqual([]);
  expect(promoted.size).toBe(4);
  expect(statusOf(promoted, learner).role).toBe("voter");
  v = await view(h);
  expect(statusOf(v, learner).role).toBe("voter");
  expect(v.voters).toContain(learner);

  // It now counts: with one of the four voters cut off, the three left (the promoted member
  // among them) are a majority of four, and writes commit.
  const { leader: l2 } = await settledLeader(h);
  const off = [0, 1, 2, learner].filter((i) => i !== l2 && i !== learner)[0]!;
  await fault(h, `servers/${off}/disconnect`);
  const c = kvClient(h, { deadlineMs: 8_000 });
  expect(await c.put("after", "promoted")).toEqual({ found: false, prev: null });
  expect(await c.get("after")).toEqual({ found: true, value: "promoted" });
});

test("a second change while one is not committed is 409 change_in_progress; the first completes once it can", async () => {
  // PreVote, and the voters cut off come back one at a time: the first one back cannot
  // depose the leader (its pre-vote needs the leader's or the other cut-off voter's grant),
  // so the leader stays and commits the change it holds. (Both back at once, they may grant
  // each other's pre-votes and elect a leader without the change, rolling it back: correct
  // Raft, not what this test is about.)
  const h = await Harness.create(3, { sleepAfterMs: 0, preVote: true });
  const { leader } = await settledLeader(h);
  // The leader has committed an entry of its own term: it may start a change at once.
  await kvClient(h).put("k", "v");
  const others = [0, 1, 2].filter((i) => i !== leader);
  for (const i of others) await fault(h, `servers/${i}/disconnect`);

  // The first change cannot commit: one voter of three. The coordinator waits 1.5 s for it,
  // then answers 504 (the outcome is unknown).
  const firstStarted = Date.now();
  const first = addRaw(h, { role: "learner" }, 20_000, 1_500).then((r) => ({ ...r, after: Date.now() - firstStarted }));
  // The leader holds it: the configuration (the leader's, in force once appended) lists it.
  let learner = -1;
  await eventually("the leader appends the configuration entry", async () => {
    const v = await view(h);
    if (v.learners.length === 1) learner = v.learners[0]!;
    return learner >= 0 || `learners ${JSON.stringify(v.learners)}, leader's log ${statusOf(v, leader).logLength}`;
  });

  // While the first call waits, and after it has answered 504: every other change is refused.
  const whileWaiting = await addRaw(h, { role: "voter" });
  const f = await first;
  console.log(`change_in_progress: the first change answered ${said(f)} after ${f.after} ms; a change made meanwhile: ${said(whileWaiting)}`);
  expectAnswer(whileWaiting, 409, "change_in_progress", "add a voter while the first call waits");
  expectAnswer(f, 504, "timeout", "the first change, with one voter of three");
  for (const [what, call] of [
    ["add a voter", () => addRaw(h, { role: "voter" })],
    ["add a learner", () => addRaw(h, { role: "learner" })],
    [`remove ${others[0]}`, () => removeRaw(h, others[0]!)],
    [`promote ${learner}`, () => promoteRaw(h, learner)],
  ] as const) {
    expectAnswer(await call(), 409, "change_in_progress", `${what} while the first change is not committed`);
  }
  // Nothing of the refused changes happened.
  let v = await view(h);
  expect(sorted(v.voters)).toEqual([0, 1, 2]);
  expect(v.learners).toEqual([learner]);

  // One voter back: two of three, the leader commits the change it holds. The learner stays
  // in the configuration, and a next change is taken (409 until the first one is committed).
  await fault(h, `servers/${others[0]}/reconnect`);
  const promoted = await ensurePromote(h, learner);
  expect(sorted(promoted.voters)).toEqual(sorted([0, 1, 2, learner]));
  expect(statusOf(promoted, learner).role).toBe("voter");
  await fault(h, "heal");
  await caughtUp(h, others[1]!);
  v = await view(h);
  expect(sorted(v.voters)).toEqual(sorted([0, 1, 2, learner]));
  expect(v.learners).toEqual([]);
});

// Found by this file (and by the simulator's random search), fixed in adc6bb4: after DELETE
// of the leader answered 200, the new leader held the removal entry without knowing it was
// committed (followers learn commits lazily, and the old leader hands over right after its
// own commit), and committed nothing of its own term until a client wrote; until then every
// membership change answered 409 change_in_progress ("the change at index 2 is not committed
// yet"). Now a new leader with an uncommitted configuration appends a no-op to commit it.
test("a change right after removing the leader, with no client writes, is taken within a few seconds", async () => {
  const h = await Harness.create(3, { sleepAfterMs: 0 });
  const { leader } = await settledLeader(h);
  await kvClient(h).put("k", "v");
  expectAnswer(await removeRaw(h, leader), 200, undefined, `remove leader ${leader}`);
  const answers: string[] = [];
  const until = Date.now() + 4_000;
  for (;;) {
    const r = await addRaw(h, { role: "learner" }, undefined, 1_000);
    answers.push(said(r));
    if (r.status === 200 || Date.now() > until) {
      expect(r.status, `adds after removing the leader answered: ${answers.join("; ")}`).toBe(200);
      return;
    }
    await sleep(200);
  }
});

test("removing the only voter is 409 last_voter; a learner does not make it second", async () => {
  const h = await Harness.create(1, { sleepAfterMs: 0 });
  await settledLeader(h);
  expectAnswer(await removeRaw(h, 0), 409, "last_voter", "remove the only voter");
  const learner = await ensureAdd(h, "learner");
  expectAnswer(await removeRaw(h, 0), 409, "last_voter", "remove the only voter beside a learner");
  let v = await view(h);
  expect(v.voters).toEqual([0]);
  expect(v.learners).toEqual([learner]);
  expect(v.leader).toBe(0);
  // The learner can go; the voter still cannot; the cluster still takes writes.
  await ensureRemove(h, learner);
  expectAnswer(await removeRaw(h, 0), 409, "last_voter", "remove the only voter again");
  const c = kvClient(h);
  expect(await c.put("still", "here")).toEqual({ found: false, prev: null });
  v = await view(h);
  expect(v.voters).toEqual([0]);
  expect(v.learners).toEqual([]);
});

test("shrinking three voters to one, the leader first: removing the last is 409 last_voter", async () => {
  const h = await Harness.create(3, { sleepAfterMs: 0 });
  const { leader } = await settledLeader(h);
  const c = kvClient(h, { deadlineMs: 10_000 });
  await c.put("k", "3 voters");
  await ensureRemove(h, leader);
  const second = await settledLeader(h);
  expect(second.leader).not.toBe(leader);
  await c.put("k", "2 voters");
  const follower = second.view.voters.find((i) => i !== second.leader)!;
  await ensureRemove(h, follower);
  const last = await settledLeader(h);
  expect(last.view.voters).toEqual([second.leader]);
  expect(last.leader).toBe(second.leader);
  expectAnswer(await removeRaw(h, second.leader), 409, "last_voter", "remove the last voter");
  expect(await c.put("k", "1 voter")).toEqual({ found: true, prev: "2 voters" });
  expect(await c.get("k")).toEqual({ found: true, value: "1 voter" });
  const v = await view(h);
  expect(v.size).toBe(1);
  expect(v.servers.map((s) => s.id)).toEqual([second.leader]);
});

test("a removed id is 404 on the membership, fault and raw-log routes; unknown ids too; ids are not reused", async () => {
  const h = await Harness.create(3, { sleepAfterMs: 0 });
  const { leader } = await settledLeader(h);
  const follower = [0, 1, 2].find((i) => i !== leader)!;
  const v = await ensureRemove(h, follower);
  // From here on (the removal committed, and answered), what reaches the removed server.
  const sent = await trafficTo(h, follower);
  expect(sorted(v.voters)).toEqual([0, 1, 2].filter((i) => i !== follower));
  await expectGone(h, follower);
  // Never a member.
  for (const [what, r] of [
    ["promote 7", await promoteRaw(h, 7)],
    ["remove 7", await removeRaw(h, 7)],
    ["disconnect 7", await send("POST", `/clusters/${h.name}/servers/7/disconnect`)],
  ] as const) {
    expect(r.status, `${what}: ${said(r)}`).toBe(404);
  }
  // A member added now gets a new id.
  const added = await ensureAdd(h, "voter");
  expect([0, 1, 2], "an id is never reused").not.toContain(added);
  const after = await view(h);
  expect(sorted(members(after))).toEqual(sorted([...[0, 1, 2].filter((i) => i !== follower), added]));
  await expectGone(h, follower);
  // The cluster works on, and the removed server is sent nothing more: no Raft message
  // reaches its object (a write, an election and heartbeats later), and its state machine,
  // still readable, never sees a write made after its removal.
  const c = kvClient(h, { deadlineMs: 8_000 });
  await c.put("after-removal", "yes");
  for (const id of members(after)) await checkStored(h, id, { "after-removal": "yes" });
  await ensureRemove(h, (await settledLeader(h)).leader);
  await c.put("after-second-removal", "yes");
  await sleep(300);
  expect(sent.messages, `messages that reached removed server ${follower}`).toEqual([]);
  const kept = await storedData(h, follower);
  expect(kept["after-removal"], `removed server ${follower} applied a write made after its removal`).toBeUndefined();
  expect(kept["after-second-removal"], `removed server ${follower} applied a write made after its removal`).toBeUndefined();
});
