// Part 1 of the reference series: elections, on a real Durable Object cluster in real time.
// Faults the reference injects back to back are injected together (one HTTP round trip
// each would otherwise leave time for an election in between).
import { expect, test } from "vitest";
import { Harness, sleep } from "./harness.ts";

let h: Harness;
async function cluster(n = 3): Promise<Harness> {
  h = await Harness.create(n);
  return h;
}

test("ElectionBasic", async () => {
  await cluster();
  await h.checkSingleLeader();
});

test("ElectionLeaderDisconnect", async () => {
  await cluster();
  const orig = await h.checkSingleLeader();
  await h.disconnect(orig.leader);
  await sleep(350);
  const next = await h.checkSingleLeader();
  expect(next.leader).not.toBe(orig.leader);
  expect(next.term).toBeGreaterThan(orig.term);
});

test("ElectionLeaderAndAnotherDisconnect", async () => {
  await cluster();
  const { leader } = await h.checkSingleLeader();
  const other = (leader + 1) % 3;
  await Promise.all([h.disconnect(leader), h.disconnect(other)]);
  await sleep(450); // no quorum
  await h.checkNoLeader();
  await h.reconnect(other); // quorum again
  await h.checkSingleLeader();
});

test("DisconnectAllThenRestore", async () => {
  await cluster();
  await sleep(100);
  await Promise.all([0, 1, 2].map((i) => h.disconnect(i)));
  await sleep(450);
  await h.checkNoLeader();
  for (let i = 0; i < 3; i++) await h.reconnect(i);
  await h.checkSingleLeader();
});

async function leaderDisconnectThenReconnect(n: number): Promise<void> {
  await cluster(n);
  const orig = await h.checkSingleLeader();
  await h.disconnect(orig.leader);
  await sleep(350);
  const next = await h.checkSingleLeader();
  await h.reconnect(orig.leader);
  await sleep(150);
  const again = await h.checkSingleLeader();
  expect(again.leader).toBe(next.leader);
  expect(again.term).toBe(next.term);
}

test("ElectionLeaderDisconnectThenReconnect", () => leaderDisconnectThenReconnect(3));

test("ElectionLeaderDisconnectThenReconnect5", () => leaderDisconnectThenReconnect(5));

// The seed: a cut-off follower keeps starting elections; back, its higher term forces a new one.
test("ElectionFollowerComesBack", async () => {
  await cluster();
  const orig = await h.checkSingleLeader();
  const other = (orig.leader + 1) % 3;
  await h.disconnect(other);
  await sleep(650);
  await h.reconnect(other);
  await sleep(150);
  const next = await h.checkSingleLeader();
  expect(next.term).toBeGreaterThan(orig.term);
});

test("ElectionDisconnectLoop", async () => {
  await cluster();
  for (let cycle = 0; cycle < 5; cycle++) {
    const { leader } = await h.checkSingleLeader();
    const other = (leader + 1) % 3;
    await Promise.all([h.disconnect(leader), h.disconnect(other)]);
    await sleep(310);
    await h.checkNoLeader();
    await h.reconnect(other);
    await h.reconnect(leader);
    await sleep(150);
  }
});
