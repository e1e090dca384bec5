// A sleeping cluster and what the cluster costs, as the page shows them (docs/operations.md,
// "Sleeping, evictions and deploys"). Plain functions and small classes fed by the polled
// status and the event feed, so they are tested without a browser. Reading the status never
// wakes a sleeping cluster, so the page can watch it sleep.

import { formatClock } from "../timeline/events.ts";
import type { ServerStatus } from "./api.ts";

/** "just now", "12 s", "3 min", "2 h": how long ago, coarsely. */
export function ageText(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 1) return "just now";
  if (s < 120) return `${s} s ago`;
  const min = Math.floor(s / 60);
  if (min < 120) return `${min} min ago`;
  return `${Math.floor(min / 60)} h ago`;
}

/** "1.5 s", "300 ms": the idle time after which the cluster sleeps. */
export function durationText(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${ms} ms`;
}

/**
 * When the cluster went to sleep. Exact when the event feed showed the last "sleeps" line
 * (the leader's, once its followers agreed); otherwise (the page opened on a cluster already
 * asleep, whose objects were evicted and lost their narration) the time this page first saw
 * it asleep.
 */
export class SleepWatch {
  private firstSeen: number | null = null;

  update(asleep: boolean, sleptAt: number | null, now: number): { since: number; exact: boolean } | null {
    if (!asleep) {
      this.firstSeen = null;
      return null;
    }
    this.firstSeen ??= now;
    return sleptAt !== null ? { since: sleptAt, exact: true } : { since: this.firstSeen, exact: false };
  }
}

/** The cluster-level line shown while every server that is up sleeps. */
export function sleepBannerText(since: { since: number; exact: boolean }, now: number): string {
  const clock = formatClock(since.since).slice(0, 8);
  const age = ageText(now - since.since);
  const when = since.exact ? `since ${clock} (${age})` : `(this page has seen it asleep since ${clock}, ${age})`;
  return (
    `Cluster asleep ${when}: no alarms, no heartbeats, no RPCs, so it costs nothing. ` +
    `Any operation or fault wakes it; reading its status (as this page does) does not.`
  );
}

/** The summary's "sleeps after 1.5 s idle" (or "never sleeps"), from GET /clusters/{c}. */
export function sleepAfterText(sleepAfterMs: number | undefined): string {
  if (sleepAfterMs === undefined) return "";
  return sleepAfterMs > 0 ? `sleeps after ${durationText(sleepAfterMs)} idle` : "never sleeps";
}

export interface CostRate {
  alarmsPerSecond: number;
  rpcsPerSecond: number;
}

/**
 * The cluster's cost right now: alarms and Raft RPCs per second over the last couple of
 * seconds, from the counters of successive status polls. A server whose `loadedAt` changed
 * was reset and counts from zero again: its whole count is new.
 */
export class CostMeter {
  private last: { t: number; servers: Map<number, { loadedAt: number; alarms: number; rpcs: number }> } | null = null;
  private deltas: { from: number; to: number; alarms: number; rpcs: number }[] = [];

  constructor(private readonly windowMs = 2000) {}

  reset(): void {
    this.last = null;
    this.deltas = [];
  }

  /** Takes one poll's servers; answers the rate, or null until a long enough span was seen. */
  sample(servers: readonly Pick<ServerStatus, "id" | "stats">[], now: number): CostRate | null {
    const current = new Map<number, { loadedAt: number; alarms: number; rpcs: number }>();
    for (const s of servers) {
      if (s.stats) current.set(s.id, { loadedAt: s.stats.loadedAt, alarms: s.stats.alarms, rpcs: s.stats.rpcsSent });
    }
    const last = this.last;
    this.last = { t: now, servers: current };
    if (last === null || now <= last.t) return this.rate();
    let alarms = 0;
    let rpcs = 0;
    for (const [id, c] of current) {
      const before = last.servers.get(id);
      const same = before !== undefined && before.loadedAt === c.loadedAt;
      alarms += same ? Math.max(0, c.alarms - before.alarms) : c.alarms;
      rpcs += same ? Math.max(0, c.rpcs - before.rpcs) : c.rpcs;
    }
    this.deltas.push({ from: last.t, to: now, alarms, rpcs });
    while (this.deltas.length > 1 && (this.deltas[0]?.to ?? now) <= now - this.windowMs) this.deltas.shift();
    return this.rate();
  }

  private rate(): CostRate | null {
    const first = this.deltas[0];
    const lastDelta = this.deltas[this.deltas.length - 1];
    if (!first || !lastDelta) return null;
    const span = lastDelta.to - first.from;
    if (span < 400) return null;
    const sum = this.deltas.reduce((a, d) => ({ alarms: a.alarms + d.alarms, rpcs: a.rpcs + d.rpcs }), { alarms: 0, rpcs: 0 });
    return { alarmsPerSecond: (sum.alarms * 1000) / span, rpcsPerSecond: (sum.rpcs * 1000) / span };
  }
}

/** "cost now: 28 alarms/s, 39 RPCs/s" (whole numbers; "0" means none in the window). */
export function costRateText(rate: CostRate | null): string {
  if (rate === null) return "";
  const n = (x: number) => (x > 0 && x < 1 ? "<1" : String(Math.round(x)));
  return `cost now: ${n(rate.alarmsPerSecond)} alarms/s, ${n(rate.rpcsPerSecond)} RPCs/s`;
}
