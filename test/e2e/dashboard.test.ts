// The dashboard in a real browser against a real Worker (`npm run dev`): create a cluster
// (with PreVote ticked), see its leader, disconnect the leader from its card, see a new
// leader in a higher term, put and get a key through the console, then hand leadership to
// the remaining follower from its card ("Make leader"). Leaves test-results/dashboard.png behind.
// A second test lets a cluster go idle: the page marks it asleep (and its polling does not
// wake it), then Evict on the leader's card and "Deploy (evict all)" reload the objects
// without an election. Leaves test-results/dashboard-asleep.png behind.
// A third test changes the members from the page: Add a learner (in a region), Promote it,
// Remove another server, and sees the cards, the partition groups and the timeline's columns
// follow (ids with a gap). Leaves test-results/dashboard-members.png behind. A fourth asks the
// real Worker to remove a cluster's only voter and sees its refusal (409 last_voter) explained.
// A fifth opens the Keys panel, puts keys from the console and sees them listed with their
// revisions, deletes one from its row, and sees that a page left open reads the list no more.
// Leaves test-results/dashboard-keys.png behind.
//
//   npx vitest run --project e2e test/e2e/dashboard.test.ts
//
// It starts `npm run dev -- --port N` on a free port N and reads the address from wrangler's
// `Ready on` line. DASHBOARD_URL=http://127.0.0.1:8788 runs it against a Worker that is
// already up instead. The browser is the one browser.ts finds: CHROMIUM_PATH, else a
// Chromium on PATH, else the one `npm ci` installed (@sparticuz/chromium).

import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { findChromium } from "./browser";

const SCREENSHOT = "test-results/dashboard.png";
const ASLEEP_SCREENSHOT = "test-results/dashboard-asleep.png";
const MEMBERS_SCREENSHOT = "test-results/dashboard-members.png";
const KEYS_SCREENSHOT = "test-results/dashboard-keys.png";

let dev: ChildProcess | null = null;
let devOutput = "";
let base = process.env["DASHBOARD_URL"] ?? "";
let context: BrowserContext | null = null;
let profile = "";
const cluster = `e2e-${Date.now().toString(36)}`;
const sleepy = `${cluster}-sleep`;
const changing = `${cluster}-members`;
const solo = `${cluster}-solo`;
const keyed = `${cluster}-keys`;

/** A port nobody listens on now, so a developer's own `npm run dev` on 8787 is no obstacle. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** `npm run dev -- --port N` in its own process group (wrangler starts node and workerd children). */
async function startDev(): Promise<string> {
  const port = await freePort();
  const child = spawn("npm", ["run", "dev", "--", "--port", String(port)], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: process.env,
  });
  dev = child;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrangler dev not ready after 90 s:\n${devOutput}`)), 90_000);
    const onData = (chunk: Buffer) => {
      devOutput += chunk.toString();
      // eslint-disable-next-line no-control-regex
      const m = /Ready on (http:\/\/[\w.:]+)/.exec(devOutput.replace(/\x1b\[[0-9;]*m/g, ""));
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`npm run dev exited with ${code} before it was ready:\n${devOutput}`));
    });
  });
}

async function stopDev(): Promise<void> {
  const child = dev;
  if (!child?.pid || child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const group = -child.pid;
  try {
    process.kill(group, "SIGTERM");
  } catch {
    return; // already gone
  }
  const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 5_000));
  if ((await Promise.race([exited, timeout])) === "timeout") {
    try {
      process.kill(group, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}

/** Polls `probe` until it returns a value (not undefined), or fails saying what it waited for. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Polls `probe` until it returns a value, for as long as the thing waited on moves: it fails
 * only when `probe`'s `progress` (what it saw, as text) has not changed for `stallMs`. A
 * loaded machine makes a slow catch-up, not a failure; a stuck one fails, saying where it
 * stuck. (The test's own timeout still bounds the whole.)
 */
async function waitWhileMoving<T>(what: string, probe: () => Promise<{ value: T | undefined; progress: string }>, stallMs = 20_000): Promise<T> {
  const started = Date.now();
  let seen = "";
  let since = Date.now();
  for (;;) {
    const { value, progress } = await probe();
    if (value !== undefined) {
      console.log(`${what}: after ${Date.now() - started} ms`);
      return value;
    }
    if (progress !== seen) {
      seen = progress;
      since = Date.now();
    } else if (Date.now() - since > stallMs) {
      throw new Error(`waiting for ${what}: nothing moved for ${stallMs} ms (${Date.now() - started} ms in all); stuck at ${progress}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Card {
  id: number;
  state: string;
  term: number;
  current: boolean;
  /** The card's "asleep" line (empty while awake). */
  sleep: string;
  /** The card's cost counters, e.g. "12 alarms · RPCs 40 sent, 38 received". */
  cost: string;
  /** When the server's object was loaded (ms epoch, from the card's data-loaded-at) and what the card says. */
  loadedAt: number;
  loaded: string;
  /** "voter" or "learner", and the region line ("weur", "no region"). */
  role: string;
  region: string;
  /** The card offers Promote (learners only). */
  promote: boolean;
}

/** What the cards show, read from the page the way a user reads it. */
function readCards(page: Page): Promise<Card[]> {
  return page.$$eval("#cards [data-server]", (cards) =>
    cards.map((card) => ({
      id: Number(card.getAttribute("data-server")),
      state: card.querySelector('[data-field="state"]')?.textContent ?? "",
      term: Number(card.querySelector('[data-field="term"]')?.textContent),
      current: (card.querySelector('[data-field="mark"]')?.textContent ?? "").includes("current leader"),
      sleep: card.querySelector('[data-field="sleep"]')?.textContent ?? "",
      cost: card.querySelector('[data-field="cost"]')?.textContent ?? "",
      loadedAt: Number(card.querySelector('[data-field="loaded"]')?.getAttribute("data-loaded-at") ?? 0),
      loaded: card.querySelector('[data-field="loaded"]')?.textContent ?? "",
      role: card.querySelector('[data-field="role"]')?.textContent ?? "",
      region: card.querySelector('[data-field="region"]')?.textContent ?? "",
      promote: card.querySelector('[data-action="promote"]')?.hasAttribute("hidden") === false,
    })),
  );
}

/** The cluster's one current leader, once the cards show exactly one. */
async function oneLeader(page: Page, size: number, what = "one leader"): Promise<Card> {
  return waitFor(what, async () => {
    const cards = await readCards(page);
    const leaders = cards.filter((c) => c.state === "Leader");
    return cards.length === size && leaders.length === 1 && leaders[0]?.current ? leaders[0] : undefined;
  });
}

/** Every card and the cluster's banner say "asleep". */
async function allAsleep(page: Page, what: string): Promise<Card[]> {
  return waitFor(
    what,
    async () => {
      const cards = await readCards(page);
      const banner = page.locator("#sleep-banner");
      if (!(await banner.isVisible())) return undefined;
      return cards.length > 0 && cards.every((c) => c.sleep.includes("asleep")) ? cards : undefined;
    },
    30_000,
  );
}

/** The newest line of the kv console once one matches `pattern`. */
async function kvResult(page: Page, pattern: RegExp, what: string): Promise<string> {
  return waitFor(
    what,
    async () => {
      const lines = await page.$$eval("#kv-log li", (items) => items.map((li) => li.textContent ?? ""));
      const first = lines[0];
      if (first && /failed/.test(first) && !pattern.test(first)) throw new Error(`kv console says: ${first}`);
      return lines.find((l) => pattern.test(l));
    },
    30_000,
  );
}

beforeAll(async () => {
  if (!base) base = await startDev();
  profile = mkdtempSync(join(tmpdir(), "dashboard-e2e-"));
  const browser = await findChromium();
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: browser.executablePath,
      headless: true,
      args: browser.args,
      ...(browser.env ? { env: browser.env } : {}),
      viewport: { width: 1440, height: 900 },
    });
  } catch (err) {
    throw new Error(`could not launch ${browser.source}: ${String(err)}`);
  }
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  for (const name of [cluster, sleepy, changing, solo, keyed]) {
    if (base) await fetch(`${base}/clusters/${name}`, { method: "DELETE" }).catch(() => undefined);
  }
  await stopDev();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test("create a cluster, disconnect its leader, see a new one, use the kv console, hand leadership over", async () => {
  const page = await context!.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));

  const response = await page.goto(`${base}/`);
  const served = `${response?.status()} ${response?.headers()["content-type"] ?? ""}`;
  expect(served, "GET / must serve the dashboard (dashboardHtml() from src/ui/dashboard.ts)").toMatch(/^200 text\/html/);
  await page.getByLabel("Cluster name", { exact: true }).fill(cluster);
  await page.getByRole("combobox", { name: "Servers" }).selectOption("3");
  await page.getByRole("checkbox", { name: "PreVote" }).check();
  await page.getByRole("button", { name: "Create / open" }).click();
  // The option went into the create call: GET /clusters/{c} echoes it, the summary shows it.
  await expect.poll(() => page.locator("#summary").textContent()).toContain("(PreVote)");

  // One leader, marked as the cluster's current leader.
  const first = await waitFor("one leader", async () => {
    const cards = await readCards(page);
    const leaders = cards.filter((c) => c.state === "Leader");
    return cards.length === 3 && leaders.length === 1 && leaders[0]?.current ? leaders[0] : undefined;
  });

  // The events feed draws the election in the timeline.
  await waitFor("the election in the timeline", async () =>
    (await page.locator("#tl-scroll td.tl-transition", { hasText: "becomes Leader" }).count()) > 0 ? true : undefined,
  );

  await page.getByRole("button", { name: `Disconnect server ${first.id}`, exact: true }).click();
  await waitFor("the disconnect in the timeline", async () =>
    (await page.locator("#tl-scroll td.tl-event", { hasText: `[TEST] Disconnect ${first.id}` }).count()) > 0 ? true : undefined,
  );

  const second = await waitFor("a new leader in a higher term", async () => {
    const cards = await readCards(page);
    return cards.find((c) => c.id !== first.id && c.state === "Leader" && c.term > first.term && c.current);
  });
  expect(second.term).toBeGreaterThan(first.term);
  await expect
    .poll(() => page.locator(`[data-server="${first.id}"] [data-field="connected"]`).textContent())
    .toContain("cut off");

  const value = `v-${Math.random().toString(36).slice(2, 8)}`;
  await page.getByLabel("Key", { exact: true }).fill("e2e-key");
  await page.getByLabel("Value", { exact: true }).fill(value);
  await page.getByRole("button", { name: "Put", exact: true }).click();
  await kvResult(page, /^PUT "e2e-key" → stored/, "the put's answer");
  await page.getByRole("button", { name: "Get", exact: true }).click();
  const got = await kvResult(page, /^GET "e2e-key" → /, "the get's answer");
  expect(got).toContain(`→ "${value}"`);

  // Leadership transfer from the cards. The leader's own button is disabled; the cut-off
  // old leader refuses (409, shown in the status line); the third server takes over.
  const makeLeader = (id: number) => page.getByRole("button", { name: `Make leader server ${id}`, exact: true });
  expect(await makeLeader(second.id).isDisabled()).toBe(true);
  await makeLeader(first.id).click();
  await expect.poll(() => page.locator("#status").textContent()).toMatch(new RegExp(`Make server ${first.id} leader failed: 409`));
  const third = [0, 1, 2].find((id) => id !== first.id && id !== second.id)!;
  await makeLeader(third).click();
  const handedTo = await waitFor(`server ${third} leading after "Make leader"`, async () => {
    const cards = await readCards(page);
    return cards.find((c) => c.id === third && c.state === "Leader" && c.current);
  });
  expect(handedTo.term).toBeGreaterThan(second.term);
  await expect.poll(() => page.locator("#status").textContent()).toBe(`Make server ${third} leader: done.`);
  expect(await makeLeader(third).isDisabled()).toBe(true);

  mkdirSync("test-results", { recursive: true });
  await page.screenshot({ path: SCREENSHOT });
  expect(errors).toEqual([]);
});

test("an idle cluster sleeps on the page; Evict and Deploy reload objects and the leader stays", async () => {
  const page = await context!.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  // Created through the API with slow timers (on a busy machine a reloaded leader may be late
  // with its first heartbeat by more than 300 ms), then opened by link, which creates nothing.
  const created = await fetch(`${base}/clusters/${sleepy}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ size: 3, electionTimeoutMs: [800, 1600], heartbeatMs: 100, preVote: true, sleepAfterMs: 1500 }),
  });
  expect(created.status).toBe(201);
  await page.goto(`${base}/#cluster=${sleepy}`);
  const leader = await oneLeader(page, 3);
  // The summary tells when the cluster sleeps.
  await expect.poll(() => page.locator("#summary").textContent()).toContain("sleeps after 1.5 s idle");

  // Idle, the cluster sleeps; the page keeps polling its status, which wakes nothing.
  await allAsleep(page, "every card and the banner asleep");
  expect(await page.locator("#sleep-banner").textContent()).toMatch(/^Cluster asleep .*costs nothing/);
  // The summary's rate covers the last two seconds of polls (an alarm already due may still
  // fire once after the sleep, and find nothing to do): it comes down to zero, and stays.
  await expect.poll(() => page.locator("#summary").textContent(), { timeout: 10_000 }).toContain("cost now: 0 alarms/s, 0 RPCs/s");
  const asleep = await readCards(page);
  await new Promise((r) => setTimeout(r, 1500));
  const later = await readCards(page);
  // "12 alarms · RPCs 40 sent, 38 received" → [12, 40, 38]
  const counts = (cost: string | undefined) => (cost ?? "").match(/\d+/g)?.map(Number) ?? [];
  for (const card of later) {
    const before = asleep.find((c) => c.id === card.id);
    expect(card.sleep, `server ${card.id} still asleep while the page polls`).toContain("asleep");
    if (card.loadedAt !== before?.loadedAt) continue; // the runtime evicted the idle object meanwhile: fine
    const [alarmsBefore = 0, ...rpcsBefore] = counts(before?.cost);
    const [alarms = 0, ...rpcs] = counts(card.cost);
    expect(rpcs, `server ${card.id} sent and received no RPC while asleep`).toEqual(rpcsBefore);
    // An alarm set before the sleep may still fire once, find nothing due, and not be set again.
    expect(alarms - alarmsBefore, `server ${card.id}: alarms while asleep`).toBeLessThanOrEqual(1);
  }
  await waitFor("sleep drawn in the timeline", async () =>
    (await page.locator("#tl-scroll td.tl-asleep").count()) > 0 ? true : undefined,
  );

  // Evict the leader's object: memory lost, storage kept; it loads again and leads on in its term.
  const [ledBefore] = later.filter((c) => c.id === leader.id);
  await page.getByRole("button", { name: `Evict server ${leader.id}`, exact: true }).click();
  await expect.poll(() => page.locator("#status").textContent(), { timeout: 20_000 }).toBe(`Evict server ${leader.id}: done.`);
  const reloaded = await waitFor(`server ${leader.id} reloaded (a newer loadedAt)`, async () => {
    const card = (await readCards(page)).find((c) => c.id === leader.id);
    return card && card.loadedAt > (ledBefore?.loadedAt ?? 0) ? card : undefined;
  });
  expect(reloaded.loaded).toMatch(/reloaded/);
  await waitFor("the eviction in the timeline", async () =>
    (await page.locator("#tl-scroll td.tl-event", { hasText: `[TEST] Evict ${leader.id}` }).count()) > 0 ? true : undefined,
  );
  const afterEvict = await oneLeader(page, 3, "a leader after the eviction");
  expect({ id: afterEvict.id, term: afterEvict.term }).toEqual({ id: leader.id, term: leader.term });
  // Not a crash: the timeline never draws the evicted server Dead.
  expect(await page.locator(`#tl-scroll td[data-state="Dead"]`).count()).toBe(0);

  // A deploy: every object reset at once. No election follows.
  const beforeDeploy = await readCards(page);
  await page.getByRole("button", { name: "Deploy (evict all)", exact: true }).click();
  await expect.poll(() => page.locator("#status").textContent(), { timeout: 20_000 }).toBe("Deploy (evict all): done.");
  await waitFor("every server reloaded after the deploy", async () => {
    const cards = await readCards(page);
    return cards.every((c) => c.loadedAt > (beforeDeploy.find((b) => b.id === c.id)?.loadedAt ?? 0)) ? true : undefined;
  });
  // (The "[TEST] Evict all (a deploy)" line is not awaited: the coordinator leaves its copies
  // with the servers, and a deploy resets every one of them while they take it.)
  const afterDeploy = await oneLeader(page, 3, "a leader after the deploy");
  expect({ id: afterDeploy.id, term: afterDeploy.term }).toEqual({ id: leader.id, term: leader.term });

  // And it goes back to sleep; the picture shows a sleeping cluster just after a deploy.
  await allAsleep(page, "asleep again after the deploy");
  await expect.poll(() => page.locator("#summary").textContent(), { timeout: 10_000 }).toContain("cost now: 0 alarms/s, 0 RPCs/s");
  expect(await page.locator("#sleep-banner").textContent()).toMatch(/^Cluster asleep since \d\d:\d\d:\d\d /);
  mkdirSync("test-results", { recursive: true });
  await page.screenshot({ path: ASLEEP_SCREENSHOT, fullPage: true });
  expect(await page.locator(`#tl-scroll td[data-state="Dead"]`).count()).toBe(0);
  expect(errors).toEqual([]);
});

test("members from the page: add a learner in a region, promote it, remove a server; ids keep their gap", async () => {
  const page = await context!.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  const created = await fetch(`${base}/clusters/${changing}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ size: 3, locationHints: ["enam", "weur", "apac"] }),
  });
  expect(created.status).toBe(201);
  await page.goto(`${base}/#cluster=${changing}`);
  const leader = await oneLeader(page, 3);
  const cards = await readCards(page);
  expect(cards.map((c) => [c.id, c.role, c.region, c.promote])).toEqual([
    [0, "voter", "enam", false],
    [1, "voter", "weur", false],
    [2, "voter", "apac", false],
  ]);
  const status = () => page.locator("#status").textContent();
  const columns = () => page.$$eval("#tl-scroll thead th", (ths) => ths.map((th) => th.textContent ?? "").slice(1));
  const groups = () => page.$$eval("#groups select", (selects) => selects.map((s) => Number(s.getAttribute("data-group-of"))));

  // Add a learner in Western Europe. The request is held back a second so the page is seen
  // with its membership buttons disabled while the change is in flight.
  await page.route("**/members", (route) => void new Promise((r) => setTimeout(r, 1000)).then(() => route.continue()), { times: 1 });
  await page.getByRole("combobox", { name: "Role" }).selectOption("learner");
  await page.getByRole("combobox", { name: "Region" }).selectOption("weur");
  await page.getByRole("button", { name: "Add server", exact: true }).click();
  expect(await page.getByRole("button", { name: "Add server", exact: true }).isDisabled()).toBe(true);
  expect(await page.getByRole("button", { name: `Remove server ${leader.id}`, exact: true }).isDisabled()).toBe(true);
  await expect.poll(status, { timeout: 30_000 }).toBe("Add a learner in weur: done, server 3 added.");
  expect(await page.getByRole("button", { name: "Add server", exact: true }).isDisabled()).toBe(false);
  const learner = await waitFor("server 3's card, a learner in weur", async () =>
    (await readCards(page)).find((c) => c.id === 3 && c.role === "learner"),
  );
  expect({ region: learner.region, promote: learner.promote }).toEqual({ region: "weur", promote: true });
  await expect.poll(() => page.locator("#summary").textContent()).toContain("3 voters + 1 learner");
  await expect.poll(columns).toEqual(["server 0", "server 1", "server 2", "server 3"]);
  await expect.poll(groups).toEqual([0, 1, 2, 3]);
  // The learner catches up: it has applied everything the leader has. Waited on for as
  // long as the cards show the learner (or the leader) moving, not for a fixed time.
  await waitWhileMoving("the learner caught up", async () => {
    const now = await readCards(page);
    const lead = now.find((c) => c.current);
    const facts = async (id: number) => {
      const field = (name: string) => page.locator(`[data-server="${id}"] [data-field="${name}"]`).textContent();
      return { log: Number(await field("logLength")), commit: Number(await field("commitIndex")), applied: Number(await field("lastApplied")) };
    };
    const learnerNow = await facts(3);
    const leaderNow = lead ? await facts(lead.id) : null;
    const caughtUp = leaderNow !== null && learnerNow.applied >= 1 && learnerNow.applied === leaderNow.applied;
    return {
      value: caughtUp ? true : undefined,
      progress: `learner 3 ${JSON.stringify(learnerNow)}, leader ${lead?.id ?? "none"} ${JSON.stringify(leaderNow)}, asleep: ${now.filter((c) => c.sleep.includes("asleep")).map((c) => c.id).join(",") || "none"}`,
    };
  });

  // Promote it: a voter now, no Promote button, four voters.
  await page.getByRole("button", { name: "Promote server 3", exact: true }).click();
  await expect.poll(status, { timeout: 30_000 }).toBe("Promote server 3: done.");
  await waitFor("server 3 a voter", async () => ((await readCards(page)).find((c) => c.id === 3 && c.role === "voter" && !c.promote) ? true : undefined));
  await expect.poll(() => page.locator("#summary").textContent()).toContain("4 voters");

  // A refusal is shown in the status line with what it means (a canned 409, so it is certain).
  const victim = [0, 1, 2].find((id) => id !== leader.id)!;
  await page.route(`**/members/${victim}`, (route) =>
    route.fulfill({ status: 409, contentType: "application/json", body: JSON.stringify({ error: "change_in_progress", message: "a change is not committed yet" }) }),
    { times: 1 },
  );
  await page.getByRole("button", { name: `Remove server ${victim}`, exact: true }).click();
  await expect.poll(status).toMatch(new RegExp(`^Remove server ${victim} failed: 409 change_in_progress: a change is not committed yet \\(another membership change`));
  expect(await page.locator("#status").getAttribute("class")).toContain("error");

  // Remove a follower for real: its card, its partition select and its timeline column go; the ids keep the gap.
  await page.getByRole("button", { name: `Remove server ${victim}`, exact: true }).click();
  await expect.poll(status, { timeout: 30_000 }).toBe(`Remove server ${victim}: done.`);
  const left = [0, 1, 2, 3].filter((id) => id !== victim);
  await waitFor(`cards ${left.join(", ")}`, async () => {
    const ids = (await readCards(page)).map((c) => c.id);
    return ids.join() === left.join() ? true : undefined;
  });
  await expect.poll(groups).toEqual(left);
  await expect.poll(columns).toEqual(left.map((id) => `server ${id}`));
  await expect.poll(() => page.locator("#summary").textContent()).toContain("3 voters");
  await oneLeader(page, 3, "one leader among the remaining members");

  // The cluster still serves: a put and a get through the console.
  await page.getByLabel("Key", { exact: true }).fill("members-key");
  await page.getByLabel("Value", { exact: true }).fill("after-removal");
  await page.getByRole("button", { name: "Put", exact: true }).click();
  await kvResult(page, /^PUT "members-key" → stored/, "the put's answer after the changes");

  mkdirSync("test-results", { recursive: true });
  await page.screenshot({ path: MEMBERS_SCREENSHOT, fullPage: true });
  expect(errors).toEqual([]);
});

test("a refused change is explained on the page: the only voter cannot be removed", async () => {
  const page = await context!.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  const created = await fetch(`${base}/clusters/${solo}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ size: 1 }),
  });
  expect(created.status).toBe(201);
  await page.goto(`${base}/#cluster=${solo}`);
  await oneLeader(page, 1);
  await page.getByRole("button", { name: "Remove server 0", exact: true }).click();
  await expect
    .poll(() => page.locator("#status").textContent(), { timeout: 30_000 })
    .toMatch(/^Remove server 0 failed: 409 last_voter\b.*\(the only voter cannot be removed; add or promote another voter first\)$/);
  expect(await page.locator("#status").getAttribute("class")).toContain("error");
  // Nothing changed, and the buttons work again.
  expect((await readCards(page)).map((c) => [c.id, c.role])).toEqual([[0, "voter"]]);
  expect(await page.getByRole("button", { name: "Remove server 0", exact: true }).isDisabled()).toBe(false);
  expect(errors).toEqual([]);
});

interface KeyRow {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
}

/** The Keys panel's rows, read from the page the way a user reads them. */
function readKeyRows(page: Page): Promise<KeyRow[]> {
  return page.$$eval("#keys-rows tr", (rows) =>
    rows.map((row) => ({
      key: row.querySelector("td.key")?.textContent ?? "",
      value: row.querySelector("td.value")?.textContent ?? "",
      createRevision: Number(row.querySelector('[data-field="createRevision"]')?.textContent),
      modRevision: Number(row.querySelector('[data-field="modRevision"]')?.textContent),
      version: Number(row.querySelector('[data-field="version"]')?.textContent),
    })),
  );
}

/**
 * The panel's rows once their keys are `keys` (and `ready` holds: a read after an earlier
 * write may be drawn first); a caption that says the list failed fails at once.
 */
async function keyRowsAre(page: Page, keys: string[], what: string, ready: (rows: KeyRow[]) => boolean = () => true): Promise<KeyRow[]> {
  return waitFor(
    what,
    async () => {
      const caption = (await page.locator("#keys-caption").textContent()) ?? "";
      if (/failed/.test(caption)) throw new Error(`the Keys panel says: ${caption}`);
      const rows = await readKeyRows(page);
      return rows.map((r) => r.key).join() === keys.join() && /read at revision \d+/.test(caption) && ready(rows) ? rows : undefined;
    },
    30_000,
  );
}

test("the Keys panel lists keys with their revisions, read only when asked; a key is deleted from its row", async () => {
  const page = await context!.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  // Every list the page reads, to hold it to the cost rule (never on the poll's timer).
  const lists: string[] = [];
  page.on("request", (request) => {
    if (request.method() === "GET" && new URL(request.url()).pathname === `/clusters/${keyed}/kv`) lists.push(request.url());
  });
  const created = await fetch(`${base}/clusters/${keyed}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ size: 3 }),
  });
  expect(created.status).toBe(201);
  await page.goto(`${base}/#cluster=${keyed}`);
  await oneLeader(page, 3);
  expect(lists, "nothing lists keys before the panel is opened").toEqual([]);

  // Opening the panel is asking: one read, of an empty store.
  await page.locator("#keys-details summary").click();
  await expect.poll(() => page.locator("#keys-caption").textContent(), { timeout: 30_000 }).toMatch(/^No keys \(read at revision \d+\)\.$|failed/);
  expect(await page.locator("#keys-caption").textContent(), "GET /clusters/{c}/kv answers a page of keys").not.toMatch(/failed/);

  // Two keys from the console (and one of them twice): each write reads the open list again.
  const put = async (key: string, value: string) => {
    await page.getByLabel("Key", { exact: true }).fill(key);
    await page.getByLabel("Value", { exact: true }).fill(value);
    await page.getByRole("button", { name: "Put", exact: true }).click();
    await kvResult(page, new RegExp(`^PUT "${key}" → stored`), `the put of ${key}`);
  };
  await put("e2e-a", "first");
  await put("e2e-b", "second");
  await put("e2e-a", "third");
  const rows = await keyRowsAre(page, ["e2e-a", "e2e-b"], "e2e-a (written twice) and e2e-b listed", (r) => r[0]?.value === "third");
  const [a, b] = rows;
  expect(a).toMatchObject({ key: "e2e-a", value: "third", version: 2 });
  expect(b).toMatchObject({ key: "e2e-b", value: "second", version: 1 });
  // One revision per write: a created, b created, a written again.
  expect(b!.createRevision).toBe(a!.createRevision + 1);
  expect(b!.modRevision).toBe(b!.createRevision);
  expect(a!.modRevision).toBe(b!.modRevision + 1);
  expect(await page.locator("#keys-caption").textContent()).toBe(`Page 1: 2 keys, read at revision ${a!.modRevision}.`);

  // The prefix filter.
  await page.getByLabel("Prefix", { exact: true }).fill("e2e-b");
  await page.getByRole("button", { name: "Refresh", exact: true }).click();
  await keyRowsAre(page, ["e2e-b"], "only e2e-b under its prefix");
  await page.getByLabel("Prefix", { exact: true }).fill("");
  await page.getByRole("button", { name: "Refresh", exact: true }).click();
  await keyRowsAre(page, ["e2e-a", "e2e-b"], "both keys again");

  // Delete e2e-b from its row: the console reports it, the list is read again without it.
  await page.getByRole("button", { name: 'Delete key "e2e-b"', exact: true }).click();
  await kvResult(page, /^DELETE "e2e-b" → deleted \(was "second"\)/, "the delete's answer");
  const [left] = await keyRowsAre(page, ["e2e-a"], "e2e-b gone from the list");
  expect(left).toEqual(a);
  await expect.poll(() => page.locator("#keys-caption").textContent()).toBe(`Page 1: 1 key, read at revision ${a!.modRevision + 1}.`);

  // Left open, the panel reads nothing more while the page polls the status (about 4 a second).
  const listed = lists.length;
  await new Promise((r) => setTimeout(r, 1500));
  expect(lists.length, "lists read while nobody asked").toBe(listed);

  mkdirSync("test-results", { recursive: true });
  await page.screenshot({ path: KEYS_SCREENSHOT, fullPage: true });
  expect(errors).toEqual([]);
});
