import { describe, expect, test } from "vitest";
import { parseTestLog } from "../../../src/ui/timeline/parse.ts";
import { evictionIn, harnessChangeIn, sleepChangeIn, stateChangeIn, StateTracker, termChangeIn, trackStates } from "../../../src/ui/timeline/state.ts";
import type { LogEntry, ServerState, TimelineRow } from "../../../src/ui/timeline/types.ts";
import { SEED } from "./seed.ts";

const F: ServerState = "Follower";
const C: ServerState = "Candidate";
const L: ServerState = "Leader";
const D: ServerState = "Dead";

describe("reading state changes", () => {
  test("becomes X moves a server; other mentions of a state do not", () => {
    expect(stateChangeIn("becomes Candidate (currentTerm=1); log=[]")).toBe("Candidate");
    expect(stateChangeIn("becomes Follower with term=4; log=[]")).toBe("Follower");
    expect(stateChangeIn("becomes Leader; term=5, log=[]")).toBe("Leader");
    expect(stateChangeIn("becomes Dead")).toBe("Dead");
    expect(stateChangeIn("in election timer state=Dead, bailing out")).toBeNull();
    expect(stateChangeIn("while waiting for reply, state = Leader")).toBeNull();
  });

  test("terms come from becomes lines only", () => {
    expect(termChangeIn("becomes Candidate (currentTerm=7); log=[]")).toBe(7);
    expect(termChangeIn("becomes Follower with term=4; log=[]")).toBe(4);
    expect(termChangeIn("becomes Leader; term=5, log=[]")).toBe(5);
    expect(termChangeIn("election timer started (286ms), term=0")).toBeNull();
  });

  test("harness lines crash and restart a server", () => {
    expect(harnessChangeIn("Crash 2")).toEqual({ server: 2, state: "Dead" });
    expect(harnessChangeIn("Restart 2")).toEqual({ server: 2, state: "Follower" });
    expect(harnessChangeIn("Disconnect 2")).toBeNull();
  });
});

describe("the seed's states", () => {
  const entries = parseTestLog(SEED)[0]?.entries ?? [];
  const rows = trackStates(entries, [0, 1, 2]);
  const at = (time: string, server: number | null, startsWith: string): TimelineRow => {
    const row = rows.find((r) => r.entry.time === time && r.entry.server === server && r.entry.text.startsWith(startsWith));
    if (!row) throw new Error(`no row ${time} [${server}] ${startsWith}`);
    return row;
  };

  test("everyone starts as a Follower", () => {
    expect(rows[0]?.states).toEqual([F, F, F]);
  });

  test("the first election: 1 is Candidate until it wins, then Leader", () => {
    expect(at("11:04:37.796881", 1, "becomes Candidate").states).toEqual([F, C, F]);
    expect(at("11:04:37.801059", 1, "wins election").states).toEqual([F, C, F]);
    expect(at("11:04:37.801102", 1, "becomes Leader").states).toEqual([F, L, F]);
    expect(at("11:04:37.801102", 1, "becomes Leader").terms).toEqual([1, 1, null]);
  });

  test("disconnected 2 campaigns alone, then the reconnect deposes 1 and 1 wins term 5", () => {
    expect(at("11:04:37.963819", 2, "becomes Candidate").states).toEqual([F, L, C]);
    expect(at("11:04:38.499708", null, "Reconnect 2").states).toEqual([F, L, C]);
    expect(at("11:04:38.506136", 1, "becomes Follower").states).toEqual([F, F, C]);
    expect(at("11:04:38.687080", 1, "becomes Candidate").states).toEqual([F, C, C]);
    expect(at("11:04:38.689482", 1, "becomes Leader").states).toEqual([F, L, C]);
    expect(at("11:04:38.691110", 2, "becomes Follower").states).toEqual([F, L, F]);
  });

  test("the end: 0 says it is Dead, the others keep their state, everyone is in term 5", () => {
    const last = rows[rows.length - 1];
    expect(last?.states).toEqual([D, L, F]);
    expect(last?.terms).toEqual([5, 5, 5]);
  });

  test("becomes lines are marked as transitions, others are not", () => {
    expect(at("11:04:37.801102", 1, "becomes Leader").transition).toBe(true);
    expect(at("11:04:37.801059", 1, "wins election").transition).toBe(false);
  });
});

describe("StateTracker", () => {
  const line = (server: number | null, text: string, at = 0): LogEntry => ({ at, time: "t", server, text });

  test("starts from known states and follows harness crash/restart lines", () => {
    const tracker = new StateTracker([0, 1, 2], new Map([[1, { state: "Leader" as const, term: 3 }]]));
    expect(tracker.apply(line(0, "hello")).states).toEqual([F, L, F]);
    expect(tracker.apply(line(null, "Crash 1")).states).toEqual([F, D, F]);
    expect(tracker.apply(line(null, "Restart 1")).states).toEqual([F, F, F]);
    expect(tracker.termOf(1)).toBe(3);
  });

  test("a server outside the columns changes nothing", () => {
    const tracker = new StateTracker([0]);
    expect(tracker.apply(line(5, "becomes Leader; term=1")).states).toEqual([F]);
    expect(tracker.apply(line(null, "Crash 5")).states).toEqual([F]);
  });
});

describe("sleep and evictions", () => {
  const line = (server: number | null, text: string): LogEntry => ({ at: 0, time: "t", server, text });
  const leading = () => new StateTracker([0, 1, 2], new Map([[0, { state: L, term: 2 }], [1, { state: F, term: 2 }], [2, { state: F, term: 2 }]]));

  test("sleep and wake lines are read as such; the leader's call to sleep is not sleep yet", () => {
    expect(sleepChangeIn("sleeps (term=2, commitIndex=5)")).toBe(true);
    expect(sleepChangeIn("sleeps: its followers are asleep (term=2, commitIndex=5)")).toBe(true);
    expect(sleepChangeIn("reloads asleep (term=2)")).toBe(true);
    expect(sleepChangeIn("wakes (woken by AppendEntries from 0)")).toBe(false);
    expect(sleepChangeIn("idle: telling followers to sleep (term=2, commitIndex=5)")).toBeNull();
    expect(sleepChangeIn("stays awake: 2 did not agree to sleep")).toBeNull();
  });

  test("an idle cluster falls asleep server by server and wakes on the leader's heartbeat", () => {
    const t = leading();
    expect(t.apply(line(0, "idle: telling followers to sleep (term=2, commitIndex=5)")).asleep).toEqual([false, false, false]);
    expect(t.apply(line(1, "sleeps (term=2, commitIndex=5)")).asleep).toEqual([false, true, false]);
    expect(t.apply(line(2, "sleeps (term=2, commitIndex=5)")).asleep).toEqual([false, true, true]);
    const asleep = t.apply(line(0, "sleeps: its followers are asleep (term=2, commitIndex=5)"));
    expect(asleep.asleep).toEqual([true, true, true]);
    expect(asleep.states).toEqual([L, F, F]);
    expect(asleep.transition).toBe(false);
    expect(t.apply(line(0, "wakes (woken by the coordinator)")).asleep).toEqual([false, true, true]);
    expect(t.apply(line(1, "wakes (woken by AppendEntries from 0)")).asleep).toEqual([false, false, true]);
  });

  test("evictions are not crashes: nobody is Dead, a reloaded leader leads again in its term", () => {
    expect(evictionIn("Evict 1")).toBe(1);
    expect(evictionIn("Evict all (a deploy)")).toBe("all");
    expect(evictionIn("Crash 1")).toBeNull();
    expect(harnessChangeIn("Evict 1")).toBeNull();

    const t = leading();
    expect(t.apply(line(null, "Evict 1")).states).toEqual([L, F, F]);
    // The leader loses its memory; it loads again as a Follower, then resumes from storage.
    expect(t.apply(line(null, "Evict 0")).states).toEqual([F, F, F]);
    const resumed = t.apply(line(0, "becomes Leader again after a reload (its durable state says it won this term); term=2, log=[1:1 2:1]"));
    expect(resumed.states).toEqual([L, F, F]);
    expect(resumed.terms).toEqual([2, 2, 2]);
    expect(resumed.transition).toBe(true);
    expect(t.apply(line(null, "Evict all (a deploy)")).states).toEqual([F, F, F]);
  });

  test("a sleeping object evicted reloads asleep; a Dead one stays Dead and never sleeps", () => {
    const t = leading();
    for (const id of [1, 2]) t.apply(line(id, "sleeps (term=2, commitIndex=5)"));
    t.apply(line(0, "sleeps: its followers are asleep (term=2, commitIndex=5)"));
    expect(t.apply(line(null, "Evict all (a deploy)")).asleep).toEqual([false, false, false]);
    t.apply(line(1, "reloads asleep (term=2)"));
    t.apply(line(0, "reloads asleep (term=2)"));
    const row = t.apply(line(0, "becomes Leader again after a reload (its durable state says it won this term); term=2, log=[]"));
    expect(row.states).toEqual([L, F, F]);
    expect(row.asleep).toEqual([true, true, false]);

    const crashed = leading();
    crashed.apply(line(2, "sleeps (term=2, commitIndex=5)"));
    expect(crashed.apply(line(null, "Crash 2")).asleep).toEqual([false, false, false]);
    expect(crashed.apply(line(null, "Evict 2")).states).toEqual([L, F, D]);
    expect(crashed.apply(line(null, "Evict all (a deploy)")).states).toEqual([F, F, D]);
  });

  test("the dashboard can start from statuses that say who sleeps", () => {
    const t = new StateTracker([0, 1], new Map([[0, { state: L, term: 3, asleep: true }], [1, { state: F, term: 3, asleep: false }]]));
    expect(t.apply(line(1, "hello")).asleep).toEqual([true, false]);
  });
});
