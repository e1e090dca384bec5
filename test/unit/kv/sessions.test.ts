// Exactly-once (the reference's Part 5) at the state machine: a retried request is answered
// with its first result and applied once; the session table is bounded deterministically.
import { describe, expect, test } from "vitest";
import { type KvOperation, makeKvCommand, type Session } from "../../../src/kv/command.ts";
import { KvStateMachine } from "../../../src/kv/state-machine.ts";

const HOUR = 60 * 60 * 1000;
const T0 = 1_700_000_000_000;

function cmd(operation: KvOperation, proposedAt: number, session?: Session) {
  return makeKvCommand(operation, proposedAt, session);
}
const append = (key: string, value: string): KvOperation => ({ op: "append", key, value });
const put = (key: string, value: string): KvOperation => ({ op: "put", key, value });
const get = (key: string): KvOperation => ({ op: "get", key });

describe("exactly-once sessions", () => {
  test("a duplicate is answered with the first result and not applied again", () => {
    const sm = new KvStateMachine();
    const first = sm.apply(cmd(append("k", "bar"), T0, { clientId: "c1", requestId: 1 }), 1);
    expect(first).toEqual({ status: "applied", result: { found: false, prev: null } });
    // Another client changes the key in between: the retry must still answer the first result.
    sm.apply(cmd(append("k", "baz"), T0 + 1, { clientId: "c2", requestId: 1 }), 2);
    const retry = sm.apply(cmd(append("k", "bar"), T0 + 2, { clientId: "c1", requestId: 1 }), 3);
    expect(retry).toEqual({ status: "duplicate", result: { found: false, prev: null }, index: 1 }); // where it was applied
    expect(sm.peek("k")).toBe("barbaz"); // not "barbazbar"
  });

  test("AppendLinearizableAfterDelay: the same request committed twice (leader retried) is applied once", () => {
    const sm = new KvStateMachine();
    const s = { clientId: "client-7", requestId: 42 };
    const outcomes = [0, 1, 2].map((i) => sm.apply(cmd(append("x", "a"), T0 + i, s), 4 + i));
    expect(outcomes.map((o) => o.status)).toEqual(["applied", "duplicate", "duplicate"]);
    expect(sm.peek("x")).toBe("a");
  });

  test("the next request id of the same client is applied; an older one is stale and not applied", () => {
    const sm = new KvStateMachine();
    sm.apply(cmd(append("k", "1"), T0, { clientId: "c", requestId: 5 }), 5);
    expect(sm.apply(cmd(append("k", "2"), T0, { clientId: "c", requestId: 9 }), 6).status).toBe("applied");
    expect(sm.apply(cmd(append("k", "3"), T0, { clientId: "c", requestId: 5 }), 7)).toEqual({ status: "stale", lastRequestId: 9 });
    expect(sm.peek("k")).toBe("12");
    expect(sm.session("c")?.requestId).toBe(9);
  });

  test("commands without a session are applied every time (at-least-once)", () => {
    const sm = new KvStateMachine();
    sm.apply(cmd(append("k", "a"), T0), 8);
    sm.apply(cmd(append("k", "a"), T0), 9);
    expect(sm.peek("k")).toBe("aa");
    expect(sm.sessionCount).toBe(0);
  });

  test("sessions are per client: equal request ids of different clients are distinct", () => {
    const sm = new KvStateMachine();
    sm.apply(cmd(append("k", "a"), T0, { clientId: "c1", requestId: 1 }), 10);
    sm.apply(cmd(append("k", "b"), T0, { clientId: "c2", requestId: 1 }), 11);
    expect(sm.peek("k")).toBe("ab");
  });

  test("a duplicate get answers the value it first read", () => {
    const sm = new KvStateMachine();
    sm.apply(cmd(put("k", "old"), T0), 12);
    sm.apply(cmd(get("k"), T0, { clientId: "r", requestId: 1 }), 13);
    sm.apply(cmd(put("k", "new"), T0), 14);
    expect(sm.apply(cmd(get("k"), T0, { clientId: "r", requestId: 1 }), 15)).toEqual({
      status: "duplicate",
      result: { found: true, value: "old" },
      index: 13,
    });
  });

  test("a session idle longer than the expiry is dropped when a later command applies; the retry is applied again", () => {
    const sm = new KvStateMachine({ sessionExpiryMs: HOUR });
    sm.apply(cmd(append("k", "a"), T0, { clientId: "sleepy", requestId: 1 }), 16);
    sm.apply(cmd(append("other", "x"), T0 + HOUR, { clientId: "busy", requestId: 1 }), 17);
    expect(sm.session("sleepy")).toBeDefined(); // idle exactly the expiry: kept
    sm.apply(cmd(append("other", "y"), T0 + HOUR + 1, { clientId: "busy", requestId: 2 }), 18);
    expect(sm.session("sleepy")).toBeUndefined(); // idle longer: dropped
    expect(sm.sessionCount).toBe(1);
    // The documented trade-off: a client silent for longer than the expiry loses exactly-once.
    expect(sm.apply(cmd(append("k", "a"), T0 + HOUR + 2, { clientId: "sleepy", requestId: 1 }), 19).status).toBe("applied");
    expect(sm.peek("k")).toBe("aa");
  });

  test("a client's own late retry finds its session gone when its command expired it", () => {
    const sm = new KvStateMachine({ sessionExpiryMs: 1000 });
    sm.apply(cmd(append("k", "a"), T0, { clientId: "c", requestId: 1 }), 20);
    expect(sm.apply(cmd(append("k", "a"), T0 + 1000, { clientId: "c", requestId: 1 }), 21).status).toBe("duplicate");
    // The duplicate refreshed the session: 1000 ms after the retry it is still there.
    expect(sm.apply(cmd(append("k", "a"), T0 + 2000, { clientId: "c", requestId: 1 }), 22).status).toBe("duplicate");
    expect(sm.apply(cmd(append("k", "a"), T0 + 3001, { clientId: "c", requestId: 1 }), 23).status).toBe("applied");
    expect(sm.peek("k")).toBe("aa");
  });

  test("time never goes backwards: a leader with a slower clock neither revives nor rejuvenates sessions", () => {
    const sm = new KvStateMachine({ sessionExpiryMs: 1000 });
    sm.apply(cmd(append("k", "a"), T0, { clientId: "old", requestId: 1 }), 24);
    sm.apply(cmd(append("k", "b"), T0 + 900, { clientId: "young", requestId: 1 }), 25);
    // A new leader whose clock is 10 s behind proposes: the clock stays at T0 + 900.
    sm.apply(cmd(get("k"), T0 - 10_000), 26);
    expect(sm.session("old")).toBeDefined();
    expect(sm.session("young")?.lastSeen).toBe(T0 + 900);
    // Its session is stamped with the monotone clock, not its own proposedAt.
    sm.apply(cmd(append("k", "c"), T0 - 10_000, { clientId: "lagging", requestId: 1 }), 27);
    expect(sm.session("lagging")?.lastSeen).toBe(T0 + 900);
    sm.apply(cmd(get("k"), T0 + 1001), 28);
    expect(sm.session("old")).toBeUndefined();
    expect(sm.session("young")).toBeDefined();
    expect(sm.session("lagging")).toBeDefined();
  });

  test("beyond maxSessions the least recently used session is dropped", () => {
    const sm = new KvStateMachine({ maxSessions: 3 });
    for (const [i, c] of ["a", "b", "c"].entries()) sm.apply(cmd(put(c, c), T0, { clientId: c, requestId: 1 }), 29 + i);
    sm.apply(cmd(put("a", "a"), T0, { clientId: "a", requestId: 1 }), 32); // duplicate: "a" is now most recent
    sm.apply(cmd(put("d", "d"), T0, { clientId: "d", requestId: 1 }), 33);
    expect(sm.sessionCount).toBe(3);
    expect(sm.session("b")).toBeUndefined();
    expect(["a", "c", "d"].every((c) => sm.session(c) !== undefined)).toBe(true);
  });

  test("options are checked", () => {
    expect(() => new KvStateMachine({ sessionExpiryMs: 0 })).toThrow(RangeError);
    expect(() => new KvStateMachine({ maxSessions: 0 })).toThrow(RangeError);
  });
});

describe("a retry and another request under the same ids are told apart", () => {
  test("the same id with another operation is stale, not answered with the first request's result", () => {
    const sm = new KvStateMachine();
    const s = { clientId: "shared", requestId: 7 };
    expect(sm.apply(cmd(append("k", "<a>"), T0, s), 32).status).toBe("applied");
    expect(sm.apply(cmd(append("k", "<b>"), T0, s), 33)).toEqual({ status: "stale", lastRequestId: 7 });
    expect(sm.apply(cmd(append("k", "<a>"), T0, s), 34)).toEqual({ status: "duplicate", result: { found: false, prev: null }, index: 32 });
    expect(sm.peek("k")).toBe("<a>");
    // The digest covers every field: a key, a value or a compare operand that differs is another request.
    for (const other of [append("j", "<a>"), put("k", "<a>"), { op: "cas", key: "k", compare: "", value: "<a>" } as KvOperation]) {
      expect(sm.apply(cmd(other, T0, s), 35).status).toBe("stale");
    }
  });

  test("a session stored before digests existed takes any command under its id for a retry, as before", () => {
    const old = { format: "kv/1", clock: T0, data: [["k", "<a>"]], sessions: [["shared", 7, T0, { found: false, prev: null }]] };
    const sm = KvStateMachine.fromSnapshot(old);
    expect(sm.apply(cmd(append("k", "<b>"), T0, { clientId: "shared", requestId: 7 }), 36).status).toBe("duplicate");
    // The next request stores its digest and its index, and the snapshot carries them.
    sm.apply(cmd(append("k", "<c>"), T0, { clientId: "shared", requestId: 8 }), 37);
    expect(sm.snapshot().sessions[0]).toHaveLength(6);
    expect(KvStateMachine.fromSnapshot(JSON.parse(JSON.stringify(sm.snapshot()))).apply(cmd(append("k", "<d>"), T0, { clientId: "shared", requestId: 8 }), 38).status).toBe("stale");
  });
});
