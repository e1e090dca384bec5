// The key/value routes end to end on workerd: a quick check that an operation is applied
// once, answered after commit, and survives a leader crash with exactly-once ids.
import { env } from "cloudflare:workers";
import { expect, test } from "vitest";
import { serverStub } from "../../src/server/rpc.ts";
import type { Env } from "../../src/coordinator/env.ts";
import { registryStub } from "../../src/coordinator/registry.ts";
import { api, Harness } from "./harness.ts";

test("put, get, cas and append through the kv routes", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const base = `/clusters/${h.name}/kv`;
  expect(await api("GET", `${base}/k`)).toEqual({ status: 200, body: { found: false, value: null } });
  expect(await api("PUT", `${base}/k`, { value: "a" })).toEqual({ status: 200, body: { found: false, prev: null } });
  expect(await api("PUT", `${base}/k`, { value: "b" })).toEqual({ status: 200, body: { found: true, prev: "a" } });
  expect(await api("POST", `${base}/k/cas`, { compare: "x", value: "c" })).toEqual({
    status: 200,
    body: { found: true, prev: "b", swapped: false },
  });
  expect(await api("POST", `${base}/k/append`, { value: "!" })).toEqual({ status: 200, body: { found: true, prev: "b" } });
  expect(await api("GET", `${base}/k`)).toEqual({ status: 200, body: { found: true, value: "b!" } });
  expect((await api("POST", `${base}/missing/cas`, { compare: "", value: "v" })).body).toEqual({
    found: false,
    prev: null,
    swapped: false,
  });
});

test("a repeated request id answers the first result and applies once", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const headers = { "Client-Id": "c1", "Request-Id": "7" };
  const first = await api("POST", `/clusters/${h.name}/kv/x/append`, { value: "a" }, headers);
  const again = await api("POST", `/clusters/${h.name}/kv/x/append`, { value: "a" }, headers);
  expect(first).toEqual({ status: 200, body: { found: false, prev: null } });
  expect(again).toEqual(first);
  expect((await api("GET", `/clusters/${h.name}/kv/x`)).body).toEqual({ found: true, value: "a" });
});

test("pinning a follower answers 421 with the leader", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  const follower = (leader + 1) % 3;
  const res = await api("GET", `/clusters/${h.name}/kv/k?server=${follower}`);
  expect(res.status).toBe(421);
  expect(res.body).toMatchObject({ error: "not_leader", leader });
});

test("bad input is a 4xx JSON error", async () => {
  const h = await Harness.create(3);
  const base = `/clusters/${h.name}/kv`;
  expect((await api("PUT", `${base}/k`, "{not json")).status).toBe(400);
  expect((await api("PUT", `${base}/k`, { value: 5 })).status).toBe(400);
  expect((await api("PUT", `${base}/k`, { value: "x".repeat(70_000) })).status).toBe(413);
  expect((await api("PUT", `${base}/${"k".repeat(300)}`, { value: "x" })).status).toBe(413);
  expect((await api("PUT", `${base}/k`, { value: "v" }, { "Client-Id": "c" })).status).toBe(400);
  expect((await api("PUT", `${base}/k`, { value: "v" }, { "Client-Id": "c", "Request-Id": "-1" })).status).toBe(400);
  expect((await api("POST", `${base}/k`, { value: "v" })).status).toBe(405);
  expect((await api("GET", `/clusters/nope-${h.name}/kv/k`)).status).toBe(404);
  expect((await api("GET", `${base}/k?server=9`)).status).toBe(404);
  expect((await api("GET", `${base}/k`)).body).toEqual({ found: false, value: null });
});

// The kv routes take the cluster's configuration from the Worker isolate's cache. Another
// isolate may delete the cluster and create it anew with other settings; this one's cache
// then names an epoch no server has, the servers refuse, and the route reads the
// configuration again. Simulated here by re-creating the cluster behind the coordinator's
// back, straight through the server objects.
test("a kv request with a stale cached configuration reopens the cluster", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const base = `/clusters/${h.name}/kv`;
  expect((await api("PUT", `${base}/k`, { value: "old" })).status).toBe(200); // cached now
  const old = (await serverStub(env.RAFT_SERVER, h.name, 0).clusterConfig())!;
  await Promise.all([0, 1, 2].map((i) => serverStub(env.RAFT_SERVER, h.name, i).destroy()));
  const reborn = { ...old, size: 1, epoch: crypto.randomUUID() };
  // As a re-creation through another isolate does: the registry gets the new incarnation.
  const registry = registryStub((env as unknown as Env).CLUSTER_REGISTRY, h.name);
  await registry.remove(old.epoch);
  await registry.create(reborn);
  expect((await serverStub(env.RAFT_SERVER, h.name, 0).init(reborn, 0)).created).toBe(true);

  // The new one-server cluster answers: the old data is gone, and server 2 no longer exists.
  const got = await api("GET", `${base}/k?timeoutMs=2000`);
  expect(got).toEqual({ status: 200, body: { found: false, value: null } });
  expect((await api("PUT", `${base}/k?server=2`, { value: "x" })).status).toBe(404);
  expect(await api("PUT", `${base}/k`, { value: "new" })).toEqual({ status: 200, body: { found: false, prev: null } });
});
