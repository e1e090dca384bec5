// The leader's quiesce heartbeat (src/raft/leader-sleep.ts) against a fake leader that records what it was asked to do.
import { describe, expect, test } from "vitest";
import { LeaderLife } from "../../../src/raft/leader-life.ts";
import { afterFailedQuiesce, heartbeatOrQuiesce, startQuiesce, type SleepingLeader } from "../../../src/raft/leader-sleep.ts";
import { Progress } from "../../../src/raft/progress.ts";

/** Leader 1 of term 2 with followers 2 and 3, both holding the whole (committed) log and heard at 900. */
function leader(over: { lastTerm?: number; commitIndex?: number; busy?: boolean } = {}) {
  const did: string[] = [];
  const lives = new LeaderLife({ term: 2, votedFor: 1 });
  const progress = new Map([[2, new Progress(5, 900)], [3, new Progress(5, 900)]]);
  for (const pr of progress.values()) pr.succeeded(5);
  let now = 1000;
  const l: SleepingLeader = {
    lives: () => lives,
    view: () => ({ now, self: 1, progress, lastIndex: 5, voters: [1, 2, 3], liveWindowMs: 300, term: 2, commitIndex: over.commitIndex ?? 5, lastTerm: over.lastTerm ?? 2, busy: over.busy ?? false, sleepAfterMs: 500 }),
    narrate: (line) => did.push(line),
    appendNoop: (why) => did.push(`no-op ${why}`),
    askToSleep: (peer) => did.push(`quiesce ${peer}`),
    heartbeat: () => did.push("heartbeat"),
    startQuiesce: () => startQuiesce(l, now + 300),
    afterFailedQuiesce: () => afterFailedQuiesce(l),
    fallAsleep: () => did.push("sleeps"),
  };
  return { l, did, lives, at: (t: number) => (now = t) };
}

describe("leader sleep", () => {
  test("an idle cluster is asked to sleep; a busy or not yet idle one gets a plain heartbeat", () => {
    const busy = leader({ busy: true });
    heartbeatOrQuiesce(busy.l, 1000);
    expect(busy.did).toEqual(["heartbeat"]);
    const { l, did, lives } = leader();
    lives.activity(800);
    heartbeatOrQuiesce(l, 1000); // idle for 200 ms of 500
    expect(did).toEqual(["heartbeat"]);
    lives.activity(0);
    heartbeatOrQuiesce(l, 1000);
    expect(did.slice(1)).toEqual(["idle: telling followers to sleep (term=2, commitIndex=5)", "quiesce 2", "quiesce 3"]);
  });

  test("during a round, each heartbeat asks again only those that have not agreed; past its deadline it is given up", () => {
    const { l, did, lives, at } = leader();
    heartbeatOrQuiesce(l, 1000);
    lives.agreed(2);
    did.length = 0;
    heartbeatOrQuiesce(l, 1100);
    expect(did).toEqual(["quiesce 3"]);
    did.length = 0;
    at(1400);
    heartbeatOrQuiesce(l, 1400);
    expect(did[0]).toBe("stays awake: 3 did not agree to sleep");
  });

  test("earlier terms' entries: a no-op before sleeping, and after a failed round", () => {
    const uncommitted = leader({ lastTerm: 1, commitIndex: 4 });
    heartbeatOrQuiesce(uncommitted.l, 1000);
    expect(uncommitted.did).toEqual(["no-op to commit earlier terms before the cluster sleeps", "heartbeat"]);
    const stale = leader({ lastTerm: 1 });
    afterFailedQuiesce(stale.l);
    expect(stale.did).toEqual(["no-op to replace entries a follower may hold past its log, so the cluster can sleep"]);
    const own = leader();
    afterFailedQuiesce(own.l);
    expect(own.did).toEqual([]);
  });
});
