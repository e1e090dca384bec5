// The session table is bounded in size, not only in count (issue 23, item 3): the results
// it keeps to answer retries are held within a budget of characters, least recently used
// forgotten first, deterministically; a forgotten result's request is still never applied
// twice.
import { describe, expect, test } from "vitest";
import { type KvOperation, makeKvCommand, type Session } from "../../../src/kv/command.ts";
import { MAX_VALUE_BYTES } from "../../../src/kv/limits.ts";
import { DEFAULT_MAX_RESULT_CHARS, type SessionRecord } from "../../../src/kv/sessions.ts";
import { KvStateMachine, type KvStateMachineOptions } from "../../../src/kv/state-machine.ts";

const T0 = 1_700_000_000_000;
const put = (key: string, value: string): KvOperation => ({ op: "put", key, value });
const cmd = (operation: KvOperation, session?: Session, at = T0) => makeKvCommand(operation, at, session);

/** The example: `clients` clients each put a 64 KiB value to one key, so each result's `prev` is 64 KiB. */
function bigPuts(sm: KvStateMachine, clients: number): void {
  for (let i = 0; i < clients; i++) {
    const value = String(i % 10).repeat(MAX_VALUE_BYTES);
    sm.apply(cmd(put("k", value), { clientId: `client-${i}`, requestId: 1 }, T0 + i), i + 1);
  }
}

describe("the session table's results are bounded in size", () => {
  test("500 clients putting 64 KiB values: the snapshot stays within the budget (it was 32.8 M characters)", () => {
    const sm = new KvStateMachine();
    bigPuts(sm, 500);
    // The sessions' part of the snapshot (the rows are the store's history, kept until compacted).
    const text = JSON.stringify(sm.snapshot().sessions);
    expect(sm.sessionCount).toBe(500); // every id kept: retries are still never applied twice
    expect(sm.sessionResultChars).toBeLessThanOrEqual(DEFAULT_MAX_RESULT_CHARS);
    // The bound: the results' budget, and ~70 characters per session of ids.
    expect(text.length).toBeLessThanOrEqual(DEFAULT_MAX_RESULT_CHARS + 500 * 100);
    expect(text.length).toBeGreaterThan(DEFAULT_MAX_RESULT_CHARS - MAX_VALUE_BYTES); // the budget is used, not wasted
  });

  test("the least recently used results are forgotten first, a retry of one is answered 'forgotten' and not applied again", () => {
    const sm = new KvStateMachine({ maxResultChars: 3 * 40 });
    // Each result {"found":true,"prev":"vvvvvvvvvv"} is 33 characters: three fit.
    sm.apply(cmd(put("k", "v".repeat(10))), 2);
    for (const [i, c] of ["a", "b", "c"].entries()) sm.apply(cmd(put("k", "v".repeat(10)), { clientId: c, requestId: 1 }), 3 + i);
    sm.apply(cmd(put("k", "v".repeat(10)), { clientId: "a", requestId: 1 }), 6); // a duplicate: "a" most recent
    sm.apply(cmd(put("k", "w".repeat(10)), { clientId: "d", requestId: 1 }), 7);
    expect(sm.session("b")?.result).toBeNull();
    for (const c of ["a", "c", "d"]) expect(sm.session(c)?.result).not.toBeNull();

    expect(sm.apply(cmd(put("k", "v".repeat(10)), { clientId: "b", requestId: 1 }), 8)).toEqual({ status: "forgotten", requestId: 1 });
    expect(sm.peek("k")).toBe("w".repeat(10)); // not applied again
    expect(sm.apply(cmd(put("k", "x"), { clientId: "b", requestId: 1 }), 9).status).toBe("stale"); // another request under its id
    // Its next request is new, as always; an older one is stale, as always.
    expect(sm.apply(cmd(put("k", "y"), { clientId: "b", requestId: 2 }), 10).status).toBe("applied");
    expect(sm.apply(cmd(put("k", "z"), { clientId: "b", requestId: 1 }), 11)).toEqual({ status: "stale", lastRequestId: 2 });
  });

  test("replicas forget the same results, and a restored snapshot keeps forgetting in the same order", () => {
    const options: KvStateMachineOptions = { maxResultChars: 200_000 };
    const [a, b] = [new KvStateMachine(options), new KvStateMachine(options)];
    for (const sm of [a, b]) bigPuts(sm, 7);
    expect(a.snapshot()).toEqual(b.snapshot());
    const restored = KvStateMachine.fromSnapshot(JSON.parse(JSON.stringify(a.snapshot())), options);
    expect(restored.sessionResultChars).toBe(a.sessionResultChars);
    for (const sm of [a, restored]) sm.apply(cmd(put("k", "v".repeat(MAX_VALUE_BYTES)), { clientId: "late", requestId: 1 }, T0 + 100), 10);
    expect(restored.snapshot()).toEqual(a.snapshot());
  });

  test("a host that stores the changes row by row keeps the use order (forgetting does not move a session)", () => {
    const sm = new KvStateMachine({ maxResultChars: 100 });
    const rows = new Map<string, { seq: number; record: SessionRecord }>();
    let seq = 0;
    const persist = () => {
      const changes = sm.takeChanges();
      for (const [clientId, record] of changes.sessions) {
        if (record === null) rows.delete(clientId);
        else rows.set(clientId, { seq: ++seq, record });
      }
      for (const clientId of changes.forgottenResults) rows.set(clientId, { ...rows.get(clientId)!, record: { ...rows.get(clientId)!.record, result: null } });
    };
    for (const [i, c] of ["a", "b", "c", "d", "e"].entries()) {
      sm.apply(cmd(put(c, "v".repeat(20)), { clientId: c, requestId: 1 }, T0 + i), 2 * i + 1);
      sm.apply(cmd(put(c, "v".repeat(20)), { clientId: c, requestId: 1 }, T0 + i), 2 * i + 2); // a duplicate: answers, moves nothing else
      persist();
    }
    const stored = [...rows.entries()].sort((x, y) => x[1].seq - y[1].seq).map(([c, r]) => [c, r.record.requestId, r.record.lastSeen, r.record.result, r.record.fingerprint, r.record.index]);
    expect(stored).toEqual(sm.snapshot().sessions);
    expect(stored.some(([, , , result]) => result === null)).toBe(true);
  });

  test("the budget is checked", () => {
    expect(() => new KvStateMachine({ maxResultChars: -1 })).toThrow(RangeError);
    expect(() => new KvStateMachine({ maxResultChars: 1.5 })).toThrow(RangeError);
  });
});
