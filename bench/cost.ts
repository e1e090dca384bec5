// What a committed write costs at Cloudflare's published Durable Objects prices (Workers Paid
// plan), from the bench's counters. Marginal prices: the included monthly amounts (1 million
// requests, 400,000 GB-s, 50 million rows written) are left out, as they are per account.
//
// Source: https://developers.cloudflare.com/durable-objects/platform/pricing/ (the page's text
// lives in cloudflare/cloudflare-docs, src/content/partials/durable-objects/durable-objects-pricing.mdx):
//  - requests $0.15 per million; "Includes HTTP requests, RPC sessions, WebSocket messages, and
//    alarm invocations"; every RPC method call on a stub is its own session, one request;
//  - duration $12.50 per million GB-s, billed for 128 MB per object while it is active or idle
//    but unable to hibernate (wall-clock time); the page's own example counts 128 MB as 0.128 GB;
//  - SQLite storage: rows written $1.00 per million; "Each setAlarm() is billed as a single row
//    written", deletes count as rows written, KV put()/delete() are rows written too.
//
// Duration: an awake Raft server is never hibernatable — the leader's alarm fires every
// heartbeat and every follower receives those heartbeats — so each of the N objects is billed
// for the whole wall-clock time it is awake, busy or idle. A cluster asleep (issue 11) arms no
// alarm and hears nothing, so its objects are evicted and billed nothing (bench/suites/sleep.ts). Per write that is N × 0.128 GB × (1 / throughput): it falls as
// the cluster gets busier, and here the throughput is this machine's (one workerd thread for
// all objects). The single object is billed only while requests keep it busy (at a closed-loop
// 64 clients, all the time) and hibernates when idle.
export const PRICES = {
  url: "https://developers.cloudflare.com/durable-objects/platform/pricing/",
  requestsPerMillion: 0.15,
  gbSecondsPerMillion: 12.5,
  rowsWrittenPerMillion: 1.0,
  gbPerObject: 0.128,
} as const;

const MONTH_SECONDS = 30 * 24 * 3600;

export interface CostPerMillion {
  readonly objects: number;
  /** Billed Durable Object requests per committed write (Worker → object calls, Raft RPCs, alarms). */
  readonly requestsPerOp: number | null;
  /** Billed rows written per committed write, all objects (SQL rows, setAlarm, KV writes). */
  readonly rowsPerOp: number | null;
  /** GB-s per committed write at the measured throughput. */
  readonly gbSecondsPerOp: number | null;
  /** Dollars per million committed writes, by item and in all (null when a part is unknown). */
  readonly requestsUsd: number | null;
  readonly rowsUsd: number | null;
  readonly durationUsd: number | null;
  readonly totalUsd: number | null;
}

const known = (x: number | null | undefined): x is number => x !== null && x !== undefined && Number.isFinite(x);

export function costPerMillion(objects: number, requestsPerOp: number | null | undefined, rowsPerOp: number | null | undefined, throughput: number | null | undefined): CostPerMillion {
  const gbSecondsPerOp = known(throughput) && throughput > 0 ? (objects * PRICES.gbPerObject) / throughput : null;
  const requestsUsd = known(requestsPerOp) ? requestsPerOp * PRICES.requestsPerMillion : null;
  const rowsUsd = known(rowsPerOp) ? rowsPerOp * PRICES.rowsWrittenPerMillion : null;
  const durationUsd = known(gbSecondsPerOp) ? gbSecondsPerOp * PRICES.gbSecondsPerMillion : null;
  const parts = [requestsUsd, rowsUsd, durationUsd];
  return {
    objects,
    requestsPerOp: known(requestsPerOp) ? requestsPerOp : null,
    rowsPerOp: known(rowsPerOp) ? rowsPerOp : null,
    gbSecondsPerOp,
    requestsUsd,
    rowsUsd,
    durationUsd,
    totalUsd: parts.every(known) ? parts.reduce((a, b) => a! + b!, 0) : null,
  };
}

export interface IdleMonth {
  readonly requestsUsd: number;
  readonly rowsUsd: number | null;
  readonly durationUsd: number;
  readonly totalUsd: number | null;
}

/**
 * An idle cluster of `objects` servers for 30 days: its heartbeats and alarms, alarm rows, and
 * duration. `inMemory`: whether its objects stay in memory (billed for duration) all month —
 * true for a cluster that never sleeps; an asleep cluster arms no alarm and is sent nothing,
 * so the platform evicts its objects and bills no duration.
 */
export function idleMonth(objects: number, requestsPerSec: number, rowsPerSec: number | null, inMemory = true): IdleMonth {
  const requestsUsd = (requestsPerSec * MONTH_SECONDS * PRICES.requestsPerMillion) / 1e6;
  const rowsUsd = rowsPerSec === null ? null : (rowsPerSec * MONTH_SECONDS * PRICES.rowsWrittenPerMillion) / 1e6;
  const durationUsd = inMemory ? (objects * PRICES.gbPerObject * MONTH_SECONDS * PRICES.gbSecondsPerMillion) / 1e6 : 0;
  return { requestsUsd, rowsUsd, durationUsd, totalUsd: rowsUsd === null ? null : requestsUsd + rowsUsd + durationUsd };
}
