// The page the Worker serves, checked without a browser: self-contained, the script fresh,
// every control present. The browser test (test/e2e/dashboard.test.ts) clicks through it.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { OUTPUT, pageScriptModule } from "../../../src/ui/build-page-script.ts";
import { dashboardHtml } from "../../../src/ui/dashboard.ts";
import { Api } from "../../../src/ui/dashboard/api.ts";
import { cardMark, costText, loadedLine, logTailHtml, noteLoadedAt, sleepLine } from "../../../src/ui/dashboard/cards.ts";
import { describeKvResult } from "../../../src/ui/dashboard/kv-console.ts";
import { compileFilter } from "../../../src/ui/dashboard/live-timeline.ts";
import { groupsFromChoices, networkConditions } from "../../../src/ui/dashboard/network-panel.ts";
import { ageText, CostMeter, costRateText, SleepWatch, sleepAfterText, sleepBannerText } from "../../../src/ui/dashboard/sleep.ts";

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
      "deploy", "sleep-banner",
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

describe("sleep, cost and reloads", () => {
  const stats = { alarms: 12, rpcsSent: 40, rpcsReceived: 38, loadedAt: 1_000_000, snapshotsSent: 0, snapshotsInstalled: 0 };

  test("a sleeping server's card says so; awake or Dead, it says nothing", () => {
    expect(sleepLine({ asleep: true, state: "Follower" })).toBe("☾ asleep: no timers, no heartbeats");
    expect(sleepLine({ asleep: false, state: "Leader" })).toBe("");
    expect(sleepLine({ asleep: true, state: "Dead" })).toBe("");
    expect(sleepLine({ state: "Follower" })).toBe("");
  });

  test("cost counters: alarms and RPCs since the object was loaded; snapshots only once there were some", () => {
    expect(costText(stats)).toBe("12 alarms · RPCs 40 sent, 38 received");
    expect(costText({ ...stats, snapshotsSent: 1 })).toBe("12 alarms · RPCs 40 sent, 38 received · snapshots 1 sent, 0 installed");
    expect(costText(undefined)).toBe("");
  });

  test("a newer loadedAt is a reload; the card calls attention to it for a while", () => {
    let seen = noteLoadedAt(undefined, 1_000_000);
    expect(seen).toEqual({ loadedAt: 1_000_000, count: 0 });
    seen = noteLoadedAt(seen, 1_000_000);
    expect(seen.count).toBe(0);
    expect(loadedLine(1_000_000, 1_042_000, seen.count)).toEqual({ text: "loaded 42 s ago", cls: "loaded" });
    seen = noteLoadedAt(seen, 1_050_000);
    expect(seen).toEqual({ loadedAt: 1_050_000, count: 1 });
    expect(loadedLine(1_050_000, 1_053_000, 1)).toEqual({ text: "↻ reloaded 3 s ago: memory lost, storage kept", cls: "loaded reloaded" });
    expect(loadedLine(1_050_000, 1_053_000, 2).text).toBe("↻ reloaded 3 s ago: memory lost, storage kept (2× while watched)");
    expect(loadedLine(1_050_000, 1_050_000 + 300_000, 1)).toEqual({ text: "loaded 5 min ago · reloaded 1× while watched", cls: "loaded" });
    // A server never loaded (a creation cut short) shows nothing.
    expect(loadedLine(0, 5, 0).text).toBe("");
    expect(noteLoadedAt({ loadedAt: 0, count: 0 }, 7)).toEqual({ loadedAt: 7, count: 0 });
  });

  test("ages read coarsely", () => {
    expect(ageText(400)).toBe("just now");
    expect(ageText(-50)).toBe("just now");
    expect(ageText(12_300)).toBe("12 s ago");
    expect(ageText(3 * 60_000)).toBe("3 min ago");
    expect(ageText(3 * 3600_000)).toBe("3 h ago");
    expect(sleepAfterText(1500)).toBe("sleeps after 1.5 s idle");
    expect(sleepAfterText(300)).toBe("sleeps after 300 ms idle");
    expect(sleepAfterText(0)).toBe("never sleeps");
    expect(sleepAfterText(undefined)).toBe("");
  });

  test("asleep since: the feed's last sleeps line when known, else when this page first saw it", () => {
    const watch = new SleepWatch();
    expect(watch.update(false, null, 100)).toBeNull();
    expect(watch.update(true, null, 200)).toEqual({ since: 200, exact: false });
    expect(watch.update(true, null, 450)).toEqual({ since: 200, exact: false });
    expect(watch.update(true, 150, 700)).toEqual({ since: 150, exact: true });
    expect(watch.update(false, 150, 900)).toBeNull();
    expect(watch.update(true, null, 1000)).toEqual({ since: 1000, exact: false });

    const at = new Date(2026, 0, 1, 14, 3, 9).getTime();
    const text = sleepBannerText({ since: at, exact: true }, at + 12_000);
    expect(text).toBe(
      "Cluster asleep since 14:03:09 (12 s ago): no alarms, no heartbeats, no RPCs, so it costs nothing. " +
        "Any operation or fault wakes it; reading its status (as this page does) does not.",
    );
    expect(sleepBannerText({ since: at, exact: false }, at)).toMatch(/^Cluster asleep \(this page has seen it asleep since 14:03:09, just now\): no alarms/);
  });

  test("the cost meter: alarms and RPCs per second over the last polls; a reset counts from zero", () => {
    const meter = new CostMeter(2000);
    const poll = (t: number, per: [number, number, number][]) =>
      meter.sample(per.map(([loadedAt, alarms, rpcsSent], id) => ({ id, stats: { loadedAt, alarms, rpcsSent, rpcsReceived: 0 } })), t);
    expect(poll(0, [[1, 0, 0], [1, 0, 0]])).toBeNull();
    expect(poll(250, [[1, 5, 5], [1, 2, 5]])).toBeNull(); // too short a span to say
    const awake = poll(500, [[1, 10, 10], [1, 4, 10]]);
    expect(awake).toEqual({ alarmsPerSecond: 28, rpcsPerSecond: 40 });
    expect(costRateText(awake)).toBe("cost now: 28 alarms/s, 40 RPCs/s");
    // Server 1 was evicted and reloaded: its 3 alarms are all new.
    expect(poll(1000, [[1, 10, 10], [900, 3, 0]])).toEqual({ alarmsPerSecond: 17, rpcsPerSecond: 20 });
    // Asleep: the counters stand still, and after the window the rate is zero.
    for (let t = 1250; t <= 4000; t += 250) poll(t, [[1, 10, 10], [900, 3, 0]]);
    expect(costRateText(poll(4250, [[1, 10, 10], [900, 3, 0]]))).toBe("cost now: 0 alarms/s, 0 RPCs/s");
    expect(costRateText({ alarmsPerSecond: 0.4, rpcsPerSecond: 0 })).toBe("cost now: <1 alarms/s, 0 RPCs/s");
    expect(costRateText(null)).toBe("");
  });

  test("what the page polls is GET only (reading never wakes a sleeping cluster); evictions are POSTs", async () => {
    const calls: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (path: string, init: { method: string }) => {
      calls.push(`${init.method} ${path}`);
      return new Response(JSON.stringify({ cluster: "c", size: 1, leader: null, servers: [], now: 0, events: [] }), { status: 200 });
    }) as unknown as typeof fetch;
    try {
      const api = new Api(() => ({ admin: "", client: "" }));
      await api.status("c");
      await api.events("c", 5);
      await api.serverFault("c", 1, "evict");
      await api.evictAll("c");
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(calls).toEqual(["GET /clusters/c", "GET /clusters/c/events?since=5", "POST /clusters/c/servers/1/evict", "POST /clusters/c/evict"]);
    // And the poll loop calls nothing else.
    const client = readFileSync(new URL("../../../src/ui/dashboard/client.ts", import.meta.url), "utf8");
    const loop = /async function poll\([\s\S]*?\n}\n/.exec(client)?.[0] ?? "";
    expect(loop).toContain("api.status(");
    expect([...loop.matchAll(/api\.(\w+)\(/g)].map((m) => m[1]).sort()).toEqual(["events", "status"]);
  });
});
