// A retry recognised as a duplicate is answered with the log index where its request was
// applied (issue 23 item 7): the session keeps that index, snapshots carry it, sessions
// stored before it existed still load (and a retry of one is answered with its own index).
import { describe, expect, test } from "vitest";
import { type KvOperation, makeKvCommand, type Session } from "../../../src/kv/command.ts";
import { MAX_VALUE_BYTES } from "../../../src/kv/limits.ts";
import { KvStateMachine } from "../../../src/kv/state-machine.ts";
import { PendingProposals } from "../../../src/server/pending.ts";

const T0 = 1_700_000_000_000;
const append = (key: string, value: string): KvOperation => ({ op: "append", key, value });
const cmd = (operation: KvOperation, session?: Session) => makeKvCommand(operation, T0, session);
const roundTrip = (sm: KvStateMachine) => KvStateMachine.fromSnapshot(JSON.parse(JSON.stringify(sm.snapshot())));

describe("a duplicate names the entry where its request was applied", () => {
  test("after other writes, and after a snapshot's round trip", () => {
    const sm = new KvStateMachine();
    const s = { clientId: "c", requestId: 1 };
    expect(sm.apply(cmd(append("k", "a"), s), 4)).toMatchObject({ status: "applied" });
    sm.apply(cmd(append("k", "b")), 5);
    sm.apply(cmd(append("k", "c"), { clientId: "other", requestId: 1 }), 6);
    expect(sm.apply(cmd(append("k", "a"), s), 7)).toEqual({ status: "duplicate", result: { found: false, prev: null }, index: 4 });
    // A retry refreshes the session but does not move its index to the retry's entry.
    expect(sm.session("c")?.index).toBe(4);
    expect(roundTrip(sm).apply(cmd(append("k", "a"), s), 8)).toMatchObject({ status: "duplicate", index: 4 });
    // The next request is new, and its own entry is the one remembered.
    sm.apply(cmd(append("k", "d"), { clientId: "c", requestId: 2 }), 9);
    expect(sm.apply(cmd(append("k", "d"), { clientId: "c", requestId: 2 }), 10)).toMatchObject({ status: "duplicate", index: 9 });
  });

  test("a refused request's retry names the entry where it was refused", () => {
    const sm = new KvStateMachine();
    sm.apply(cmd(append("k", "x".repeat(MAX_VALUE_BYTES))), 1);
    const s = { clientId: "c", requestId: 1 };
    expect(sm.apply(cmd(append("k", "y"), s), 2)).toMatchObject({ status: "refused", duplicate: false });
    expect(sm.apply(cmd(append("k", "y"), s), 3)).toMatchObject({ status: "refused", duplicate: true, index: 2 });
  });

  test("equal logs give equal snapshots, the index included; a replica restored midway agrees", () => {
    const log = Array.from({ length: 40 }, (_, i) => cmd(append(`k${i % 3}`, String(i)), { clientId: `c${i % 4}`, requestId: 1 + Math.floor(i / 8) }));
    const a = new KvStateMachine();
    const b = new KvStateMachine();
    log.forEach((c, i) => a.apply(c, i + 1));
    log.slice(0, 17).forEach((c, i) => b.apply(JSON.parse(JSON.stringify(c)), i + 1));
    const c = roundTrip(b);
    log.slice(17).forEach((command, i) => c.apply(command, 17 + i + 1));
    expect(JSON.stringify(c.snapshot())).toBe(JSON.stringify(a.snapshot()));
    expect(a.snapshot().sessions.every((t) => typeof t[5] === "number")).toBe(true);
  });
});

describe("sessions stored before the index was kept", () => {
  test("load from a snapshot with or without a fingerprint, and answer a retry without an index", () => {
    const result = { found: false, prev: null };
    const old = {
      format: "kv/1",
      clock: T0,
      data: [["k", "<a>"]],
      sessions: [
        ["no-digest", 7, T0, result],
        ["digest", 3, T0, result, 0],
      ],
    };
    const sm = KvStateMachine.fromSnapshot(old);
    expect(sm.apply(cmd(append("k", "<a>"), { clientId: "no-digest", requestId: 7 }), 50)).toEqual({ status: "duplicate", result });
    const digest = sm.session("digest")!.fingerprint!;
    expect(sm.session("digest")?.index).toBeUndefined();
    // Their tuples are written as they were read: no index element appears from nowhere.
    expect(sm.snapshot().sessions).toEqual([
      ["digest", 3, T0, result, digest],
      ["no-digest", 7, T0, result],
    ]);
  });

  test("a session with an index but no fingerprint holds the fingerprint's place with null", () => {
    const result = { found: true, value: "v" };
    const sm = KvStateMachine.fromSnapshot({ format: "kv/1", clock: T0, data: [], sessions: [["c", 2, T0, result, null, 12]] });
    expect(sm.session("c")).toEqual({ requestId: 2, lastSeen: T0, result, index: 12 });
    expect(sm.snapshot().sessions).toEqual([["c", 2, T0, result, null, 12]]);
    expect(() => KvStateMachine.fromSnapshot({ format: "kv/1", clock: T0, data: [], sessions: [["c", 2, T0, result, null, 0]] })).toThrow();
  });
});

describe("the leader's answer (pending.ts)", () => {
  test("a duplicate answers the applied index; one without an index answers the retry's own", async () => {
    const pending = new PendingProposals();
    const known = pending.wait(9, 2, 10_000);
    const unknown = pending.wait(10, 2, 10_000);
    const result = { found: false, prev: null };
    pending.settle(
      [
        { index: 9, term: 2, command: null },
        { index: 10, term: 2, command: null },
      ],
      [
        { status: "duplicate", result, index: 4 },
        { status: "duplicate", result },
      ],
    );
    expect(await known).toEqual({ kind: "ok", index: 4, result, duplicate: true });
    expect(await unknown).toEqual({ kind: "ok", index: 10, result, duplicate: true });
  });
});
