// The dashboard in a real browser against a real Worker (`npm run dev`): create a cluster
// (with PreVote ticked), see its leader, disconnect the leader from its card, see a new
// leader in a higher term, put and get a key through the console, then hand leadership to
// the remaining follower from its card ("Make leader"). Leaves test-results/dashboard.png behind.
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

let dev: ChildProcess | null = null;
let devOutput = "";
let base = process.env["DASHBOARD_URL"] ?? "";
let context: BrowserContext | null = null;
let profile = "";
const cluster = `e2e-${Date.now().toString(36)}`;

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

interface Card {
  id: number;
  state: string;
  term: number;
  current: boolean;
}

/** What the cards show, read from the page the way a user reads it. */
function readCards(page: Page): Promise<Card[]> {
  return page.$$eval("#cards [data-server]", (cards) =>
    cards.map((card) => ({
      id: Number(card.getAttribute("data-server")),
      state: card.querySelector('[data-field="state"]')?.textContent ?? "",
      term: Number(card.querySelector('[data-field="term"]')?.textContent),
      current: (card.querySelector('[data-field="mark"]')?.textContent ?? "").includes("current leader"),
    })),
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
  if (base) await fetch(`${base}/clusters/${cluster}`, { method: "DELETE" }).catch(() => undefined);
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
