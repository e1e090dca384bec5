// Three regions on one machine: POST /clusters/{c}/network with `regionRttMs`, a round-trip
// time per pair of regions applied by each server's locationHint (src/server/links.ts). A
// message between servers in regions a and b waits half the a-b round trip; a request and its
// reply, the whole of it. So a write committed by a leader in weur (followers enam at 75 ms,
// apac at 160 ms) costs at least the round trip to the nearest majority (weur + enam: 75 ms)
// and need not wait for apac; led from apac, it costs at least 160 ms (weur, the nearer).
// Checked by behaviour, from the client's clock, with deadlines and no fixed sleeps.
import { env } from "cloudflare:workers";
import { expect, test } from "vitest";
import { serverStub } from "../../src/server/rpc.ts";
import { api, freshName, Harness } from "./harness.ts";

const HINTS = ["weur", "enam", "apac"];
const MATRIX = { "weur-enam": 75, "weur-apac": 160, "enam-apac": 180 };
/** Timing that suits round trips of 75-180 ms (docs/regions.md, "The timing"). */
const TIMING = { electionTimeoutMs: [1000, 2000], heartbeatMs: 100 };

/** Polls until `id` leads (transferring leadership to it first); throws at the deadline. */
async function lead(h: Harness, id: number, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let last = "";
  while (Date.now() < deadline) {
    const r = await api("POST", `/clusters/${h.name}/leader`, { id });
    last = `${r.status} ${JSON.stringify(r.body)}`;
    if (r.status === 200 && r.body.leader === id) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`server ${id} did not come to lead within ${deadlineMs} ms: ${last}`);
}

/** `n` sequential puts; each one's latency from the client, ms. Every put must succeed. */
async function puts(h: Harness, n: number, key: string): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await api("PUT", `/clusters/${h.name}/kv/${key}`, { value: String(i) });
    ms.push(performance.now() - t0);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
  return ms;
}

async function network(h: Harness, body: unknown) {
  return api("POST", `/clusters/${h.name}/network`, body);
}

test("writes wait for the nearest majority's round trip: 75 ms led from weur, 160 ms from apac; {} is reliable again", async () => {
  const h = await Harness.create(3, { ...TIMING, locationHints: HINTS });
  await lead(h, 0);
  const set = await network(h, { regionRttMs: MATRIX });
  expect(set.status, JSON.stringify(set.body)).toBe(200);

  // Led from weur: enam's 75 ms round trip completes the majority (no put is faster), and
  // apac's 160 ms is not waited for (a put faster than that; a busy machine only slows puts,
  // so the checks are bounds that load cannot break).
  const fromWeur = await puts(h, 9, "w");
  expect(Math.min(...fromWeur), fromWeur.join(", ")).toBeGreaterThanOrEqual(74);
  expect(Math.min(...fromWeur), fromWeur.join(", ")).toBeLessThan(159);

  // Led from apac: the nearer follower is weur, at 160 ms.
  await lead(h, 2);
  const fromApac = await puts(h, 5, "a");
  expect(Math.min(...fromApac), fromApac.join(", ")).toBeGreaterThanOrEqual(159);

  // delayMs still adds its random time on top of the link's delay.
  await lead(h, 0);
  expect((await network(h, { regionRttMs: MATRIX, delayMs: [5, 10] })).status).toBe(200);
  const jittered = await puts(h, 5, "j");
  expect(Math.min(...jittered), jittered.join(", ")).toBeGreaterThanOrEqual(84);

  // {} is the reliable network again: no server holds a matrix, and a put is faster than any round trip.
  expect((await network(h, {})).status).toBe(200);
  for (const m of [0, 1, 2]) expect(await serverStub(env.RAFT_SERVER, h.name, m).networkSettings()).toEqual({ dropRate: 0, delayMs: [0, 0] });
  const local = await puts(h, 9, "l");
  expect(Math.min(...local), local.join(", ")).toBeLessThan(74);
});

test("a server added later gets the matrix: a fourth voter in apac makes weur's nearest majority 160 ms", async () => {
  const h = await Harness.create(3, { ...TIMING, locationHints: HINTS });
  await lead(h, 0);
  expect((await network(h, { regionRttMs: MATRIX })).status).toBe(200);
  const added = await api("POST", `/clusters/${h.name}/members`, { role: "voter", locationHint: "apac" });
  expect(added.status, JSON.stringify(added.body)).toBe(200);
  const id: number = added.body.added;
  // Every member holds the new server's region, the new one the matrix.
  for (const m of [0, 1, 2, id]) {
    const held = await serverStub(env.RAFT_SERVER, h.name, m).networkSettings();
    expect(held.regions, `server ${m}`).toMatchObject({ 0: "weur", 1: "enam", 2: "apac", [id]: "apac" });
    expect(held.regionRttMs, `server ${m}`).toEqual({ "enam-weur": 75, "apac-weur": 160, "apac-enam": 180 });
  }
  // A majority of four is three: led from weur, enam (75 ms) and one of the apac servers (160 ms).
  // Were the new server without the matrix, it would answer at once and commit at 75 ms.
  await lead(h, 0);
  const four = await puts(h, 5, "f");
  expect(Math.min(...four), four.join(", ")).toBeGreaterThanOrEqual(159);
});

test("bad regionRttMs bodies are 400 with a message that says what is wrong", async () => {
  const h = await Harness.create(3, { ...TIMING, locationHints: HINTS });
  const cases: [unknown, RegExp][] = [
    [{ regionRttMs: { ...MATRIX, "weur-mars": 10 } }, /unknown region "mars"/],
    [{ regionRttMs: { ...MATRIX, "weur-enam": -5 } }, /regionRttMs\.weur-enam/],
    [{ regionRttMs: { ...MATRIX, "weur-enam": "75" } }, /regionRttMs\.weur-enam/],
    [{ regionRttMs: { ...MATRIX, "weur-enam": null } }, /regionRttMs\.weur-enam/],
    [{ regionRttMs: { ...MATRIX, weur: 10 } }, /two regions joined by "-"/],
    [{ regionRttMs: { ...MATRIX, "enam-weur": 75 } }, /enam-weur is named twice/],
    [{ regionRttMs: { "weur-enam": 75 } }, /missing the round trip of apac-weur, apac-enam/],
    [{ regionRttMs: [75, 160, 180] }, /regionRttMs/],
    [{ regionRttMs: MATRIX, linkDelayMs: { "0-1": 37 } }, /linkDelayMs/],
  ];
  for (const [body, message] of cases) {
    const r = await network(h, body);
    expect(r.status, JSON.stringify(body)).toBe(400);
    expect(r.body.error, JSON.stringify(body)).toBe("bad_request");
    expect(r.body.message, JSON.stringify(body)).toMatch(message);
  }
  // Same-region round trips may be given; a region no server is in is accepted (a later member's).
  const ok = await network(h, { regionRttMs: { ...MATRIX, "weur-weur": 2, "weur-wnam": 140 } });
  expect(ok.status, JSON.stringify(ok.body)).toBe(200);

  // A cluster without location hints has no regions to apply a matrix to.
  const c = freshName("regions");
  expect((await api("POST", `/clusters/${c}`, { size: 1 })).status).toBe(201);
  try {
    const r = await api("POST", `/clusters/${c}/network`, { regionRttMs: MATRIX });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/no locationHint/);
  } finally {
    expect((await api("DELETE", `/clusters/${c}`)).status).toBe(204);
  }
});
