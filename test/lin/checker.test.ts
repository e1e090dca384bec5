// The checker on hand-made histories whose verdict can be argued in one sentence each.
// Times are abstract units; an interval is [call, ret].
import { describe, expect, test } from "vitest";
import { checkKvHistory, explainReport } from "./checker.ts";
import { append, at, cas, get, lost, put, witnessProblem } from "./fixtures.ts";
import { kvModel, type KvHistoryOperation } from "./kv-model.ts";

function verdict(history: KvHistoryOperation[]): string {
  const report = checkKvHistory(history);
  if (report.verdict === "ok") expect(witnessProblem(history, report)).toBeNull();
  return report.verdict;
}

describe("sequential histories", () => {
  test("an empty history is linearizable", () => {
    expect(verdict([])).toBe("ok");
  });

  test("put then get of the written value", () => {
    expect(verdict([at(0, 0, 1, put("x", "1", null)), at(0, 2, 3, get("x", "1"))])).toBe("ok");
  });

  test("stale read: a get after a completed put returns the old value", () => {
    const h = [at(0, 0, 1, put("x", "1", null)), at(0, 2, 3, put("x", "2", "1")), at(1, 4, 5, get("x", "1"))];
    expect(verdict(h)).toBe("illegal");
  });

  test("read of a value never written", () => {
    expect(verdict([at(0, 0, 1, put("x", "1", null)), at(1, 2, 3, get("x", "7"))])).toBe("illegal");
    expect(verdict([at(0, 0, 1, get("x", "ghost"))])).toBe("illegal");
  });

  test("a key that exists cannot be read as absent, and the empty string is not absence", () => {
    expect(verdict([at(0, 0, 1, put("x", "", null)), at(0, 2, 3, get("x", null))])).toBe("illegal");
    expect(verdict([at(0, 0, 1, put("x", "", null)), at(0, 2, 3, get("x", ""))])).toBe("ok");
  });

  test("a put's previous value must be the value before it", () => {
    expect(verdict([at(0, 0, 1, put("x", "1", null)), at(0, 2, 3, put("x", "2", null))])).toBe("illegal");
    expect(verdict([at(0, 0, 1, put("x", "1", null)), at(0, 2, 3, put("x", "2", "1"))])).toBe("ok");
  });
});

describe("concurrent histories", () => {
  test("overlapping puts may be ordered either way; the read decides, absence is impossible", () => {
    const puts = [at(0, 0, 10, put("x", "1", null)), at(1, 1, 9, put("x", "2", "1"))];
    expect(verdict([...puts, at(2, 11, 12, get("x", "2"))])).toBe("ok");
    // With put 2 first, put 1 must answer prev "2": it answered null, so put 1 came first.
    expect(verdict([...puts, at(2, 11, 12, get("x", "1"))])).toBe("illegal");
    const blind = [at(0, 0, 10, put("x", "1", null)), at(1, 1, 9, put("x", "2", "1")), at(2, 11, 12, get("x", null))];
    expect(verdict(blind)).toBe("illegal");
  });

  test("overlapping puts with matching prevs: both orders are possible", () => {
    const first1 = [at(0, 0, 10, put("x", "1", null)), at(1, 1, 9, put("x", "2", "1")), at(2, 11, 12, get("x", "2"))];
    const first2 = [at(0, 0, 10, put("x", "1", "2")), at(1, 1, 9, put("x", "2", null)), at(2, 11, 12, get("x", "1"))];
    expect(verdict(first1)).toBe("ok");
    expect(verdict(first2)).toBe("ok");
  });

  test("real time orders non-overlapping operations: the earlier write cannot win", () => {
    const h = [at(0, 0, 2, put("x", "1", null)), at(1, 3, 5, put("x", "2", "1")), at(2, 6, 7, get("x", "1"))];
    expect(verdict(h)).toBe("illegal");
  });

  test("a read concurrent with a write may see either value", () => {
    const w = at(0, 0, 10, put("x", "1", null));
    expect(verdict([w, at(1, 2, 3, get("x", null))])).toBe("ok");
    expect(verdict([w, at(1, 2, 3, get("x", "1"))])).toBe("ok");
  });

  test("new-then-old inversion: once a read sees the new value, a later read cannot see the old", () => {
    const w = at(0, 0, 10, put("x", "1", null));
    expect(verdict([w, at(1, 2, 3, get("x", "1")), at(2, 4, 5, get("x", null))])).toBe("illegal");
    expect(verdict([w, at(1, 2, 3, get("x", null)), at(2, 4, 5, get("x", "1"))])).toBe("ok");
  });

  test("lost update: two concurrent writers that both saw the same previous value", () => {
    const init = at(0, 0, 1, put("x", "0", null));
    expect(verdict([init, at(1, 2, 10, put("x", "a", "0")), at(2, 3, 9, put("x", "b", "0"))])).toBe("illegal");
    expect(verdict([at(1, 2, 10, append("y", "a", null)), at(2, 3, 9, append("y", "b", null))])).toBe("illegal");
  });

  test("operations that only touch at an instant are treated as concurrent", () => {
    expect(verdict([at(0, 0, 5, put("x", "1", null)), at(1, 5, 6, get("x", null))])).toBe("ok");
    expect(verdict([at(0, 0, 5, put("x", "1", null)), at(1, 6, 7, get("x", null))])).toBe("illegal");
  });
});

describe("CAS", () => {
  test("two concurrent CAS from the same value cannot both swap", () => {
    const init = at(0, 0, 1, put("x", "bar", null));
    const both = [init, at(1, 2, 10, cas("x", "bar", "a", "bar", true)), at(2, 3, 9, cas("x", "bar", "b", "bar", true))];
    expect(verdict(both)).toBe("illegal");
    const one = [init, at(1, 2, 10, cas("x", "bar", "a", "bar", true)), at(2, 3, 9, cas("x", "bar", "b", "a", false))];
    expect(verdict(one)).toBe("ok");
  });

  test("CAS never creates a missing key", () => {
    expect(verdict([at(0, 0, 1, cas("x", "a", "b", null, true))])).toBe("illegal");
    expect(verdict([at(0, 0, 1, cas("x", "a", "b", null, false)), at(0, 2, 3, get("x", "b"))])).toBe("illegal");
    expect(verdict([at(0, 0, 1, cas("x", "a", "b", null, false)), at(0, 2, 3, get("x", null))])).toBe("ok");
  });

  test("a CAS that matched must swap, and one that did not match must not", () => {
    const init = at(0, 0, 1, put("x", "bar", null));
    expect(verdict([init, at(0, 2, 3, cas("x", "bar", "baz", "bar", false))])).toBe("illegal");
    expect(verdict([init, at(0, 2, 3, cas("x", "nope", "baz", "bar", true))])).toBe("illegal");
    expect(verdict([init, at(0, 2, 3, cas("x", "nope", "baz", "bar", false)), at(0, 4, 5, get("x", "baz"))])).toBe("illegal");
    expect(verdict([init, at(0, 2, 3, cas("x", "bar", "baz", "bar", true)), at(0, 4, 5, get("x", "baz"))])).toBe("ok");
  });

  test("CASConcurrent: a put of bar racing CAS bar→bomba; the final read must be explained", () => {
    const h = [
      at(0, 0, 1, put("foo", "mexico", null)),
      at(1, 2, 4, cas("foo", "bar", "bomba", "mexico", false)),
      at(2, 3, 8, put("foo", "bar", "mexico")),
      at(1, 5, 7, cas("foo", "bar", "bomba", "bar", true)), // the put took effect before 7
      at(1, 9, 10, cas("foo", "bar", "bomba", "bomba", false)),
      at(2, 11, 12, get("foo", "bomba")),
    ];
    expect(verdict(h)).toBe("ok");
    // Same, but the second CAS claims to have seen bar before the put was even called.
    const early = [...h];
    early[3] = at(1, 2.5, 2.8, cas("foo", "bar", "bomba", "bar", true));
    expect(verdict(early)).toBe("illegal");
  });
});

describe("append", () => {
  test("sequential appends concatenate in order", () => {
    const h = [at(0, 0, 1, append("x", "a", null)), at(1, 2, 3, append("x", "b", "a"))];
    expect(verdict([...h, at(0, 4, 5, get("x", "ab"))])).toBe("ok");
    expect(verdict([...h, at(0, 4, 5, get("x", "ba"))])).toBe("illegal");
  });

  test("concurrent appends may land in either order, but prevs and reads must agree", () => {
    const ab = [at(0, 0, 10, append("x", "a", null)), at(1, 1, 9, append("x", "b", "a"))];
    expect(verdict([...ab, at(2, 11, 12, get("x", "ab"))])).toBe("ok");
    expect(verdict([...ab, at(2, 11, 12, get("x", "ba"))])).toBe("illegal");
    const ba = [at(0, 0, 10, append("x", "a", "b")), at(1, 1, 9, append("x", "b", null))];
    expect(verdict([...ba, at(2, 11, 12, get("x", "ba"))])).toBe("ok");
  });

  test("an append applied twice shows up as a doubled suffix no single execution explains", () => {
    const h = [at(0, 0, 1, append("x", "bar", null)), at(1, 2, 3, append("x", "baz", "bar")), at(0, 4, 5, get("x", "barbazbaz"))];
    expect(verdict(h)).toBe("illegal");
  });
});

describe("operations with unknown outcome (ret = ∞)", () => {
  test("a lost write may have taken effect, at any time after its call", () => {
    const w = lost(0, 0, put("x", "1", null));
    expect(verdict([w, at(1, 5, 6, get("x", "1"))])).toBe("ok");
    expect(verdict([w, at(1, 5, 6, get("x", null)), at(1, 7, 8, get("x", "1"))])).toBe("ok");
    expect(verdict([w, at(1, 100, 101, get("x", "1"))])).toBe("ok");
  });

  test("...or not at all", () => {
    expect(verdict([lost(0, 0, put("x", "1", null)), at(1, 100, 101, get("x", null))])).toBe("ok");
  });

  test("but not before its call, and not undone once visible", () => {
    expect(verdict([at(1, 0, 1, get("x", "1")), lost(0, 5, put("x", "1", null))])).toBe("illegal");
    const w = lost(0, 0, put("x", "1", null));
    expect(verdict([w, at(1, 5, 6, get("x", "1")), at(1, 7, 8, get("x", null))])).toBe("illegal");
  });

  test("its recorded output, if any, is ignored: any answer is accepted", () => {
    // As a recorder might leave it: an answer field filled in, but no return time.
    const w = { ...at(0, 0, 1, cas("x", "a", "b", "zzz", true)), ret: Infinity };
    expect(verdict([at(1, -2, -1, put("x", "a", null)), w, at(1, 5, 6, get("x", "b"))])).toBe("ok");
  });

  test("lost appends: the read tells which of them happened, and in which order", () => {
    const h = [lost(0, 0, append("x", "a", null)), at(1, 1, 2, append("x", "b", null))];
    expect(verdict([...h, at(1, 3, 4, get("x", "b"))])).toBe("ok"); // a not yet (or never)
    expect(verdict([...h, at(1, 3, 4, get("x", "b")), at(1, 5, 6, get("x", "ba"))])).toBe("ok"); // a later
    expect(verdict([...h, at(1, 3, 4, get("x", "ab"))])).toBe("illegal"); // b saw an empty key, so a was not first
    expect(verdict([...h, at(1, 3, 4, get("x", "bb"))])).toBe("illegal");
  });

  test("a lost CAS cannot explain a value it could not have written", () => {
    const init = at(0, 0, 1, put("x", "bar", null));
    expect(verdict([init, lost(1, 2, cas("x", "bar", "bomba", "", false)), at(2, 3, 4, get("x", "bomba"))])).toBe("ok");
    expect(verdict([init, lost(1, 2, cas("x", "nope", "bomba", "", false)), at(2, 3, 4, get("x", "bomba"))])).toBe("illegal");
  });
});

describe("partitions and reports", () => {
  test("keys are checked independently and the report names the broken key", () => {
    const h = [
      at(0, 0, 1, put("a", "1", null)),
      at(1, 0, 1, put("b", "1", null)),
      at(0, 2, 3, get("a", "1")),
      at(1, 2, 3, get("b", "2")),
    ];
    const report = checkKvHistory(h, { checkAllPartitions: true });
    expect(report.verdict).toBe("illegal");
    expect(report.partitions.map((p) => [p.label, p.verdict])).toEqual([
      ["a", "ok"],
      ["b", "illegal"],
    ]);
    const text = explainReport(kvModel, h, report);
    expect(text).toContain(`part "b" is not linearizable`);
    expect(text).toContain(`#3 client 1 [2, 3] get("b") -> {"found":true,"value":"2"}`);
    expect(text).toContain("longest linearizable prefix (1 of 2)");
  });

  test("extra fields in answers are ignored", () => {
    const h = [{ ...at(0, 0, 1, put("x", "1", null)), output: { found: false, prev: null, index: 7 } }];
    expect(verdict(h)).toBe("ok");
  });

  test("an interval that ends before it starts is refused", () => {
    expect(() => checkKvHistory([at(0, 5, 4, get("x", null))])).toThrow(RangeError);
  });

  test("lost reads and lost CAS that cannot match do not slow the search", () => {
    // Neither changes the state, so neither is ever worth linearizing: 120 of them pending
    // at once would otherwise make 2^120 subsets for the final impossible read to exhaust.
    const h: KvHistoryOperation[] = [at(0, 0, 1, put("x", "a", null))];
    for (let i = 0; i < 60; i++) h.push(lost(i, 2 + i * 0.01, get("x", null)));
    for (let i = 0; i < 60; i++) h.push(lost(i, 3 + i * 0.01, cas("x", "nope", `v${i}`, null, false)));
    h.push(at(99, 10, 11, get("x", "b")));
    const report = checkKvHistory(h, { timeoutMs: 5_000 });
    expect(report.verdict).toBe("illegal");
    expect(report.partitions[0]!.steps).toBeLessThan(1_000);
  });

  test("the time budget turns a hopeless search into 'unknown'", () => {
    // 40 lost appends of distinct letters, then a read no order of them can produce: the
    // search has to try a vast number of subsets and orders before it could say "illegal".
    const h: KvHistoryOperation[] = [];
    for (let i = 0; i < 40; i++) h.push(lost(i, i * 0.01, append("x", String.fromCharCode(65 + i), null)));
    h.push(at(99, 1, 2, get("x", "!")));
    const started = Date.now();
    const report = checkKvHistory(h, { timeoutMs: 200 });
    expect(report.verdict).toBe("unknown");
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
