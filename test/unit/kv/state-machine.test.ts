// The state machine as the log applies it: unknown JSON in, deterministic results out,
// snapshots that survive JSON storage and reproduce behaviour, including exactly-once.
import { describe, expect, test } from "vitest";
import { makeKvCommand, type KvOperation } from "../../../src/kv/command.ts";
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from "../../../src/kv/limits.ts";
import { type ApplyOutcome, KvStateMachine } from "../../../src/kv/state-machine.ts";
import { mulberry32, pick, randInt } from "../../lin/random.ts";

const T0 = 1_700_000_000_000;

describe("KvStateMachine.apply", () => {
  test("an append whose value would pass the value limit is refused alike everywhere, applies nothing, and a retry hears the same", () => {
    const session = { clientId: "c", requestId: 1 };
    const half = "x".repeat(MAX_VALUE_BYTES / 2);
    const replicas = [new KvStateMachine(), new KvStateMachine()];
    for (const sm of replicas) {
      expect(sm.apply(makeKvCommand({ op: "append", key: "k", value: half }, T0), 1)).toMatchObject({ status: "applied" });
      expect(sm.apply(makeKvCommand({ op: "append", key: "k", value: half }, T0), 2)).toMatchObject({ status: "applied" }); // exactly at the limit
      const before = JSON.stringify(sm.snapshot());
      const refused = sm.apply(makeKvCommand({ op: "append", key: "k", value: "y" }, T0, session), 3);
      expect(refused).toMatchObject({ status: "refused", duplicate: false, refusal: { refused: "too_large" } });
      expect(sm.peek("k")!.length).toBe(MAX_VALUE_BYTES);
      // The session remembers the refusal: the same request id is answered the same, applied never.
      expect(sm.apply(makeKvCommand({ op: "append", key: "k", value: "y" }, T0, session), 4)).toMatchObject({ status: "refused", duplicate: true });
      const after = sm.snapshot();
      expect(after.rows).toEqual(JSON.parse(before).rows);
      expect(after.revision).toBe(JSON.parse(before).revision); // a refusal writes nothing
      // ...and it survives a snapshot (the session's stored result is a refusal).
      const copy = KvStateMachine.fromSnapshot(JSON.parse(JSON.stringify(after)));
      expect(copy.apply(makeKvCommand({ op: "append", key: "k", value: "y" }, T0, session), 5)).toMatchObject({ status: "refused", duplicate: true });
    }
    expect(JSON.stringify(replicas[0]!.snapshot())).toBe(JSON.stringify(replicas[1]!.snapshot()));
    // A put of a value within the limit is never refused: only growth is bounded here.
    expect(replicas[0]!.apply(makeKvCommand({ op: "put", key: "k", value: "short" }, T0), 6)).toMatchObject({ status: "applied" });
    expect(replicas[0]!.apply(makeKvCommand({ op: "append", key: "k", value: "y" }, T0), 7)).toMatchObject({ status: "applied" });
  });

  test("applies commands as they come out of the log (plain JSON)", () => {
    const sm = new KvStateMachine();
    const wire = JSON.parse(JSON.stringify(makeKvCommand({ op: "put", key: "k", value: "v" }, T0))) as unknown;
    expect(sm.apply(wire, 8)).toEqual({ status: "applied", result: { found: false, prev: null } });
    expect(sm.apply({ kind: "kv", op: "cas", key: "k", compare: "v", value: "w", proposedAt: T0 }, 9)).toEqual({
      status: "applied",
      result: { found: true, prev: "v", swapped: true },
    });
    expect(sm.apply({ kind: "kv", op: "get", key: "k", proposedAt: T0 }, 10)).toEqual({
      status: "applied",
      result: { found: true, value: "w" },
    });
  });

  test("ignores entries that are not kv commands, and malformed kv commands, without changing state", () => {
    const sm = new KvStateMachine();
    sm.apply(makeKvCommand({ op: "put", key: "k", value: "v" }, T0), 11);
    const before = JSON.stringify(sm.snapshot());
    for (const raw of [42, null, "put k v", [], { op: "put", key: "k", value: "x", proposedAt: T0 }]) {
      expect(sm.apply(raw, 12)).toMatchObject({ status: "ignored", reason: "not_kv" });
    }
    const malformed: unknown[] = [
      { kind: "kv", op: "put", key: "k", proposedAt: T0 }, // no value
      { kind: "kv", op: "put", key: "k", value: 7, proposedAt: T0 },
      { kind: "kv", op: "remove", key: "k", proposedAt: T0 },
      { kind: "kv", op: "put", key: "\ud800", value: "v", proposedAt: T0 }, // a lone surrogate has no UTF-8 form
      { kind: "kv", op: "put", key: "k", value: "a\udc00", proposedAt: T0 },
      { kind: "etcd", op: "put", request: { key: 7 }, proposedAt: T0 }, // a request that does not parse
      { kind: "etcd", op: "range", request: { key: "YQ==" }, proposedAt: T0 }, // not a write
      { kind: "kv", op: "get", key: "", proposedAt: T0 },
      { kind: "kv", op: "get", key: "x".repeat(MAX_KEY_BYTES + 1), proposedAt: T0 },
      { kind: "kv", op: "get", key: "k" }, // no proposedAt
      { kind: "kv", op: "get", key: "k", proposedAt: "now" },
      { kind: "kv", op: "append", key: "k", value: "x", proposedAt: T0, session: { clientId: "c", requestId: -1 } },
      { kind: "kv", op: "append", key: "k", value: "x", proposedAt: T0, session: { clientId: "c", requestId: 1.5 } },
      { kind: "kv", op: "append", key: "k", value: "x", proposedAt: T0, session: { clientId: "", requestId: 1 } },
      { kind: "kv", op: "append", key: "k", value: "x", proposedAt: T0, session: { clientId: "c" } },
    ];
    for (const raw of malformed) expect(sm.apply(raw, 13)).toMatchObject({ status: "ignored", reason: "malformed" });
    expect(JSON.stringify(sm.snapshot())).toBe(before);
  });

  test("replicas applying the same log agree on every outcome and on the snapshot", () => {
    for (let seed = 1; seed <= 10; seed++) {
      const log = randomLog(mulberry32(seed), 500);
      const a = new KvStateMachine({ sessionExpiryMs: 5_000, maxSessions: 4 });
      const b = new KvStateMachine({ sessionExpiryMs: 5_000, maxSessions: 4 });
      const outA = log.map((c, i) => a.apply(c, i + 1));
      const outB = log.map((c, i) => b.apply(JSON.parse(JSON.stringify(c)), i + 1));
      expect(outB).toEqual(outA);
      expect(b.snapshot()).toEqual(a.snapshot());
      expect(outA.filter((o) => o.status === "duplicate").length).toBeGreaterThan(0);
    }
  });
});

describe("snapshot / restore", () => {
  test("an empty machine's snapshot is JSON and restores to an empty machine", () => {
    const snap = new KvStateMachine().snapshot();
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    expect(snap.clock).toBeNull();
    const restored = KvStateMachine.fromSnapshot(JSON.parse(JSON.stringify(snap)));
    expect(restored.keyCount).toBe(0);
    expect(restored.sessionCount).toBe(0);
  });

  test("a restored machine continues exactly like the original (values, duplicates, expiry)", () => {
    for (let seed = 1; seed <= 10; seed++) {
      const rand = mulberry32(seed);
      const log = randomLog(rand, 600);
      const cut = randInt(rand, 0, log.length);
      const options = { sessionExpiryMs: 5_000, maxSessions: 4 };
      const original = new KvStateMachine(options);
      log.slice(0, cut).forEach((c, i) => original.apply(c, i + 1));
      const stored = JSON.stringify(original.snapshot()); // as durable storage would keep it
      const restored = KvStateMachine.fromSnapshot(JSON.parse(stored), options);
      expect(restored.snapshot()).toEqual(original.snapshot());
      const rest = log.slice(cut);
      const a: ApplyOutcome[] = rest.map((c, i) => original.apply(c, cut + i + 1));
      const b: ApplyOutcome[] = rest.map((c, i) => restored.apply(c, cut + i + 1));
      expect(b).toEqual(a);
      expect(restored.snapshot()).toEqual(original.snapshot());
    }
  });

  test("a duplicate arriving after a restart (restore) is still answered with the first result", () => {
    const sm = new KvStateMachine();
    sm.apply(makeKvCommand({ op: "append", key: "k", value: "bar" }, T0, { clientId: "c", requestId: 3 }), 19);
    const restarted = KvStateMachine.fromSnapshot(JSON.parse(JSON.stringify(sm.snapshot())));
    expect(restarted.apply(makeKvCommand({ op: "append", key: "k", value: "bar" }, T0 + 5, { clientId: "c", requestId: 3 }), 20)).toEqual({
      status: "duplicate",
      result: { found: false, prev: null },
      index: 19,
    });
    expect(restarted.peek("k")).toBe("bar");
  });

  test("restore replaces the previous state entirely", () => {
    const source = new KvStateMachine();
    source.apply(makeKvCommand({ op: "put", key: "a", value: "1" }, T0), 21);
    const target = new KvStateMachine();
    target.apply(makeKvCommand({ op: "put", key: "b", value: "2" }, T0 + 99, { clientId: "x", requestId: 1 }), 22);
    target.restore(source.snapshot());
    expect(target.peek("b")).toBeUndefined();
    expect(target.peek("a")).toBe("1");
    expect(target.sessionCount).toBe(0);
    expect(target.snapshot()).toEqual(source.snapshot());
  });

  test("restore refuses what is not a snapshot of ours", () => {
    const sm = new KvStateMachine();
    const good = { format: "kv/1", clock: 10, data: [["k", "v"]], sessions: [["c", 1, 10, { found: false, prev: null }]] };
    expect(() => sm.restore(good)).not.toThrow();
    for (const bad of [
      null,
      {},
      { ...good, format: "kv/2" },
      { ...good, data: [["k", 1]] },
      { ...good, sessions: [["c", -1, 10, { found: false, prev: null }]] },
      { ...good, sessions: [["c", 1, 10, { nope: true }]] },
      { ...good, sessions: [["c", 1, 20, { found: false, prev: null }], ["d", 1, 10, { found: false, prev: null }]] },
    ]) {
      expect(() => sm.restore(bad)).toThrow();
    }
  });
});

/** A log with a few keys and clients, retries (same ids) and gaps in time that expire sessions. */
function randomLog(rand: () => number, n: number): unknown[] {
  const keys = ["a", "b", "c"];
  const clients = ["c0", "c1", "c2", "c3", "c4", "c5"];
  const nextId = new Map<string, number>();
  const last = new Map<string, unknown>();
  let now = T0;
  const log: unknown[] = [];
  for (let i = 0; i < n; i++) {
    now += rand() < 0.05 ? 6_000 : randInt(rand, -50, 200); // leaders' clocks differ a little
    const clientId = pick(rand, clients);
    const previous = last.get(clientId);
    if (previous !== undefined && rand() < 0.2) {
      log.push({ ...(previous as object), proposedAt: now }); // a retry of the last request
      continue;
    }
    if (rand() < 0.05) {
      log.push(rand() < 0.5 ? { junk: i } : i); // raw submits share the log
      continue;
    }
    const key = pick(rand, keys);
    const value = pick(rand, ["x", "y", "zz", ""]);
    const operation: KvOperation = pick(rand, [
      { op: "get", key },
      { op: "put", key, value },
      { op: "append", key, value },
      { op: "cas", key, compare: pick(rand, ["x", "y", "xy"]), value },
      { op: "delete", key },
    ] as const);
    const withSession = rand() < 0.8;
    const requestId = (nextId.get(clientId) ?? 0) + 1;
    const command = withSession ? makeKvCommand(operation, now, { clientId, requestId }) : makeKvCommand(operation, now);
    if (withSession) {
      nextId.set(clientId, requestId);
      last.set(clientId, command);
    }
    log.push(command);
  }
  return log;
}

describe("change tracking for row-by-row persistence", () => {
  test("replaying the session changes onto a copy rebuilds the same sessions", async () => {
    const { KvStateMachine } = await import("../../../src/kv/index.ts");
    const live = new KvStateMachine({ sessionExpiryMs: 1000, maxSessions: 3 });
    const sessions = new Map<string, unknown>();
    let clock: number | null = null;
    const cmds = [
      { kind: "kv", op: "put", key: "a", value: "1", proposedAt: 0, session: { clientId: "c1", requestId: 1 } },
      { kind: "kv", op: "append", key: "b", value: "x", proposedAt: 10, session: { clientId: "c2", requestId: 1 } },
      { kind: "kv", op: "cas", key: "a", compare: "1", value: "2", proposedAt: 20, session: { clientId: "c3", requestId: 1 } },
      { kind: "kv", op: "put", key: "c", value: "3", proposedAt: 30, session: { clientId: "c4", requestId: 1 } }, // evicts c1 (max 3)
      { kind: "kv", op: "get", key: "a", proposedAt: 5000 }, // expires every session
      { kind: "kv", op: "put", key: "a", value: "4", proposedAt: 5001, session: { clientId: "c5", requestId: 7 } },
    ];
    for (const [i, cmd] of cmds.entries()) {
      live.apply(cmd, i + 1);
      const ch = live.takeChanges();
      clock = ch.clock;
      for (const [id, rec] of ch.sessions) {
        sessions.delete(id);
        if (rec) sessions.set(id, rec);
      }
    }
    const snap = live.snapshot();
    expect(clock).toBe(snap.clock);
    expect([...sessions.keys()]).toEqual(snap.sessions.map((s) => s[0]));
    expect(live.takeChanges()).toEqual({ clock, sessions: [], forgottenResults: [] });
  });
});
