// The store at scale (issue 20, item 1): a 3-server cluster filled with --scale-keys keys of 1 KB, one
// PUT /kv each from many clients, against the same shape empty in the same run: every server reset and
// loaded again, workerd's resident memory, a learner added and caught up. Figures are ratios within the
// run (the machine is noisy). Not in the full run (minutes of filling).
import { Cluster, message, type ClusterView } from "../lib/cluster.ts";
import { sleep, type Answer } from "../lib/http.ts";
import { closedLoop } from "../lib/load.ts";
import { workerdPid } from "../lib/cpu.ts";
import { workerdRssBytes } from "../lib/memory.ts";
import { fmt, ratio, table, verdict, type Value } from "../lib/render.ts";
import { median, round, sum, summarize } from "../lib/stats.ts";
import type { Ctx, Suite } from "../lib/suite.ts";

const VALUE_BYTES = 1024;
const CLIENTS = 64;
const TRIES = 5; // a put answered 503/504 (a leader change) is sent again: the key must exist
const CATCH_UP_DEADLINE_MS = 600_000;
const RESTARTS = 3;
const STATUS_TIMEOUT_MS = 300_000; // a first status may wait for a whole data set to load
const mib = (b: Value) => (b === null || b === undefined ? null : b / (1 << 20));

/** The cluster's status, waiting as long as loading takes; null when it did not answer 200. */
async function status(c: Cluster): Promise<ClusterView | null> {
  const a = await c.http.call("GET", `/clusters/${c.name}`, undefined, STATUS_TIMEOUT_MS);
  return a.status === 200 ? (a.body as ClusterView) : null;
}

type Status = ClusterView["servers"][number] & { lastApplied: number; stats: { snapshotsInstalled: number } };

async function measure({ http, o, progress, restartWorkerd }: Ctx) {
  const tag = Date.now().toString(36);
  const keys = o.scaleKeys;
  const r = await Cluster.with(http, `scale-empty-${tag}`, { size: 3 }, false, async (empty) =>
    Cluster.with(http, `scale-full-${tag}`, { size: 3 }, false, async (full) => {
      await Promise.all([empty.stable(30_000), full.stable(30_000)]);
      const rssBefore = workerdRssBytes();
      progress(`scale: fill ${full.name} with ${keys} keys of ${VALUE_BYTES} bytes, ${CLIENTS} clients (workerd RSS ${fmt(mib(rssBefore), 0)} MiB)`);
      // A workerd that died (V8's heap limit: its stderr says "Reached heap limit") is a finding: the phase is named.
      const died: string[] = [];
      const watched = async <T>(phase: string, f: () => Promise<T>): Promise<T> => {
        const pid = workerdPid();
        const r = await f();
        if (pid !== null && workerdPid() !== pid) died.push(phase);
        return r;
      };
      const fill = await watched("the fill", () => fillKeys(full, keys, progress));
      const rssFilled = workerdRssBytes();
      progress(`scale: filled in ${fill.seconds} s (RSS ${fmt(mib(rssFilled), 0)} MiB); ${o.restarts} resets of every server, empty and full`);
      const reset = await watched("the resets", async () => ({ empty: await resets(empty, o.restarts), full: await resets(full, o.restarts) }));
      const rssReloaded = workerdRssBytes();
      progress(`scale: RSS after the resets ${fmt(mib(rssReloaded), 0)} MiB; ${restartWorkerd ? RESTARTS : 0} restarts of workerd`);
      const fresh = restartWorkerd ? await freshLoads(empty, full, restartWorkerd) : null;
      progress(`scale: a learner joins each cluster`);
      const join = await watched("the learners' catch-up", async () => ({ empty: await learnerCatchUp(empty), full: await learnerCatchUp(full) }));
      progress(`scale: learner caught up in ${fmt(join.empty.ms, 0)} ms (empty), ${fmt(join.full.ms, 0)} ms (full)`);
      return { fill, reset, join, fresh, workerdDiedDuring: died, rss: { before: rssBefore, filled: rssFilled, reloaded: rssReloaded } };
    }),
  );
  const base = { keys, valueBytes: VALUE_BYTES, dataBytes: 3 * keys * VALUE_BYTES };
  return typeof r === "string" ? { ...base, unavailable: r, ...NOTHING } : { ...base, unavailable: null, ...r };
}
const NOTHING = { fill: null, reset: null, join: null, fresh: null, workerdDiedDuring: [] as string[], rss: null };

/** `keys` distinct keys of VALUE_BYTES, one put each, CLIENTS at a time; a refused put is sent again (same key, same value). */
async function fillKeys(c: Cluster, keys: number, progress: (line: string) => void) {
  const [value, step] = ["x".repeat(VALUE_BYTES), Math.max(1, Math.round(keys / 10))];
  let next = 0;
  const [retried, lost]: [Record<string, number>, string[]] = [{}, []]; // lost: why the first unanswered puts were
  const put = async (): Promise<Answer> => {
    const k = next++;
    if (k > 0 && k % step === 0) progress(`scale: put ${k} of ${keys}`);
    let a: Answer;
    for (let t = 1; ; t++) {
      a = await c.http.call("PUT", `/clusters/${c.name}/kv/s${k}`, { value }, 60_000);
      if (a.status === 200 || t === TRIES) return a;
      retried[a.status] = (retried[a.status] ?? 0) + 1;
      if (a.status === 0 && lost.length < 3) lost.push(String(a.body?.message));
    }
  };
  const { phase } = await closedLoop(put, CLIENTS, { count: keys });
  return { seconds: phase.seconds, putsPerSec: phase.throughput, ok: phase.ops, failed: phase.errors, retried, lost, workerdCpuMsPerPut: phase.cpuPerOp.workerdMs };
}

/** POST /clusters/{c}/evict `trials` times: it answers once every server, reset, has answered its first call (a wake) and its status; loadedAt tells the reset happened. */
async function resets(c: Cluster, trials: number) {
  const [samples, failures] = [[] as number[], [] as string[]];
  for (let t = 0; t < trials; t++) {
    const before = await c.stable(60_000).catch((e: unknown) => (failures.push(`trial ${t}: ${message(e)}`), null));
    if (!before) continue;
    const t0 = performance.now();
    const a = await c.http.call("POST", `/clusters/${c.name}/evict`, undefined, 300_000);
    const ms = performance.now() - t0;
    const after = (a.body?.servers ?? []) as Status[];
    const fresh = before.servers.every((s) => after.some((x) => x.id === s.id && x.state !== "Dead" && x.stats.loadedAt !== s.stats.loadedAt));
    if (a.status === 200 && fresh) samples.push(ms);
    else failures.push(`trial ${t}: ${a.status === 200 ? "not every server was reset and answering" : `evict answered ${a.status}`} ${JSON.stringify(a.body).slice(0, 300)}`);
  }
  return { ms: summarize(samples), samplesMs: samples.map(round), failures };
}

/**
 * A learner added (POST /members, answered once the configuration holding it commits), then polled until its
 * lastApplied reaches the leader's; the snapshot chunks sent to it counted from the leader's narration
 * ("sends N the state machine at index i (term t): X characters in M chunk(s)").
 */
async function learnerCatchUp(c: Cluster) {
  const [since, t0] = [Date.now() - 1, performance.now()];
  const { id, notes } = await addLearner(c);
  if (typeof id !== "number") return { ms: null, id: null, failure: notes.join("; "), snapshotsInstalled: null, chunks: null, snapshotChars: null };
  let [ms, s]: [number | null, Status | undefined] = [null, undefined];
  while (ms === null && performance.now() - t0 < CATCH_UP_DEADLINE_MS) {
    const v = await status(c);
    if (!v) continue; // busy installing: asked again
    s = v.servers.find((x) => x.id === id) as Status | undefined;
    const leader = v.servers.find((x) => x.id === v.leader) as Status | undefined;
    if (s && leader && s.lastApplied >= leader.lastApplied) ms = round(performance.now() - t0);
    else await sleep(50);
  }
  const events = await c.http.call("GET", `/clusters/${c.name}/events?since=${since}`, undefined, 60_000);
  const lines = events.status === 200 ? (events.body.events as Array<{ line: string }>) : [];
  const re = new RegExp(`sends ${id} the state machine at index \\d+ \\(term \\d+\\): (\\d+) characters in (\\d+) chunk`);
  const sent = lines.map((e) => re.exec(e.line)).filter((m) => m !== null);
  const [chars, chunks] = [1, 2].map((k) => (sent.length ? sum(sent.map((m) => Number(m[k]))) : null));
  return { ms, id, failure: [...notes, ...(ms === null ? [`not caught up within ${CATCH_UP_DEADLINE_MS} ms`] : [])].join("; ") || null, snapshotsInstalled: s?.stats.snapshotsInstalled ?? null, chunks: chunks ?? null, snapshotChars: chars ?? null };
}

/**
 * The cleanest reading of what loaded servers hold: a new workerd process (nothing loaded, no garbage of the fill),
 * then the first status of the empty cluster (each of its servers loads), then of the full one, with workerd's RSS
 * after each. Both clusters asleep first, so no alarm loads an object before its request does; a request to an
 * unknown cluster first loads the Worker and the registry outside either figure. RESTARTS times.
 */
async function freshLoads(empty: Cluster, full: Cluster, restartWorkerd: () => Promise<void>) {
  const trials: Array<{ rssFresh: number | null; rssEmpty: number | null; rssFull: number | null; emptyMs: number; fullMs: number }> = [];
  const failures: string[] = [];
  for (let t = 0; t < RESTARTS; t++) {
    const asleep = await Promise.all([empty, full].map((c) => c.untilAsleep(30_000).then(() => null, (e: unknown) => message(e))));
    failures.push(...asleep.filter((x) => x !== null).map((x) => `restart ${t}: not seen asleep before it (an alarm may load objects before their first status): ${x}`));
    await restartWorkerd();
    const at = Date.now();
    await empty.http.call("GET", "/clusters/scale-warm-up-unknown");
    const rssFresh = workerdRssBytes();
    const first = async (c: Cluster) => {
      const t0 = performance.now();
      const v = await status(c);
      const ms = performance.now() - t0;
      if (!v) failures.push(`restart ${t}, ${c.name}: the first status did not answer within ${STATUS_TIMEOUT_MS} ms`);
      else if (!v.servers.every((s) => s.state !== "Dead" && s.stats.loadedAt >= at)) failures.push(`restart ${t}, ${c.name}: not every server loaded by its first status ${JSON.stringify(v.servers.map((s) => s.stats.loadedAt - at))}`);
      return v ? round(ms) : null;
    };
    const emptyMs = await first(empty);
    const rssEmpty = workerdRssBytes();
    const fullMs = await first(full);
    if (emptyMs !== null && fullMs !== null) trials.push({ rssFresh, rssEmpty, rssFull: workerdRssBytes(), emptyMs, fullMs });
  }
  const med = (f: (x: (typeof trials)[number]) => number | null) => (trials.length === 0 || trials.some((x) => f(x) === null) ? null : median(trials.map((x) => f(x)!)));
  return { trials, failures, emptyMs: med((x) => x.emptyMs), fullMs: med((x) => x.fullMs), rssFresh: med((x) => x.rssFresh), heldEmpty: med((x) => x.rssEmpty! - x.rssFresh!), heldFull: med((x) => x.rssFull! - x.rssEmpty!) };
}

/**
 * POST /members for a learner, its id. An answer lost (status 0, a 5xx) leaves the outcome unknown (API.md):
 * the status tells whether the learner is there, and which servers were reset meanwhile (loadedAt); asked once more if not.
 */
async function addLearner(c: Cluster): Promise<{ id: number | null; notes: string[] }> {
  const notes: string[] = [];
  for (let attempt = 1; attempt <= 2; attempt++) {
    const before = await status(c);
    const a = await c.http.call("POST", `/clusters/${c.name}/members?timeoutMs=60000`, { role: "learner" }, 70_000);
    if (a.status === 200 && typeof a.body?.added === "number") return { id: a.body.added as number, notes };
    const after = await status(c);
    const was = (id: number) => before?.servers.find((x) => x.id === id);
    const added = after?.servers.find((x) => !was(x.id))?.id ?? null;
    const reset = (after?.servers ?? []).filter((x) => was(x.id) && was(x.id)!.stats.loadedAt !== x.stats.loadedAt).map((x) => x.id);
    notes.push(`POST /members answered ${a.status} ${JSON.stringify(a.body).slice(0, 200)}; then ${added === null ? "no new member" : `member ${added} there`}, servers reset meanwhile: [${reset.join(", ")}]`);
    if (added !== null) return { id: added, notes };
  }
  return { id: null, notes };
}

export type ScaleResult = Awaited<ReturnType<typeof measure>>;

function scaleTable(r: ScaleResult): string {
  if (r.unavailable || !r.fill || !r.reset || !r.join || !r.rss) return `Not measured: ${r.unavailable ?? "no results"}.`;
  const { reset, join, rss, fill, fresh } = r;
  const n = r.keys.toLocaleString("en-US");
  const rows: string[][] = [];
  const add = (name: string, e: Value, f: Value, goal = "", digits = 0) => rows.push([name, fmt(e, digits), fmt(f, digits), ratio(f, e), goal]);
  const atMost2 = (e: Value, f: Value) => `≤ 2×: ${verdict(e && f ? f / e <= 2 : null)}`;
  add("reset every server (evict) → each answers its first call, median (ms)", reset.empty.ms.p50, reset.full.ms.p50, atMost2(reset.empty.ms.p50, reset.full.ms.p50));
  add("… slowest (ms)", reset.empty.ms.max, reset.full.ms.max);
  add("new workerd process → the cluster's first status (its 3 servers load), median (ms)", fresh?.emptyMs, fresh?.fullMs, fresh ? atMost2(fresh.emptyMs, fresh.fullMs) : "");
  // What the full cluster's servers hold beyond the empty one's, in a process that has done nothing else.
  const held = fresh && fresh.heldFull !== null && fresh.heldEmpty !== null ? fresh.heldFull - fresh.heldEmpty : null;
  const share = held === null ? null : held / r.dataBytes;
  add("new workerd process: RSS its 3 servers add once loaded (MiB)", mib(fresh?.heldEmpty), mib(fresh?.heldFull), "", 1);
  rows.push([`… the full cluster's beyond the empty one's ÷ the data (3 × ${n} × 1 KiB = ${fmt(mib(r.dataBytes), 0)} MiB)`, "", `${fmt(mib(held), 0)} MiB = ${fmt(share)}`, "", `< 0.25: ${verdict(share === null ? null : share < 0.25)}`]);
  rows.push(["workerd RSS (MiB) in the run's process: both clusters empty / after filling / after the resets", fmt(mib(rss.before), 0), `${fmt(mib(rss.filled), 0)} / ${fmt(mib(rss.reloaded), 0)}`, ratio(rss.reloaded, rss.before), ""]);
  add("learner added → its lastApplied = the leader's (ms)", join.empty.ms, join.full.ms);
  add("… snapshot chunks sent to it", join.empty.chunks, join.full.chunks);
  add("… snapshot sent (MiB of JSON)", mib(join.empty.snapshotChars), mib(join.full.snapshotChars), "", 2);
  add("… snapshots it installed", join.empty.snapshotsInstalled, join.full.snapshotsInstalled);
  const failed = Object.values(fill.failed).reduce((a, b) => a + b, 0);
  const notes = [
    ...r.workerdDiedDuring.map((phase) => `- workerd died during ${phase} (its process was gone; the run's stderr says why, e.g. V8's "Reached heap limit"; the suite's next restart of workerd, if any, brought it back).`),
    ...(["empty", "full"] as const).flatMap((k) => [...reset[k].failures.map((f) => `- reset, ${k}: ${f}.`), ...(join[k].failure ? [`- learner, ${k}: ${join[k].failure}.`] : [])]),
    ...(fresh?.failures ?? []).map((f) => `- new workerd: ${f}.`),
    ...(fresh ? [] : ["- new workerd: not measured (the bench does not own the runtime with `--url`)."]),
    ...(failed ? [`- fill: ${failed} puts failed after ${TRIES} tries ${JSON.stringify(fill.failed)}.`] : []),
  ];
  const caption =
    `Filled with ${n} keys of ${VALUE_BYTES} bytes, one \`PUT /kv\` each, ${CLIENTS} clients: ${fmt(fill.seconds, 0)} s, ${fmt(fill.putsPerSec, 0)} puts/s, workerd CPU ${fmt(fill.workerdCpuMsPerPut)} ms per put` +
    `${Object.keys(fill.retried).length ? `, sent again ${JSON.stringify(fill.retried)}${fill.lost.length ? ` (${fill.lost.join("; ")})` : ""}` : ""}. Reset: \`POST /clusters/{c}/evict\` (every object reset, woken, then its status), ${reset.full.ms.n} times each. ` +
    `New workerd: Miniflare restarted on the same storage with both clusters asleep, then the empty cluster's status, then the full one's, RSS (VmRSS) after each; ${fresh?.trials.length ?? 0} restarts. ` +
    "In the run's process RSS also holds what the fill left for the garbage collector, so that row is an upper bound.";
  return [table(["3 servers", "empty", `${n} keys`, "×empty", "goal (issue 20)"], rows), caption, ...(notes.length ? [notes.join("\n")] : [])].join("\n\n");
}

export const scale: Suite<ScaleResult> = { name: "scale", full: false, url: false, about: "a 3-server cluster holding --scale-keys keys of 1 KB against an empty one: reset and load, workerd memory, a learner catching up (minutes; not in the full run)", run: measure, sections: (r) => [["The store at scale", scaleTable(r)]] };
