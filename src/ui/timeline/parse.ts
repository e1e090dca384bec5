// Parsing narrated logs (the seed's format) into entries, one test at a time.
//
//   11:04:37.797055 [1] sending RequestVote to 0: {Term:1 ...}
//   11:04:37.848121 [TEST] Disconnect 2
//   === RUN TestElectionFollowerComesBack
//   --- PASS: TestElectionFollowerComesBack (1.31s)
//
// Anything else (prose, shell prompts, code fences, "PASS", "ok ...") is skipped, so a log
// pasted into notes or a blog post still parses. Go prints lines from concurrent goroutines a
// little out of order and quoted logs repeat themselves, so each test's entries are sorted by
// time (stably) and exact repeats (same time, same source, same text) are dropped.

import type { LogEntry, TestLog } from "./types.ts";

const MICROS_PER_DAY = 24 * 3600 * 1_000_000;

/** "[3] text" or "[TEST] text": the part of a line after the timestamp (also a live event's line). */
const NARRATION = /^\[(\d+|TEST)\]\s?(.*)$/;
const TIMESTAMPED = /^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s+(\[(?:\d+|TEST)\].*)$/;
const RUN = /^\s*=== RUN\s+(\S+)/;
const END = /^\s*--- (PASS|FAIL|SKIP):\s+(\S+)/;

/** Splits "[1] becomes Leader" into server 1 and its text; "[TEST] ..." gives server null. */
export function parseNarration(line: string): { server: number | null; text: string } | null {
  const m = NARRATION.exec(line.trim());
  if (!m) return null;
  const tag = m[1] ?? "";
  return { server: tag === "TEST" ? null : Number(tag), text: (m[2] ?? "").trimEnd() };
}

/** One timestamped log line, or null if the line is not one. `at` is micros since midnight. */
export function parseLogLine(line: string): LogEntry | null {
  const m = TIMESTAMPED.exec(line.trim());
  if (!m) return null;
  const narration = parseNarration(m[5] ?? "");
  if (!narration) return null;
  const [h, min, s] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // The fraction may have any number of digits: ".5" is half a second, as in a clock.
  const fraction = (m[4] ?? "").slice(0, 6).padEnd(6, "0");
  const at = ((h * 60 + min) * 60 + s) * 1_000_000 + Number(fraction);
  const time = `${m[1]}:${m[2]}:${m[3]}${m[4] ? `.${m[4]}` : ""}`;
  return { at, time, ...narration };
}

/** Stable time order, exact repeats dropped. */
export function orderEntries(entries: readonly LogEntry[]): LogEntry[] {
  const seen = new Set<string>();
  const unique: LogEntry[] = [];
  for (const e of entries) {
    const key = `${e.at}|${e.server ?? "TEST"}|${e.text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(e);
  }
  // Array.prototype.sort is stable (ES2019), so lines with equal times keep their log order.
  return unique.sort((a, b) => a.at - b.at);
}

/**
 * Splits a whole log into its tests. Lines before the first `=== RUN` (or a log without
 * markers at all) form a test named null; a test's `--- PASS/FAIL/SKIP` sets its result.
 * Tests that narrated nothing are dropped.
 */
export function parseTestLog(text: string): TestLog[] {
  interface Open { name: string | null; result: TestLog["result"]; entries: LogEntry[]; lastAt: number; dayOffset: number }
  const tests: Open[] = [];
  let current: Open = { name: null, result: null, entries: [], lastAt: -1, dayOffset: 0 };
  tests.push(current);

  for (const line of text.split(/\r?\n/)) {
    const run = RUN.exec(line);
    if (run) {
      current = { name: run[1] ?? null, result: null, entries: [], lastAt: -1, dayOffset: 0 };
      tests.push(current);
      continue;
    }
    const end = END.exec(line);
    if (end) {
      const done = [...tests].reverse().find((t) => t.name === end[2]);
      if (done) done.result = end[1] as "PASS" | "FAIL" | "SKIP";
      continue;
    }
    const entry = parseLogLine(line);
    if (!entry) continue;
    // A run across midnight: the clock jumps back by most of a day, not a few ms of reordering.
    if (current.lastAt >= 0 && entry.at + current.dayOffset < current.lastAt - MICROS_PER_DAY / 2) {
      current.dayOffset += MICROS_PER_DAY;
    }
    const at = entry.at + current.dayOffset;
    current.lastAt = Math.max(current.lastAt, at);
    current.entries.push({ ...entry, at });
  }

  return tests
    .filter((t) => t.entries.length > 0)
    .map((t) => ({ name: t.name, result: t.result, entries: orderEntries(t.entries) }));
}

/** The server ids that speak in these entries, ascending: the timeline's columns. */
export function serversIn(entries: readonly LogEntry[]): number[] {
  const ids = new Set<number>();
  for (const e of entries) if (e.server !== null) ids.add(e.server);
  return [...ids].sort((a, b) => a - b);
}
