// The page the Worker serves, checked without a browser: self-contained, the script fresh,
// every control present. The browser test (test/e2e/dashboard.test.ts) clicks through it.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { OUTPUT, pageScriptModule } from "../../../src/ui/build-page-script.ts";
import { dashboardHtml } from "../../../src/ui/dashboard.ts";
import { cardMark, logTailHtml } from "../../../src/ui/dashboard/cards.ts";
import { describeKvResult } from "../../../src/ui/dashboard/kv-console.ts";
import { compileFilter } from "../../../src/ui/dashboard/live-timeline.ts";
import { groupsFromChoices, networkConditions } from "../../../src/ui/dashboard/network-panel.ts";

describe("dashboardHtml", () => {
  const html = dashboardHtml();

  test("the checked-in page script is the bundle of the current sources", async () => {
    // Fails after an edit to src/ui/dashboard or src/ui/timeline without a rebuild.
    const fresh = readFileSync(OUTPUT, "utf8") === (await pageScriptModule());
    expect(fresh, "src/ui/generated/page-script.ts is stale: run `npx tsx src/ui/build-page-script.ts`").toBe(true);
  }, 30_000);

  test("is one self-contained document: inline style and script, nothing loaded from elsewhere", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script[^>]+src=|<link(?![^>]*href="data:)|@import|url\(\s*["']?https?:/);
  });

  test("has labelled controls for every action", () => {
    for (const id of [
      "cluster-name", "cluster-size", "cluster-prevote", "cluster-checkquorum", "open-cluster", "delete-cluster", "partition", "heal", "lossy", "reliable",
      "drop-rate", "delay-min", "delay-max", "kv-key", "kv-value", "kv-compare", "tl-pause", "tl-filter", "tl-scroll",
    ]) {
      expect(html, id).toContain(`id="${id}"`);
    }
    for (const op of ["get", "put", "cas", "append"]) expect(html).toContain(`data-kv="${op}"`);
    // Every input and select sits inside a <label>.
    const controls = html.match(/<(input|select)\b/g)?.length ?? 0;
    const labelled = [...html.matchAll(/<label[^>]*>[\s\S]*?<\/label>/g)].reduce(
      (n, m) => n + (m[0].match(/<(input|select)\b/g)?.length ?? 0),
      0,
    );
    expect(labelled).toBe(controls);
  });
});

describe("dashboard pieces", () => {
  test("partition groups: one array per used group, 'alone' servers in none", () => {
    expect(
      groupsFromChoices([
        { id: 0, group: "B" },
        { id: 1, group: "A" },
        { id: 2, group: "alone" },
        { id: 3, group: "B" },
      ]),
    ).toEqual([[1], [0, 3]]);
    expect(groupsFromChoices([{ id: 0, group: "alone" }])).toEqual([]);
  });

  test("lossy network inputs are validated", () => {
    expect(networkConditions("0.2", "0", "75")).toEqual({ ok: true, body: { dropRate: 0.2, delayMs: [0, 75] } });
    expect(networkConditions("1.5", "0", "75").ok).toBe(false);
    expect(networkConditions("", "0", "75").ok).toBe(false);
    expect(networkConditions("0.1", "80", "75").ok).toBe(false);
  });

  test("kv answers read as sentences", () => {
    expect(describeKvResult("get", "k", { found: true, value: "v" })).toBe('GET "k" → "v"');
    expect(describeKvResult("get", "k", { found: false, value: null })).toBe('GET "k" → not found');
    expect(describeKvResult("put", "k", { found: false, prev: null })).toBe('PUT "k" → stored (new key)');
    expect(describeKvResult("cas", "k", { found: true, prev: "a", swapped: false })).toBe('CAS "k" → not swapped (is "a")');
    expect(describeKvResult("append", "k", { found: true, prev: "a" })).toBe('APPEND "k" → appended (was "a")');
  });

  test("the log tail shows the newest indices by how far they got", () => {
    const s = { snapshotIndex: 0 };
    expect(logTailHtml({ ...s, logLength: 0, commitIndex: 0, lastApplied: 0 })).toContain("empty log");
    const html = logTailHtml({ ...s, logLength: 20, commitIndex: 18, lastApplied: 17 });
    const boxes = [...html.matchAll(/<span class="(\w+)" title="entry (\d+)/g)].map((m) => `${m[2]}:${m[1]}`);
    expect(boxes[0]).toBe("11:applied");
    expect(boxes.slice(-4)).toEqual(["17:applied", "18:committed", "19:pending", "20:pending"]);
    expect(html).not.toContain("snapshot");
  });

  test("indices folded into the snapshot are one box, never drawn as log entries", () => {
    const boxes = (html: string) => [...html.matchAll(/<span class="(\w+)" title="entry (\d+)/g)].map((m) => Number(m[2]));
    // Snapshot far behind the tail: its box, the gap, then the newest ten.
    const far = logTailHtml({ snapshotIndex: 500, logLength: 1200, commitIndex: 1200, lastApplied: 1200 });
    expect(far).toMatch(/^<span class="snap"[^>]*>snapshot ≤ 500<\/span><span class="empty"[^>]*>…<\/span>/);
    expect(boxes(far)).toEqual([1191, 1192, 1193, 1194, 1195, 1196, 1197, 1198, 1199, 1200]);
    // Snapshot inside the tail's window: entries start right after it, no gap.
    const near = logTailHtml({ snapshotIndex: 16, logLength: 20, commitIndex: 20, lastApplied: 20 });
    expect(near).toContain("snapshot ≤ 16");
    expect(near).not.toContain("…");
    expect(boxes(near)).toEqual([17, 18, 19, 20]);
    // Everything compacted: only the snapshot.
    expect(boxes(logTailHtml({ snapshotIndex: 20, logLength: 20, commitIndex: 20, lastApplied: 20 }))).toEqual([]);
  });

  test("a card's mark: current leader, stale leader, and a hand-over in progress", () => {
    const leader = { id: 1, state: "Leader" as const, term: 4, transferringTo: null };
    expect(cardMark(leader, 1, 4)).toEqual({ text: "★ current leader", cls: "mark current" });
    expect(cardMark({ ...leader, transferringTo: 2 }, 1, 4)).toEqual({ text: "★ current leader · handing over to 2", cls: "mark current" });
    expect(cardMark({ ...leader, id: 0, term: 2 }, 1, 4)).toEqual({ text: "stale leader (cluster is at term 4)", cls: "mark stale" });
    expect(cardMark({ id: 2, state: "Follower", term: 4, transferringTo: null }, 1, 4)).toEqual({ text: "", cls: "mark" });
  });

  test("the timeline filter is a case-insensitive regular expression; a broken one hides nothing", () => {
    expect(compileFilter("appendentries")?.test("[1] sending AppendEntries to 2")).toBe(true);
    expect(compileFilter("  ")).toBeNull();
    expect(compileFilter("([")).toBeNull();
  });
});
