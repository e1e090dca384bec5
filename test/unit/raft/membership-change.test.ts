// A leader's membership change (src/raft/membership-change.ts) against a fake leader that records what it was asked to do.
import { describe, expect, test } from "vitest";
import { MembershipHistory } from "../../../src/raft/membership.ts";
import { changeMembership, type ChangingLeader } from "../../../src/raft/membership-change.ts";
import type { Entry } from "../../../src/raft/types.ts";

/** Server 1 of term 2 (leading unless told), voters 1..3, log up to 5; `ownTermCommitted` as told. */
function leader(opts: { leading?: boolean; ownTermCommitted?: boolean; lastTerm?: number } = {}) {
  const did: string[] = [];
  const appended: Entry[] = [];
  const history = new MembershipHistory({ voters: [1, 2, 3], learners: [] }, 0, []);
  const leading = opts.leading ?? true;
  const l: ChangingLeader = {
    leader: () => ({ self: 1, leading, leader: leading ? 1 : 3 }),
    state: () => ({
      term: 2,
      lastTerm: opts.lastTerm ?? 2,
      change: { self: 1, history, commitIndex: 5, lastIndex: 5, maxEntries: 10, transferee: null, ownTermCommitted: opts.ownTermCommitted ?? true, progress: new Map(), requiresOwnTermCommit: true, allowsChangeWhilePending: false },
    }),
    activity: (why) => did.push(why),
    appendNoop: (why) => did.push(`no-op ${why}`),
    appendAndSend: (e) => appended.push(e),
    narrate: (line) => did.push(line),
    detail: (line) => did.push(line),
  };
  return { l, did, appended };
}

describe("membership change", () => {
  test("a leader appends the configuration entry at the end of its log, in its term", () => {
    const { l, did, appended } = leader();
    const r = changeMembership(l, { op: "add_learner", id: 4 });
    expect(r).toMatchObject({ accepted: true, index: 6, term: 2, membership: { voters: [1, 2, 3], learners: [4] } });
    expect(appended.map((e) => [e.index, e.term])).toEqual([[6, 2]]);
    expect(did[0]).toBe("woken by a membership change");
    expect(did[1]).toMatch(/^appends configuration .* at index 6 \(add_learner 4\)$/);
  });

  test("a follower refuses, naming its leader, and wakes nothing", () => {
    const { l, did, appended } = leader({ leading: false });
    expect(changeMembership(l, { op: "remove", id: 2 })).toEqual({ accepted: false, reason: "not_leader", message: "server 1 is not the leader", leader: 3 });
    expect(did).toEqual(["refuses remove 2: server 1 is not the leader"]);
    expect(appended).toEqual([]);
  });

  test("before an entry of its term commits: refused, with a no-op appended only if its log does not end in its term", () => {
    const stale = leader({ ownTermCommitted: false, lastTerm: 1 });
    expect(changeMembership(stale.l, { op: "remove", id: 2 })).toMatchObject({ accepted: false, reason: "not_ready", message: "no entry of term 2 is committed yet", leader: 1 });
    expect(stale.did).toContain("no-op before changing the membership");
    const pending = leader({ ownTermCommitted: false });
    changeMembership(pending.l, { op: "remove", id: 2 });
    expect(pending.did.some((d) => d.startsWith("no-op"))).toBe(false);
    expect(pending.appended).toEqual([]);
  });
});
