// LeaderTimers (src/raft/leader-timers.ts) and voteRequests (src/raft/vote-requests.ts) on their own.
import { describe, expect, test } from "vitest";
import { LeaderTimers } from "../../../src/raft/leader-timers.ts";
import { voteRequests } from "../../../src/raft/vote-requests.ts";

describe("leader timers", () => {
  test("CheckQuorum holds while a majority answered within the window, and reports how many were heard once it lapses", () => {
    const t = new LeaderTimers();
    const heard = new Map([[2, 100]]); // server 3 never answered
    const lastHeard = (id: number) => heard.get(id) ?? -Infinity;
    expect(t.quorumLost([1, 2, 3], 1, lastHeard, 500, 1000)).toBeNull();
    expect(t.checkQuorum).toBe(1100); // next look: when server 2's answer leaves the window
    expect(t.quorumLost([1, 2, 3], 1, lastHeard, 1100, 1000)).toBe(1); // only itself
  });

  test("a sleeping leader has nothing due; waking starts heartbeats, and CheckQuorum only if it is on", () => {
    const t = new LeaderTimers();
    t.sleep();
    expect([t.heartbeat, t.checkQuorum]).toEqual([Infinity, Infinity]);
    t.start(50, 10, undefined, 300);
    expect([t.heartbeat, t.checkQuorum]).toEqual([60, Infinity]);
    t.start(50, 10, true, 300);
    expect(t.deadlines(7)).toEqual({ heartbeat: 60, checkQuorum: 350, transfer: Infinity, election: 7 });
  });

  test("a transfer names its target until it ends", () => {
    const t = new LeaderTimers();
    t.startTransfer(3, 900);
    expect([t.transferee, t.transferDeadline]).toEqual([3, 900]);
    t.endTransfer();
    expect([t.transferee, t.transferDeadline]).toEqual([null, Infinity]);
  });
});

describe("vote requests", () => {
  const conf = { voters: [1, 2, 3], learners: [4] };
  const c = { self: 1, term: 5, lastLogIndex: 9, lastLogTerm: 4 };

  test("one to each other voter, learners never asked; a transfer's RequestVote says so", () => {
    const sent = voteRequests(false, true, conf, c);
    expect(sent.map((m) => m.to)).toEqual([2, 3]);
    expect(sent[0]).toEqual({ type: "RequestVote", from: 1, to: 2, term: 5, candidateId: 1, lastLogIndex: 9, lastLogTerm: 4, transfer: true });
    expect(voteRequests(false, false, conf, c)[0]).not.toHaveProperty("transfer");
  });

  test("a pre-candidate polls with its term unchanged", () => {
    expect(voteRequests(true, false, conf, c)[1]).toEqual({ type: "PreVote", from: 1, to: 3, term: 5, lastLogIndex: 9, lastLogTerm: 4 });
  });
});
