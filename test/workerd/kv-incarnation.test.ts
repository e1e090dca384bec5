// A key/value request belongs to the cluster incarnation it started in (issue 19 item 5,
// black-box fault testing). Requests waiting at the coordinator while their cluster was
// deleted and re-created under the same name were answered by the new cluster, and the new
// cluster held the writes (5 of 5 runs with every server crashed; the read, with every
// server partitioned). Now, wherever a request waits when its incarnation goes, a write
// answers 504 (it may have been applied before the deletion) and a read 503, and nothing of
// it reaches the new incarnation.
import { expect, test } from "vitest";
import { Harness, sleep } from "./harness.ts";
import { call } from "./kv-harness.ts";

/** Delete the cluster and create it again under the same name, as a client would. */
async function recreate(h: Harness): Promise<void> {
  expect((await call("DELETE", `/clusters/${h.name}`)).status).toBe(204);
  expect((await call("POST", `/clusters/${h.name}`, { size: 3 })).status).toBe(201);
}

/** The new incarnation has a leader that takes writes. */
async function newClusterServes(h: Harness): Promise<void> {
  const r = await call("PUT", `/clusters/${h.name}/kv/probe?timeoutMs=10000`, { value: "new" });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

test("requests waiting on a crashed cluster that is deleted and re-created: writes 504, the read 503, the new cluster holds none of them", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  for (const i of [0, 1, 2]) await h.crash(i);
  const c = `/clusters/${h.name}/kv`;
  const once = { "Client-Id": `c-${h.name}`, "Request-Id": "1" };
  const append = call("POST", `${c}/log/append?timeoutMs=6000`, { value: "a" }, once);
  const put = call("PUT", `${c}/x?timeoutMs=6000`, { value: "old" });
  const get = call("GET", `${c}/x?timeoutMs=6000`);
  await sleep(500);
  await recreate(h);
  const [a, p, g] = await Promise.all([append, put, get]);
  expect({ status: a.status, error: a.body?.error }, JSON.stringify(a.body)).toEqual({ status: 504, error: "timeout" });
  expect({ status: p.status, error: p.body?.error }, JSON.stringify(p.body)).toEqual({ status: 504, error: "timeout" });
  expect({ status: g.status, error: g.body?.error }, JSON.stringify(g.body)).toEqual({ status: 503, error: "unavailable" });
  await newClusterServes(h);
  expect((await call("GET", `${c}/x`)).body).toEqual({ found: false, value: null });
  expect((await call("GET", `${c}/log`)).body).toEqual({ found: false, value: null });
});

test("requests waiting on a partitioned cluster that is deleted and re-created: the write 504, the read 503", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  expect((await call("POST", `/clusters/${h.name}/partition`, { groups: [[0], [1], [2]] })).status).toBe(200);
  const c = `/clusters/${h.name}/kv`;
  const put = call("PUT", `${c}/x?timeoutMs=6000`, { value: "old" }, { "Client-Id": `c-${h.name}`, "Request-Id": "1" });
  const get = call("GET", `${c}/x?timeoutMs=6000`);
  await sleep(500);
  await recreate(h);
  const [p, g] = await Promise.all([put, get]);
  expect({ status: p.status, error: p.body?.error }, JSON.stringify(p.body)).toEqual({ status: 504, error: "timeout" });
  expect({ status: g.status, error: g.body?.error }, JSON.stringify(g.body)).toEqual({ status: 503, error: "unavailable" });
  await newClusterServes(h);
  expect((await call("GET", `${c}/x`)).body).toEqual({ found: false, value: null });
});
