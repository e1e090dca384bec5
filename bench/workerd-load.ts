// Closed-loop reads inside workerd through the coordinator's own fetch, without Node's per-request CPU.
// workerd's clock moves only on I/O (1 ms resolution); every read awaits an RPC, so times are right to ±1 ms.

/** `clients` loops of GET `path(i)` through `handler` for `durationMs`; each stops after `maxPerClient` too (a read without I/O would not move the clock). */
export async function reads(handler: (request: Request) => Promise<Response>, path: (i: number) => string, clients: number, durationMs: number, maxPerClient = 100_000) {
  const t0 = Date.now();
  const errors: Record<string, number> = {};
  const latencies: number[] = [];
  let issued = 0;
  const client = async () => {
    for (let n = 0; Date.now() - t0 < durationMs && n < maxPerClient; n++) {
      const started = Date.now();
      const res = await handler(new Request(`http://bench${path(issued++)}`));
      await res.arrayBuffer();
      if (res.status === 200) latencies.push(Date.now() - started);
      else errors[res.status] = (errors[res.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return { ops: latencies.length, errors, ms: Date.now() - t0, latencies: latencies.sort((a, b) => a - b) };
}
