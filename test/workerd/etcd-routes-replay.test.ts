// etcd 3.4.23's recorded answers (test/etcd/fixtures), replayed through the real v3 routes of a
// 3-server cluster: every request goes through the coordinator (checks, leader finding, the
// Raft log for writes, ReadIndex for ranges, any server for serializable ones) and every
// answer must equal etcd's, ignoring only cluster_id, member_id and raft_term (compare.ts).
// The store's own replay (etcd-store.test.ts) checks the model on SQLite; this checks that the
// routes and the log carry it without changing a byte of an answer.
import { describe, expect, it } from "vitest";
import { diffAnswers } from "../etcd/compare.ts";
import { parseFixture } from "../etcd/fixture.ts";
import { Harness } from "./harness.ts";
import { answered, idSource } from "./answered.ts";

// Vite inlines each fixture's text at build time: workerd has no file system to read them from.
const FIXTURE_TEXT = import.meta.glob<string>("../etcd/fixtures/seed-{1,4}.jsonl", { query: "?raw", import: "default", eager: true });

describe("etcd's recorded answers through the v3 routes of a 3-server cluster", () => {
  const fixtures = Object.entries(FIXTURE_TEXT)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, text]) => parseFixture(path.replace(/^.*\/(.*)\.jsonl$/, "$1"), text));

  it("has the two fixtures", () => {
    expect(fixtures.map((f) => f.name)).toEqual(["seed-1", "seed-4"]);
  });

  for (const fixture of fixtures) {
    it(`${fixture.name}: every answer equals etcd's`, { timeout: 120_000 }, async () => {
      const h = await Harness.create(3);
      await h.checkSingleLeader();
      // Writes carry exactly-once ids, so one that is not answered in time is retried safely.
      const ids = idSource();
      for (const [i, step] of fixture.steps.entries()) {
        // The body as etcd got it: the recorded request's JSON text (a few are not objects on purpose).
        const headers = step.path === "/v3/kv/range" ? {} : ids();
        const got = await answered("POST", `/clusters/${h.name}${step.path}`, JSON.stringify(step.request), headers);
        const where = `${fixture.name} step ${i + 1} ${step.path} ${JSON.stringify(step.request)}`;
        expect(got.status, `${where}: ${JSON.stringify(got.body)}`).toBe(step.status);
        expect(diffAnswers(step.response, got.body), where).toBeNull();
        // Every answer from the store names the server that gave it.
        if (step.status === 200) expect(got.headers.get("Raft-Server"), where).toMatch(/^\d+$/);
      }
    });
  }
});
