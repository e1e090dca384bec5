// Reads the committed fixtures from disk (Node only; fixture.ts parses text from any source).

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseFixture, type Fixture } from "./fixture.ts";

export const FIXTURE_DIR = new URL("./fixtures/", import.meta.url).pathname;

/** Every committed fixture, sorted by name. */
export function readFixtures(dir: string = FIXTURE_DIR): Fixture[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith(".jsonl"))
    .sort()
    .map((file) => parseFixture(file.replace(/\.jsonl$/, ""), readFileSync(join(dir, file), "utf8")));
}
