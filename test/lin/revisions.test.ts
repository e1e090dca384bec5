// The revision checker on hand-written etcd histories: ones that pass, and mutants that each
// fail for one stated reason. Times are abstract units; etcd's store starts at revision 1.
import { describe, expect, test } from "vitest";
import { at, cmp, del, delOk, kv, lost, put, putOk, range, rangeOk, txn, txnOk } from "./etcd-fixtures.ts";
import { witnessProblem } from "./etcd-witness.ts";
import { checkRevisions, type EtcdOperation, explainRevisionReport, type ViolationKind } from "./revisions.ts";

/** The verdict; for "ok", its witness is checked independently first. */
function verdict(history: EtcdOperation[]): string {
  const report = checkRevisions(history);
  if (report.verdict === "ok") expect(witnessProblem(history, report)).toBeNull();
  return report.verdict;
}

/** Expects the history to fail with `kind`, and returns the explanation for further checks. */
function fails(history: EtcdOperation[], kind: ViolationKind): string {
  const report = checkRevisions(history);
  const text = explainRevisionReport(report);
  expect(report.verdict, text).toBe("illegal");
  expect(report.violation?.kind, text).toBe(kind);
  return text;
}

// Two keys written, a range over both, a txn that moves one: the base of several mutants.
const x1 = at(0, 0, 1, put("x", "x1"), putOk(2));
const y1 = at(1, 0, 1, put("y", "y1"), putOk(3));
const both = at(2, 2, 3, range("a", "z"), rangeOk(3, [kv("x", "x1", 2, 2, 1), kv("y", "y1", 3, 3, 1)]));
const swap = at(
  0,
  4,
  5,
  txn([cmp("x", "value", "=", "x1")], [put("x", "x2"), put("y", "y2", { prevKv: true })], [range("x")]),
  txnOk(4, true, [putOk(4), putOk(4, kv("y", "y1", 3, 3, 1))]),
);
const afterSwap = (kvs = [kv("x", "x2", 2, 4, 2), kv("y", "y2", 3, 4, 2)]) => at(1, 6, 7, range("a", "z"), rangeOk(4, kvs));

describe("histories that pass", () => {
  test("an empty history", () => {
    expect(verdict([])).toBe("ok");
  });

  test("puts, a range over both keys, a txn over both, a range after it", () => {
    const report = checkRevisions([x1, y1, both, swap, afterSwap()]);
    expect(report.verdict, explainRevisionReport(report)).toBe("ok");
    expect(report.lastRevision).toBe(4);
    expect([...report.revisions.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [0, 2],
      [1, 3],
      [2, 3],
      [3, 4],
      [4, 4],
    ]);
  });

  test("a delete over a range ends both keys' lives; a put after starts again at version 1", () => {
    const h = [
      x1,
      y1,
      at(0, 2, 3, del("a", "z", true), delOk(4, 2, [kv("x", "x1", 2, 2, 1), kv("y", "y1", 3, 3, 1)])),
      at(1, 4, 5, range("x"), rangeOk(4, [])),
      at(0, 6, 7, put("x", "x3", { prevKv: true }), putOk(5)),
      at(1, 8, 9, range("\0", "\0"), rangeOk(5, [kv("x", "x3", 5, 5, 1)])),
    ];
    expect(verdict(h)).toBe("ok");
  });

  test("a delete that deletes nothing writes nothing: it answers the current revision", () => {
    expect(verdict([x1, at(0, 2, 3, del("q"), delOk(2, 0)), at(0, 4, 5, put("q", "q1"), putOk(3))])).toBe("ok");
  });

  test("a failed txn compare takes the failure branch, writes nothing, answers the current revision", () => {
    const t = at(2, 2, 3, txn([cmp("x", "version", "=", 0)], [put("x", "never")], [range("x")]), txnOk(2, false, [rangeOk(2, [kv("x", "x1", 2, 2, 1)])]));
    expect(verdict([x1, t])).toBe("ok");
  });

  test("limit, count and more; a read of the past sees the state at its revision", () => {
    const x2 = at(0, 2, 3, put("x", "x2"), putOk(4));
    const h = [
      x1,
      y1,
      x2,
      at(1, 4, 5, range("a", "z", { limit: 1 }), rangeOk(4, [kv("x", "x2", 2, 4, 2)], { count: 2, more: true })),
      at(1, 6, 7, range("x", "", { revision: 2 }), rangeOk(4, [kv("x", "x1", 2, 2, 1)])),
      at(1, 8, 9, range("a", "z", { revision: 3, countOnly: true }), rangeOk(4, [], { count: 2 })),
    ];
    expect(verdict(h)).toBe("ok");
  });

  test("concurrent writes may be numbered in either order", () => {
    const a = at(0, 0, 10, put("x", "a"), putOk(3, kv("x", "b", 2, 2, 1)));
    const c = at(1, 1, 9, put("x", "b", { prevKv: true }), putOk(2));
    const withPrev = { ...a, input: put("x", "a", { prevKv: true }) };
    expect(verdict([withPrev, c, at(2, 11, 12, range("x"), rangeOk(3, [kv("x", "a", 2, 3, 2)]))])).toBe("ok");
  });

  test("a read concurrent with a write may see the state before it", () => {
    expect(verdict([at(0, 0, 10, put("x", "x1"), putOk(2)), at(1, 2, 3, range("x"), rangeOk(1, []))])).toBe("ok");
  });

  test("a serializable read may be stale, but must be a true state", () => {
    const stale = at(1, 2, 3, range("x", "", { serializable: true }), rangeOk(1, []));
    expect(verdict([x1, stale])).toBe("ok");
    const wrong = at(1, 2, 3, range("x", "", { serializable: true }), rangeOk(2, []));
    fails([x1, wrong], "answer");
  });

  test("a write of unknown outcome is seen applied through its value, at the revision the read shows", () => {
    const h = [lost(0, 0, put("x", "x1")), at(1, 5, 6, range("x"), rangeOk(2, [kv("x", "x1", 2, 2, 1)]))];
    const report = checkRevisions(h);
    expect(report.verdict, explainRevisionReport(report)).toBe("ok");
    expect(witnessProblem(h, report)).toBeNull();
    expect(report.revisions.get(0)).toBe(2);
  });

  test("...or never applied", () => {
    expect(verdict([lost(0, 0, put("x", "x1")), x1Other(), at(1, 5, 6, range("x"), rangeOk(2, [kv("x", "other", 2, 2, 1)]))])).toBe("ok");
  });

  test("a delete of unknown outcome fills the revision nobody claims", () => {
    const h = [
      x1,
      lost(1, 2, del("x")),
      at(0, 3, 4, put("y", "y1"), putOk(4)),
      at(0, 5, 6, range("a", "z"), rangeOk(4, [kv("y", "y1", 4, 4, 1)])),
    ];
    const report = checkRevisions(h);
    expect(report.verdict, explainRevisionReport(report)).toBe("ok");
    expect(witnessProblem(h, report)).toBeNull();
    expect(report.revisions.get(1)).toBe(3);
  });

  test("of two unknown writes, the one a later read contradicts is not the gap's writer", () => {
    // Both could fill revision 3 by time; the read at 4 shows x unchanged since 2, so the delete of x cannot be it.
    const h = [
      x1,
      lost(1, 2, put("y", "y1")),
      lost(2, 2.5, del("x")),
      at(0, 3, 4, put("z", "z1"), putOk(4)),
      at(0, 5, 6, range("a", "zz", { keysOnly: true }), rangeOk(4, [kv("x", "", 2, 2, 1), kv("y", "", 3, 3, 1), kv("z", "", 4, 4, 1)])),
    ];
    const report = checkRevisions(h);
    expect(report.verdict, explainRevisionReport(report)).toBe("ok");
    expect(witnessProblem(h, report)).toBeNull();
    expect(report.revisions.get(1)).toBe(3);
    expect(report.revisions.has(2)).toBe(false);
  });
});

function x1Other(): EtcdOperation {
  return at(2, 1, 2, put("x", "other"), putOk(2));
}

describe("mutants, each caught for its reason", () => {
  test("a stale read: the old value at the current revision", () => {
    const text = fails([x1, y1, both, swap, afterSwap([kv("x", "x1", 2, 2, 1), kv("y", "y2", 3, 4, 2)])], "answer");
    expect(text).toContain("kvs[0].value");
  });

  test("a stale read: an old revision after a newer one completed (real time)", () => {
    const stale = at(1, 6, 7, range("a", "z"), rangeOk(3, [kv("x", "x1", 2, 2, 1), kv("y", "y1", 3, 3, 1)]));
    const text = fails([x1, y1, both, swap, stale], "real-time");
    expect(text).toContain("#3");
    expect(text).toContain("#4");
  });

  test("a lost write: acknowledged, then missing from a later read", () => {
    fails([x1, y1, at(0, 2, 3, put("x", "x2"), putOk(4)), at(1, 4, 5, range("x"), rangeOk(4, [kv("x", "x1", 2, 2, 1)]))], "answer");
  });

  test("a lost write whose revision is taken again by the next write", () => {
    fails([x1, at(1, 2, 3, put("y", "y1"), putOk(2))], "duplicate-revision");
  });

  test("a write applied twice: its value shows at a second revision", () => {
    const again = at(1, 4, 5, range("x"), rangeOk(3, [kv("x", "x1", 2, 3, 2)]));
    const text = fails([x1, again], "value-revision");
    expect(text).toContain("written twice");
  });

  test("a write applied twice where nobody reads the value: a revision nobody wrote", () => {
    const later = at(1, 4, 5, put("y", "y1"), putOk(4));
    fails([x1, later], "no-writer");
  });

  test("a txn half applied: one of its two puts missing", () => {
    fails([x1, y1, both, swap, afterSwap([kv("x", "x2", 2, 4, 2), kv("y", "y1", 3, 3, 1)])], "answer");
  });

  test("a txn that took the wrong branch", () => {
    const wrong = at(0, 4, 5, swap.input, txnOk(3, false, [rangeOk(3, [kv("x", "x1", 2, 2, 1)])]));
    fails([x1, y1, both, wrong], "answer");
  });

  test("a real-time inversion: a write numbered before one that completed before it began", () => {
    const early = at(0, 0, 1, put("x", "x1"), putOk(3));
    const late = at(1, 2, 3, put("y", "y1"), putOk(2));
    fails([early, late], "real-time");
  });

  test("a wrong version", () => {
    const text = fails([x1, y1, both, swap, afterSwap([kv("x", "x2", 2, 4, 3), kv("y", "y2", 3, 4, 2)])], "answer");
    expect(text).toContain("kvs[0].version (key \"x\"): the model says 2, the answer says 3");
  });

  test("a wrong create revision, mod revision, count and more", () => {
    fails([x1, at(1, 2, 3, range("x"), rangeOk(2, [kv("x", "x1", 1, 2, 1)]))], "answer");
    fails([x1, at(1, 2, 3, range("x"), rangeOk(2, [kv("x", "x1", 2, 1, 1)]))], "value-revision");
    fails([x1, y1, at(1, 2, 3, range("a", "z", { limit: 1 }), rangeOk(3, [kv("x", "x1", 2, 2, 1)], { count: 1, more: true }))], "answer");
    fails([x1, y1, at(1, 2, 3, range("a", "z", { limit: 1 }), rangeOk(3, [kv("x", "x1", 2, 2, 1)], { count: 2, more: false }))], "answer");
  });

  test("a read of the past that sees the present", () => {
    const x2 = at(0, 2, 3, put("x", "x2"), putOk(3));
    fails([x1, x2, at(1, 4, 5, range("x", "", { revision: 2 }), rangeOk(3, [kv("x", "x2", 2, 3, 2)]))], "answer");
  });

  test("a delete over a range that missed a key", () => {
    fails([x1, y1, at(0, 2, 3, del("a", "z"), delOk(4, 1)), at(1, 4, 5, range("a", "z"), rangeOk(4, []))], "answer");
  });

  test("a value nobody wrote", () => {
    const text = fails([x1, at(1, 2, 3, range("x"), rangeOk(2, [kv("x", "ghost", 2, 2, 1)]))], "answer");
    expect(text).toContain('the model says "x1", the answer says "ghost"');
  });

  test("an unknown write seen before it was invoked", () => {
    fails([at(1, 0, 1, range("x"), rangeOk(2, [kv("x", "x1", 2, 2, 1)])), lost(0, 5, put("x", "x1"))], "real-time");
  });

  test("an unknown write seen applied where its compare fails", () => {
    const guarded = lost(0, 0, txn([cmp("x", "version", "=", 5)], [put("y", "y1")]));
    fails([x1, guarded, at(1, 5, 6, range("y"), rangeOk(3, [kv("y", "y1", 3, 3, 1)]))], "unknown-write");
  });
});

describe("gaps: revisions created by writes of unknown outcome nobody identified", () => {
  test("a wrong answer on keys no gap can have touched is caught without guessing", () => {
    // Revision 3 was made by one of two lost puts of x (values never seen): which one does not
    // matter to y, whose read is wrong either way.
    const h = [
      x1,
      lost(1, 2, put("x", "a")),
      lost(2, 2.1, put("x", "b")),
      at(0, 3, 4, put("y", "y1"), putOk(4)),
      at(0, 5, 6, range("y"), rangeOk(4, [kv("y", "y1", 4, 4, 2)])),
    ];
    const report = checkRevisions(h);
    expect(report.verdict, explainRevisionReport(report)).toBe("illegal");
    expect(report.violation?.ops).toEqual([4]);
  });

  test("a key a gap may have changed is checked again once an answer shows it", () => {
    const h = [
      x1,
      lost(1, 2, del("x")), // revision 3 is this delete, or nothing the history knows
      at(0, 3, 4, put("y", "y1"), putOk(4)),
      at(0, 5, 6, range("a", "z"), rangeOk(4, [kv("y", "y1", 4, 4, 1)])), // x is known again: absent at 4
      at(0, 7, 8, range("a", "z", { countOnly: true }), rangeOk(4, [], { count: 2 })), // so counting it at 4 is certainly wrong
    ];
    const report = checkRevisions(h);
    expect(report.verdict, explainRevisionReport(report)).toBe("illegal");
    expect(report.violation?.ops).toEqual([4]);
  });

  test("when the search runs out of budget the verdict is unknown, not ok", () => {
    const h = [x1, lost(1, 2, del("x")), at(0, 3, 4, put("y", "y1"), putOk(4)), at(0, 5, 6, range("a", "z"), rangeOk(4, [kv("y", "y1", 4, 4, 1)]))];
    expect(checkRevisions(h, { maxSteps: 0 }).verdict).toBe("unknown");
    expect(checkRevisions(h).verdict).toBe("ok");
  });
});

describe("input checks and reports", () => {
  test("an answer below the initial revision", () => {
    fails([at(0, 0, 1, range("x"), rangeOk(0, []))], "answer");
  });

  test("a revision beyond what the history's writes can reach (and no huge allocation for it)", () => {
    const text = fails([x1, at(1, 2, 3, range("x"), rangeOk(1e12, [kv("x", "x1", 2, 2, 1)]))], "no-writer");
    expect(text).toContain("#1");
  });

  test("values must be unique", () => {
    expect(() => checkRevisions([x1, at(0, 2, 3, put("y", "x1"), putOk(3))])).toThrow(/unique values/);
  });

  test("an interval that ends before it starts is refused", () => {
    expect(() => checkRevisions([at(0, 5, 4, range("x"), rangeOk(1, []))])).toThrow(RangeError);
  });

  test("the explanation names the operation, its interval, its request and the field", () => {
    const text = fails([x1, at(7, 2, 3, range("x"), rangeOk(2, [kv("x", "x1", 2, 2, 9)]))], "answer");
    expect(text).toContain('#1 (client 7, [2, 3]) range("x") at revision 2, against the state at revision 2: kvs[0].version (key "x"): the model says 1, the answer says 9');
  });
});
