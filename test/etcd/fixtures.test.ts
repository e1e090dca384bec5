// Checks on the recorded etcd fixtures that need no etcd: the generator still produces exactly
// the committed requests, the fixtures cover every feature issue 20 lists, and the answer
// comparison ignores the three per-cluster ids and nothing else.

import { describe, expect, it } from "vitest";
import { diffAnswers, normalizeAnswer } from "./compare.ts";
import { coverage, REQUIRED_FEATURES } from "./coverage.ts";
import { GENERATOR_VERSION, generateSequence, prefixEnd, SequenceGenerator } from "./generate.ts";
import { readFixtures } from "./read-fixtures.ts";
import { SEEDS } from "./seeds.ts";

const fixtures = readFixtures();

describe("etcd fixtures: the generator", () => {
  it("replays each committed fixture's requests from its seed and etcd's recorded answers", async () => {
    expect(fixtures.map((f) => f.meta.seed)).toEqual(SEEDS.map((s) => s.seed).sort((a, b) => a - b));
    for (const fixture of fixtures) {
      expect(fixture.meta.generator, `${fixture.name} was recorded by another generator version`).toBe(GENERATOR_VERSION);
      const regenerated = await generateSequence(fixture.meta.seed, fixture.meta.ops, (_op, i) => fixture.steps[i]!);
      regenerated.forEach(({ op }, i) => {
        const step = fixture.steps[i]!;
        expect({ path: op.path, request: op.request }, `${fixture.name} op ${i}`).toEqual({ path: step.path, request: step.request });
      });
    }
  });

  it("is deterministic for a seed and differs between seeds", async () => {
    // A fixed answer stands in for etcd: the generator depends only on the seed and the answers.
    const answer = (_op: unknown, i: number) => ({ status: 200, response: { header: { revision: String(1 + i) } } });
    const ops = async (seed: number) => (await generateSequence(seed, 300, answer)).map((s) => s.op);
    expect(await ops(42)).toEqual(await ops(42));
    expect(await ops(42)).not.toEqual(await ops(43));
  });

  it("aims reads below the compacted revision once it has seen a compaction succeed", () => {
    const gen = new SequenceGenerator(7);
    gen.observe({ path: "/v3/kv/put", request: {} }, { status: 200, response: { header: { revision: "50" } } });
    gen.observe({ path: "/v3/kv/compaction", request: { revision: "40" } }, { status: 200, response: { header: { revision: "50" } } });
    const revisions = Array.from({ length: 400 }, () => gen.range(true).revision).filter((r) => r !== undefined).map(Number);
    expect(revisions.some((r) => r < 40)).toBe(true);
    expect(revisions).toContain(40);
    expect(revisions.some((r) => r > 50)).toBe(true);
  });

  it("computes prefix ends as etcd's clientv3.GetPrefixRangeEnd does", () => {
    expect(prefixEnd("a")).toBe("b");
    expect(prefixEnd("a\xff")).toBe("b");
    expect(prefixEnd("\xff\xff")).toBe("\0");
  });
});

describe("etcd fixtures: coverage", () => {
  const counts = coverage(fixtures);

  it.each(REQUIRED_FEATURES.map((f) => [f]))("covers %s", (feature) => {
    expect(counts.get(feature) ?? 0).toBeGreaterThan(0);
  });

  it("stays within the size the repository can carry", () => {
    const steps = fixtures.reduce((n, f) => n + f.steps.length, 0);
    expect(fixtures.length).toBeGreaterThanOrEqual(6);
    expect(steps).toBeGreaterThanOrEqual(6 * 300);
    expect(fixtures.every((f) => f.steps.length >= 300 && f.steps.length <= 500)).toBe(true);
  });
});

describe("etcd fixtures: answer comparison", () => {
  const recorded = {
    header: { cluster_id: "111", member_id: "222", revision: "9", raft_term: "2" },
    succeeded: true,
    responses: [
      { response_put: { header: { revision: "9" } } },
      { response_txn: { header: {}, responses: [{ response_range: { header: { revision: "9" }, kvs: [{ key: "YQ==", version: "1" }], count: "1" } }] } },
    ],
  };

  it("ignores cluster_id, member_id and raft_term at any depth", () => {
    const ours = structuredClone(recorded) as typeof recorded;
    ours.header = { cluster_id: "9", member_id: "8", revision: "9", raft_term: "7" };
    (ours.responses[0] as { response_put: { header: Record<string, string> } }).response_put.header = { revision: "9", member_id: "5" };
    expect(diffAnswers(recorded, ours)).toBeNull();
    expect(normalizeAnswer(recorded)).toEqual({ ...recorded, header: { revision: "9" } });
    expect(recorded.header.cluster_id).toBe("111"); // the input is left alone
  });

  it("sees every other difference, naming where", () => {
    const changed = (edit: (x: any) => void): string | null => {
      const copy = structuredClone(recorded);
      edit(copy);
      return diffAnswers(recorded, copy);
    };
    expect(changed((x) => (x.header.revision = "10"))).toBe('$.header.revision: expected "9", got "10"');
    expect(changed((x) => delete x.header.revision)).toMatch(/^\$\.header\.revision: missing/);
    expect(changed((x) => (x.succeeded = false))).toMatch(/^\$\.succeeded/);
    expect(changed((x) => delete x.succeeded)).toMatch(/^\$\.succeeded: missing/);
    expect(changed((x) => (x.more = false))).toMatch(/^\$\.more: unexpected false/);
    expect(changed((x) => (x.responses[1].response_txn.responses[0].response_range.kvs[0].version = 1)))
      .toBe('$.responses[1].response_txn.responses[0].response_range.kvs[0].version: expected "1", got 1');
    expect(changed((x) => x.responses.pop())).toMatch(/^\$\.responses: expected 2 items, got 1/);
    expect(changed((x) => (x.responses[1].response_txn.header = { revision: "9" }))).toMatch(/header\.revision: unexpected/);
    // "header" elsewhere than under a header key is data, not ids: a kv field named member_id counts.
    expect(changed((x) => (x.responses[1].response_txn.responses[0].response_range.kvs[0].member_id = "1"))).not.toBeNull();
    expect(diffAnswers({ error: "e", code: 3 }, { error: "e", code: 11 })).toBe("$.code: expected 3, got 11");
  });
});
