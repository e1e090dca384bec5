// A leader handing its leadership on (thesis §3.10): to the server a caller named, or, once its
// own removal has committed, to the most up-to-date voter (§4.2.2), so the cluster need not
// wait out an election timeout. The transferee gets TimeoutNow once it holds the whole log; a
// leader that is no longer a member steps down once it has sent it, or when nobody can take
// over. As etcd-io/raft keeps such steps beside its core, this takes a narrow view of the
// leader (`HandingLeader`); the core keeps the messages, the timers and the narration's voice.

import type { LeaderTimers } from "./leader-timers.ts";
import { isMember } from "./membership.ts";
import { handOverTarget } from "./membership-rules.ts";
import type { Progress } from "./progress.ts";
import type { Membership, NodeId, TransferResult } from "./types.ts";

/** What the hand-over reads of the leader (as of now) and asks it to do. */
export interface HandingLeader {
  readonly timers: LeaderTimers;
  /** Who it is, the configuration in force and its log index, and the leader's commit and last index. */
  state(): { self: NodeId; conf: Membership; confIndex: number; commitIndex: number; lastIndex: number; progress: ReadonlyMap<NodeId, Progress>; leading: boolean };
  /** When a transfer started now is given up (an election timeout from now). */
  giveUpAt(): number;
  sendTimeoutNow(peer: NodeId): void;
  sendAppend(peer: NodeId, pr: Progress): void;
  narrate(line: string): void;
  /** Become a follower of its own term, leaderless. */
  stepDown(): void;
}

/**
 * A leader hands leadership to `target` (thesis §3.10): bring it up to date, then tell it to
 * start an election at once with TimeoutNow. Proposals are refused meanwhile; the attempt is
 * abandoned after an election timeout. Naming itself is a transfer already done.
 */
export function transferTo(l: HandingLeader, target: NodeId): TransferResult {
  const s = l.state();
  if (target === s.self) return { ok: true };
  const pr = s.progress.get(target);
  if (!pr || !s.conf.voters.includes(target)) return { ok: false, reason: "unknown_server", leader: s.self };
  l.narrate(`transferring leadership to ${target} (matchIndex=${pr.match}, lastIndex=${s.lastIndex})`);
  handTo(l, target, pr);
  return { ok: true };
}

/** Start handing leadership to `target`: TimeoutNow once it holds the whole log; given up after an election timeout. */
export function handTo(l: HandingLeader, target: NodeId, pr: Progress): void {
  l.timers.startTransfer(target, l.giveUpAt());
  if (pr.match === l.state().lastIndex) l.sendTimeoutNow(target);
  else if (!pr.inflight) l.sendAppend(target, pr);
}

/**
 * A leader that removed itself leads until that configuration commits (it replicates, but
 * no longer counts itself), then hands leadership to the most up-to-date voter and steps
 * down, so the cluster need not wait out an election timeout.
 */
export function maybeHandOver(l: HandingLeader): void {
  const s = l.state();
  if (!s.leading || isMember(s.conf, s.self) || l.timers.transferee !== null) return;
  if (s.confIndex > s.commitIndex) return;
  const best = handOverTarget(s.conf, s.progress);
  if (best === null) return stepDownRemoved(l, "no voter to hand over to");
  l.narrate(`its removal is committed (index ${s.confIndex}): hands leadership to ${best}`);
  handTo(l, best, s.progress.get(best)!);
}

/** A leader no longer in the configuration steps down if it is no longer a member (after sending TimeoutNow, or a transfer that timed out). */
export function stepDownIfRemoved(l: HandingLeader, why: string): boolean {
  const s = l.state();
  if (isMember(s.conf, s.self)) return false;
  stepDownRemoved(l, why);
  return true;
}

function stepDownRemoved(l: HandingLeader, why: string): void {
  l.narrate(`steps down: no longer a member (${why})`);
  l.stepDown();
}
