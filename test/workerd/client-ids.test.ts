// The client's ids end to end through the coordinator (issue 23, item 6): a process whose
// clock stepped back is not locked out of its Client-Id, and the stale answer that tells
// it where the session stands carries `lastRequestId`.
import { expect, test } from "vitest";
import { ClientIdPool, WriteLanes } from "../../src/client/client-ids.ts";
import { TimeIds } from "../../src/client/request-ids.ts";
import { api, Harness } from "./harness.ts";
import { kvClient } from "./kv-harness.ts";

/** One simulated process whose clock reads `offsetMs` off the real one. */
const processAt = (offsetMs: number) => ({ pool: new ClientIdPool(), lanes: new WriteLanes(), ids: new TimeIds(() => Date.now() + offsetMs) });

test("a process whose clock is an hour behind writes under the same Client-Id at once", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const ahead = kvClient(h, { clientId: "device-1", shared: processAt(0) });
  await ahead.put("k", "ahead");
  const last = ahead.lastWrite!.requestId;

  // What the behind process's first id hears: stale, with the session's last id.
  const behindIds = new TimeIds(() => Date.now() - 3_600_000);
  const raw = await api("PUT", `/clusters/${h.name}/kv/k`, { value: "x" }, { "Client-Id": "device-1", "Request-Id": String(behindIds.next()) });
  expect(raw.status).toBe(400);
  expect(raw.body).toMatchObject({ error: "stale_request", lastRequestId: last });

  const behind = kvClient(h, { clientId: "device-1", shared: processAt(-3_600_000) });
  expect(await behind.put("k", "behind")).toEqual({ found: true, prev: "ahead" });
  expect(behind.lastWrite!.requestId).toBeGreaterThan(last);
  expect(await behind.put("k", "again")).toEqual({ found: true, prev: "behind" });
  expect((await api("GET", `/clusters/${h.name}/kv/k`)).body).toEqual({ found: true, value: "again" });
});
