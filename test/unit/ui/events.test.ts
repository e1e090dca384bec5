import { describe, expect, test } from "vitest";
import { entryFromEvent, EventCursor, formatClock } from "../../../src/ui/timeline/events.ts";

describe("live events as entries", () => {
  test("the line's [id] prefix is stripped, the event's server kept", () => {
    const t = Date.UTC(2026, 0, 1, 12, 0, 0, 250);
    expect(entryFromEvent({ t, server: 1, line: "[1] becomes Leader; term=1, log=[]" })).toEqual({
      at: t * 1000,
      time: formatClock(t),
      server: 1,
      text: "becomes Leader; term=1, log=[]",
    });
    expect(entryFromEvent({ t, server: null, line: "[TEST] Disconnect 2" })).toMatchObject({ server: null, text: "Disconnect 2" });
  });

  test("formatClock shows milliseconds", () => {
    expect(formatClock(Date.UTC(2026, 0, 1, 12, 0, 3, 7))).toMatch(/^\d\d:\d\d:03\.007$/);
  });
});

describe("EventCursor", () => {
  const e = (t: number, server: number | null, line: string) => ({ t, server, line });

  test("asks from the feed's now next time and drops repeats of lines already shown", () => {
    const cursor = new EventCursor();
    expect(cursor.since).toBe(0);
    expect(cursor.accept([e(100, 0, "[0] a"), e(105, 1, "[1] b")], 104)).toHaveLength(2);
    expect(cursor.since).toBe(104);
    // The feed answers t > 104 again: 105 is a repeat, 105 from server 2 is new.
    const next = cursor.accept([e(105, 1, "[1] b"), e(105, 2, "[2] c"), e(110, null, "[TEST] Heal")], 109);
    expect(next.map((x) => x.line)).toEqual(["[2] c", "[TEST] Heal"]);
    expect(cursor.since).toBe(109);
  });

  test("without now it asks from the newest event and returns events in time order", () => {
    const cursor = new EventCursor();
    expect(cursor.accept([e(30, 1, "[1] late"), e(20, 0, "[0] early")]).map((x) => x.t)).toEqual([20, 30]);
    expect(cursor.since).toBe(30);
    expect(cursor.accept([e(30, 1, "[1] late")])).toEqual([]);
  });

  test("an older now never moves the cursor back", () => {
    const cursor = new EventCursor();
    cursor.accept([], 500);
    cursor.accept([], 400);
    expect(cursor.since).toBe(500);
  });
});
