// The leader's hand-over (src/raft/hand-over.ts) against a fake leader that records what it was asked to do.
import { describe, expect, test } from "vitest";
import { maybeHandOver, stepDownIfRemoved, transferTo, type HandingLeader } from "../../../src/raft/hand-over.ts";
import { LeaderTimers } from "../../../src/raft/leader-timers.ts";
import { Progress } from "../../../src/raft/progress.ts";
import type { Membership } from "../../../src/raft/types.ts";

/** Leader 1 with followers 2 and 3; server 2 holds the whole log (5), server 3 up to 3. */
function leader(conf: Membership, confIndex = 4, commitIndex = 5) {
  const did: string[] = [];
  const progress = new Map([[2, new Progress(5, 0)], [3, new Progress(5, 0)]]);
  progress.get(2)!.succeeded(5);
  progress.get(3)!.succeeded(3);
  const l: HandingLeader = {
    timers: new LeaderTimers(),
    state: () => ({ self: 1, conf, confIndex, commitIndex, lastIndex: 5, progress, leading: true }),
    giveUpAt: () => 900,
    sendTimeoutNow: (peer) => did.push(`TimeoutNow ${peer}`),
    sendAppend: (peer) => did.push(`append ${peer}`),
    narrate: (line) => did.push(line),
    stepDown: () => did.push("steps down"),
  };
  return { l, did };
}

describe("hand-over", () => {
  test("a transfer to a voter holding the whole log sends TimeoutNow at once; to one behind, its entries first", () => {
    const { l, did } = leader({ voters: [1, 2, 3], learners: [] });
    expect(transferTo(l, 2)).toEqual({ ok: true });
    expect(did.at(-1)).toBe("TimeoutNow 2");
    expect([l.timers.transferee, l.timers.transferDeadline]).toEqual([2, 900]);
    expect(transferTo(l, 3)).toEqual({ ok: true });
    expect(did.at(-1)).toBe("append 3");
  });

  test("a transfer to itself is done, to a learner or a stranger refused", () => {
    const { l, did } = leader({ voters: [1, 2], learners: [3] });
    expect(transferTo(l, 1)).toEqual({ ok: true });
    expect(transferTo(l, 3)).toEqual({ ok: false, reason: "unknown_server", leader: 1 });
    expect(transferTo(l, 9)).toEqual({ ok: false, reason: "unknown_server", leader: 1 });
    expect(did).toEqual([]);
  });

  test("a removed leader hands over once its removal committed, to the voter holding the most", () => {
    const pending = leader({ voters: [2, 3], learners: [] }, 6, 5);
    maybeHandOver(pending.l);
    expect(pending.did).toEqual([]); // its removal (index 6) is not committed yet
    const { l, did } = leader({ voters: [2, 3], learners: [] });
    maybeHandOver(l);
    expect(did).toEqual(["its removal is committed (index 4): hands leadership to 2", "TimeoutNow 2"]);
  });

  test("a member never hands over; a non-member steps down when asked to", () => {
    const { l, did } = leader({ voters: [1, 2, 3], learners: [] });
    maybeHandOver(l);
    expect(stepDownIfRemoved(l, "why")).toBe(false);
    expect(did).toEqual([]);
    const removed = leader({ voters: [2, 3], learners: [] });
    expect(stepDownIfRemoved(removed.l, "handed leadership to 2")).toBe(true);
    expect(removed.did).toEqual(["steps down: no longer a member (handed leadership to 2)", "steps down"]);
  });
});
