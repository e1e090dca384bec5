import { describe, expect, test } from "vitest";
import { parseLogLine, parseNarration, parseTestLog, serversIn } from "../../../src/ui/timeline/parse.ts";
import { SEED } from "./seed.ts";

describe("parseLogLine", () => {
  test("splits clock, server and text", () => {
    expect(parseLogLine("11:04:37.796881 [1] becomes Candidate (currentTerm=1); log=[]")).toEqual({
      at: ((11 * 60 + 4) * 60 + 37) * 1_000_000 + 796881,
      time: "11:04:37.796881",
      server: 1,
      text: "becomes Candidate (currentTerm=1); log=[]",
    });
  });

  test("a [TEST] line belongs to no server", () => {
    expect(parseLogLine("11:04:37.848121 [TEST] Disconnect 2")).toMatchObject({ server: null, text: "Disconnect 2" });
  });

  test("short fractions are fractions of a second, not microseconds", () => {
    expect(parseLogLine("00:00:01.5 [0] x")?.at).toBe(1_500_000);
    expect(parseLogLine("00:00:01.250 [0] x")?.at).toBe(1_250_000);
  });

  test("prose, markers and untagged lines are not log lines", () => {
    for (const line of [
      "Máy 1 win vote và trở thành leader",
      "=== RUN TestElectionFollowerComesBack",
      "--- PASS: TestElectionFollowerComesBack (1.31s)",
      "11:04:37.545384 listening without a tag",
      "```",
      "",
    ]) {
      expect(parseLogLine(line)).toBeNull();
    }
  });

  test("parseNarration reads a live event's line", () => {
    expect(parseNarration("[12] becomes Leader; term=3, log=[]")).toEqual({ server: 12, text: "becomes Leader; term=3, log=[]" });
    expect(parseNarration("[TEST] Crash 0")).toEqual({ server: null, text: "Crash 0" });
    expect(parseNarration("no tag")).toBeNull();
  });
});

describe("parseTestLog on the seed", () => {
  const tests = parseTestLog(SEED);
  const only = tests[0];

  test("finds the one test and its result", () => {
    expect(tests).toHaveLength(1);
    expect(only?.name).toBe("TestElectionFollowerComesBack");
    expect(only?.result).toBe("PASS");
  });

  test("keeps every distinct line once: the block the post quotes twice is not doubled", () => {
    const timestamped = SEED.split("\n").filter((l) => /^\d\d:\d\d:\d\d\.\d+ \[/.test(l));
    expect(timestamped).toHaveLength(150);
    const distinct = new Set(timestamped.map((l) => l.trim()));
    expect(only?.entries).toHaveLength(distinct.size);
    expect(distinct.size).toBe(144);
    expect(only?.entries.filter((e) => e.server === null).map((e) => e.text)).toEqual(["Disconnect 2", "Reconnect 2"]);
  });

  test("rows are in time order, lines printed out of order included", () => {
    const entries = only?.entries ?? [];
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.at).toBeGreaterThanOrEqual(entries[i - 1]!.at);
    // The log prints 37.797105 (to 2) before 37.797055 (to 0).
    const votes = entries.filter((e) => e.server === 1 && e.text.startsWith("sending RequestVote to")).slice(0, 2);
    expect(votes.map((e) => e.time)).toEqual(["11:04:37.797055", "11:04:37.797105"]);
  });

  test("three servers speak", () => {
    expect(serversIn(only?.entries ?? [])).toEqual([0, 1, 2]);
  });
});

describe("parseTestLog on several tests", () => {
  const log = [
    "go test -v",
    "09:00:00.000001 [0] before any test",
    "=== RUN   TestA",
    "09:00:00.100000 [0] becomes Leader; term=1, log=[]",
    "--- PASS: TestA (0.10s)",
    "=== RUN   TestB",
    "23:59:59.900000 [1] becomes Candidate (currentTerm=2); log=[]",
    "00:00:00.100000 [TEST] Crash 1",
    "--- FAIL: TestB (0.20s)",
    "=== RUN   TestC",
    "=== RUN   TestD",
    "10:00:00.000000 [2] cut short",
  ].join("\n");
  const tests = parseTestLog(log);

  test("one entry per RUN marker that narrated something, lines before the first in a nameless one", () => {
    expect(tests.map((t) => [t.name, t.result, t.entries.length])).toEqual([
      [null, null, 1],
      ["TestA", "PASS", 1],
      ["TestB", "FAIL", 2],
      ["TestD", null, 1],
    ]);
  });

  test("a run across midnight stays in time order", () => {
    const b = tests[2]?.entries ?? [];
    expect(b.map((e) => e.text)).toEqual(["becomes Candidate (currentTerm=2); log=[]", "Crash 1"]);
    expect(b[1]!.at - b[0]!.at).toBe(200_000);
  });
});
