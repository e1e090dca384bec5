// A leader's heartbeat when the cluster may sleep: it asks its followers to sleep once the
// cluster is idle (a quiesce round), asks again at every heartbeat those that have not agreed
// (the question or the answer may have been lost), and gives the round up when it runs past
// its deadline. leader-life.ts holds the rules and the rounds; this runs them against a narrow
// view of the leader (`SleepingLeader`), as etcd-io/raft keeps helpers beside raft.go. The
// steps a mutant replaces (startQuiesce, afterFailedQuiesce, fallAsleep) stay methods of the core.

import type { LeaderLife, LeaderView } from "./leader-life.ts";
import type { NodeId } from "./types.ts";

/** What the sleep steps read of the leader (as of now) and ask it to do. */
export interface SleepingLeader {
  lives(): LeaderLife;
  /** The quiesce rules' view of the leader, with what else decides whether it is idle. */
  view(): LeaderView & { term: number; commitIndex: number; lastTerm: number; busy: boolean; sleepAfterMs: number };
  narrate(line: string): void;
  appendNoop(why: string): void;
  /** A quiesce heartbeat (a bare AppendEntries carrying the round) to `peer`. */
  askToSleep(peer: NodeId): void;
  heartbeat(): void;
  startQuiesce(): void;
  afterFailedQuiesce(): void;
  fallAsleep(): void;
}

/** The leader's heartbeat is due: go on with a quiesce round, start one if the cluster is idle, or send a plain heartbeat. */
export function heartbeatOrQuiesce(l: SleepingLeader, now: number): void {
  if (l.lives().roundOverdue(now)) {
    l.narrate(`stays awake: ${l.lives().abandonRound().join(", ")} did not agree to sleep`);
    l.afterFailedQuiesce();
  }
  if (l.lives().round !== null) askToSleep(l, l.lives().missing());
  else if (idle(l)) l.startQuiesce();
  else l.heartbeat();
}

/** May the cluster sleep now? (Appends a no-op if earlier terms' entries keep it from committing.) */
function idle(l: SleepingLeader): boolean {
  const v = l.view();
  const may = l.lives().mayQuiesce(v, v.sleepAfterMs, v.busy, v.commitIndex, v.lastTerm, v.term);
  if (may === "noop") l.appendNoop("to commit earlier terms before the cluster sleeps");
  return may === true;
}

/** Start a quiesce round, open until `until`; with nobody to ask, the leader sleeps at once. */
export function startQuiesce(l: SleepingLeader, until: number): void {
  const v = l.view();
  const asked = l.lives().startQuiesce(v, until);
  l.narrate(`idle: telling followers to sleep (term=${v.term}, commitIndex=${v.commitIndex})`);
  if (asked.length === 0) return l.fallAsleep();
  askToSleep(l, asked);
}

function askToSleep(l: SleepingLeader, ids: readonly NodeId[]): void {
  for (const id of ids) l.askToSleep(id);
}

/**
 * A quiesce round failed. If the log ends in an earlier term, a follower may hold an old
 * leader's uncommitted entries past our last index: our heartbeats match its log up to there
 * and never truncate them, so it rightly refuses to sleep, round after round, until a client
 * writes. An entry of our own term conflicts with them and truncates them (leaderNoop off
 * only: otherwise the election's no-op did this).
 */
export function afterFailedQuiesce(l: SleepingLeader): void {
  const v = l.view();
  if (v.lastTerm !== v.term) l.appendNoop("to replace entries a follower may hold past its log, so the cluster can sleep");
}
