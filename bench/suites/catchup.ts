// Catch-up under load (issue 23.1): how long a follower that was down takes to get within its leader's
// kept tail (a snapshot installed) while writes go on at 0, 50 and 90 % of capacity, per state size.
// Per load: crash a follower, write DOWN_WRITES (past a snapshot), start an open-loop writer, restart it, poll.
// Overwrites keep the state's size fixed. Not in the full run (minutes of multi-MiB snapshots).
import { Cluster } from "../lib/cluster.ts";
import { sleep, type Answer } from "../lib/http.ts";
import { concurrent, closedLoop } from "../lib/load.ts";
import { fmt, table } from "../lib/render.ts";
import { round, tally } from "../lib/stats.ts";
import type { Ctx, Suite } from "../lib/suite.ts";

const VALUE_BYTES = 4096;
const CLIENTS = 16;
const DOWN_WRITES = 1200;
const MAX_IN_FLIGHT = 64;
const LOADS = [0, 0.5, 0.9];
const kib = (b: number) => (b >= 1 << 20 ? `${round(b / (1 << 20))} MiB` : `${round(b / 1024)} KiB`);

/** catchUpMs: restart → within the kept tail; null: not within the deadline. */
type Case = { load: number; targetWritesPerS: number; achievedWritesPerS: number; catchUpMs: number | null; snapshotsInstalled: number; errors: Record<string, number> };

async function measure({ http, o, profiled, progress }: Ctx) {
  const deadlineMs = 60_000;
  const sizes = [];
  for (const stateBytes of o.quick ? [256 << 10, 1 << 20] : [256 << 10, 1 << 20, 4 << 20]) {
    const keys = Math.max(1, Math.round(stateBytes / VALUE_BYTES));
    const name = `catchup${stateBytes}-${Date.now().toString(36)}`;
    let n = 0;
    const put = () => http.call("PUT", `/clusters/${name}/kv/k${n % keys}`, { value: `${n++}:`.padEnd(VALUE_BYTES, "x") });
    const r = await Cluster.with(http, name, { size: 3 }, profiled, async (c) => {
      progress(`catch-up, state ${kib(stateBytes)}: fill ${keys} keys of ${VALUE_BYTES} bytes, then capacity over ${o.phaseMs} ms`);
      await closedLoop(put, CLIENTS, { count: keys });
      const capacity = (await concurrent(put, CLIENTS, o.phaseMs)).throughput;
      const cases: Case[] = [];
      for (const load of LOADS) {
        const victim = ((await c.stable(30_000)).leader! + 1) % 3;
        await http.ok("POST", `/clusters/${name}/servers/${victim}/crash`);
        await closedLoop(put, CLIENTS, { count: DOWN_WRITES });
        const writer = openLoop(put, load * capacity);
        const t0 = performance.now();
        await http.ok("POST", `/clusters/${name}/servers/${victim}/restart`);
        let [catchUpMs, installed]: [number | null, number] = [null, 0];
        while (catchUpMs === null && performance.now() - t0 < deadlineMs) {
          const v = await http.ok<{ leader: number | null; servers: Array<{ logLength: number; snapshotIndex: number; stats: { snapshotsInstalled: number } }> }>("GET", `/clusters/${name}`);
          installed = v.servers[victim]!.stats.snapshotsInstalled;
          const l = v.leader === null || v.leader === victim ? null : v.servers[v.leader]!;
          if (l && installed > 0 && v.servers[victim]!.logLength >= l.snapshotIndex) catchUpMs = round(performance.now() - t0);
          else await sleep(25);
        }
        const done = await writer.stop();
        const achieved = round(done.ok / ((performance.now() - t0) / 1000));
        cases.push({ load, targetWritesPerS: round(load * capacity), achievedWritesPerS: achieved, catchUpMs, snapshotsInstalled: installed, errors: done.errors });
        progress(`catch-up, state ${kib(stateBytes)}, load ${load * 100} %: ${catchUpMs === null ? "not caught up" : `${catchUpMs} ms`}, ${installed} snapshot(s)`);
      }
      // The snapshot's size as sent, from the leader's narration of a completed transfer ("... R rows, N characters in M chunk(s), T ms").
      const events = await http.call("GET", `/clusters/${name}/events?since=0`);
      const sent = (events.status === 200 ? (events.body.events as Array<{ line: string }>) : []).map((e) => / the state machine at index \d+ \(term \d+\): \d+ rows, (\d+) characters/.exec(e.line)?.[1]).filter((x) => x);
      return { stateBytes, snapshotChars: sent.length ? Number(sent.at(-1)) : null, capacityWritesPerS: capacity, cases };
    });
    if (typeof r === "string") return { unavailable: r, sizes };
    sizes.push(r);
  }
  return { unavailable: null as string | null, sizes };
}

/** Puts at `perS` a second paced by the clock (a slow put does not slow the rate), at most MAX_IN_FLIGHT at once. */
function openLoop(put: () => Promise<Answer>, perS: number) {
  const t = { ok: 0, errors: {} as Record<string, number> };
  const inFlight = new Set<Promise<unknown>>();
  let [issued, stopped] = [0, perS <= 0];
  const t0 = performance.now();
  const loop = (async () => {
    while (!stopped) {
      const due = t0 + (issued * 1000) / perS - performance.now();
      if (due > 0) await sleep(due);
      if (stopped) break;
      if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      issued++;
      const p = put().then((a) => (a.status === 200 ? t.ok++ : tally(t.errors, a.status)));
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
  })();
  return { stop: async () => ((stopped = true), await loop, await Promise.all(inFlight), t) };
}

export type CatchUpResult = Awaited<ReturnType<typeof measure>>;

function catchUpTable(r: CatchUpResult): string {
  if (r.unavailable) return `Not measured: ${r.unavailable}.`;
  const rows = r.sizes.flatMap((s) =>
    s.cases.map((c) => [
      `${kib(s.stateBytes)}${s.snapshotChars ? ` (${kib(s.snapshotChars)} JSON)` : ""}`,
      fmt(s.capacityWritesPerS, 0),
      `${c.load * 100} % (${fmt(c.targetWritesPerS, 0)}/s asked, ${fmt(c.achievedWritesPerS, 0)}/s done)`,
      c.catchUpMs === null ? "not within 60 s" : `${fmt(c.catchUpMs, 0)} ms`,
      String(c.snapshotsInstalled),
    ]),
  );
  const caption = `Three servers, default snapshotThreshold and snapshotChunkBytes, no link delay; values of ${VALUE_BYTES} bytes, ${CLIENTS} clients for the capacity, ${DOWN_WRITES} writes while the follower is down.`;
  return [table(["state", "capacity (puts/s)", "load", "restart → within the kept tail", "snapshots installed"], rows), caption].join("\n\n");
}

export const catchup: Suite<CatchUpResult> = { name: "catchup", full: false, url: false, about: "a follower that was down catching up at 0/50/90 % of write capacity, against state size (about 1 minute; not in the full run)", run: measure, sections: (r) => [["Catch-up under load", catchUpTable(r)]] };
