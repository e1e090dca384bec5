// The session table is bounded in size on the real servers (issue 23, item 3): clients
// putting 64 KiB values no longer make every replica hold (and every snapshot carry) one
// 64 KiB result per client. The results kept stay within DEFAULT_MAX_RESULT_CHARS, the
// least recently used forgotten first, identically on every replica and across a reload
// from storage; a retry whose result was forgotten is not applied again.
import { expect, test } from "vitest";
import { MAX_VALUE_BYTES } from "../../src/kv/limits.ts";
import { DEFAULT_MAX_RESULT_CHARS } from "../../src/kv/sessions.ts";
import type { KvSnapshot } from "../../src/kv/snapshot.ts";
import { api, Harness } from "./harness.ts";
import { eventually } from "./kv-harness.ts";

/** 64 KiB results: this many fill the budget, and a few more push the first ones out. */
const CLIENTS = Math.ceil(DEFAULT_MAX_RESULT_CHARS / MAX_VALUE_BYTES) + 8;

/** Server i's state machine as it holds it in memory. */
function snapshotOf(h: Harness, i: number): Promise<KvSnapshot> {
  return h.inside(i, (s) => (s as unknown as { kvState: { snapshot(): KvSnapshot } }).kvState.snapshot());
}

test(`${CLIENTS} clients putting 64 KiB values: the sessions' results stay within the budget, on every replica and after a reload`, async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const put = (i: number) =>
    api("PUT", `/clusters/${h.name}/kv/k`, { value: String(i % 10).repeat(MAX_VALUE_BYTES) }, { "Client-Id": `client-${i}`, "Request-Id": "1" });
  for (let i = 0; i < CLIENTS; i++) expect((await put(i)).status).toBe(200);

  const leader = (await h.checkSingleLeader()).leader;
  const applied = (await h.statuses())[leader]!.lastApplied;
  await eventually("every server applied the puts", async () => (await h.statuses()).every((s) => s.lastApplied >= applied), 20_000);
  const snapshots = await Promise.all([0, 1, 2].map((i) => snapshotOf(h, i)));
  // The sessions' part of the snapshot: its rows are the store's history (every version of k,
  // kept until compacted), not the sessions' weight.
  const text = JSON.stringify(snapshots[0]!.sessions);
  const results = snapshots[0]!.sessions.reduce((sum, [, , , result]) => sum + (result === null ? 0 : JSON.stringify(result).length), 0);
  console.log(`${CLIENTS} clients × 64 KiB: the snapshot's sessions ${text.length} characters, results ${results} (budget ${DEFAULT_MAX_RESULT_CHARS}), before the bound ~${CLIENTS * (MAX_VALUE_BYTES + 60)}`);
  expect(results).toBeLessThanOrEqual(DEFAULT_MAX_RESULT_CHARS);
  expect(text.length).toBeLessThanOrEqual(DEFAULT_MAX_RESULT_CHARS + CLIENTS * 100);
  expect(snapshots[0]!.sessions).toHaveLength(CLIENTS); // every id kept
  for (const s of snapshots) expect(s.sessions).toEqual(snapshots[0]!.sessions); // the same sessions forgotten everywhere
  // The status reports the same weight from storage: within the budget on every server.
  for (const i of [0, 1, 2]) {
    const durable = (await api("GET", `/clusters/${h.name}/servers/${i}`)).body.durable;
    expect(durable.rows.sessions).toBe(CLIENTS);
    expect(durable.sessionResultChars).toBeGreaterThan(DEFAULT_MAX_RESULT_CHARS - MAX_VALUE_BYTES - 200);
    expect(durable.sessionResultChars).toBeLessThanOrEqual(DEFAULT_MAX_RESULT_CHARS);
  }

  // Reloaded from its rows alone, each server holds the same table (forgetting kept each session's place).
  await api("POST", `/clusters/${h.name}/evict`);
  await h.checkSingleLeader();
  for (const i of [0, 1, 2]) expect((await snapshotOf(h, i)).sessions).toEqual(snapshots[0]!.sessions);

  // The first client's result was forgotten: its retry is refused, not applied again.
  const retry = await put(0);
  expect(retry.status).toBe(400);
  expect(retry.body.error).toBe("result_forgotten");
  expect((await api("GET", `/clusters/${h.name}/kv/k`)).body.value).toBe(String((CLIENTS - 1) % 10).repeat(MAX_VALUE_BYTES));
  // The last client's is kept: its retry is answered with the first result.
  const last = await put(CLIENTS - 1);
  expect(last).toEqual({ status: 200, body: { found: true, prev: String((CLIENTS - 2) % 10).repeat(MAX_VALUE_BYTES) } });
}, 120_000);
