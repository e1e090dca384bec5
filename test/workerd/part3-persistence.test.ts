// Part 3 of the reference series: persistence and its optimisations (submit answers the
// index, replication and commit advance are sent at once, fast backtracking, state durable
// before it is relied on), on a real Durable Object cluster in real time. A crash here is
// a real reset of the server's object (ctx.abort) that keeps only its SQLite storage.
import { expect, test } from "vitest";
import { Harness, sleep } from "./harness.ts";

let h: Harness;
async function cluster(n = 3): Promise<Harness> {
  h = await Harness.create(n);
  return h;
}

test("CommitAfterCallDrops", async () => {
  await cluster();
  const { leader } = await h.checkSingleLeader();
  await h.dropCallsAfterN(leader, 2);
  expect(await h.submit(leader, 99)).not.toBeNull();
  await sleep(30);
  await h.dontDropCalls(leader);
  await sleep(60);
  await h.checkCommittedN(99, 3);
});

// The reference cuts the leader off for 90 ms. With a 50 ms heartbeat that leaves the
// followers without news for 3 heartbeat periods in most phases, i.e. 150 ms: exactly the
// smallest election timeout, with no margin at all. Any real latency (an RPC between
// objects, an alarm a few ms late, the harness's own requests) makes it 160-200 ms, and a
// follower with a short timeout starts an election, about one run in three. So the cut is
// 30 ms here, made and undone with one call each to the leader's object: the followers
// miss at most one heartbeat and hear from the leader again within 2 periods.
test("DisconnectLeaderBriefly", async () => {
  await cluster();
  const { leader } = await h.checkSingleLeader();
  await h.submit(leader, 5);
  await h.submit(leader, 6);
  await h.checkCommittedN(6, 3);
  await h.disconnectBriefly(leader, 30);
  await sleep(200);
  expect(await h.submit(leader, 7)).not.toBeNull(); // still the leader: nobody noticed
  await h.checkCommittedN(7, 3);
});

test("CrashFollower", async () => {
  await cluster();
  const { leader } = await h.checkSingleLeader();
  await h.submit(leader, 5);
  await h.checkCommittedN(5, 3);
  await h.crash(((await h.checkSingleLeader()).leader + 1) % 3); // (looked up again, see harness.ts)
  await sleep(350);
  await h.checkCommittedN(5, 2);
});

async function crashThenRestart(which: "follower" | "leader", wait: number): Promise<void> {
  await cluster();
  const { leader } = await h.checkSingleLeader();
  const vals = [5, 6, 7];
  for (const v of vals) await h.submit(leader, v);
  for (const v of vals) await h.checkCommittedN(v, 3);

  const now = (await h.checkSingleLeader()).leader; // (looked up again, see harness.ts)
  const victim = which === "leader" ? now : (now + 1) % 3;
  await h.crash(victim);
  await sleep(350);
  for (const v of vals) await h.checkCommittedN(v, 2);

  // Back from storage alone: its state machine replays the log once it learns the commit index.
  await h.restart(victim);
  await sleep(wait);
  for (const v of vals) await h.checkCommittedN(v, 3);
}

test("CrashThenRestartFollower", () => crashThenRestart("follower", 650));

test("CrashThenRestartLeader", () => crashThenRestart("leader", 550));

test("CrashThenRestartAll", async () => {
  await cluster();
  const { leader } = await h.checkSingleLeader();
  for (const v of [5, 6, 7]) await h.submit(leader, v);
  for (const v of [5, 6, 7]) await h.checkCommittedN(v, 3);

  await Promise.all([0, 1, 2].map((i) => h.crash((leader + i) % 3)));
  await sleep(350);
  for (let i = 0; i < 3; i++) await h.restart((leader + i) % 3);
  await sleep(150);
  const next = await h.checkSingleLeader();
  expect(await h.submit(next.leader, 8)).not.toBeNull();
  for (const v of [5, 6, 7, 8]) await h.checkCommittedN(v, 3);
});

test("ReplaceMultipleLogEntries", async () => {
  await cluster();
  const first = await h.checkSingleLeader();
  await h.submit(first.leader, 5);
  await h.submit(first.leader, 6);
  await h.checkCommittedN(6, 3);
  const orig = await h.checkSingleLeader(); // (looked up again, see harness.ts)

  // The cut-off leader takes entries nobody else will ever have...
  await h.disconnect(orig.leader);
  await sleep(10);
  for (const v of [21, 22, 23, 24]) {
    expect(await h.submit(orig.leader, v)).not.toBeNull();
    await sleep(5);
  }
  // ...while the others move on without it.
  const next = await h.checkSingleLeader();
  for (const v of [8, 9, 10]) {
    expect(await h.submit(next.leader, v)).not.toBeNull();
    await sleep(5);
  }
  await h.checkCommittedN(10, 2);
  await h.checkNotCommitted(21);

  // A restarted leader has forgotten every follower's nextIndex and must find it again.
  await h.crash(next.leader);
  await sleep(60);
  await h.restart(next.leader);
  await sleep(100);
  await h.checkSingleLeader();
  await h.reconnect(orig.leader); // its 21..24 conflict with the new term's entries: replaced
  await sleep(400);
  // The leader as of now (the reference takes it before the reconnect and assumes nothing
  // changed since): never the old one, whose log lacks the committed 8, 9, 10.
  const final = await h.checkSingleLeader();
  expect(final.leader).not.toBe(orig.leader);
  expect(await h.submit(final.leader, 11)).not.toBeNull();
  await h.checkCommittedN(11, 3);
  await h.checkCommittedN(10, 3);
  await h.checkNotCommitted(21);
});

// The entry reaches the followers, but nobody ever learns it was committed in its term; a
// later leader must not commit it by counting replicas (Figure 8), only along with an
// entry of its own term.
async function afterSubmit(fault: "crash" | "disconnect"): Promise<void> {
  await cluster();
  const orig = await h.checkSingleLeader();
  if (fault === "crash") await h.submitThenCrash(orig.leader, 5);
  else await h.submitThenDisconnect(orig.leader, 5);

  await sleep(10);
  await h.checkSingleLeader();
  await sleep(300);
  await h.checkNotCommitted(5);

  if (fault === "crash") await h.restart(orig.leader);
  else await h.reconnect(orig.leader);
  await sleep(150);
  const next = await h.checkSingleLeader();
  await h.checkNotCommitted(5);

  expect(await h.submit(next.leader, 6)).not.toBeNull();
  await h.checkCommittedN(5, 3);
  await h.checkCommittedN(6, 3);
}

test("CrashAfterSubmit", () => afterSubmit("crash"));

test("DisconnectAfterSubmit", () => afterSubmit("disconnect"));
