// Reads the committed lease and watch fixtures from disk (Node only). They live in their own
// folders under fixtures/ so that readFixtures() (the kv fixtures) sees exactly what it saw before.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseTimedFixture, parseWatchFixture, type TimedFixture, type WatchFixture } from "./fixture.ts";

export const LEASE_FIXTURE_DIR = new URL("./fixtures/lease/", import.meta.url).pathname;
export const WATCH_FIXTURE_DIR = new URL("./fixtures/watch/", import.meta.url).pathname;
/** Hand-written watch cases recorded from etcd by probe-watch.ts (not generated: no seed). */
export const WATCH_PROBE_DIR = new URL("./fixtures/watch-probe/", import.meta.url).pathname;

function jsonlFiles(dir: string): string[] {
  return readdirSync(dir).filter((file) => file.endsWith(".jsonl")).sort();
}

export function readLeaseFixtures(dir: string = LEASE_FIXTURE_DIR): TimedFixture[] {
  return jsonlFiles(dir).map((file) => parseTimedFixture(file.replace(/\.jsonl$/, ""), readFileSync(join(dir, file), "utf8")));
}

export function readWatchFixtures(dir: string = WATCH_FIXTURE_DIR): WatchFixture[] {
  return jsonlFiles(dir).map((file) => parseWatchFixture(file.replace(/\.jsonl$/, ""), readFileSync(join(dir, file), "utf8")));
}
