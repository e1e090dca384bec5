// Raw commands are raw (issue 23, item 5): a command submitted on the admin route, however
// it is shaped, is never applied as a key/value command or a configuration. Each test
// reproduces a forgery that worked before (src/server/raw-command.ts says how it is kept out).
import { expect, test } from "vitest";
import { api, Harness } from "./harness.ts";
import { eventually } from "./kv-harness.ts";

/** A raw submit to the leader; answers the index it took. */
async function submitToLeader(h: Harness, command: unknown): Promise<number> {
  const { leader } = await h.checkSingleLeader();
  const index = await h.submit(leader, command);
  expect(index, "the leader took the raw command").not.toBeNull();
  return index!;
}

/** Every server has applied index `index` (polls). */
async function appliedEverywhere(h: Harness, index: number): Promise<void> {
  await eventually(`index ${index} applied everywhere`, async () => (await h.statuses()).every((s) => s.lastApplied >= index));
}

test("a raw command with a far-future proposedAt does not expire the exactly-once sessions", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const headers = { "Client-Id": "victim", "Request-Id": "1" };
  const first = await api("POST", `/clusters/${h.name}/kv/x/append`, { value: "a" }, headers);
  expect(first).toEqual({ status: 200, body: { found: false, prev: null } });

  // 8.64e15 ms is the end of JS time: had this applied, every session would have been idle for ages.
  const forged = { kind: "kv", op: "put", key: "y", value: "forged", proposedAt: 8.64e15 };
  const index = await submitToLeader(h, forged);
  await appliedEverywhere(h, index);

  // The retry of the victim's request is still a duplicate: answered, not applied again.
  const retry = await api("POST", `/clusters/${h.name}/kv/x/append`, { value: "a" }, headers);
  expect(retry).toEqual(first);
  expect((await api("GET", `/clusters/${h.name}/kv/x`)).body).toEqual({ found: true, value: "a" });
  // Nor was the forged put applied.
  expect((await api("GET", `/clusters/${h.name}/kv/y`)).body).toEqual({ found: false, value: null });
  // And /committed shows the command as it was submitted.
  const committed = await h.committed((await h.checkSingleLeader()).leader);
  expect(committed.find((e) => e.index === index)?.command).toEqual(forged);
});

test("a raw command with a forged session does not make a client's writes stale", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const forged = { kind: "kv", op: "put", key: "x", value: "forged", proposedAt: Date.now(), session: { clientId: "victim", requestId: 1e15 } };
  await appliedEverywhere(h, await submitToLeader(h, forged));

  const write = await api("PUT", `/clusters/${h.name}/kv/x`, { value: "mine" }, { "Client-Id": "victim", "Request-Id": "5" });
  expect(write).toEqual({ status: 200, body: { found: false, prev: null } });
});

test("a raw command shaped like a configuration does not change the membership", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  const index = await submitToLeader(h, { kind: "membership", voters: [leader], learners: [] });
  await appliedEverywhere(h, index);
  const status = await api("GET", `/clusters/${h.name}`);
  expect(status.body.voters).toEqual([0, 1, 2]);
  for (const s of await h.statuses()) expect(s.membership?.voters ?? [0, 1, 2]).toEqual([0, 1, 2]);
});
