// Sleeping, waking and deploys (issue 11, item 6): what an idle 3-server cluster costs awake
// and asleep, what the first write after sleeping costs against a warm one, and what deploys
// (every server evicted at once, POST /clusters/{c}/evict) cost a light writer.
//
//  1. awake: a cluster created with {"sleepAfterMs": 0} (never sleeps: the behaviour before
//     issue 11), one write, then an idle window: alarms, Raft RPCs and billed rows per second;
//     then back-to-back writes for the cost per write.
//  2. asleep: a cluster with the default sleepAfterMs (5 × the longest election timeout), one
//     write, wait until GET /clusters/{c} says `asleep`, then an idle window of the same kind.
//     Counters are per object since it was loaded (`stats.loadedAt`): an object reloaded in the
//     window (workerd drops idle objects) counts from its reload.
//  3. cycles, on the same cluster: asleep → one write (timed, terms before and after) → warm
//     writes (timed) → wait until asleep again. The first write ÷ the warm writes' median, per
//     cycle; and what one isolated write costs: waking, the write, and the idle tail until the
//     cluster sleeps again (the counters around the first write plus those from the last warm
//     write to sleep).
//  4. deploys, on a fresh default cluster: one sequential writer appending its request id to
//     one key with exactly-once headers (Client-Id, Request-Id; a write that fails is sent
//     again with the same ids until it answers 200), and `deploys` evictions of every server,
//     `deployGapMs` apart. Per deploy: every server's term before and after (an election
//     raises it), every object reloaded (`loadedAt`), the slowest write in flight across it.
//     At the end the key must list every acknowledged id once, in order: nothing acknowledged
//     lost, nothing applied twice.
import type { Http } from "../lib/http.ts";
import { sleep } from "../lib/http.ts";
import { keyOf, valueOf } from "../lib/load.ts";
import { waitSettled } from "../lib/settle.ts";
import { round, roundSummary, summarize, type Summary } from "../lib/stats.ts";
import type { StorageCounters } from "../profiled-raft-server.ts";

interface Stats {
  alarms: number;
  rpcsSent: number;
  rpcsReceived: number;
  loadedAt: number;
}

interface Server {
  id: number;
  state: string;
  term: number;
  commitIndex: number;
  asleep?: boolean;
  stats: Stats;
}

interface View {
  leader: number | null;
  asleep?: boolean;
  sleepAfterMs?: number;
  electionTimeoutMs: [number, number];
  servers: Server[];
}

/** Every server's counters at one moment (storage counters only in a profiled run). */
interface Snap {
  readonly at: number;
  readonly view: View;
  readonly storage: Array<{ storage: StorageCounters; loadedAt: number }> | null;
  readonly stubCalls: number | null;
}

/** What happened between two snapshots, all servers together. */
export interface Window {
  readonly seconds: number;
  readonly alarms: number;
  readonly rpcsSent: number;
  readonly rpcsReceived: number;
  /** Worker → server calls (the bench's own status reads excluded); null when not counted. */
  readonly workerCalls: number | null;
  /** SQL rows + setAlarm() + KV writes (what Cloudflare bills as rows written); null when not counted. */
  readonly billedRows: number | null;
  /** Objects reloaded in the window (they count from their reload). */
  readonly reloaded: number;
}

export interface IdleRates {
  readonly seconds: number;
  readonly alarmsPerSec: number;
  readonly rpcsPerSec: number;
  /** Alarms + RPCs sent: what an idle cluster is billed as requests. */
  readonly billedRequestsPerSec: number;
  readonly billedRowsPerSec: number | null;
  readonly reloaded: number;
  /** `asleep` of GET /clusters/{c} at the window's start and end. */
  readonly asleepAtStart: boolean;
  readonly asleepAtEnd: boolean;
  /** Leader and terms unchanged across the window. */
  readonly stable: boolean;
}

export interface WriteCost {
  readonly writes: number;
  readonly seconds: number;
  readonly throughput: number;
  readonly latency: Summary;
  readonly billedRequestsPerWrite: number | null;
  readonly billedRowsPerWrite: number | null;
}

export interface Cycle {
  /** The first write after sleeping, ms, and the warm writes after it. */
  readonly firstMs: number;
  readonly firstStatus: number;
  readonly warmMs: Summary;
  readonly ratio: number;
  readonly termsBefore: number[];
  readonly termsAfter: number[];
  readonly termChanged: boolean;
  readonly leaderBefore: number | null;
  readonly servedBy: number | null;
  /** Last warm write answered → GET /clusters/{c} says asleep (50 ms polls). */
  readonly fellAsleepMs: number | null;
  /** One isolated write: waking + the write + the idle tail until asleep again. */
  readonly isolated: { readonly awakeSeconds: number; readonly billedRequests: number | null; readonly billedRows: number | null; readonly reloaded: number };
}

export interface Deploy {
  readonly evictMs: number;
  readonly evictStatus: number;
  /** Every server's object was reloaded (its loadedAt moved). */
  readonly reloaded: boolean;
  readonly termsBefore: number[];
  readonly termsAfter: number[];
  /** Servers whose term changed across this deploy. */
  readonly termChanges: number;
  readonly leaderBefore: number | null;
  readonly leaderAfter: number | null;
  /** The slowest write in flight between sending the evict and 250 ms after its answer, ms (its first try to its 200). */
  readonly slowestWriteMs: number | null;
  readonly writesAcross: number;
}

export interface DeployRun {
  readonly deploys: Deploy[];
  readonly writesAcked: number;
  /** Attempts that did not answer 200 (each was sent again with the same ids), by status. */
  readonly retriedAnswers: Record<string, number>;
  /** Writes given up on (no 200 within the writer's deadline). */
  readonly abandoned: number;
  /** Acknowledged ids missing from the final value, ids found twice, ids found that were never acknowledged. */
  readonly lost: number;
  readonly duplicated: number;
  readonly unacknowledgedApplied: number;
  readonly outOfOrder: boolean;
  /** Writes outside every deploy's window, for comparison. */
  readonly calmWriteMs: Summary;
  readonly termsStart: number[];
  readonly termsEnd: number[];
  readonly elections: number;
  readonly finalRead: string;
}

export interface SleepResult {
  readonly unavailable: string | null;
  readonly size: number;
  readonly sleepAfterMs: number | null;
  readonly awake: IdleRates | null;
  readonly asleep: IdleRates | null;
  /** Write after the last client operation → asleep, ms. */
  readonly fellAsleepMs: number | null;
  readonly awakeWrites: WriteCost | null;
  readonly defaultWrites: WriteCost | null;
  readonly cycles: Cycle[];
  readonly deploys: DeployRun | null;
  readonly failures: string[];
}

export interface SleepOptions {
  readonly idleMs: number;
  readonly asleepMs: number;
  readonly cycles: number;
  readonly warmWrites: number;
  readonly writes: number;
  readonly deploys: number;
  readonly deployGapMs: number;
  readonly profiled: boolean;
}

const SIZE = 3;
const DEADLINE_MS = 15_000;
const ACROSS_MS = 250;

class Probe {
  constructor(
    private readonly http: Http,
    readonly name: string,
    private readonly profiled: boolean,
  ) {}

  view(): Promise<View> {
    return this.http.ok<View>("GET", `/clusters/${this.name}`);
  }

  async stubCalls(): Promise<number | null> {
    const a = await this.http.call("GET", "/counters/worker");
    return a.status === 200 && typeof a.body?.stubCalls === "number" ? (a.body.stubCalls as number) : null;
  }

  /** As RaftBench.snapshot: the Worker's call counter read so that the bench's own reads fall outside the window. */
  async snap(closing = false): Promise<Snap> {
    const first = closing ? await this.stubCalls() : null;
    const view = await this.view();
    const storage = this.profiled
      ? (await this.http.ok<{ servers: Array<{ storage: StorageCounters; status: { stats: Stats } }> }>("GET", `/profile/${this.name}?size=${SIZE}`)).servers.map((s) => ({
          storage: s.storage,
          loadedAt: s.status.stats.loadedAt,
        }))
      : null;
    const at = performance.now();
    const stubCalls = closing ? first : await this.stubCalls();
    return { at, view, storage, stubCalls };
  }

  stable(): Promise<View> {
    return waitSettled(this.name, () => this.view(), DEADLINE_MS);
  }

  /**
   * Polls until the cluster says it sleeps: the time that took, ms, and the Worker → server
   * calls the polls themselves made (each status read is a few; taken out of the windows).
   */
  async untilAsleep(deadlineMs = DEADLINE_MS): Promise<{ ms: number; pollCalls: number }> {
    const t0 = performance.now();
    let pollCalls = 0;
    while (performance.now() - t0 < deadlineMs) {
      const a = await this.stubCalls();
      const v = await this.view();
      const b = await this.stubCalls();
      if (a !== null && b !== null) pollCalls += b - a;
      if (v.asleep === true) return { ms: performance.now() - t0, pollCalls };
      await sleep(50);
    }
    throw new Error(`cluster ${this.name} did not fall asleep within ${deadlineMs} ms`);
  }

  put(i: number, headers: Record<string, string> = {}) {
    return this.http.call("PUT", `/clusters/${this.name}/kv/${keyOf(0, i)}?timeoutMs=10000`, { value: valueOf(i) }, 15_000, headers);
  }
}

/** Between two snapshots; a server reloaded meanwhile counts from its reload. */
function between(a: Snap, b: Snap): Window {
  let alarms = 0;
  let rpcsSent = 0;
  let rpcsReceived = 0;
  let reloaded = 0;
  for (const [i, s] of b.view.servers.entries()) {
    const p = a.view.servers[i]!;
    const same = p.stats.loadedAt === s.stats.loadedAt;
    if (!same) reloaded++;
    alarms += s.stats.alarms - (same ? p.stats.alarms : 0);
    rpcsSent += s.stats.rpcsSent - (same ? p.stats.rpcsSent : 0);
    rpcsReceived += s.stats.rpcsReceived - (same ? p.stats.rpcsReceived : 0);
  }
  let billedRows: number | null = null;
  if (a.storage && b.storage) {
    billedRows = 0;
    for (const [i, s] of b.storage.entries()) {
      const p = a.storage[i]!;
      const same = p.loadedAt === s.loadedAt;
      const d = (k: "rowsWritten" | "setAlarms" | "kvWrites") => s.storage[k] - (same ? p.storage[k] : 0);
      billedRows += d("rowsWritten") + d("setAlarms") + d("kvWrites");
    }
  }
  const workerCalls = a.stubCalls !== null && b.stubCalls !== null ? b.stubCalls - a.stubCalls : null;
  return { seconds: (b.at - a.at) / 1000, alarms, rpcsSent, rpcsReceived, workerCalls, billedRows, reloaded };
}

const terms = (v: View) => v.servers.map((s) => s.term);

async function idleWindow(p: Probe, ms: number): Promise<IdleRates> {
  const a = await p.snap();
  await sleep(ms);
  const b = await p.snap();
  const w = between(a, b);
  return {
    seconds: round(w.seconds),
    alarmsPerSec: round(w.alarms / w.seconds),
    rpcsPerSec: round(w.rpcsSent / w.seconds),
    billedRequestsPerSec: round((w.alarms + w.rpcsSent) / w.seconds),
    billedRowsPerSec: w.billedRows === null ? null : round(w.billedRows / w.seconds),
    reloaded: w.reloaded,
    asleepAtStart: a.view.asleep === true,
    asleepAtEnd: b.view.asleep === true,
    stable: a.view.leader === b.view.leader && terms(a.view).join() === terms(b.view).join(),
  };
}

/** `n` writes back to back on an awake cluster: their latency and what each costs. */
async function writeCost(p: Probe, n: number, from: number): Promise<WriteCost> {
  const a = await p.snap();
  const latencies: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = await p.put(from + i);
    if (r.status === 200) latencies.push(r.ms);
  }
  const seconds = (performance.now() - t0) / 1000;
  const b = await p.snap(true);
  const w = between(a, b);
  const ok = latencies.length;
  return {
    writes: ok,
    seconds: round(seconds),
    throughput: round(ok / seconds),
    latency: roundSummary(summarize(latencies)),
    billedRequestsPerWrite: w.workerCalls === null || ok === 0 ? null : round((w.workerCalls + w.alarms + w.rpcsSent) / ok),
    billedRowsPerWrite: w.billedRows === null || ok === 0 ? null : round(w.billedRows / ok),
  };
}

async function cycle(p: Probe, warm: number, from: number): Promise<Cycle> {
  const s0 = await p.snap();
  const first = await p.put(from);
  const sw = await p.snap(true);
  const warmMs: number[] = [];
  for (let i = 1; i <= warm; i++) {
    const r = await p.put(from + i);
    if (r.status === 200) warmMs.push(r.ms);
  }
  const sx = await p.snap();
  const fell = await p.untilAsleep();
  const s1 = await p.snap(true);
  const w1 = between(s0, sw);
  const tail = between(sx, s1);
  const w2: Window = { ...tail, workerCalls: tail.workerCalls === null ? null : tail.workerCalls - fell.pollCalls };
  const warmSummary = roundSummary(summarize(warmMs));
  const t0 = terms(s0.view);
  const t1 = terms(s1.view);
  const tw = terms(sw.view);
  const sum = (x: number | null, y: number | null) => (x === null || y === null ? null : x + y);
  const requests = (w: Window) => (w.workerCalls === null ? null : w.workerCalls + w.alarms + w.rpcsSent);
  return {
    firstMs: round(first.ms),
    firstStatus: first.status,
    warmMs: warmSummary,
    ratio: round(first.ms / warmSummary.p50),
    termsBefore: t0,
    termsAfter: t1,
    termChanged: t0.join() !== t1.join() || t0.join() !== tw.join(),
    leaderBefore: s0.view.leader,
    servedBy: first.headers.get("Raft-Server") === null ? null : Number(first.headers.get("Raft-Server")),
    fellAsleepMs: round(fell.ms),
    isolated: {
      awakeSeconds: round(w1.seconds + w2.seconds),
      billedRequests: sum(requests(w1), requests(w2)),
      billedRows: sum(w1.billedRows, w2.billedRows),
      reloaded: w1.reloaded + w2.reloaded,
    },
  };
}

interface Write {
  readonly id: number;
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
}

async function deploys(http: Http, p: Probe, n: number, gapMs: number, progress: (line: string) => void): Promise<DeployRun> {
  const key = "deploy-log";
  const headers = (id: number) => ({ "Client-Id": `bench-deploy-${p.name}`, "Request-Id": String(id) });
  const writes: Write[] = [];
  const retried: Record<string, number> = {};
  let stop = false;
  const writer = (async () => {
    for (let id = 1; !stop; id++) {
      const start = performance.now();
      let ok = false;
      while (performance.now() - start < 30_000) {
        const r = await http.call("POST", `/clusters/${p.name}/kv/${key}/append?timeoutMs=10000`, { value: `${id},` }, 15_000, headers(id));
        if (r.status === 200) {
          ok = true;
          break;
        }
        retried[String(r.status)] = (retried[String(r.status)] ?? 0) + 1;
        await sleep(10);
      }
      writes.push({ id, start, end: performance.now(), ok });
    }
  })();
  const start = await p.view();
  const out: Deploy[] = [];
  const windows: Array<[number, number]> = [];
  for (let d = 0; d < n; d++) {
    await sleep(gapMs);
    const before = await p.view();
    const t0 = performance.now();
    const r = await http.call("POST", `/clusters/${p.name}/evict`, undefined, 30_000);
    const t1 = performance.now();
    const after = await p.view();
    windows.push([t0, t1 + ACROSS_MS]);
    const tb = terms(before);
    const ta = terms(after);
    out.push({
      evictMs: round(t1 - t0),
      evictStatus: r.status,
      reloaded: after.servers.every((s, i) => s.stats.loadedAt > before.servers[i]!.stats.loadedAt),
      termsBefore: tb,
      termsAfter: ta,
      termChanges: tb.filter((t, i) => t !== ta[i]).length,
      leaderBefore: before.leader,
      leaderAfter: after.leader,
      slowestWriteMs: null,
      writesAcross: 0,
    });
    if ((d + 1) % 5 === 0) progress(`deploys: ${d + 1}/${n}`);
  }
  await sleep(gapMs);
  stop = true;
  await writer;
  const end = await p.view();
  // Per deploy, the writes in flight across it (which may have ended after the next status read).
  const deploysOut = out.map((d, i) => {
    const [a, b] = windows[i]!;
    const across = writes.filter((w) => w.start <= b && w.end >= a);
    const slowest = across.length ? Math.max(...across.map((w) => w.end - w.start)) : null;
    return { ...d, slowestWriteMs: slowest === null ? null : round(slowest), writesAcross: across.length };
  });
  const calm = writes.filter((w) => w.ok && !windows.some(([a, b]) => w.start <= b && w.end >= a)).map((w) => w.end - w.start);
  const read = await http.call("GET", `/clusters/${p.name}/kv/${key}?timeoutMs=10000`);
  const value = read.status === 200 && typeof read.body?.value === "string" ? (read.body.value as string) : "";
  const found = value.split(",").filter((x) => x !== "").map(Number);
  const acked = writes.filter((w) => w.ok).map((w) => w.id);
  const ackedSet = new Set(acked);
  const counts = new Map<number, number>();
  for (const id of found) counts.set(id, (counts.get(id) ?? 0) + 1);
  const lost = acked.filter((id) => !counts.has(id)).length;
  const duplicated = [...counts.values()].filter((c) => c > 1).length;
  const unacknowledgedApplied = [...counts.keys()].filter((id) => !ackedSet.has(id)).length;
  const outOfOrder = found.some((id, i) => i > 0 && id <= found[i - 1]!);
  const ts = terms(start);
  const te = terms(end);
  return {
    deploys: deploysOut,
    writesAcked: acked.length,
    retriedAnswers: retried,
    abandoned: writes.filter((w) => !w.ok).length,
    lost,
    duplicated,
    unacknowledgedApplied,
    outOfOrder,
    calmWriteMs: roundSummary(summarize(calm)),
    termsStart: ts,
    termsEnd: te,
    elections: deploysOut.reduce((a, d) => a + d.termChanges, 0),
    finalRead: read.status === 200 ? `200, ${found.length} ids` : `${read.status} ${JSON.stringify(read.body)}`,
  };
}

export async function measureSleep(http: Http, o: SleepOptions, progress: (line: string) => void): Promise<SleepResult> {
  const stamp = Date.now().toString(36);
  const failures: string[] = [];
  const empty = (why: string): SleepResult => ({
    unavailable: why,
    size: SIZE,
    sleepAfterMs: null,
    awake: null,
    asleep: null,
    fellAsleepMs: null,
    awakeWrites: null,
    defaultWrites: null,
    cycles: [],
    deploys: null,
    failures,
  });
  // 1. Never sleeps: the behaviour before issue 11.
  const never = new Probe(http, `sleep0-${stamp}`, o.profiled);
  const created = await http.call("POST", `/clusters/${never.name}`, { size: SIZE, sleepAfterMs: 0 });
  if (created.status !== 201) return empty(`POST /clusters with {"sleepAfterMs": 0} answered ${created.status} ${JSON.stringify(created.body)}`);
  let awake: IdleRates;
  let awakeWrites: WriteCost;
  try {
    await never.stable();
    const w = await never.put(0);
    if (w.status !== 200) return empty(`kv put answered ${w.status} ${JSON.stringify(w.body)}`);
    await sleep(500);
    progress(`sleep: awake idle window (sleepAfterMs 0), ${o.idleMs} ms`);
    awake = await idleWindow(never, o.idleMs);
    awakeWrites = await writeCost(never, o.writes, 1);
  } finally {
    await http.call("DELETE", `/clusters/${never.name}`);
  }

  // 2. and 3. The default: falls asleep, wakes on a write.
  const def = new Probe(http, `sleep-${stamp}`, o.profiled);
  await http.ok("POST", `/clusters/${def.name}`, { size: SIZE }, [201]);
  let asleep: IdleRates | null = null;
  let fellAsleepMs: number | null = null;
  let defaultWrites: WriteCost | null = null;
  const cycles: Cycle[] = [];
  let sleepAfterMs: number | null = null;
  try {
    const v = await def.stable();
    sleepAfterMs = v.sleepAfterMs ?? null;
    defaultWrites = await writeCost(def, o.writes, 0);
    fellAsleepMs = round((await def.untilAsleep()).ms);
    await sleep(400); // a pending alarm may fire once more, and finds nothing to do
    progress(`sleep: asleep idle window (default sleepAfterMs ${sleepAfterMs}), ${o.asleepMs} ms`);
    asleep = await idleWindow(def, o.asleepMs);
    progress(`sleep: ${o.cycles} sleep/wake cycles (1 write after sleeping, ${o.warmWrites} warm writes, back to sleep)`);
    for (let c = 0; c < o.cycles; c++) {
      try {
        await def.untilAsleep();
        cycles.push(await cycle(def, o.warmWrites, 10_000 + c * 100));
      } catch (e) {
        failures.push(`cycle ${c}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  } catch (e) {
    failures.push(`sleep: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await http.call("DELETE", `/clusters/${def.name}`);
  }

  // 4. Deploys under a light writer.
  let deployRun: DeployRun | null = null;
  const dep = new Probe(http, `deploy-${stamp}`, false);
  await http.ok("POST", `/clusters/${dep.name}`, { size: SIZE }, [201]);
  try {
    await dep.stable();
    progress(`sleep: ${o.deploys} deploys (POST /clusters/{c}/evict) ${o.deployGapMs} ms apart under one sequential writer`);
    deployRun = await deploys(http, dep, o.deploys, o.deployGapMs, progress);
  } catch (e) {
    failures.push(`deploys: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await http.call("DELETE", `/clusters/${dep.name}`);
  }
  return { unavailable: null, size: SIZE, sleepAfterMs, awake, asleep, fellAsleepMs, awakeWrites, defaultWrites, cycles, deploys: deployRun, failures };
}
