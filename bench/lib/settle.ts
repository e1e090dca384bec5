// The steady state a measurement starts from, for every suite that drives a cluster.
import { sleep } from "./http.ts";

interface Settling {
  readonly leader: number | null;
  readonly servers: readonly { readonly id: number; readonly state: string; readonly commitIndex: number }[];
}

/**
 * Polls `view` until there is a leader, nobody is down, and every follower's commit index has
 * caught up with the leader's. Throws with the last view after `deadlineMs`.
 */
export async function waitSettled<V extends Settling>(name: string, view: () => Promise<V>, deadlineMs: number): Promise<V> {
  const deadline = performance.now() + deadlineMs;
  let last: V | null = null;
  while (performance.now() < deadline) {
    const v = await view();
    last = v;
    const leader = v.servers.find((s) => s.id === v.leader);
    if (leader && v.servers.every((s) => s.state !== "Dead" && s.commitIndex === leader.commitIndex)) return v;
    await sleep(20);
  }
  throw new Error(`cluster ${name} did not settle within ${deadlineMs} ms: ${JSON.stringify(last)}`);
}
