// One admin change at a time per cluster, per Worker isolate.
//
// Fault calls read a server's state after changing it (a crash checks that the server went
// down, a restart that it came back) and answer the cluster's status as the change left it.
// Two such calls racing on one cluster (a crash and a restart of the same server) would
// each see the other's doing. So the fault routes of one cluster run one after another:
// a call waits for the calls before it, then runs alone. This holds within one isolate
// (`wrangler dev`, the tests, one Worker instance); calls arriving through different
// isolates can still interleave, and the routes then answer `409 busy` when they see it.
const tails = new Map<string, Promise<unknown>>();

/** Run `change` once every earlier change of cluster `name` in this isolate is over. */
export async function exclusive<T>(name: string, change: () => Promise<T>): Promise<T> {
  const before = tails.get(name) ?? Promise.resolve();
  const run = before.then(change, change);
  const tail = run.catch(() => {});
  tails.set(name, tail);
  try {
    return await run;
  } finally {
    if (tails.get(name) === tail) tails.delete(name);
  }
}
