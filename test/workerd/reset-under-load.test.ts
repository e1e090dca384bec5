// An object can be reset at any moment (eviction, a deploy, ctx.abort()): it must come back
// from its storage alone and lose nothing that was committed. Here servers are reset at
// random moments while a client keeps submitting; every entry ever seen applied anywhere
// must end up applied, at the same index, on every server.
import { expect, test } from "vitest";
import type { Entry } from "../../src/raft/types.ts";
import { api, Harness, sleep } from "./harness.ts";

test("ResetAtRandomMomentsUnderLoadLosesNoCommittedEntry", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  let running = true;

  // A client submitting as fast as it can, following the leader around. A server reset
  // while taking a command answers 503 (the command may or may not be in its log).
  let submitted = 0;
  const client = (async () => {
    let leader = 0;
    while (running) {
      const r = await api("POST", `/clusters/${h.name}/servers/${leader}/submit`, { command: `c${submitted}` });
      expect([200, 503]).toContain(r.status);
      if (r.status === 200 && r.body.accepted) submitted++;
      else {
        leader = (leader + 1) % 3;
        await sleep(10);
      }
    }
  })();

  // Everything any server has applied so far, by index: two servers disagreeing is a bug.
  const seen = new Map<number, string>();
  const record = (entries: Entry[], server: number) => {
    for (const e of entries) {
      const was = seen.get(e.index);
      expect(was === undefined || was === e.command, `server ${server} applied ${e.command} at ${e.index}, seen ${was}`).toBe(true);
      seen.set(e.index, e.command as string);
    }
  };
  const observer = (async () => {
    while (running) {
      const lists = await Promise.all([0, 1, 2].map((i) => h.committed(i).catch(() => [] as Entry[])));
      lists.forEach(record);
      await sleep(50);
    }
  })();

  // Resets at random moments, of random servers (the leader included). Each must really
  // happen: the victim's next instance reports a later load time.
  const resets: number[] = [];
  for (let k = 0; k < 8; k++) {
    await sleep(150 + Math.random() * 350);
    const victim = Math.floor(Math.random() * 3);
    resets.push(victim);
    const loaded = (await h.statuses())[victim]!.stats.loadedAt;
    await h.resetObject(victim);
    const again = (await h.statuses())[victim]!.stats.loadedAt;
    expect(again, `reset ${k} of server ${victim}: a new instance`).toBeGreaterThan(loaded);
  }
  await sleep(300);
  running = false;
  await Promise.all([client, observer]);

  // One more command brings every server's commit index, and so its state machine, up to date.
  const { leader } = await h.checkSingleLeader();
  expect(await h.submit(leader, "last")).not.toBeNull();
  await h.checkCommittedN("last", 3);
  const finals = await Promise.all([0, 1, 2].map((i) => h.committed(i)));
  finals.forEach(record);

  expect(submitted, "the client got commands in").toBeGreaterThan(20);
  expect(seen.size).toBeGreaterThan(20);
  for (const [i, list] of finals.entries()) {
    const byIndex = new Map(list.map((e) => [e.index, e.command]));
    for (const [index, command] of seen) {
      expect(byIndex.get(index), `server ${i} lost ${command} at ${index} (resets: ${resets})`).toBe(command);
    }
  }
}, 60_000);

test("ResetObjectIsWokenByItsPendingAlarm", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  const loner = (leader + 1) % 3;
  await h.disconnect(loner); // no peer will send it anything from now on
  // Reset it just after one of its alarms has run (it started an election): an alarm
  // interrupted by a reset counts as failed and is retried only seconds later.
  const first = (await h.statuses())[loner]!.term;
  let before = first;
  for (const until = Date.now() + 2000; before === first && Date.now() < until; ) {
    await sleep(5);
    before = (await h.statuses())[loner]!.term;
  }
  expect(before, "it keeps standing for election").toBeGreaterThan(first);
  const loaded = (await h.statuses())[loner]!.stats.loadedAt;
  await h.resetObject(loner);
  // Nobody calls it now: only the alarm it had pending can bring it back to life.
  await sleep(800);
  const asked = Date.now();
  const after = await h.server(loner);
  // The reset happened (a new instance), and that instance was loaded before this look
  // asked for it: its alarm woke it.
  expect(after.stats.loadedAt, "a new instance after the reset").toBeGreaterThan(loaded);
  expect(after.stats.loadedAt, "loaded by its alarm, before anyone asked").toBeLessThan(asked);
  expect(after.durable.term, "its elections went on after the reset").toBeGreaterThan(before);
  expect(after.stats.alarms, "the new instance has counted alarms").toBeGreaterThan(0);
});
