// Cloudflare's Durable Objects prices (Workers Paid, included amounts left out): a request per stub RPC
// call and per alarm, a row per SQL row and setAlarm(), duration at 0.128 GB per object that cannot
// hibernate: an awake Raft server never does (heartbeats), an asleep one is evicted, the single object does.
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

/** An idle cluster of `objects` servers for 30 days; duration billed only `inMemory` (never sleeping). */
export function idleMonth(objects: number, requestsPerSec: number, rowsPerSec: number | null, inMemory = true) {
  const requestsUsd = (requestsPerSec * MONTH_SECONDS * PRICES.requestsPerMillion) / 1e6;
  const rowsUsd = rowsPerSec === null ? null : (rowsPerSec * MONTH_SECONDS * PRICES.rowsWrittenPerMillion) / 1e6;
  const durationUsd = inMemory ? (objects * PRICES.gbPerObject * MONTH_SECONDS * PRICES.gbSecondsPerMillion) / 1e6 : 0;
  return { requestsUsd, rowsUsd, durationUsd, totalUsd: rowsUsd === null ? null : requestsUsd + rowsUsd + durationUsd };
}
