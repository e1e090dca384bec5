// The coordinator's answers where black-box fault testing found them wrong (issue 15):
// a restart that did not boot, a crash racing a restart, a kv request waiting while its
// cluster is deleted and re-created, a 503 after an attempt that may have applied, and
// what a 503 means for an exactly-once id.
import { env } from "cloudflare:workers";
import { expect, test } from "vitest";
import type { ClusterConfig } from "../../src/server/protocol.ts";
import { serverStub } from "../../src/server/rpc.ts";
import { Harness, sleep } from "./harness.ts";
import { currentLeader } from "./issue6-harness.ts";
import { call, eventually } from "./kv-harness.ts";

const stub = (h: Harness, i: number) => serverStub(env.RAFT_SERVER, h.name, i);

test("RestartThatCannotBootAnswers500AndTheServerStaysDown", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  await h.crash(1);
  // The crashed server's next instance (Dead) is loaded by this call; from now on its boot fails.
  await h.inside(1, (s) => {
    (s as unknown as { boot: () => void }).boot = () => {
      throw new Error("boot failed (injected by the test)");
    };
  });
  const r = await call("POST", `/clusters/${h.name}/servers/1/restart`);
  expect({ status: r.status, error: r.body.error }, JSON.stringify(r.body)).toEqual({ status: 500, error: "restart_failed" });
  const down = await h.server(1);
  expect(down.state, "a restart that did not boot leaves the server down").toBe("Dead");
  // Once its boot works again, a restart brings it back.
  await h.inside(1, (s) => void delete (s as unknown as { boot?: unknown }).boot);
  await h.restart(1);
  expect((await h.statuses())[1]!.state).not.toBe("Dead");
});

test("CrashRacingRestartAnswersADocumentedStatus", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const seen: string[] = [];
  // The restart leaves a little after the crash, at every offset from 0 to 45 ms: some of
  // them land between the crash's reset and its check that the server went down.
  for (let delay = 0; delay < 50; delay += 5) {
    const [crash, restart] = await Promise.all([
      call("POST", `/clusters/${h.name}/servers/1/crash`),
      sleep(delay).then(() => call("POST", `/clusters/${h.name}/servers/1/restart`)),
    ]);
    for (const [what, r] of [["crash", crash], ["restart", restart]] as const) {
      seen.push(`${delay}ms ${what} ${r.status}`);
      // 200, or 409 busy when the other call undid this one; never a 500.
      if (r.status !== 200) expect({ status: r.status, error: r.body.error }, `${what} after ${delay} ms: ${JSON.stringify(r.body)}`).toEqual({ status: 409, error: "busy" });
    }
    await h.restart(1); // whatever the order was, it comes back
  }
  console.log(`CrashRacingRestart: ${seen.join(", ")}`);
  await h.checkSingleLeader();
});

/** Create clusters until server 0 leads in term 1 (the others are crashed, to stay quiet). */
async function leaderZeroInTermOne(settings: Record<string, unknown>): Promise<Harness> {
  for (let tries = 0; tries < 12; tries++) {
    const h = await Harness.create(3, settings);
    // Elections here may take up to 1.5 s: wait longer than checkSingleLeader does.
    let lead: { leader: number; term: number } | null = null;
    await eventually("a leader", async () => (lead = await currentLeader(h)) !== null);
    if (lead!.leader === 0 && lead!.term === 1) return h;
    for (const i of [0, 1, 2]) await h.crash(i);
  }
  throw new Error("server 0 never led in term 1");
}

test("KvRequestWaitingAcrossDeleteAndRecreateIsNotAnsweredByTheNewCluster", async () => {
  // Attempts wait up to two election timeouts: 3 s here, time for the cluster to be
  // deleted and re-created under the waiting request.
  const h = await leaderZeroInTermOne({ electionTimeoutMs: [150, 1500] });
  await h.crash(1);
  await h.crash(2);
  const before = (await stub(h, 0).status())!;
  // Server 0 leads in term 1 and proposes the put, which cannot commit without a majority.
  const waiting = call("PUT", `/clusters/${h.name}/kv/x?timeoutMs=5000`, { value: "old" });
  await eventually("the put is in server 0's log", async () => (await stub(h, 0).status())!.logLength > before.logLength);
  const index = (await stub(h, 0).status())!.logLength;
  expect((await call("DELETE", `/clusters/${h.name}`)).status).toBe(204);
  // The new incarnation: server 0 alone, leading in term 1 again, fills the same indices.
  expect((await call("POST", `/clusters/${h.name}`, { size: 1 })).status).toBe(201);
  for (let k = 0; (await stub(h, 0).status())!.lastApplied < index; k++) {
    expect(k, "the new cluster applies up to the waiting put's index").toBeLessThan(100);
    const r = await call("PUT", `/clusters/${h.name}/kv/y${k}`, { value: `new${k}` });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
  const now = (await stub(h, 0).status())!;
  expect(now.term, "the new cluster's entries are of term 1 too").toBe(1);
  const r = await waiting;
  // The old put's outcome in the deleted cluster is unknown: 504, never the new one's answer.
  expect({ status: r.status, body: r.body }).toMatchObject({ status: 504, body: { error: "timeout" } });
  expect((await call("GET", `/clusters/${h.name}/kv/x`)).body).toEqual({ found: false, value: null });
});

test("OtherClusterAfterAnUnknownAttemptAnswers504", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  const followers = [0, 1, 2].filter((i) => i !== leader);
  for (const f of followers) await h.crash(f);
  const old: ClusterConfig = (await stub(h, 0).clusterConfig())!;
  const before = (await stub(h, leader).status())!;
  // An exactly-once put (retried on unknown outcomes) waits at a leader that cannot commit.
  const waiting = call("PUT", `/clusters/${h.name}/kv/x?timeoutMs=4000`, { value: "v" }, { "Client-Id": "a", "Request-Id": "1" });
  await eventually("the put is in the leader's log", async () => (await stub(h, leader).status())!.logLength > before.logLength);
  // The cluster is deleted under it (its attempt ends with an unknown outcome), and its
  // objects re-created as other incarnations: server 0 of one that elects nobody soon, and
  // server 1 as the lone server 0 of another, which leads at once and so names server 0 as
  // the leader. The request's next attempt finds server 0 of another incarnation.
  for (const i of [0, 1, 2]) await stub(h, i).destroy();
  await stub(h, 0).init({ ...old, epoch: crypto.randomUUID(), electionTimeoutMs: [20_000, 30_000] }, 0);
  await stub(h, 1).init({ ...old, epoch: crypto.randomUUID(), size: 1 }, 0);
  const r = await waiting;
  // It may have been applied before the deletion: 504, not 503 ("not applied").
  expect({ status: r.status, error: r.body.error }, JSON.stringify(r.body)).toEqual({ status: 504, error: "timeout" });
});

test("A503ForAnExactlyOnceIdSaysAnotherRequestMayHaveAppliedIt", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  // A majority down, the leader among them: nobody can lead.
  await h.crash(leader);
  await h.crash((leader + 1) % 3);
  const plain = await call("PUT", `/clusters/${h.name}/kv/x?timeoutMs=300`, { value: "v" });
  expect(plain.status, JSON.stringify(plain.body)).toBe(503);
  expect(plain.body.message).toMatch(/it was not applied/);
  const once = await call("PUT", `/clusters/${h.name}/kv/x?timeoutMs=300`, { value: "v" }, { "Client-Id": "c", "Request-Id": "7" });
  expect({ status: once.status, error: once.body.error }).toEqual({ status: 503, error: "unavailable" });
  // The ids name the operation, and another request carrying them may have applied it.
  expect(once.body.message).toMatch(/this request was not applied, but another request with the same Client-Id and Request-Id may have been/);
});
