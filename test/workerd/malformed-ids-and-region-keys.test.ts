// Loose ends of the contract found by a fuzz (issue 23 item 7): a `regionRttMs` key that is
// not a pair of regions is a 400 whatever its name (`__proto__` was silently dropped and the
// rest applied), and a malformed server id is a 400 on every route that takes one (the
// membership routes answered 404 for -1, -0, 10⁹, 10¹¹ and a 300-digit id, where the fault
// routes said 400).
import { env } from "cloudflare:workers";
import { expect, test } from "vitest";
import { serverStub } from "../../src/server/rpc.ts";
import { Harness } from "./harness.ts";
import { call, request } from "./kv-harness.ts";

const HINTS = ["weur", "enam", "apac"];

test("every regionRttMs key that is not a pair of regions is 400, __proto__ included, and nothing is applied", async () => {
  const h = await Harness.create(3, { locationHints: HINTS, electionTimeoutMs: [1000, 2000], heartbeatMs: 100 });
  const pairs = `"weur-enam": 75, "weur-apac": 160, "enam-apac": 180`;
  for (const key of ["__proto__", "constructor", "toString", "hasOwnProperty", "weur", "weur-enam-apac", "", "-", "weur-"]) {
    // Sent as text: an object literal with a "__proto__" key would not carry it as a key.
    const text = `{"regionRttMs": {${pairs}, ${JSON.stringify(key)}: 10}}`;
    const r = await request("POST", `/clusters/${h.name}/network`, text);
    expect({ key, status: r.status, error: r.body?.error }, JSON.stringify(r.body)).toEqual({ key, status: 400, error: "bad_request" });
    expect(r.body.message, key).toMatch(/regionRttMs/);
  }
  // Nothing of the refused bodies reached a server: each still holds the reliable network.
  for (const i of [0, 1, 2]) expect((await serverStub(env.RAFT_SERVER, h.name, i).networkSettings())?.regionRttMs, `server ${i}`).toBeUndefined();
  // The same pairs without the stray key are taken.
  const ok = await request("POST", `/clusters/${h.name}/network`, `{"regionRttMs": {${pairs}}}`);
  expect(ok.status, JSON.stringify(ok.body)).toBe(200);
});

test("a malformed server id is 400 on every route that takes one, membership and faults alike", async () => {
  const h = await Harness.create(3);
  const c = `/clusters/${h.name}`;
  const malformed = ["-1", "-0", "1000000000", "100000000000", "9".repeat(300), "1e3", "0x1", "one", "1.0", "+1"];
  const routes: [string, (id: string) => string, unknown?][] = [
    ["DELETE", (id) => `${c}/members/${id}?timeoutMs=500`],
    ["POST", (id) => `${c}/members/${id}/promote?timeoutMs=500`],
    ["POST", (id) => `${c}/servers/${id}/disconnect`],
    ["POST", (id) => `${c}/servers/${id}/crash`],
    ["POST", (id) => `${c}/servers/${id}/drop-calls`, { after: null }],
    ["GET", (id) => `${c}/servers/${id}`],
    ["GET", (id) => `${c}/servers/${id}/committed`],
    ["POST", (id) => `${c}/servers/${id}/submit`, { command: "x" }],
    ["GET", (id) => `${c}/kv/k?server=${encodeURIComponent(id)}&timeoutMs=500`],
  ];
  const wrong: string[] = [];
  for (const [method, path, body] of routes) {
    for (const id of malformed) {
      const r = await call(method, path(encodeURIComponent(id)), body);
      if (r.status !== 400 || r.body?.error !== "bad_request") wrong.push(`${method} ${path(id.length > 12 ? "<300 digits>" : id)}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  }
  expect(wrong).toEqual([]);
  // A well-formed id that names no member stays a 404 on both kinds of route.
  expect((await call("DELETE", `${c}/members/999999999?timeoutMs=500`)).status).toBe(404);
  expect((await call("POST", `${c}/servers/999999999/crash`)).status).toBe(404);
});
