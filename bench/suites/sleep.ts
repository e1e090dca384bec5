// Sleeping, waking and deploys (issue 11) on raft-3: never sleeping, then the default (idle windows
// and writes back to back each), sleep/wake cycles and one isolated write's cost, and deploys (every
// server evicted) under a writer appending ids with exactly-once headers: each acked id once, in order.
import { costPerMillion, idleMonth, PRICES } from "../cost.ts";
import { between, Cluster, message, terms, type Window } from "../lib/cluster.ts";
import { sleep } from "../lib/http.ts";
import { closedLoop, keyOf, valueOf } from "../lib/load.ts";
import { fmt, ratio, table, usd, verdict, type Value } from "../lib/render.ts";
import { median, round, sum, summarize, tally } from "../lib/stats.ts";
import type { Ctx, Suite } from "../lib/suite.ts";

const SIZE = 3;
/** A write "across" a deploy was in flight between sending the evict and this long after its answer. */
const ACROSS_MS = 250;
const GAP_MS = 500;

const requests = (w: Window) => (w.workerCalls === null ? null : w.workerCalls + w.alarms + w.rpcsSent);

const put = (c: Cluster, i: number) => c.http.call("PUT", `/clusters/${c.name}/kv/${keyOf(0, i)}?timeoutMs=10000`, { value: valueOf(i) });

async function idleWindow(c: Cluster, ms: number) {
  const a = await c.snapshot();
  await sleep(ms);
  const b = await c.snapshot();
  const [w, rate] = [between(a, b), (x: number) => round(x / w.seconds)];
  const [asleepAtStart, asleepAtEnd, stable] = [a.view.asleep === true, b.view.asleep === true, a.view.leader === b.view.leader && terms(a.view).join() === terms(b.view).join()];
  return { seconds: round(w.seconds), alarmsPerSec: rate(w.alarms), rpcsPerSec: rate(w.rpcsSent), billedRequestsPerSec: rate(w.alarms + w.rpcsSent), billedRowsPerSec: w.billedRows === null ? null : rate(w.billedRows), reloaded: w.reloaded, asleepAtStart, asleepAtEnd, stable };
}

/** `n` writes back to back: their latency and what each costs. */
async function writeCost(c: Cluster, n: number, from: number) {
  const a = await c.snapshot();
  const { phase: p } = await closedLoop((_, i) => put(c, from + i), 1, { count: n });
  const [w, ok] = [between(a, await c.snapshot(true)), p.ops];
  const r = requests(w);
  return { writes: ok, seconds: p.seconds, throughput: p.throughput, latency: p.latency, billedRequestsPerWrite: r === null || ok === 0 ? null : round(r / ok), billedRowsPerWrite: w.billedRows === null || ok === 0 ? null : round(w.billedRows / ok) };
}
type WriteCost = Awaited<ReturnType<typeof writeCost>>;

async function cycle(c: Cluster, warm: number, from: number) {
  const s0 = await c.snapshot();
  const first = await put(c, from);
  const sw = await c.snapshot(true);
  const warmSummary = (await closedLoop((_, i) => put(c, from + 1 + i), 1, { count: warm })).phase.latency;
  const sx = await c.snapshot();
  const fell = await c.untilAsleep();
  const s1 = await c.snapshot(true);
  const [w1, tail, servedBy] = [between(s0, sw), between(sx, s1), first.headers.get("Raft-Server")];
  const w2 = { ...tail, workerCalls: tail.workerCalls === null ? null : tail.workerCalls - fell.pollCalls };
  const [r1, r2] = [requests(w1), requests(w2)];
  return {
    firstMs: round(first.ms), firstStatus: first.status, warmMs: warmSummary, ratio: round(first.ms / warmSummary.p50),
    termsBefore: terms(s0.view), termsAfter: terms(s1.view), termChanged: terms(s0.view).join() !== terms(s1.view).join() || terms(s0.view).join() !== terms(sw.view).join(),
    leaderBefore: s0.view.leader, servedBy: servedBy === null ? null : Number(servedBy),
    fellAsleepMs: round(fell.ms), // last warm write answered → seen asleep (50 ms polls)
    // One isolated write: waking + the write + the idle tail until asleep again.
    isolated: { awakeSeconds: round(w1.seconds + w2.seconds), billedRequests: r1 === null || r2 === null ? null : r1 + r2, billedRows: w1.billedRows === null || w2.billedRows === null ? null : w1.billedRows + w2.billedRows, reloaded: w1.reloaded + w2.reloaded },
  };
}

/** One deploy: every server evicted at once; terms and loadedAt before and after. */
async function evict(c: Cluster) {
  const before = await c.view();
  const t0 = performance.now();
  const r = await c.http.call("POST", `/clusters/${c.name}/evict`, undefined, 30_000);
  const [t1, after] = [performance.now(), await c.view()];
  const [tb, ta, reloaded] = [terms(before), terms(after), after.servers.every((s, i) => s.stats.loadedAt > before.servers[i]!.stats.loadedAt)];
  return { evictMs: round(t1 - t0), evictStatus: r.status, window: [t0, t1 + ACROSS_MS] as const, reloaded, termsBefore: tb, termsAfter: ta, termChanges: tb.filter((t, i) => t !== ta[i]).length };
}

/** 4. Deploys under a light writer. */
async function deploys(c: Cluster, n: number, progress: (line: string) => void) {
  await c.stable(15_000);
  progress(`sleep: ${n} deploys (POST /clusters/{c}/evict) ${GAP_MS} ms apart under one sequential writer`);
  const headers = (id: number) => ({ "Client-Id": `bench-deploy-${c.name}`, "Request-Id": String(id) });
  const writes: Array<{ id: number; start: number; end: number; ok: boolean }> = [];
  const retried: Record<string, number> = {};
  let stop = false;
  const writer = (async () => {
    for (let id = 1; !stop; id++) {
      const start = performance.now();
      let ok = false;
      while (!ok && performance.now() - start < 30_000) {
        const r = await c.http.call("POST", `/clusters/${c.name}/kv/deploy-log/append?timeoutMs=10000`, { value: `${id},` }, 15_000, headers(id));
        ok = r.status === 200;
        if (!ok) {
          tally(retried, r.status);
          await sleep(10);
        }
      }
      writes.push({ id, start, end: performance.now(), ok });
    }
  })();
  const [start, out] = [await c.view(), [] as Array<Awaited<ReturnType<typeof evict>>>];
  for (let d = 0; d < n; d++) {
    await sleep(GAP_MS);
    out.push(await evict(c));
    if ((d + 1) % 5 === 0) progress(`deploys: ${d + 1}/${n}`);
  }
  await sleep(GAP_MS);
  stop = true;
  await writer;
  const end = await c.view();
  const across = (w: (typeof writes)[number], [a, b]: readonly [number, number]) => w.start <= b && w.end >= a;
  // Per deploy, the slowest write in flight across it (its first try to its 200).
  const perDeploy = out.map(({ window, ...d }) => {
    const slow = writes.filter((w) => across(w, window)).map((w) => w.end - w.start);
    return { ...d, slowestWriteMs: slow.length ? round(Math.max(...slow)) : null, writesAcross: slow.length };
  });
  const calm = writes.filter((w) => w.ok && !out.some((d) => across(w, d.window))).map((w) => w.end - w.start);
  const read = await c.http.call("GET", `/clusters/${c.name}/kv/deploy-log?timeoutMs=10000`);
  const found = (read.status === 200 && typeof read.body?.value === "string" ? (read.body.value as string) : "").split(",").filter((x) => x !== "").map(Number);
  const acked = writes.filter((w) => w.ok).map((w) => w.id);
  const counts = new Map<number, number>();
  for (const id of found) counts.set(id, (counts.get(id) ?? 0) + 1);
  return {
    deploys: perDeploy, writesAcked: acked.length, retriedAnswers: retried, abandoned: writes.filter((w) => !w.ok).length,
    lost: acked.filter((id) => !counts.has(id)).length, duplicated: [...counts.values()].filter((n) => n > 1).length,
    unacknowledgedApplied: [...counts.keys()].filter((id) => !acked.includes(id)).length, outOfOrder: found.some((id, i) => i > 0 && id <= found[i - 1]!),
    calmWriteMs: summarize(calm), termsStart: terms(start), termsEnd: terms(end), elections: sum(perDeploy.map((d) => d.termChanges)),
    finalRead: read.status === 200 ? `200, ${found.length} ids` : `${read.status} ${JSON.stringify(read.body)}`,
  };
}

/** 1. Never sleeps (the behaviour before issue 11): idle, then writes back to back. */
async function awake(c: Cluster, { o, progress }: Ctx, writes: number) {
  await c.stable(15_000);
  const w = await put(c, 0);
  if (w.status !== 200) throw new Error(`kv put answered ${w.status} ${JSON.stringify(w.body)}`);
  await sleep(500);
  progress(`sleep: awake idle window (sleepAfterMs 0), ${o.idleMs} ms`);
  return { idle: await idleWindow(c, o.idleMs), writes: await writeCost(c, writes, 1) };
}

/** 2. and 3. The default: writes, falls asleep, idles asleep, then sleep/wake cycles. */
async function asleep(c: Cluster, { o, progress }: Ctx, writes: number, failures: string[]) {
  const warmWrites = o.quick ? 5 : 10;
  const sleepAfterMs = (await c.stable(15_000)).sleepAfterMs ?? null;
  const writesCost = await writeCost(c, writes, 0);
  const fellAsleepMs = round((await c.untilAsleep()).ms);
  await sleep(400); // a pending alarm may fire once more, and finds nothing to do
  progress(`sleep: asleep idle window (default sleepAfterMs ${sleepAfterMs}), ${o.asleepMs} ms`);
  const idle = await idleWindow(c, o.asleepMs);
  progress(`sleep: ${o.cycles} sleep/wake cycles (1 write after sleeping, ${warmWrites} warm writes, back to sleep)`);
  const cycles = [];
  for (let n = 0; n < o.cycles; n++) {
    try {
      await c.untilAsleep();
      cycles.push(await cycle(c, warmWrites, 10_000 + n * 100));
    } catch (e) {
      failures.push(`cycle ${n}: ${message(e)}`);
    }
  }
  return { sleepAfterMs, writes: writesCost, fellAsleepMs, idle, cycles };
}

async function measure(ctx: Ctx) {
  const { http, o, profiled, progress } = ctx;
  progress(`sleep: raft-3 idle awake and asleep, ${o.cycles} sleep/wake cycles, ${o.deploys} deploys under a writer`);
  const [stamp, writes, failures] = [Date.now().toString(36), o.quick ? 40 : 100, [] as string[]];
  /** The part's result, or null with why in `failures`. */
  const part = async <T>(what: string, f: () => Promise<T | string>): Promise<T | null> => {
    const r = await f().catch((e: unknown) => message(e));
    return typeof r !== "string" ? r : (failures.push(`${what}: ${r}`), null);
  };
  const first = await Cluster.with(http, `sleep0-${stamp}`, { size: SIZE, sleepAfterMs: 0 }, profiled, (c) => awake(c, ctx, writes)).catch((e: unknown) => message(e));
  // Without a working never-sleeping cluster (no kv routes, say) nothing else is worth trying.
  const w = typeof first === "string" ? null : first;
  const a = w && (await part("sleep", () => Cluster.with(http, `sleep-${stamp}`, { size: SIZE }, profiled, (c) => asleep(c, ctx, writes, failures))));
  const d = w && (await part("deploys", () => Cluster.with(http, `deploy-${stamp}`, { size: SIZE }, false, (c) => deploys(c, o.deploys, progress))));
  for (const f of failures) progress(`sleep: ${f}`);
  return {
    unavailable: typeof first === "string" ? first : null, size: SIZE, failures, sleepAfterMs: a?.sleepAfterMs ?? null,
    awake: w?.idle ?? null, asleep: a?.idle ?? null, fellAsleepMs: a?.fellAsleepMs ?? null, awakeWrites: w?.writes ?? null, defaultWrites: a?.writes ?? null,
    cycles: a?.cycles ?? [], deploys: d,
  };
}

export type SleepResult = Awaited<ReturnType<typeof measure>>;

/** Idle month of the 3-server cluster, never sleeping ("before") and with the default ("after": no duration billed). */
export function sleepIdleMonths(s: SleepResult) {
  return {
    before: s.awake ? idleMonth(s.size, s.awake.billedRequestsPerSec, s.awake.billedRowsPerSec) : null,
    after: s.asleep ? idleMonth(s.size, s.asleep.billedRequestsPerSec, s.asleep.billedRowsPerSec, false) : null,
  };
}

type Goal = [text: string, measured: string, goal: string, met: boolean | null];

/** The goals of issue 11 (met null: a figure with no goal). */
function goals(s: SleepResult): Goal[] {
  const out: Goal[] = [];
  const { asleep: a, awake: w, deploys: d } = s;
  if (a) {
    const v = a.alarmsPerSec + a.rpcsPerSec;
    const reloaded = a.reloaded ? `, ${a.reloaded} of ${s.size} objects evicted and reloaded meanwhile` : "";
    const measured = `${fmt(v, 2)} (${fmt(a.alarmsPerSec, 2)} + ${fmt(a.rpcsPerSec, 2)} over ${fmt(a.seconds, 1)} s${reloaded}${a.asleepAtEnd ? "" : "; **not asleep at the end**"})`;
    out.push([`idle raft-${s.size}: alarms + Raft RPCs per second once asleep`, `${measured}; awake (\`sleepAfterMs\` 0): ${fmt(w ? w.alarmsPerSec + w.rpcsPerSec : null, 1)} (${fmt(w?.alarmsPerSec, 1)} + ${fmt(w?.rpcsPerSec, 1)})`, "0", v === 0 && a.asleepAtEnd]);
  }
  const done = s.cycles.filter((c) => c.firstStatus === 200);
  if (s.cycles.length) {
    const all = done.length === s.cycles.length;
    const [med, worst] = [median(done.map((c) => c.ratio)), done.length ? Math.max(...done.map((c) => c.ratio)) : NaN];
    const w = done.find((c) => c.ratio === worst);
    out.push([`first write after sleeping ÷ warm write, median of ${done.length} cycles`, `${fmt(med)}× (first ${fmt(median(done.map((c) => c.firstMs)))} ms, warm ${fmt(median(done.map((c) => c.warmMs.p50)))} ms, medians)`, "≤ 2×", all && Number.isFinite(med) ? med <= 2 : null]);
    out.push(["the same, worst cycle", w ? `${fmt(worst)}× (${fmt(w.firstMs)} ÷ ${fmt(w.warmMs.p50)} ms)${all ? "" : `; ${s.cycles.length - done.length} first writes failed`}` : "—", "≤ 2×", all && Number.isFinite(worst) ? worst <= 2 : false]);
    const changed = s.cycles.filter((c) => c.termChanged).length;
    const same = done.filter((c) => c.servedBy === c.leaderBefore).length;
    out.push(["cycles in which waking changed a term", `${changed} of ${s.cycles.length} (terms ${s.cycles[0]!.termsBefore.join("/")} → ${s.cycles.at(-1)!.termsAfter.join("/")}; first write served by the leader that fell asleep in ${same} of ${done.length})`, "0 (never)", changed === 0]);
  }
  if (d) {
    const n = d.deploys.length;
    const [notReloaded, refused] = [d.deploys.filter((x) => !x.reloaded).length, d.deploys.filter((x) => x.evictStatus !== 200).length];
    const elections = `${d.elections} (terms ${d.termsStart.join("/")} → ${d.termsEnd.join("/")}; every object reloaded in ${n - notReloaded} of ${n} deploys${refused ? `; ${refused} evict calls not 200` : ""})`;
    out.push([`${n} deploys under one sequential writer: elections caused (servers whose term changed, summed over deploys)`, elections, "0", d.elections === 0 && d.termsStart.join() === d.termsEnd.join() && notReloaded === 0 && refused === 0]);
    const slow = d.deploys.map((x) => x.slowestWriteMs).filter((x): x is number => x !== null);
    const calm = `writes away from deploys: p50 ${fmt(d.calmWriteMs.p50)}, p99 ${fmt(d.calmWriteMs.p99)} ms`;
    out.push(["slowest write across a deploy (its first try to its 200)", `median ${fmt(median(slow))} ms, worst ${fmt(slow.length ? Math.max(...slow) : NaN)} ms over ${n} deploys (${calm}); evict call p50 ${fmt(median(d.deploys.map((x) => x.evictMs)))} ms`, "—", null]);
    const retried = Object.entries(d.retriedAnswers).map(([k, v]) => `${v}× ${k === "0" ? "no answer" : k}`).join(", ");
    const detail = `final read ${d.finalRead}; applied twice ${d.duplicated}, applied unacknowledged ${d.unacknowledgedApplied}, out of order ${d.outOfOrder ? "yes" : "no"}, given up ${d.abandoned}${retried ? `; answers retried with the same ids: ${retried}` : "; no retry needed"}`;
    out.push(["acknowledged writes lost across the deploys", `${d.lost} of ${d.writesAcked} (${detail})`, "0", d.lost === 0 && d.duplicated === 0 && !d.outOfOrder && d.finalRead.startsWith("200")]);
  }
  const m = sleepIdleMonths(s);
  if (m.before && m.after) out.push([`idle raft-${s.size}, $ per month at Cloudflare's prices: default (asleep) against never sleeping`, `${usd(m.after.totalUsd)} against ${usd(m.before.totalUsd)}`, "≈ $0", m.after.totalUsd === null ? null : m.after.totalUsd < 0.01]);
  return out;
}

/** Never sleeping ("before") against the default ("after"): idle, back to back, and one isolated write. */
function costTable(s: SleepResult): string {
  const m = sleepIdleMonths(s);
  const per = (w: WriteCost | null) => (w ? costPerMillion(s.size, w.billedRequestsPerWrite, w.billedRowsPerWrite, w.throughput) : null);
  const [b, a] = [per(s.awakeWrites), per(s.defaultWrites)];
  const gbs = (c: typeof b) => (c?.gbSecondsPerOp ?? NaN) * 1e6;
  const n = (digits: number) => (x: Value) => fmt(x, digits);
  const rows = ([
    ["idle: alarms per second", s.awake?.alarmsPerSec, s.asleep?.alarmsPerSec, n(2)],
    ["idle: Raft RPCs per second", s.awake?.rpcsPerSec, s.asleep?.rpcsPerSec, n(2)],
    ["idle: billed rows written per second (SQL rows + setAlarm)", s.awake?.billedRowsPerSec, s.asleep?.billedRowsPerSec, n(2)],
    ["idle: objects billed for duration", s.size, 0, n(0)],
    ["idle, $ per month: requests", m.before?.requestsUsd, m.after?.requestsUsd, usd],
    ["idle, $ per month: rows written", m.before?.rowsUsd, m.after?.rowsUsd, usd],
    ["idle, $ per month: duration (GB-s)", m.before?.durationUsd, m.after?.durationUsd, usd],
    ["**idle, $ per month**", m.before?.totalUsd, m.after?.totalUsd, usd],
    ["back-to-back writes: throughput (writes/s)", s.awakeWrites?.throughput, s.defaultWrites?.throughput, n(1)],
    ["back-to-back writes: billed requests per write", b?.requestsPerOp, a?.requestsPerOp, n(2)],
    ["back-to-back writes: billed rows written per write", b?.rowsPerOp, a?.rowsPerOp, n(2)],
    ["back-to-back writes: GB-s per million writes", gbs(b), gbs(a), n(0)],
    ["**back-to-back writes: $ per million writes**", b?.totalUsd, a?.totalUsd, usd],
  ] as Array<[string, Value, Value, (x: Value) => string]>).map(([name, before, after, f]) => [name, f(before), f(after), ratio(after, before)]);
  const iso = s.cycles.filter((c) => c.firstStatus === 200).map((c) => c.isolated);
  if (iso.length) {
    const [req, written, awakeS] = [median(iso.map((c) => c.billedRequests ?? NaN)), median(iso.map((c) => c.billedRows ?? NaN)), median(iso.map((c) => c.awakeSeconds))];
    const dollars = req * PRICES.requestsPerMillion + written * PRICES.rowsWrittenPerMillion + s.size * PRICES.gbPerObject * awakeS * PRICES.gbSecondsPerMillion;
    rows.push(["one isolated write (wakes the cluster, then it sleeps again): billed requests", "—", fmt(req, 1), "—"], ["one isolated write: billed rows written", "—", fmt(written, 1), "—"]);
    rows.push(["one isolated write: seconds awake (write sent → seen asleep)", "—", fmt(awakeS, 2), "—"], ["**one isolated write: $ per million such writes**", "—", usd(dollars), "—"]);
  }
  return table([`raft-${s.size}`, "before: `sleepAfterMs` 0 (never sleeps)", `after: default (sleeps after ${fmt(s.sleepAfterMs, 0)} ms idle)`, "after ÷ before"], rows);
}

function sleepMarkdown(s: SleepResult): string {
  if (s.unavailable) return `Not measured: ${s.unavailable}.`;
  const cycles = s.cycles.map((c, i) => [String(i + 1), `${fmt(c.firstMs)}${c.firstStatus === 200 ? "" : ` (${c.firstStatus})`}`, fmt(c.warmMs.p50), `${fmt(c.ratio)}×`, `${c.termsBefore.join("/")} → ${c.termsAfter.join("/")}`, `${c.servedBy ?? "—"} (${c.leaderBefore ?? "—"})`, fmt(c.fellAsleepMs, 0)]);
  const notes = [
    ...s.failures.map((f) => `- ${f}`),
    ...(s.awake && !s.awake.stable ? ["- the awake idle window saw a leader or term change."] : []),
    ...(s.asleep && !s.asleep.asleepAtStart ? ["- the asleep idle window did not start asleep."] : []),
  ];
  return [
    table(["goal (issue 11)", "measured", "goal", "result"], goals(s).map(([text, measured, goal, met]) => [text, measured, goal, verdict(met, "—")])),
    costTable(s),
    `Idle windows: ${fmt(s.awake?.seconds, 1)} s awake (\`"sleepAfterMs": 0\`), ${fmt(s.asleep?.seconds, 1)} s asleep (default \`sleepAfterMs\` ${fmt(s.sleepAfterMs, 0)}; asleep ${fmt(s.fellAsleepMs, 0)} ms after the last write was answered).`,
    table(["cycle", "first write after sleeping (ms)", "warm writes p50 (ms)", "ratio", "terms before → after", "served by (leader before)", "warm → asleep (ms)"], cycles),
    s.deploys ? `Deploys: \`POST /clusters/{c}/evict\` ${s.deploys.deploys.length} times, ${GAP_MS} ms apart, under one writer appending its request id to one key with exactly-once headers.` : "Deploys: not measured.",
    ...(notes.length ? [notes.join("\n")] : []),
  ].join("\n\n");
}

export const sleepSuite: Suite<SleepResult> = { name: "sleep", full: true, url: false, about: "sleeping, waking and deploys of raft-3 (about 1 minute)", run: measure, sections: (s) => [["Sleeping, waking and deploys", sleepMarkdown(s)]] };
