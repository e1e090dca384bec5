// What a committed write costs at Cloudflare's published Durable Objects prices (Workers Paid
// plan), from the bench's counters; the included monthly amounts (per account) are left out.
// Source: https://developers.cloudflare.com/durable-objects/platform/pricing/ (the page's text
// lives in cloudflare/cloudflare-docs, src/content/partials/durable-objects/durable-objects-pricing.mdx):
//  - requests $0.15 per million, "HTTP requests, RPC sessions, WebSocket messages, and alarm
//    invocations": every RPC method call on a stub is its own session, one request;
//  - duration $12.50 per million GB-s, 128 MB (0.128 GB) per object while it is active or idle
//    but unable to hibernate (wall-clock time);
//  - rows written $1.00 per million; "Each setAlarm() is billed as a single row written",
//    deletes and KV put()/delete() count as rows written too.
// Duration: an awake Raft server never hibernates (the leader's alarm fires every heartbeat,
// every follower receives them), so each of the N objects is billed for all the time it is
// awake: per write N × 0.128 GB ÷ throughput, this machine's throughput (one workerd thread for
// all objects). An asleep cluster arms no alarm and hears nothing, so its objects are evicted
// and billed nothing. The single object is billed while requests keep it busy, and hibernates.
export const PRICES = {
  url: "https://developers.cloudflare.com/durable-objects/platform/pricing/",
  requestsPerMillion: 0.15,
  gbSecondsPerMillion: 12.5,
  rowsWrittenPerMillion: 1.0,
  gbPerObject: 0.128,
} as const;

const MONTH_SECONDS = 30 * 24 * 3600;
const known = (x: number | null | undefined): x is number => x !== null && x !== undefined && Number.isFinite(x);

/** Dollars per million committed writes, by item and in all (null when a part is unknown). */
export function costPerMillion(objects: number, requestsPerOp: number | null | undefined, rowsPerOp: number | null | undefined, throughput: number | null | undefined) {
  const gbSecondsPerOp = known(throughput) && throughput > 0 ? (objects * PRICES.gbPerObject) / throughput : null;
  const requestsUsd = known(requestsPerOp) ? requestsPerOp * PRICES.requestsPerMillion : null;
  const rowsUsd = known(rowsPerOp) ? rowsPerOp * PRICES.rowsWrittenPerMillion : null;
  const durationUsd = known(gbSecondsPerOp) ? gbSecondsPerOp * PRICES.gbSecondsPerMillion : null;
  const totalUsd = known(requestsUsd) && known(rowsUsd) && known(durationUsd) ? requestsUsd + rowsUsd + durationUsd : null;
  return { objects, requestsPerOp: known(requestsPerOp) ? requestsPerOp : null, rowsPerOp: known(rowsPerOp) ? rowsPerOp : null, gbSecondsPerOp, requestsUsd, rowsUsd, durationUsd, totalUsd };
}

/**
 * An idle cluster of `objects` servers for 30 days: its heartbeats and alarms, alarm rows, and
 * duration when `inMemory` (a cluster that never sleeps; an asleep one is evicted, no duration).
 */
export function idleMonth(objects: number, requestsPerSec: number, rowsPerSec: number | null, inMemory = true) {
  const requestsUsd = (requestsPerSec * MONTH_SECONDS * PRICES.requestsPerMillion) / 1e6;
  const rowsUsd = rowsPerSec === null ? null : (rowsPerSec * MONTH_SECONDS * PRICES.rowsWrittenPerMillion) / 1e6;
  const durationUsd = inMemory ? (objects * PRICES.gbPerObject * MONTH_SECONDS * PRICES.gbSecondsPerMillion) / 1e6 : 0;
  return { requestsUsd, rowsUsd, durationUsd, totalUsd: rowsUsd === null ? null : requestsUsd + rowsUsd + durationUsd };
}
