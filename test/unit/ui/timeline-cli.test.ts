// `npm run timeline` end to end, as a user runs it (through tsx, stdin in, HTML out).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { SEED } from "./seed.ts";

function timeline(args: string[], input: string) {
  const r = spawnSync("node_modules/.bin/tsx", ["src/ui/timeline-cli.ts", ...args], { input, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SECOND_TEST = [
  "=== RUN   TestCrash/leader",
  "12:00:00.100000 [0] becomes Leader; term=2, log=[]",
  "12:00:00.200000 [TEST] Crash 0",
  "12:00:00.400000 [1] becomes Candidate (currentTerm=3); log=[]",
  "--- FAIL: TestCrash/leader (0.20s)",
].join("\n");

describe("timeline CLI", () => {
  test("one test: its timeline on stdout", () => {
    const r = timeline([], SEED);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^<!doctype html>/);
    expect(r.stdout).toContain("TestElectionFollowerComesBack");
    expect(r.stdout.match(/<tr>/g)?.length).toBeGreaterThan(100);
  }, 60_000);

  test("several tests with --out: one file per test and an index", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "timeline-")), "out");
    const r = timeline(["--out", dir], `${SEED}\n${SECOND_TEST}\n`);
    expect(r.status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["TestCrash__leader.html", "TestElectionFollowerComesBack.html", "index.html"]);
    expect(r.stdout).toContain(`href="${dir}/TestCrash__leader.html"`);
    expect(readFileSync(join(dir, "index.html"), "utf8")).toContain('href="TestCrash__leader.html"');
    const crash = readFileSync(join(dir, "TestCrash__leader.html"), "utf8");
    expect(crash).toContain("FAIL");
    // After "[TEST] Crash 0", server 0's column is shaded Dead.
    expect(crash).toMatch(/<td class="st-dead"[^>]*><\/td><td class="st-candidate tl-said tl-transition"/);
  }, 60_000);

  test("no narrated lines: exit 1 and say why", () => {
    const r = timeline([], "just prose\n");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("no narrated lines");
  }, 60_000);
});
