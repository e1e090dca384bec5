// POST /clusters/{c}/leader: make a chosen server the leader (Raft thesis §3.10).
//
// The current leader does the work (src/raft: it stops taking proposals, brings the target's
// log up to date, then sends it TimeoutNow, and the target wins the election it starts at
// once because its log is as complete as any). The coordinator only asks and watches: it
// finds the leader, asks it to hand over, and waits until the target is the leader of the
// highest term. If leadership moves elsewhere meanwhile (an election raced the hand-over),
// it asks the new leader. Writes in flight are not lost: those already in the leader's log
// reach the target before TimeoutNow; new ones are refused with the target named as leader,
// and the key/value routes retry them there.
import type { NodeId } from "../raft/types.ts";
import type { Cluster } from "./cluster.ts";
import { HttpError } from "./errors.ts";
import { reach, sleep } from "./reach.ts";
import { connectedLeaderOf, statuses as statusesOf } from "./status.ts";

/** How often the coordinator looks whether the hand-over happened. */
const POLL_MS = 20;

export async function handOverLeadership(cluster: Cluster, target: NodeId): Promise<void> {
  // Only a voter can lead: a learner never stands for election.
  if (!cluster.membership.voters.includes(target)) {
    throw new HttpError(409, "unavailable", `server ${target} is a learner: only a voter can lead (promote it first)`);
  }
  // A hand-over needs a log catch-up and one election: about an election timeout. Two, plus
  // room for slow calls, before saying it did not happen.
  const deadline = Date.now() + 2 * cluster.config.electionTimeoutMs[1] + 500;
  const asked = new Set<string>();
  for (;;) {
    const statuses = await statusesOf(cluster);
    const t = statuses.find((s) => s.id === target)!;
    if (t.state === "Dead" || !t.connected) {
      throw new HttpError(409, "unavailable", `server ${target} is ${t.state === "Dead" ? "down" : "disconnected"}: it cannot lead`);
    }
    const leader = connectedLeaderOf(statuses);
    if (leader === target) return;
    if (leader !== null) {
      // Ask each leader (of each term) once; it keeps trying for an election timeout.
      const key = `${leader}/${statuses.find((s) => s.id === leader)!.term}`;
      if (!asked.has(key)) {
        asked.add(key);
        await reach(cluster, leader, (s) => s.transferLeadership(target), false).catch(() => null);
      }
    }
    if (Date.now() >= deadline) break;
    await sleep(POLL_MS);
  }
  if (asked.size === 0) throw new HttpError(503, "unavailable", "no leader to hand over from: the cluster has no connected leader");
  throw new HttpError(504, "timeout", `server ${target} did not become leader in time; the cluster's leader may have changed meanwhile`);
}
