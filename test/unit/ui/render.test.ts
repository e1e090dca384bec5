import { describe, expect, test } from "vitest";
import { timelineDocument } from "../../../src/ui/timeline/document.ts";
import { parseTestLog } from "../../../src/ui/timeline/parse.ts";
import { escapeHtml, renderLegend, renderRow, renderTimelineTable } from "../../../src/ui/timeline/render.ts";
import { StateTracker } from "../../../src/ui/timeline/state.ts";
import { SEED } from "./seed.ts";

/** The rendered table read back: per row, its cells' classes, colspan and text. */
interface Cell { classes: string[]; colspan: number; text: string }
function readRows(html: string): Cell[][] {
  const body = /<tbody[^>]*>([\s\S]*)<\/tbody>/.exec(html)?.[1] ?? "";
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((tr) =>
    [...(tr[1] ?? "").matchAll(/<td([^>]*)>([\s\S]*?)<\/td>/g)].map((td) => ({
      classes: (/class="([^"]*)"/.exec(td[1] ?? "")?.[1] ?? "").split(" ").filter(Boolean),
      colspan: Number(/colspan="(\d+)"/.exec(td[1] ?? "")?.[1] ?? 1),
      text: (td[2] ?? "").replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"),
    })),
  );
}

const shadeOf = (cell: Cell | undefined) => cell?.classes.find((c) => c.startsWith("st-"));

describe("the seed's timeline", () => {
  const test0 = parseTestLog(SEED)[0];
  if (!test0) throw new Error("seed did not parse");
  const html = timelineDocument(test0);
  const rows = readRows(html);

  test("one column per server after the time column", () => {
    const header = /<thead>([\s\S]*?)<\/thead>/.exec(html)?.[1] ?? "";
    expect([...header.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((m) => m[1])).toEqual(["time", "server 0", "server 1", "server 2"]);
    expect(rows).toHaveLength(144);
  });

  test("each line sits in its server's column; the other cells are empty but shaded", () => {
    const i = rows.findIndex((r) => r.some((c) => c.text === "becomes Leader; term=1, log=[]"));
    const row = rows[i] ?? [];
    expect(row.map((c) => c.text)).toEqual(["11:04:37.801102", "", "becomes Leader; term=1, log=[]", ""]);
    expect(row.slice(1).map(shadeOf)).toEqual(["st-follower", "st-leader", "st-follower"]);
    expect(row[2]?.classes).toContain("tl-transition");
    // The row before: server 1 still a Candidate.
    expect((rows[i - 1] ?? []).slice(1).map(shadeOf)).toEqual(["st-follower", "st-candidate", "st-follower"]);
  });

  test("[TEST] lines span every server column", () => {
    const tests = rows.filter((r) => r.some((c) => c.classes.includes("tl-event")));
    expect(tests.map((r) => r[1]?.text)).toEqual(["[TEST] Disconnect 2", "[TEST] Reconnect 2"]);
    for (const r of tests) {
      expect(r).toHaveLength(2);
      expect(r[1]?.colspan).toBe(3);
    }
  });

  test("while 2 is cut off and campaigning, its column is Candidate and 1's is Leader", () => {
    const during = rows.filter((r) => (r[0]?.text ?? "") > "11:04:37.963819" && (r[0]?.text ?? "") < "11:04:38.499708");
    expect(during.length).toBeGreaterThan(20);
    for (const r of during) expect(r.slice(1).map(shadeOf)).toEqual(["st-follower", "st-leader", "st-candidate"]);
  });

  test("the last row shows 0 Dead, 1 Leader, 2 Follower", () => {
    expect((rows[rows.length - 1] ?? []).slice(1).map(shadeOf)).toEqual(["st-dead", "st-leader", "st-follower"]);
  });

  test("the file is self-contained", () => {
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//);
    expect(html).toContain("<style>");
  });
});

describe("rendering details", () => {
  test("text is escaped", () => {
    expect(escapeHtml(`<b a="1">&'`)).toBe("&lt;b a=&quot;1&quot;&gt;&amp;&#39;");
    const tracker = new StateTracker([0]);
    const row = renderRow(tracker.apply({ at: 0, time: "t", server: 0, text: "<script>alert(1)</script>" }), [0]);
    expect(row).not.toContain("<script>");
  });

  test("a server without a column gets a spanning row instead of vanishing", () => {
    const tracker = new StateTracker([0, 1]);
    const html = renderTimelineTable([tracker.apply({ at: 0, time: "t", server: 7, text: "hello" })], [0, 1]);
    expect(readRows(html)[0]?.[1]).toMatchObject({ colspan: 2, text: "[7] hello" });
  });

  test("bodyId names the tbody so the dashboard can append to it", () => {
    expect(renderTimelineTable([], [0, 1, 2], { bodyId: "tl-body" })).toContain('<tbody id="tl-body">');
  });
});

describe("sleep in the timeline", () => {
  test("a sleeping server's cells are drawn lighter (tl-asleep) and say so on hover, until it wakes", () => {
    const tracker = new StateTracker([0, 1], new Map([[0, { state: "Leader" as const, term: 2 }]]));
    const rows = [
      tracker.apply({ at: 1, time: "t1", server: 1, text: "sleeps (term=2, commitIndex=5)" }),
      tracker.apply({ at: 2, time: "t2", server: 0, text: "sleeps: its followers are asleep (term=2, commitIndex=5)" }),
      tracker.apply({ at: 3, time: "t3", server: 1, text: "wakes (woken by AppendEntries from 0)" }),
    ];
    const html = renderTimelineTable(rows, [0, 1]);
    const asleep = readRows(html).map((r) => r.slice(1).map((c) => c.classes.includes("tl-asleep")));
    expect(asleep).toEqual([
      [false, true],
      [true, true],
      [true, false],
    ]);
    expect(html).toContain('title="server 0: Leader, term 2, asleep"');
    // The state's colour stays: a sleeping leader is still shaded as a leader.
    expect(shadeOf(readRows(html)[1]?.[1])).toBe("st-leader");
  });

  test("the legend explains the asleep shading", () => {
    expect(renderLegend()).toContain("asleep");
    expect(renderLegend()).toContain("tl-asleep");
  });
});
