// Load generated inside workerd by the bench's Worker itself, for the two jobs where the Node
// client would be the bottleneck rather than what is measured:
//   - fill: kv puts into one server, straight to its stub (RaftServer.kv, the very call the
//     coordinator makes), so a long history is built in seconds, not minutes;
//   - reads: closed-loop GET /clusters/{c}/kv/{key} handed to the coordinator's own fetch
//     handler (routing, validation, leader-finding included), without Node's per-request CPU.
// workerd's clock moves only on I/O and has 1 ms resolution; every operation here awaits an
// RPC to an object, so elapsed times are right to the millisecond and latencies to ±1 ms.
import type { KvAnswer, RaftServerStub } from "../src/server/index.ts";

/** Runs `clients` loops, each doing `one()` back to back while `more(n)` (n: its own count so far): successes, failures by kind, ms, sorted latencies. */
async function closedLoop(clients: number, more: (n: number) => boolean, one: () => Promise<string | null>, keepLatencies: boolean) {
  const t0 = Date.now();
  const errors: Record<string, number> = {};
  const latencies: number[] = [];
  let ops = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let n = 0; more(n); n++) {
        const started = Date.now();
        const failure = await one();
        if (failure !== null) {
          errors[failure] = (errors[failure] ?? 0) + 1;
          continue;
        }
        ops++;
        if (keepLatencies) latencies.push(Date.now() - started);
      }
    }),
  );
  return { ops, errors, ms: Date.now() - t0, latencies: latencies.sort((a, b) => a - b) };
}

/** `ops` puts over `keys` keys (32-byte values), `clients` at a time, to `server` (which must lead); failures counted, not retried. */
export function fill(server: RaftServerStub, ops: number, keys: number, clients: number, timeoutMs: number) {
  let issued = 0;
  let epoch: Promise<string> | null = null;
  return closedLoop(clients, () => issued < ops, async () => {
    const i = issued++;
    let answer: KvAnswer;
    try {
      epoch ??= server.clusterConfig().then((c) => c?.epoch ?? "");
      answer = await server.kv(await epoch, { op: "put", key: `key-${i % keys}`, value: `v${i}`.padEnd(32, ".") }, undefined, timeoutMs);
    } catch {
      return "threw";
    }
    return answer.kind === "ok" ? null : answer.kind;
  }, false);
}

/**
 * Closed-loop GETs of `path(i)` through `handler` (the coordinator's fetch) for `durationMs`,
 * `clients` at a time. A request answered without any I/O would not move workerd's clock, so
 * each client also stops after `maxPerClient` requests.
 */
export function reads(handler: (request: Request) => Promise<Response>, path: (i: number) => string, clients: number, durationMs: number, maxPerClient = 100_000) {
  const t0 = Date.now();
  let issued = 0;
  return closedLoop(clients, (n) => Date.now() - t0 < durationMs && n < maxPerClient, async () => {
    const res = await handler(new Request(`http://bench${path(issued++)}`));
    await res.arrayBuffer();
    return res.status === 200 ? null : String(res.status);
  }, true);
}
