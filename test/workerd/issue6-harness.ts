// Helpers for the issue-6 workerd tests (snapshots, PreVote/CheckQuorum, ReadIndex reads,
// leadership transfer): the new routes and status fields, and a watcher of the raw log that
// understands compaction.
//
// Every request goes through kv-harness.ts's `coordinatorFetch` (the Worker's own handler,
// in-process) rather than `exports.default`, for the pool slowdown that file describes:
// the snapshot scenarios poll the servers hundreds of times.
//
// Why the raw-log checks are not harness.ts's checkCommitted: that one compares the servers'
// applied lists position by position, which assumes every list starts at index 1. With
// compaction each server's /committed view starts after its own snapshot, so the lists are
// aligned by index here instead, and every (index, command) pair ever seen on any server is
// remembered: two servers showing different commands at one index, at any time, fails.
import { afterAll, expect } from "vitest";
import { freshName, type Harness } from "./harness.ts";
import { eventually, request, type FullAnswer } from "./kv-harness.ts";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export { request, type FullAnswer };

// ---------------------------------------------------------------------------------------
// The issue-6 shapes (declared here, from the spec, so these tests say what they expect).

export interface Stats6 {
  readonly alarms: number;
  readonly rpcsSent: number;
  readonly rpcsReceived: number;
  readonly snapshotsSent: number;
  readonly snapshotsInstalled: number;
  readonly loadedAt: number;
}

export interface Status6 {
  readonly id: number;
  readonly state: "Follower" | "Candidate" | "Leader" | "Dead";
  readonly term: number;
  readonly votedFor: number | null;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly logLength: number;
  readonly connected: boolean;
  readonly snapshotIndex: number;
  readonly transferringTo: number | null;
  readonly stats: Stats6;
}

export interface Durable6 {
  readonly term: number;
  readonly votedFor: number | null;
  readonly logLength: number;
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  readonly applied: number;
  readonly rows: { readonly log: number; readonly kv: number; readonly sessions: number };
}

export type Inspect6 = Status6 & { durable: Durable6 };

export interface View6 {
  readonly cluster: string;
  readonly size: number;
  readonly leader: number | null;
  readonly servers: Status6[];
}

export interface Entry6 {
  readonly index: number;
  readonly term: number;
  readonly command: unknown;
}

/** The settings the snapshot scenarios create their clusters with. */
export const SNAPSHOT_SETTINGS = { snapshotThreshold: 10, snapshotChunkBytes: 256 } as const;

// ---------------------------------------------------------------------------------------
// Routes.

const base = (h: Harness) => `/clusters/${h.name}`;

/** GET /clusters/{c}. */
export async function view(h: Harness): Promise<View6> {
  const r = await request<View6>("GET", base(h));
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

/** GET /clusters/{c}/servers/{i}: status and what storage holds. */
export async function inspect(h: Harness, i: number): Promise<Inspect6> {
  const r = await request<Inspect6>("GET", `${base(h)}/servers/${i}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

/** GET /clusters/{c}/servers/{i}/committed: the applied entries above the snapshot. */
export async function committedView(h: Harness, i: number): Promise<{ entries: Entry6[]; snapshotIndex: number }> {
  const r = await request<{ entries: Entry6[]; snapshotIndex: number }>("GET", `${base(h)}/servers/${i}/committed`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

/** POST /clusters/{c}/servers/{i}/submit: the index when server i took it, null when it refused. */
export async function submit(h: Harness, i: number, command: unknown): Promise<{ index: number; term: number } | null> {
  const r = await request("POST", `${base(h)}/servers/${i}/submit`, { command });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.accepted ? { index: r.body.index, term: r.body.term } : null;
}

/** The path of a cluster nobody created. */
export function freshClusterPath(): string {
  return `/clusters/${freshName("none")}`;
}

/** POST /clusters/{c}/leader, the raw answer. */
export function transferRaw(h: Harness, body: unknown): Promise<FullAnswer> {
  return request("POST", `${base(h)}/leader`, body);
}

/**
 * How often the retrying helpers below (and the tests' own, like snapshot.test.ts's
 * leadAndRead, and membership-harness.ts's ensure...) had to try again, per helper, in this
 * test file: each retry is printed, and the file's total is held to the bound the file
 * states with `retryBudget`, so a run that only passes by retrying says so, and fails past
 * what the file's measured runs needed.
 */
export const retries: Record<string, number> = {};

let budget: { readonly max: number; readonly why: string } | null = null;

/**
 * The most retries this test file may need, over all its tests, and why that many (from
 * measured runs). After the file's tests: prints how many it needed, and fails past `max`.
 * A file whose helpers retry must state one: `retried` refuses to count without it.
 */
export function retryBudget(max: number, why: string): void {
  budget = { max, why };
  afterAll(() => {
    const total = Object.values(retries).reduce((a, b) => a + b, 0);
    const list = Object.entries(retries).map(([helper, n]) => `${helper} ${n}`).join(", ");
    console.log(total === 0 ? `retries in this file: none (bound ${max})` : `this file passed only by retrying ${total} times (${list}); bound ${max}: ${why}`);
    expect(total, `retries in this file (${list}) past its bound of ${max} (${why})`).toBeLessThanOrEqual(max);
  });
}

/** Count and print one retry of `helper`. */
export function retried(helper: string, why: string): void {
  if (budget === null) throw new Error(`${helper} had to retry (${why}), but this test file states no retry budget: call retryBudget() at its top`);
  retries[helper] = (retries[helper] ?? 0) + 1;
  console.log(`${helper}: retry ${retries[helper]} in this file, bound ${budget.max} (${why})`);
}

/**
 * Assertions that hold only when no election came in between (under load one may): how
 * many were checked and how many skipped. `verify` (after the file's tests) fails when more
 * than `maxSkipped` were skipped, or as many as were checked: an assertion that seldom runs
 * proves little, and a skip must stay the exception the file's measured runs show.
 */
export class Guarded {
  checked = 0;
  skipped = 0;
  constructor(
    readonly what: string,
    readonly maxSkipped: number,
    readonly why: string,
  ) {}

  /** Run `check` when `applies`, and count either way. */
  when(applies: boolean, check: () => void): void {
    if (!applies) {
      this.skipped++;
      console.log(`${this.what}: skipped ${this.skipped} (bound ${this.maxSkipped}) after an election`);
      return;
    }
    this.checked++;
    check();
  }

  verify(): void {
    console.log(`${this.what}: checked ${this.checked}, skipped after an election ${this.skipped} (bound ${this.maxSkipped}: ${this.why})`);
    expect(this.skipped, `${this.what}: skipped past its bound (${this.why})`).toBeLessThanOrEqual(this.maxSkipped);
    expect(this.skipped, `${this.what}: skipped as often as checked`).toBeLessThan(Math.max(1, this.checked));
  }
}

/**
 * Hand leadership to server `id` and expect it to take it. A 504 (the hand-over did not
 * finish in time: on a loaded machine an election may interfere) is retried, up to `tries`.
 */
export async function transferTo(h: Harness, id: number, tries = 3): Promise<View6> {
  let last: FullAnswer | null = null;
  for (let t = 0; t < tries; t++) {
    if (t > 0) retried("transferTo", `${last?.status} ${JSON.stringify(last?.body).slice(0, 120)}`);
    last = await transferRaw(h, { id });
    if (last.status === 200) {
      expect(last.body.leader, JSON.stringify(last.body)).toBe(id);
      return last.body as View6;
    }
    expect([503, 504], `transfer to ${id}: ${last.status} ${JSON.stringify(last.body)}`).toContain(last.status);
  }
  throw new Error(`${h.name}: leadership never reached ${id}: ${last?.status} ${JSON.stringify(last?.body)}`);
}

// Faults, through the coordinator (the same routes as harness.ts's verbs).

async function fault(h: Harness, path: string, body?: unknown): Promise<View6> {
  const r = await request<View6>("POST", `${base(h)}/${path}`, body);
  expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
}

export const disconnect = (h: Harness, i: number) => fault(h, `servers/${i}/disconnect`);
export const reconnect = (h: Harness, i: number) => fault(h, `servers/${i}/reconnect`);
export const crash = (h: Harness, i: number) => fault(h, `servers/${i}/crash`);
export const restart = (h: Harness, i: number) => fault(h, `servers/${i}/restart`);
export const partition = (h: Harness, groups: number[][]) => fault(h, "partition", { groups });
export const heal = (h: Harness) => fault(h, "heal");
export const network = (h: Harness, settings: { dropRate?: number; delayMs?: [number, number] }) => fault(h, "network", settings);

/** The narration lines of the cluster (GET /clusters/{c}/events). */
export async function events(h: Harness): Promise<string[]> {
  const r = await request<{ events: Array<{ line: string }> }>("GET", `${base(h)}/events?since=0`);
  expect(r.status).toBe(200);
  return r.body.events.map((e) => e.line);
}

/** The leader of the highest term among servers that are up and connected, or null. */
export async function currentLeader(h: Harness): Promise<{ leader: number; term: number } | null> {
  let best: { leader: number; term: number } | null = null;
  for (const s of await h.statuses()) {
    if (s.state === "Leader" && s.connected && (best === null || s.term > best.term)) best = { leader: s.id, term: s.term };
  }
  return best;
}

/**
 * A leader that has held for `ms` (checked twice, `ms` apart). Right after a cluster starts,
 * a candidate whose RequestVote lost the race may still time out once and depose the first
 * winner (seen here under load); scenarios about a leader staying put start after that.
 */
export async function stableLeader(h: Harness, ms = 350): Promise<{ leader: number; term: number }> {
  let last = await h.checkSingleLeader();
  for (let tries = 0; tries < 10; tries++) {
    await sleep(ms);
    const now = await h.checkSingleLeader();
    if (now.leader === last.leader && now.term === last.term) return now;
    retried("stableLeader", `leader ${last.leader} in term ${last.term}, then ${now.leader} in term ${now.term}`);
    last = now;
  }
  throw new Error(`${h.name}: the leader never settled`);
}

// ---------------------------------------------------------------------------------------
// Watching the raw log through compaction.

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export interface Look {
  readonly id: number;
  readonly server: Inspect6;
  readonly committed: { entries: Entry6[]; snapshotIndex: number };
}

/**
 * Looks at every server (status, storage, applied tail) and checks, at every look:
 * - no two servers ever show different commands at one index (remembered across looks);
 * - a server's /committed tail is contiguous and starts right after its snapshot;
 * - a server's durable snapshotIndex and applied count never go back, nor its commitIndex
 *   while it is up (after a restart it comes back at least at what it had applied).
 */
export class LogWatch {
  /** index → command (JSON) as seen on any server. */
  readonly seen = new Map<number, string>();
  private readonly maxSnapshot: number[];
  private readonly maxApplied: number[];
  private readonly maxCommit: number[];
  /** The largest rows.log seen at a quiet moment (for the report). */
  maxQuietRows = 0;

  constructor(readonly h: Harness) {
    this.maxSnapshot = new Array<number>(h.n).fill(0);
    this.maxApplied = new Array<number>(h.n).fill(0);
    this.maxCommit = new Array<number>(h.n).fill(0);
  }

  async look(): Promise<Look[]> {
    const ids = Array.from({ length: this.h.n }, (_, i) => i);
    const looks = await Promise.all(
      ids.map(async (id) => {
        const [server, committed] = await Promise.all([inspect(this.h, id), committedView(this.h, id)]);
        return { id, server, committed };
      }),
    );
    for (const l of looks) this.check(l);
    return looks;
  }

  private check({ id, server, committed }: Look): void {
    const where = `${this.h.name} server ${id}`;
    const { entries, snapshotIndex } = committed;
    entries.forEach((e, k) => {
      expect(e.index, `${where}: /committed not contiguous after snapshot ${snapshotIndex}: ${JSON.stringify(entries.map((x) => x.index))}`).toBe(snapshotIndex + 1 + k);
      const cmd = JSON.stringify(e.command);
      const before = this.seen.get(e.index);
      expect(before === undefined || before === cmd, `${where} applied ${cmd} at ${e.index}, another server ${before}`).toBe(true);
      this.seen.set(e.index, cmd);
    });
    const d = server.durable;
    expect(d.snapshotIndex, `${where}: durable snapshotIndex went back`).toBeGreaterThanOrEqual(this.maxSnapshot[id]!);
    expect(d.applied, `${where}: durable applied went back`).toBeGreaterThanOrEqual(this.maxApplied[id]!);
    expect(d.applied, `${where}: applied below its own snapshot`).toBeGreaterThanOrEqual(d.snapshotIndex);
    expect(d.logLength, `${where}: logLength below its snapshot`).toBeGreaterThanOrEqual(d.snapshotIndex);
    this.maxSnapshot[id] = d.snapshotIndex;
    this.maxApplied[id] = d.applied;
    if (server.state !== "Dead") {
      expect(server.snapshotIndex, `${where}: status snapshotIndex ${server.snapshotIndex} vs durable ${d.snapshotIndex}`).toBe(d.snapshotIndex);
      expect(server.commitIndex, `${where}: commitIndex went back`).toBeGreaterThanOrEqual(this.maxCommit[id]!);
      expect(server.commitIndex, `${where}: commitIndex below its snapshot`).toBeGreaterThanOrEqual(server.snapshotIndex);
      this.maxCommit[id] = server.commitIndex;
    }
  }

  /**
   * Restart server `i`. Its commitIndex comes back from storage, so it may be lower
   * than the last one seen in memory, but never below what it had durably applied.
   */
  async restart(i: number): Promise<void> {
    await restart(this.h, i);
    this.maxCommit[i] = this.maxApplied[i]!;
  }

  /**
   * The reference's one(cmd, expectedServers, retry): submit `cmd` to the leader until one
   * takes it, and wait until `expected` servers applied it at the same index. With `retry`,
   * an entry lost to a leader change is submitted again. Returns its index.
   */
  async one(cmd: unknown, expected: number, retry = true, deadlineMs = 10_000): Promise<number> {
    const until = Date.now() + deadlineMs;
    let why = "no leader";
    while (Date.now() < until) {
      const leader = await currentLeader(this.h);
      const taken = leader && (await submit(this.h, leader.leader, cmd));
      if (!taken) {
        await sleep(30);
        continue;
      }
      const wait = Date.now() + 2_000;
      while (Date.now() < wait) {
        const looks = await this.look();
        const at = this.seen.get(taken.index);
        if (at !== undefined && at !== JSON.stringify(cmd)) {
          why = `index ${taken.index} holds ${at}`;
          break; // another leader's entry took its place
        }
        const count = looks.filter((l) => l.server.state !== "Dead" && l.server.lastApplied >= taken.index).length;
        why = `applied on ${count} of ${expected}`;
        if (at !== undefined && count >= expected) return taken.index;
        await sleep(30);
      }
      if (!retry) throw new Error(`${this.h.name}: one(${JSON.stringify(cmd)}) failed to reach agreement: ${why}`);
    }
    throw new Error(`${this.h.name}: one(${JSON.stringify(cmd)}) failed to reach agreement within ${deadlineMs} ms: ${why}`);
  }

  /**
   * Submit each of `cmds` to the current leader without waiting for agreement (the
   * reference's rf.Start in a loop); refused or lost ones are simply gone.
   */
  async start(cmds: unknown[]): Promise<void> {
    const leader = await currentLeader(this.h);
    if (!leader) return;
    for (const cmd of cmds) await submit(this.h, leader.leader, cmd);
  }

  /**
   * Once every server in `ids` has applied up to `index`: each one's stored log is compact
   * (at most `threshold` applied entries in its /committed tail, `rows.log` within
   * threshold + `slack`), and it has a snapshot when it has applied more than `threshold`.
   */
  async checkCompact(ids: number[], threshold: number, slack = 5): Promise<void> {
    await eventually(`servers ${ids} compact`, async () => {
      const looks = await this.look();
      for (const id of ids) {
        const l = looks[id]!;
        const d = l.server.durable;
        const tail = l.committed.entries.length;
        if (tail > threshold) return `server ${id}: ${tail} applied entries still in the log (threshold ${threshold})`;
        if (d.rows.log > threshold + slack) return `server ${id}: rows.log=${d.rows.log}`;
        if (d.applied > threshold && d.snapshotIndex === 0) return `server ${id}: applied ${d.applied} and no snapshot`;
      }
      for (const id of ids) this.maxQuietRows = Math.max(this.maxQuietRows, looks[id]!.server.durable.rows.log);
      return true;
    }, 3_000);
  }
}

/** A random raw command, unique within a run (the reference's rand.Int()). */
export function randomCommand(): number {
  return Math.floor(Math.random() * 1e12);
}
