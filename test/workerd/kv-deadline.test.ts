// A request's deadline is the request's, not the attempt's (issue 23 item 7). When the
// Worker's cached record of a cluster is stale (the cluster was re-created through another
// isolate), the request is tried again in the incarnation the registry names; that retry
// used to start a fresh `timeoutMs`, so one request could take twice its timeout.
import { env } from "cloudflare:workers";
import { expect, test } from "vitest";
import type { Env } from "../../src/coordinator/env.ts";
import { registryStub } from "../../src/coordinator/registry.ts";
import { serverStub } from "../../src/server/rpc.ts";
import { Harness } from "./harness.ts";
import { call } from "./kv-harness.ts";

const TIMEOUT_MS = 1000;

test("a request retried after a stale cached configuration answers within its own timeoutMs", async () => {
  const h = await Harness.create(3);
  // Cached now (POST /clusters records it in this isolate); no kv request yet, so no leader
  // hint either: the request's first attempt looks for a leader among the servers.
  await h.checkSingleLeader();
  // Re-created behind this isolate's back, as another isolate would: a new incarnation whose
  // first election comes after ~600 ms, and whose servers can each make two calls only (a
  // candidate's two RequestVotes): its leaders win and then can commit nothing.
  const old = (await serverStub(env.RAFT_SERVER, h.name, 0).clusterConfig())!;
  await Promise.all([0, 1, 2].map((i) => serverStub(env.RAFT_SERVER, h.name, i).destroy()));
  const reborn = { ...old, electionTimeoutMs: [600, 700] as [number, number], epoch: crypto.randomUUID() };
  const registry = registryStub((env as unknown as Env).CLUSTER_REGISTRY, h.name);
  await registry.remove(old.epoch);
  await registry.create(reborn);
  for (const i of [0, 1, 2]) {
    await serverStub(env.RAFT_SERVER, h.name, i).init(reborn, i);
    await serverStub(env.RAFT_SERVER, h.name, i).dropCalls(2);
  }

  const t0 = Date.now();
  const r = await call("PUT", `/clusters/${h.name}/kv/k?timeoutMs=${TIMEOUT_MS}`, { value: "new" });
  const took = Date.now() - t0;
  expect([503, 504], JSON.stringify(r.body)).toContain(r.status);
  // Its own timeout, plus room for the last answer to travel on a loaded machine: not two.
  expect(took, `answered ${r.status} after ${took} ms`).toBeLessThan(TIMEOUT_MS + 450);
});
