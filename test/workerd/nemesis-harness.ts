// What the Jepsen-style nemesis tests share (kv-nemesis.test.ts, membership-nemesis.test.ts):
// the run's seed and its PRNGs, the clients' loop that records every operation for the
// linearizability checker, and the end of a run: final reads, the checker's verdict, the
// report, and every server converging to what the final reads saw.
//
// Outcomes, as the client library reports them:
//   ok       an answer: recorded with its output and return time;
//   unknown  the call ran out of time after an attempt that may have been applied (a 504 or
//            a lost answer, `maybeApplied`): recorded with no return (it may take effect at
//            any later time, or never);
//   failed   definitely not applied (503 on every attempt): left out of the history.
// Clients retry with the same exactly-once ids until their deadline, so most operations
// the nemesis disturbs still end "ok"; the unknowns stay few and the search stays small.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { KvError, type KvClient } from "../../src/client/index.ts";
import type { KvOperation } from "../../src/kv/command.ts";
import type { KvResult } from "../../src/kv/results.ts";
import { checkKvHistory, explainReport } from "../lin/checker.ts";
import { HistoryRecorder } from "../lin/history.ts";
import { kvModel } from "../lin/kv-model.ts";
import { sleep, type Harness } from "./harness.ts";
import { call, eventually, kvClient, storedData } from "./kv-harness.ts";

export const CLIENTS = 5;
export const KEYS = ["x", "y", "z"];

export type Recorder = HistoryRecorder<KvOperation, KvResult>;

export interface Tally {
  attempted: number;
  ok: number;
  unknown: number;
  failed: number;
  /** Errors that are neither "unavailable" nor "timeout": each one is a bug. */
  unexpected: string[];
}

/** A small PRNG (xorshift32) per actor, each seeded from the run's seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

export const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** The run's seed: NEMESIS_SEED when set (a replay), else a fresh one. */
export function runSeed(): number {
  const fixed = (env as { NEMESIS_SEED?: string }).NEMESIS_SEED ?? "";
  if (fixed === "") return Math.floor(Math.random() * 2 ** 32);
  if (!/^\d{1,10}$/.test(fixed)) throw new Error(`NEMESIS_SEED=${JSON.stringify(fixed)}: an integer 0..4294967295`);
  return Number(fixed) >>> 0;
}

/** One client's loop: random operations, one at a time, until `stop()` says so. */
export async function runClient(id: number, seed: number, client: KvClient, rec: Recorder, tally: Tally, stop: () => boolean): Promise<void> {
  const r = rng(seed + 1000 + id * 7919);
  const lastSeen = new Map<string, string>(); // for CAS operands that sometimes match
  let seq = 0;
  while (!stop()) {
    const key = pick(r, KEYS);
    const roll = r();
    const value = `${id}.${seq++};`; // unique: a read tells which writes it saw
    const input: KvOperation =
      roll < 0.35
        ? { op: "get", key }
        : roll < 0.55
          ? { op: "put", key, value }
          : roll < 0.85
            ? { op: "append", key, value }
            : { op: "cas", key, compare: lastSeen.get(key) ?? value, value };
    tally.attempted++;
    const handle = rec.invoke(id, input);
    try {
      const out = await perform(client, input);
      rec.ok(handle, out);
      tally.ok++;
      if ("value" in out && out.value !== null) lastSeen.set(key, out.value);
      if ("prev" in out && out.prev !== null && input.op !== "get") lastSeen.set(key, out.prev);
    } catch (e) {
      if (!(e instanceof KvError)) throw e;
      if (e.status !== 503 && e.status !== 504) tally.unexpected.push(`${e.status} ${e.code}: ${e.message}`);
      if (e.maybeApplied) {
        rec.unknown(handle);
        tally.unknown++;
      } else {
        rec.fail(handle);
        tally.failed++;
      }
    }
  }
}

function perform(c: KvClient, input: KvOperation): Promise<KvResult> {
  switch (input.op) {
    case "get":
      return c.get(input.key);
    case "put":
      return c.put(input.key, input.value);
    case "append":
      return c.append(input.key, input.value);
    case "cas":
      return c.cas(input.key, input.compare, input.value);
    case "delete":
      throw new Error("the nemesis workload draws no deletes (the typed client has no delete yet)");
  }
}

/**
 * The clients of a run, started. Patient clients: each request may wait 1 s at the
 * coordinator, a call keeps retrying (same ids) for 4 s, which outlasts most faults.
 * Impatient ones (the last two) give up after 0.7 s, so some of their calls end "unknown"
 * and may take effect after the client has moved on: the case the checker's unknown
 * outcomes are for.
 */
export function startClients(h: Harness, seed: number, rec: Recorder, tally: Tally, stop: () => boolean): Promise<void[]> {
  return Promise.all(
    Array.from({ length: CLIENTS }, (_, id) =>
      runClient(
        id,
        seed,
        id < CLIENTS - 2
          ? kvClient(h, { coordinatorTimeoutMs: 1_000, deadlineMs: 4_000, attemptTimeoutMs: 2_000 })
          : kvClient(h, { coordinatorTimeoutMs: 250, deadlineMs: 700, attemptTimeoutMs: 400 }),
        rec,
        tally,
        stop,
      ),
    ),
  );
}

export function newTally(): Tally {
  return { attempted: 0, ok: 0, unknown: 0, failed: 0, unexpected: [] };
}

export interface RunRecord {
  readonly seed: number;
  readonly rec: Recorder;
  readonly tally: Tally;
  /** The nemesis's schedule, one line per round: "+1234ms <kind> ...". */
  readonly nemesisLog: readonly string[];
  readonly runMs: number;
  /** Fewer successes than this means the service was not available enough to matter. */
  readonly minOk: number;
  /** The servers whose stored state must converge to the final reads. */
  readonly servers: readonly number[];
  /** Extra lines for the report. */
  readonly notes?: readonly string[];
}

/**
 * The end of a run, once the nemesis has healed everything and the clients have stopped:
 * final reads (part of the history), the report, the checker's verdict (linearizable, and a
 * forged read makes it fail), enough successes, and every server in `servers` holding what
 * the final reads saw.
 */
export async function finishRun(h: Harness, run: RunRecord): Promise<void> {
  const { seed, rec, tally, nemesisLog, runMs } = run;
  // Final reads, part of the history: what every server must converge to.
  const reader = kvClient(h, { deadlineMs: 10_000 });
  const final: Record<string, string | null> = {};
  for (const key of KEYS) {
    const handle = rec.invoke("final", { op: "get", key });
    const out = await reader.get(key);
    rec.ok(handle, out);
    final[key] = out.value;
  }

  const history = rec.history();
  const latencies = history.filter((o) => o.ret !== Infinity).map((o) => o.ret - o.call).sort((a, b) => a - b);
  const quantile = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  const terms = ((await call("GET", `/clusters/${h.name}`)).body.servers as Array<{ term: number }>).map((st) => st.term);
  const report = checkKvHistory(history, { timeoutMs: 20_000 });
  const unknownWrites = history.filter((o) => o.ret === Infinity && o.input.op !== "get").length;
  console.log(
    [
      `nemesis run (seed ${seed}): ${runMs} ms, ${nemesisLog.length} fault rounds (${summarize(nemesisLog)})`,
      `schedule: ${nemesisLog.join("; ")}`,
      ...(run.notes ?? []),
      `operations: attempted ${tally.attempted}, succeeded ${tally.ok}, unknown ${tally.unknown} (${unknownWrites} writes), failed ${tally.failed}`,
      `latency of successful operations: p50 ${quantile(0.5)} ms, p99 ${quantile(0.99)} ms, max ${quantile(1)} ms; final term ${Math.max(...terms)}`,
      `checker: verdict ${report.verdict} in ${report.elapsedMs} ms over ${history.length} operations, ` +
        `${report.partitions.length} keys, ${report.partitions.reduce((s, p) => s + p.steps, 0)} search steps`,
    ].join("\n"),
  );

  expect(tally.unexpected, "errors other than 503/504").toEqual([]);
  if (report.verdict === "unknown") {
    throw new Error(`the checker could not decide within its budget (${report.elapsedMs} ms): inconclusive, not a pass`);
  }
  expect(report.verdict, explainReport(kvModel, history, report)).toBe("ok");
  expect(tally.ok, "successful operations").toBeGreaterThanOrEqual(run.minOk);

  // The history constrains: with one read's answer altered to a value nobody wrote, the
  // same check must fail. (A history that any answer would fit proves nothing.)
  const read = history.findIndex((o) => o.ret !== Infinity && o.input.op === "get" && (o.output as { value: string | null }).value !== null);
  expect(read, "a successful read of a present key").toBeGreaterThanOrEqual(0);
  const forged = history.map((o, i) => (i === read ? { ...o, output: { found: true, value: "never written" } } : o));
  expect(checkKvHistory(forged, { timeoutMs: 20_000 }).verdict).toBe("illegal");

  // Every server ends holding what the final reads saw (the restarted ones catch up).
  const want = Object.fromEntries(Object.entries(final).filter(([, v]) => v !== null)) as Record<string, string>;
  for (const i of run.servers) {
    await eventually(`server ${i} converges`, async () => {
      const data = await storedData(h, i);
      const diff = KEYS.filter((k) => (data[k] ?? null) !== (want[k] ?? null));
      return diff.length === 0 || `differs on ${diff.join(", ")}`;
    }, 10_000);
  }
}

/**
 * A run: the clients from the start, the nemesis for `runMs`, then `calmMs` of clients alone
 * (so operations the last fault held up can finish), then the clients' last calls.
 */
export async function clientsUnderNemesis(
  h: Harness,
  seed: number,
  timing: { readonly runMs: number; readonly calmMs: number },
  nemesis: (stop: () => boolean) => Promise<void>,
): Promise<{ rec: Recorder; tally: Tally; runMs: number }> {
  const started = performance.now();
  const rec: Recorder = new HistoryRecorder(() => performance.now() - started);
  const tally = newTally();
  let nemesisOn = true;
  let clientsOn = true;
  const clients = startClients(h, seed, rec, tally, () => !clientsOn);
  const running = nemesis(() => !nemesisOn);
  await sleep(timing.runMs);
  nemesisOn = false;
  await running;
  await sleep(timing.calmMs);
  clientsOn = false;
  await clients;
  return { rec, tally, runMs: Math.round(performance.now() - started) };
}

export type FaultKind = "partition" | "crash" | "disconnect" | "crash+partition";

/**
 * One round's fault on `victims` (for crash+partition: [crashed, cut off]) among `all`,
 * through the admin routes. Answers the servers it crashed, to restart when it is undone.
 */
export async function injectFault(
  kind: FaultKind,
  victims: readonly number[],
  all: readonly number[],
  r: () => number,
  post: (path: string, body?: unknown) => Promise<unknown>,
): Promise<number[]> {
  switch (kind) {
    case "partition": {
      const rest = all.filter((i) => !victims.includes(i));
      // The minority as one group or each on its own.
      const groups = r() < 0.5 ? [rest, [...victims]] : [rest, ...victims.map((v) => [v])];
      await post("partition", { groups });
      return [];
    }
    case "disconnect":
      for (const v of victims) await post(`servers/${v}/disconnect`);
      return [];
    case "crash":
      for (const v of victims) await post(`servers/${v}/crash`);
      return [...victims];
    case "crash+partition": {
      const [a, b] = victims as [number, number];
      await post(`servers/${a}/crash`);
      await post("partition", { groups: [all.filter((i) => i !== b), [b]] });
      return [a];
    }
  }
}

/** "partition 3, crash 2, lossy 1": how many rounds of each kind (the word after the time). */
export function summarize(log: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const line of log) {
    const kind = line.split(" ")[1]!;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const lossy = log.filter((l) => l.endsWith("lossy")).length;
  return [...[...counts].map(([k, n]) => `${k} ${n}`), `lossy ${lossy}`].join(", ");
}
