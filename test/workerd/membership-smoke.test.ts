// A quick tour of the membership routes (API.md, "Membership (admin)"): add a learner,
// promote it, remove a follower, remove the leader, a removed id is 404 everywhere, and the
// 409s (change_in_progress, last_voter). The full scenarios are membership-*.test.ts.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { serverStub } from "../../src/server/rpc.ts";
import { api, ELECTION_TIMEOUT_MS, freshName, Harness, HEARTBEAT_MS, sleep } from "./harness.ts";

interface View {
  size: number;
  leader: number | null;
  voters: number[];
  learners: number[];
  servers: { id: number; state: string; role: string; locationHint: string | null; commitIndex: number; lastApplied: number; logLength: number; term: number; connected: boolean }[];
  added?: number;
}

const view = async (h: Harness): Promise<View> => (await api<View>("GET", `/clusters/${h.name}`)).body;

/** A leader that is a voter, seen twice in the same term. */
async function leaderOf(h: Harness): Promise<number> {
  let last: string | null = null;
  for (const until = Date.now() + 5000; Date.now() < until; await sleep(100)) {
    const v = await view(h);
    const s = v.servers.find((x) => x.id === v.leader);
    const key = s && s.state === "Leader" && v.voters.includes(s.id) ? `${s.id}/${s.term}` : null;
    if (key !== null && key === last) return s!.id;
    last = key;
  }
  throw new Error(`${h.name}: no settled leader`);
}

describe("membership smoke", () => {
  test("add a learner, promote it, remove a follower and the leader; removed ids are 404", async () => {
    const h = await Harness.create(3, { locationHints: ["weur", "enam", "apac"] });
    const c = `/clusters/${h.name}`;
    await leaderOf(h);
    expect((await api("PUT", `${c}/kv/a?timeoutMs=10000`, { value: "1" })).status).toBe(200);

    // A learner: listed, not counted in size.
    const added = await api<View>("POST", `${c}/members`, { role: "learner", locationHint: "oc" });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body).toMatchObject({ added: 3, size: 3, voters: [0, 1, 2], learners: [3] });
    expect(added.body.servers.map((s) => s.id)).toEqual([0, 1, 2, 3]);
    expect(added.body.servers.find((s) => s.id === 3)).toMatchObject({ role: "learner", locationHint: "oc" });

    // It catches up (the kv write and both configuration entries), then is promoted.
    const promoted = await api<View>("POST", `${c}/members/3/promote`);
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    expect(promoted.body).toMatchObject({ size: 4, voters: [0, 1, 2, 3], learners: [] });
    expect(promoted.body.servers.find((s) => s.id === 3)!.role).toBe("voter");
    // Promoting a voter again is a no-op.
    expect((await api("POST", `${c}/members/3/promote`)).status).toBe(200);

    // Remove a follower.
    const leader = await leaderOf(h);
    const follower = [0, 1, 2].find((i) => i !== leader)!;
    const removed = await api<View>("DELETE", `${c}/members/${follower}`);
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(removed.body.voters).not.toContain(follower);
    expect(removed.body.servers.map((s) => s.id)).not.toContain(follower);
    expect(removed.body.size).toBe(3);
    for (const [method, path] of [
      ["GET", `${c}/servers/${follower}`],
      ["POST", `${c}/servers/${follower}/disconnect`],
      ["POST", `${c}/servers/${follower}/restart`],
      ["GET", `${c}/servers/${follower}/committed`],
      ["POST", `${c}/members/${follower}/promote`],
      ["DELETE", `${c}/members/${follower}`],
    ] as const) {
      expect((await api(method, path)).status, `${method} ${path}`).toBe(404);
    }
    // The retired server runs nothing: no alarm pending, and it stays out across a reset.
    const retired = await h.inside(follower, async (s, state) => ({ status: s.status(), alarm: await state.storage.getAlarm() }));
    expect(retired.status).toMatchObject({ state: "Dead", retired: true });
    expect(retired.alarm).toBeNull();

    // Remove the leader: leadership moves to a remaining voter.
    const gone = await api<View>("DELETE", `${c}/members/${leader}`);
    expect(gone.status, JSON.stringify(gone.body)).toBe(200);
    expect(gone.body.voters).not.toContain(leader);
    expect(gone.body.size).toBe(2);
    const next = await leaderOf(h);
    expect(next).not.toBe(leader);
    expect((await api("GET", `${c}/kv/a?timeoutMs=10000`)).body).toEqual({ found: true, value: "1" });
    expect((await api("POST", `${c}/servers/${leader}/crash`)).status).toBe(404);

    // A voter by default; ids are never reused.
    const fourth = await api<View>("POST", `${c}/members`, {});
    expect(fourth.status, JSON.stringify(fourth.body)).toBe(200);
    expect(fourth.body.added).toBe(4);
    expect(fourth.body.voters).toContain(4);
    expect((await api("PUT", `${c}/kv/a?timeoutMs=10000`, { value: "2" })).status).toBe(200);
  });

  test("409 last_voter, 409 change_in_progress, 404 and 400", async () => {
    const one = await Harness.create(1);
    await leaderOf(one);
    const last = await api("DELETE", `/clusters/${one.name}/members/0`);
    expect({ status: last.status, error: last.body.error }).toEqual({ status: 409, error: "last_voter" });
    expect((await api("DELETE", `/clusters/${one.name}/members/7`)).status).toBe(404);
    expect((await api("POST", `/clusters/${one.name}/members`, { role: "boss" })).status).toBe(400);
    expect((await api("POST", `/clusters/${one.name}/members`, { locationHint: "mars" })).status).toBe(400);
    expect((await api("POST", `/clusters/no-such-${one.name}/members`, {})).status).toBe(404);

    // A leader cut off from its followers cannot commit the change: 504, and the next is 409.
    const h = await Harness.create(3);
    const leader = await leaderOf(h);
    // (A leader changes the membership only once it has committed an entry of its term.)
    expect((await api("PUT", `/clusters/${h.name}/kv/x?server=${leader}`, { value: "1" })).status).toBe(200);
    for (const f of [0, 1, 2].filter((i) => i !== leader)) await h.disconnect(f);
    const first = await api("POST", `/clusters/${h.name}/members?timeoutMs=600`, { role: "learner" });
    expect({ status: first.status, error: first.body.error }, JSON.stringify(first.body)).toEqual({ status: 504, error: "timeout" });
    const second = await api("POST", `/clusters/${h.name}/members?timeoutMs=600`, { role: "learner" });
    expect({ status: second.status, error: second.body.error }, JSON.stringify(second.body)).toEqual({ status: 409, error: "change_in_progress" });
    // Healed, the cluster settles (the first change commits, or a new leader drops it) and
    // takes changes again.
    expect((await api("POST", `/clusters/${h.name}/heal`)).status).toBe(200);
    for (const until = Date.now() + 8000; ; await sleep(100)) {
      const r = await api<View>("POST", `/clusters/${h.name}/members`, { role: "learner" });
      if (r.status === 200) {
        expect(r.body.learners).toContain(r.body.added);
        expect(r.body.added, "ids are never reused").toBeGreaterThanOrEqual(5);
        break;
      }
      expect([409, 503, 504], JSON.stringify(r.body)).toContain(r.status);
      if (Date.now() > until) throw new Error(`no change taken after healing: ${JSON.stringify(r.body)}`);
    }
  });

  test("a new server behind the snapshot gets it with the configuration, keeps its role across a crash; DELETE wipes it", async () => {
    // Not through Harness.create: this test deletes the cluster itself.
    const h = { name: freshName("snap") } as Harness;
    const c = `/clusters/${h.name}`;
    const created = await api("POST", c, { size: 3, electionTimeoutMs: ELECTION_TIMEOUT_MS, heartbeatMs: HEARTBEAT_MS, snapshotThreshold: 10 });
    expect(created.status).toBe(201);
    await leaderOf(h);
    for (let i = 0; i < 30; i++) expect((await api("PUT", `${c}/kv/k${i}?timeoutMs=10000`, { value: `v${i}` })).status).toBe(200);
    const added = await api<View>("POST", `${c}/members`, { role: "voter" });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body).toMatchObject({ added: 3, voters: [0, 1, 2, 3], size: 4 });
    const joined = (await api("GET", `${c}/servers/3`)).body;
    expect(joined.stats.snapshotsInstalled, "caught up by a snapshot").toBeGreaterThan(0);
    expect(joined.durable.snapshotIndex).toBeGreaterThan(0);
    // More writes: every server compacts past the configuration entries, so the configuration
    // survives only in the stored snapshot row.
    for (let i = 30; i < 60; i++) expect((await api("PUT", `${c}/kv/k${i}?timeoutMs=10000`, { value: `v${i}` })).status).toBe(200);
    for (const until = Date.now() + 5000; ; await sleep(50)) {
      const s3 = (await api("GET", `${c}/servers/3`)).body;
      // (The core names the snapshot's index as the configuration's once it came from there.)
      if (s3.durable.snapshotIndex >= s3.membershipIndex && s3.durable.snapshotIndex > 33) break;
      if (Date.now() > until) throw new Error(`server 3 never compacted past its configuration: ${JSON.stringify(s3)}`);
    }
    const row = await runInDurableObject(env.RAFT_SERVER.getByName(`${h.name}:3`), (_, state) =>
      state.storage.sql.exec<{ membership: string | null }>("SELECT membership FROM snapshot").one(),
    );
    expect(JSON.parse(row.membership!)).toEqual({ voters: [0, 1, 2, 3], learners: [] });
    // Down and up again: its role comes back from its storage.
    expect((await api("POST", `${c}/servers/3/crash`)).status).toBe(200);
    expect((await api("POST", `${c}/servers/3/restart`)).status).toBe(200);
    const back = (await api("GET", `${c}/servers/3`)).body;
    expect(back).toMatchObject({ member: "voter", role: "voter" });
    expect(back.membership.voters).toEqual([0, 1, 2, 3]);
    // The kv state is whole on it: once it has applied everything, read it there.
    for (const until = Date.now() + 5000; ; await sleep(50)) {
      const v = await view(h);
      const leader = v.servers.find((s) => s.id === v.leader);
      const s3 = v.servers.find((s) => s.id === 3)!;
      if (leader && s3.lastApplied >= leader.commitIndex) break;
      if (Date.now() > until) throw new Error(`server 3 never caught up: ${JSON.stringify(v.servers)}`);
    }
    const state = await runInDurableObject(env.RAFT_SERVER.getByName(`${h.name}:3`), (s) =>
      (s as unknown as { kvState: { get(k: string): unknown } }).kvState.get("k59"),
    );
    expect(state).toEqual({ found: true, value: "v59" });
    // Deleting the cluster wipes every server it ever had, the added one too.
    expect((await api("DELETE", c)).status).toBe(204);
    expect(await serverStub(env.RAFT_SERVER, h.name, 3).status()).toBeNull();
  });

  test("a removal that answered 504 and committed later: asked again, 404, and the server is retired then", async () => {
    // The voter the removal needs (g) is down, so the removal cannot commit. Slow election
    // timers and PreVote: when g restarts, the leader's next heartbeat reaches it long before
    // anyone's election timer runs out, and the leader commits the removal it holds.
    const h = await Harness.create(3, { preVote: true, sleepAfterMs: 0, electionTimeoutMs: [1000, 2000] });
    const c = `/clusters/${h.name}`;
    const leader = await leaderOf(h);
    expect((await api("PUT", `${c}/kv/x?server=${leader}`, { value: "1" })).status).toBe(200);
    const [f, g] = [0, 1, 2].filter((i) => i !== leader) as [number, number];
    await h.crash(g);
    const first = await api("DELETE", `${c}/members/${f}?timeoutMs=500`);
    expect({ status: first.status, error: first.body.error }, JSON.stringify(first.body)).toEqual({ status: 504, error: "timeout" });
    expect((await api("POST", `${c}/servers/${g}/restart`)).status).toBe(200);
    for (const until = Date.now() + 5000; ; await sleep(100)) {
      const v = await view(h);
      const l = v.servers.find((s) => s.id === v.leader);
      if (!v.voters.includes(f) && l && l.commitIndex >= (l as unknown as { membershipIndex: number }).membershipIndex) break;
      if (Date.now() > until) throw new Error(`the removal of ${f} never committed: ${JSON.stringify(v)}`);
    }
    expect((await h.inside(f, (s) => s.status()))!.retired, "not retired yet: its removal answered 504").toBe(false);
    expect((await api("DELETE", `${c}/members/${f}`)).status).toBe(404);
    expect((await h.inside(f, (s) => s.status()))!).toMatchObject({ retired: true, state: "Dead" });
    expect((await api("POST", `${c}/servers/${f}/restart`)).status).toBe(404);
  });
});
