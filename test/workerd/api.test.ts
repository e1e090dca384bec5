// The coordinator's HTTP contract (docs/api.md) for clusters, faults, the raw log and events:
// status codes, JSON error bodies, validation and access rules. Every bad input is a 4xx
// with {"error", "message"}, never a 500.
import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { createApp } from "../../src/coordinator/app.ts";
import type { Env } from "../../src/coordinator/env.ts";
import { api, freshName, type Answer } from "./harness.ts";

function expectError(r: Answer, status: number, code?: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(typeof r.body.error).toBe("string");
  expect(typeof r.body.message).toBe("string");
  if (code) expect(r.body.error).toBe(code);
}

test("healthz", async () => {
  expect(await api("GET", "/healthz")).toEqual({ status: 200, body: { ok: true } });
  expectError(await api("POST", "/healthz"), 405, "method_not_allowed");
  expectError(await api("GET", "/no/such/route"), 404, "not_found");
});

describe("a cluster's life", () => {
  const c = freshName("api");

  test("bad creation requests are 400s", async () => {
    for (const name of ["bad.name", "a".repeat(65), "sp%20ace"]) {
      expectError(await api("POST", `/clusters/${name}`, {}), 400);
    }
    for (const body of [
      "not json",
      "[]",
      "3",
      { size: 0 },
      { size: 10 },
      { size: "3" },
      { size: 2.5 },
      { sise: 3 },
      { electionTimeoutMs: [300, 150] },
      { electionTimeoutMs: [150] },
      { electionTimeoutMs: "150-300" },
      { heartbeatMs: 150 },
      { heartbeatMs: -5 },
    ]) {
      expectError(await api("POST", `/clusters/${c}`, body), 400);
    }
    expectError(await api("GET", `/clusters/${c}`), 404, "not_found"); // none of them created it
  });

  test("create, same again, conflict", async () => {
    const created = await api("POST", `/clusters/${c}`);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ cluster: c, size: 3 });
    expect((await api("POST", `/clusters/${c}`, { size: 3 })).status).toBe(200);
    expectError(await api("POST", `/clusters/${c}`, { size: 5 }), 409, "conflict");
    expectError(await api("POST", `/clusters/${c}`, { heartbeatMs: 60 }), 409, "conflict");
    expectError(await api("PUT", `/clusters/${c}`), 405, "method_not_allowed");
  });

  test("status", async () => {
    const r = await api("GET", `/clusters/${c}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ cluster: c, size: 3 });
    expect(r.body.servers).toHaveLength(3);
    for (const [i, s] of r.body.servers.entries()) {
      expect(s).toMatchObject({ id: i, connected: true });
      expect(["Follower", "Candidate", "Leader"]).toContain(s.state);
      for (const k of ["term", "commitIndex", "lastApplied", "logLength"]) expect(typeof s[k]).toBe("number");
      expect(s).toHaveProperty("votedFor");
      expect(s.stats).toMatchObject({ alarms: expect.any(Number), rpcsSent: expect.any(Number) });
    }
    const detail = await api("GET", `/clusters/${c}/servers/1`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ id: 1, durable: { term: expect.any(Number), logLength: expect.any(Number) } });
  });

  test("unknown clusters and servers are 404s, bad ids 400s", async () => {
    const other = freshName("none");
    expectError(await api("GET", `/clusters/${other}`), 404);
    expectError(await api("DELETE", `/clusters/${other}`), 404);
    expectError(await api("POST", `/clusters/${other}/servers/0/disconnect`), 404);
    expectError(await api("GET", `/clusters/${other}/events`), 404);
    expectError(await api("POST", `/clusters/${c}/servers/3/disconnect`), 404);
    expectError(await api("GET", `/clusters/${c}/servers/7`), 404);
    for (const id of ["x", "-1", "1.5", "01e3"]) expectError(await api("POST", `/clusters/${c}/servers/${id}/crash`), 400);
    expectError(await api("GET", `/clusters/${c}/servers/0/disconnect`), 405);
    expectError(await api("DELETE", `/clusters/${c}/servers/0/submit`), 405);
  });

  test("faults answer the cluster status", async () => {
    const d = await api("POST", `/clusters/${c}/servers/1/disconnect`);
    expect(d.status).toBe(200);
    expect(d.body.servers[1]).toMatchObject({ connected: false, peers: [] });
    expect(d.body.servers[0].peers).toEqual([2]);
    const r = await api("POST", `/clusters/${c}/servers/1/reconnect`);
    expect(r.body.servers.map((s: { connected: boolean }) => s.connected)).toEqual([true, true, true]);

    expectError(await api("POST", `/clusters/${c}/partition`, { groups: [[0, 1], [1]] }), 400);
    expectError(await api("POST", `/clusters/${c}/partition`, { groups: [[0, 3]] }), 400);
    expectError(await api("POST", `/clusters/${c}/partition`, { groups: "0,1" }), 400);
    expectError(await api("POST", `/clusters/${c}/partition`), 400);
    const p = await api("POST", `/clusters/${c}/partition`, { groups: [[0, 1]] });
    expect(p.status).toBe(200);
    expect(p.body.servers.map((s: { peers: number[] }) => s.peers)).toEqual([[1], [0], []]);
    expect((await api("POST", `/clusters/${c}/heal`)).body.servers[2].peers).toEqual([0, 1]);

    expectError(await api("POST", `/clusters/${c}/network`, { dropRate: 2 }), 400);
    expectError(await api("POST", `/clusters/${c}/network`, { delayMs: [10, 5] }), 400);
    expectError(await api("POST", `/clusters/${c}/network`, { delay: [0, 5] }), 400);
    expect((await api("POST", `/clusters/${c}/network`, { dropRate: 0.1, delayMs: [0, 5] })).status).toBe(200);
    expect((await api("POST", `/clusters/${c}/network`, {})).status).toBe(200);

    for (const body of [{}, { after: -1 }, { after: 1.5 }, { after: "2" }]) {
      expectError(await api("POST", `/clusters/${c}/servers/0/drop-calls`, body), 400);
    }
    const dc = await api("POST", `/clusters/${c}/servers/0/drop-calls`, { after: 3 });
    expect(dc.body.servers[0].dropCallsAfter).toBeLessThanOrEqual(3); // a leader spends calls at once
    expect(dc.body.servers[0].dropCallsAfter).toBeGreaterThanOrEqual(0);
    expect((await api("POST", `/clusters/${c}/servers/0/drop-calls`, { after: null })).body.servers[0].dropCallsAfter).toBeNull();
  });

  test("crash and restart", async () => {
    const crashed = await api("POST", `/clusters/${c}/servers/2/crash`);
    expect(crashed.status).toBe(200);
    expect(crashed.body.servers[2].state).toBe("Dead");
    const detail = await api("GET", `/clusters/${c}/servers/2`); // read from storage while down
    expect(detail.body).toMatchObject({ state: "Dead", durable: { term: expect.any(Number) } });
    const restarted = await api("POST", `/clusters/${c}/servers/2/restart`);
    expect(restarted.body.servers[2].state).not.toBe("Dead");
  });

  test("raw log", async () => {
    expectError(await api("POST", `/clusters/${c}/servers/0/submit`, {}), 400);
    expectError(await api("POST", `/clusters/${c}/servers/0/submit`, "{"), 400, "bad_json");
    expectError(await api("POST", `/clusters/${c}/servers/0/submit`, { command: 1, extra: 2 }), 400);
    expectError(await api("POST", `/clusters/${c}/servers/0/submit`, { command: "x".repeat(300_000) }), 413, "too_large");
    const r = await api("POST", `/clusters/${c}/servers/0/submit`, { command: { any: ["json", 1] } });
    expect(r.status).toBe(200);
    expect(typeof r.body.accepted).toBe("boolean");
    const committed = await api("GET", `/clusters/${c}/servers/0/committed`);
    expect(committed.status).toBe(200);
    expect(Array.isArray(committed.body.entries)).toBe(true);
  });

  test("events", async () => {
    expectError(await api("GET", `/clusters/${c}/events?since=yesterday`), 400);
    const r = await api("GET", `/clusters/${c}/events?since=0`);
    expect(r.status).toBe(200);
    expect(typeof r.body.now).toBe("number");
    const events: { t: number; server: number | null; line: string }[] = r.body.events;
    expect(events.map((e) => e.t)).toEqual([...events.map((e) => e.t)].sort((a, b) => a - b));
    expect(events).toContainEqual(expect.objectContaining({ server: null, line: "[TEST] Disconnect 1" }));
    expect(events).toContainEqual(expect.objectContaining({ server: null, line: "[TEST] Crash 2" }));
    expect(events.filter((e) => e.line === "[TEST] Crash 2")).toHaveLength(1); // kept by every server, shown once
    expect(events.find((e) => e.server === 0)?.line).toMatch(/^\[0\] /);
    const later = await api("GET", `/clusters/${c}/events?since=${r.body.now}`);
    for (const e of later.body.events) expect(e.t).toBeGreaterThan(r.body.now);
  });

  test("delete", async () => {
    expect((await api("DELETE", `/clusters/${c}`)).status).toBe(204);
    expectError(await api("GET", `/clusters/${c}`), 404);
    expect((await api("POST", `/clusters/${c}`, { size: 5 })).status).toBe(201); // the name is free again
    expect((await api("GET", `/clusters/${c}`)).body.servers).toHaveLength(5);
    expect((await api("DELETE", `/clusters/${c}`)).status).toBe(204);
  });
});

describe("access to admin routes", () => {
  const app = createApp();
  const call = (vars: Record<string, string>, headers: Record<string, string> = {}) =>
    app.fetch(new Request(`http://coordinator/clusters/${freshName("acl")}`, { headers }), {
      RAFT_SERVER: env.RAFT_SERVER,
      CLUSTER_REGISTRY: (env as unknown as Env).CLUSTER_REGISTRY,
      ...vars,
    });

  test("closed without ADMIN_OPEN or ADMIN_TOKEN", async () => {
    const r = await call({});
    expect(r.status).toBe(403);
    expect(await r.json()).toMatchObject({ error: "forbidden" });
    expect((await call({ ADMIN_OPEN: "0" })).status).toBe(403);
  });

  test("ADMIN_TOKEN: 401 without it, 403 with a wrong one, through with the right one", async () => {
    const vars = { ADMIN_TOKEN: "s3cret" };
    const none = await call(vars);
    expect(none.status).toBe(401);
    expect(none.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    expect((await call(vars, { Authorization: "Basic czNjcmV0" })).status).toBe(401);
    expect((await call(vars, { Authorization: "Bearer wrong" })).status).toBe(403);
    expect((await call(vars, { Authorization: "Bearer s3cret" })).status).toBe(404); // past the gate: no such cluster
  });

  test("healthz needs nothing", async () => {
    const r = await app.fetch(new Request("http://coordinator/healthz"), { RAFT_SERVER: env.RAFT_SERVER, CLUSTER_REGISTRY: (env as unknown as Env).CLUSTER_REGISTRY });
    expect(r.status).toBe(200);
  });
});
