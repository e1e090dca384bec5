// Catch-up under load (issue 23.1): how long a follower that was down takes to get back
// within its leader's kept tail (its log reaches the leader's snapshot index, so appends
// serve it again), while writes go on at 0 %, 50 % and 90 % of the group's write capacity,
// against the size of the key/value state a snapshot carries.
//
// Per state size, one three-server cluster with the default options (snapshotThreshold 1000,
// snapshotChunkBytes 256 KiB):
//   1. fill: keys of VALUE_BYTES each until the state holds about `stateBytes`;
//   2. capacity: CAPACITY_CLIENTS closed-loop clients overwrite those keys for `capacityMs`;
//      the group's write capacity is their puts per second;
//   3. per load fraction f: crash a follower; DOWN_WRITES overwrites (more than a threshold, so
//      the others' snapshots pass its log); start an open-loop load of f × capacity puts/s
//      (paced by the clock, at most MAX_OUTSTANDING in flight); restart the follower; poll
//      every POLL_MS until it is within the leader's kept tail and has installed a snapshot,
//      or `deadlineMs` pass. Catch-up time is from the restart call to that poll.
// The state's size stays the same during the load (overwrites of the same keys), so the
// transfer size is the state size.
//
// Self-contained: `npx tsx bench/suites/catchup.ts [--quick] [--delay lo,hi] [--chunk bytes]` bundles bench/worker.ts, runs
// this suite alone and prints its table (stdout) and JSON (bench/results-catchup.json); a
// runner may also call measureCatchUp with its own Http and catchUpMarkdown on the result.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Http, sleep } from "../lib/http.ts";
import { bundle, REPO, start } from "../lib/runtime.ts";
import { round } from "../lib/stats.ts";

export interface CatchUpOptions {
  /** Approximate key/value state sizes, bytes of values. */
  readonly stateBytes: readonly number[];
  /** Load as fractions of the measured capacity. */
  readonly loads: readonly number[];
  readonly capacityMs: number;
  /** How long a follower may take before the case counts as "never caught up". */
  readonly deadlineMs: number;
  /** Every message delayed this long, ms (POST .../network), from the capacity phase on; absent: no delay. */
  readonly delayMs?: readonly [number, number];
  /** The cluster's snapshotChunkBytes (absent: the default, 256 KiB). */
  readonly snapshotChunkBytes?: number;
}

export interface CatchUpCase {
  readonly stateBytes: number;
  readonly load: number;
  /** Puts per second asked for, and answered 200 per second during the catch-up. */
  readonly targetWritesPerS: number;
  readonly achievedWritesPerS: number;
  /** Restart → within the kept tail, ms (null: not within deadlineMs). */
  readonly catchUpMs: number | null;
  /** Snapshots the follower installed since its restart. */
  readonly snapshotsInstalled: number;
  readonly errors: Record<string, number>;
}

export interface CatchUpSize {
  readonly stateBytes: number;
  /** The leader's snapshot as sent: characters of JSON (from its narration), when found. */
  readonly snapshotChars: number | null;
  readonly capacityWritesPerS: number;
  readonly cases: CatchUpCase[];
}

export interface CatchUpResult {
  readonly unavailable: string | null;
  readonly delayMs: readonly [number, number] | null;
  readonly snapshotChunkBytes: number | null;
  readonly sizes: CatchUpSize[];
}

const VALUE_BYTES = 4096;
const CAPACITY_CLIENTS = 16;
const DOWN_WRITES = 1200;
const MAX_OUTSTANDING = 64;
const POLL_MS = 25;

interface ServerView {
  readonly state: string;
  readonly logLength: number;
  readonly snapshotIndex: number;
  readonly stats: { readonly snapshotsInstalled: number };
}

export async function measureCatchUp(http: Http, o: CatchUpOptions, progress: (line: string) => void): Promise<CatchUpResult> {
  const sizes: CatchUpSize[] = [];
  const result = (unavailable: string | null): CatchUpResult => ({
    unavailable,
    delayMs: o.delayMs ?? null,
    snapshotChunkBytes: o.snapshotChunkBytes ?? null,
    sizes,
  });
  for (const stateBytes of o.stateBytes) {
    const name = `catchup${stateBytes}-${Date.now().toString(36)}`;
    const created = await http.call("POST", `/clusters/${name}`, { size: 3, ...(o.snapshotChunkBytes ? { snapshotChunkBytes: o.snapshotChunkBytes } : {}) });
    if (created.status !== 201) return result(`POST /clusters/{c} answered ${created.status} ${JSON.stringify(created.body)}`);
    try {
      const keys = Math.max(1, Math.round(stateBytes / VALUE_BYTES));
      const put = (i: number) => http.call("PUT", `/clusters/${name}/kv/k${i % keys}`, { value: `${i}:`.padEnd(VALUE_BYTES, "x") });
      progress(`catch-up, state ${kib(stateBytes)}: fill ${keys} keys of ${VALUE_BYTES} bytes`);
      await closedLoop(put, CAPACITY_CLIENTS, { count: keys });
      if (o.delayMs) await http.ok("POST", `/clusters/${name}/network`, { delayMs: o.delayMs });
      const cap = await closedLoop((i) => put(keys + i), CAPACITY_CLIENTS, { ms: o.capacityMs });
      const capacity = round(cap.ok / (o.capacityMs / 1000));
      progress(`catch-up, state ${kib(stateBytes)}: capacity ${capacity} puts/s (${CAPACITY_CLIENTS} clients)`);
      const cases: CatchUpCase[] = [];
      let next = 1_000_000;
      for (const load of o.loads) {
        const leader = await waitLeader(http, name);
        const victim = (leader + 1) % 3;
        await http.ok("POST", `/clusters/${name}/servers/${victim}/crash`);
        await closedLoop((i) => put(next + i), CAPACITY_CLIENTS, { count: DOWN_WRITES });
        next += DOWN_WRITES;
        const target = round(load * capacity);
        const writer = openLoop((i) => put(next + i), target);
        const t0 = performance.now();
        await http.ok("POST", `/clusters/${name}/servers/${victim}/restart`);
        let catchUpMs: number | null = null;
        let installed = 0;
        while (performance.now() - t0 < o.deadlineMs) {
          const view = await http.ok<{ leader: number | null; servers: ServerView[] }>("GET", `/clusters/${name}`);
          const v = view.servers[victim]!;
          installed = v.stats.snapshotsInstalled;
          const l = view.leader === null ? null : view.servers[view.leader]!;
          if (l && view.leader !== victim && installed > 0 && v.logLength >= l.snapshotIndex) {
            catchUpMs = round(performance.now() - t0);
            break;
          }
          await sleep(POLL_MS);
        }
        const done = await writer.stop();
        next += done.issued;
        const seconds = (performance.now() - t0) / 1000;
        cases.push({
          stateBytes,
          load,
          targetWritesPerS: target,
          achievedWritesPerS: round(done.ok / seconds),
          catchUpMs,
          snapshotsInstalled: installed,
          errors: done.errors,
        });
        progress(`catch-up, state ${kib(stateBytes)}, load ${load * 100} %: ${catchUpMs === null ? "not caught up" : `${catchUpMs} ms`}, ${installed} snapshot(s)`);
      }
      sizes.push({ stateBytes, snapshotChars: await snapshotChars(http, name), capacityWritesPerS: capacity, cases });
    } finally {
      await http.call("DELETE", `/clusters/${name}`, undefined, 120_000);
    }
  }
  return result(null);
}

export function catchUpMarkdown(r: CatchUpResult): string {
  if (r.unavailable) return `Not measured: ${r.unavailable}\n`;
  const setting =
    `Three servers, snapshotThreshold 1000, snapshotChunkBytes ${r.snapshotChunkBytes ?? "262144 (default)"}, ` +
    `${r.delayMs ? `every message delayed ${r.delayMs[0]}–${r.delayMs[1]} ms` : "no link delay"}; values of ${VALUE_BYTES} bytes.\n\n`;
  const rows = r.sizes.flatMap((s) =>
    s.cases.map(
      (c) =>
        `| ${kib(s.stateBytes)}${s.snapshotChars ? ` (${kib(s.snapshotChars)} JSON)` : ""} | ${s.capacityWritesPerS} | ${c.load * 100} % (${c.targetWritesPerS}/s asked, ${c.achievedWritesPerS}/s done) | ` +
        `${c.catchUpMs === null ? "not within the deadline" : `${c.catchUpMs} ms`} | ${c.snapshotsInstalled} |`,
    ),
  );
  return setting + [
    "| state | capacity, puts/s | load | restart → within the kept tail | snapshots installed |",
    "|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

function kib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${round(bytes / 1024 / 1024)} MiB` : `${round(bytes / 1024)} KiB`;
}

async function waitLeader(http: Http, name: string): Promise<number> {
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    const v = await http.ok<{ leader: number | null }>("GET", `/clusters/${name}`);
    if (v.leader !== null) return v.leader;
    await sleep(20);
  }
  throw new Error(`cluster ${name} elected no leader within 10 s`);
}

/** The size of the last snapshot a server of the cluster sent, from the narration ("... N characters in M chunk(s)"). */
async function snapshotChars(http: Http, name: string): Promise<number | null> {
  const a = await http.call("GET", `/clusters/${name}/events?since=0`);
  const lines: string[] = a.status === 200 ? a.body.events.map((e: { line: string }) => e.line) : [];
  const sent = lines.map((l) => / the state machine at index \d+ \(term \d+\): (\d+) characters/.exec(l)?.[1]).filter((n) => n !== undefined);
  return sent.length > 0 ? Number(sent[sent.length - 1]) : null;
}

interface Tally {
  ok: number;
  issued: number;
  errors: Record<string, number>;
}

/** `clients` clients putting back to back, for a count of puts or a time. */
async function closedLoop(put: (i: number) => Promise<{ status: number }>, clients: number, stop: { count?: number; ms?: number }): Promise<Tally> {
  const t: Tally = { ok: 0, issued: 0, errors: {} };
  const t0 = performance.now();
  const more = () => (stop.count !== undefined ? t.issued < stop.count : performance.now() - t0 < stop.ms!);
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (more()) {
        const a = await put(t.issued++);
        if (a.status === 200) t.ok++;
        else t.errors[String(a.status)] = (t.errors[String(a.status)] ?? 0) + 1;
      }
    }),
  );
  return t;
}

/** Puts at `perS` per second, paced by the clock (a slow put does not slow the rate), until stopped. */
function openLoop(put: (i: number) => Promise<{ status: number }>, perS: number): { stop(): Promise<Tally> } {
  const t: Tally = { ok: 0, issued: 0, errors: {} };
  const inFlight = new Set<Promise<unknown>>();
  let stopped = perS <= 0;
  const t0 = performance.now();
  const loop = (async () => {
    while (!stopped) {
      const due = t0 + (t.issued * 1000) / perS;
      if (due > performance.now()) await sleep(due - performance.now());
      if (stopped) break;
      if (inFlight.size >= MAX_OUTSTANDING) {
        await Promise.race(inFlight);
        continue;
      }
      const p = put(t.issued++).then((a) => {
        if (a.status === 200) t.ok++;
        else t.errors[String(a.status)] = (t.errors[String(a.status)] ?? 0) + 1;
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await Promise.all(inFlight);
      return t;
    },
  };
}

/** `npx tsx bench/suites/catchup.ts [--quick] [--delay 4,6] [--chunk 4096]`: this suite alone. */
async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const arg = (flag: string) => {
    const i = process.argv.indexOf(flag);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const delay = arg("--delay")?.split(",").map(Number); // --delay 4,6
  const chunk = arg("--chunk"); // --chunk 4096
  const progress = (line: string) => process.stderr.write(`[catch-up ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  const dir = mkdtempSync(join(tmpdir(), "raft-bench-"));
  const rt = await start(bundle(join(dir, "dist")), join(dir, "storage"), false);
  const http = await Http.open(rt.mf, "undici");
  try {
    const began = performance.now();
    const result = await measureCatchUp(
      http,
      {
        stateBytes: quick ? [256 * 1024, 1024 * 1024] : [256 * 1024, 1024 * 1024, 4 * 1024 * 1024],
        loads: [0, 0.5, 0.9],
        capacityMs: quick ? 2_000 : 4_000,
        deadlineMs: 60_000,
        ...(delay && delay.length === 2 ? { delayMs: [delay[0]!, delay[1]!] as const } : {}),
        ...(chunk ? { snapshotChunkBytes: Number(chunk) } : {}),
      },
      progress,
    );
    const out = resolve(REPO, "bench/results-catchup.json");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), seconds: round((performance.now() - began) / 1000), result }, null, 2) + "\n");
    process.stdout.write(`### Catch-up under load\n\n${catchUpMarkdown(result)}`);
  } finally {
    await http.close();
    await rt.mf.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) void main();
