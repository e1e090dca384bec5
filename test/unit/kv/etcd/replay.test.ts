// Every recorded etcd 3.4.23 sequence (test/etcd/fixtures/*.jsonl) replayed against the pure
// model: a fresh store per file, each request's text through the gateway codec and the model, each
// answer (status and body) compared with etcd's by diffAnswers.

import { describe, expect, it } from "vitest";
import { diffAnswers } from "../../../etcd/compare.ts";
import { readFixtures } from "../../../etcd/read-fixtures.ts";
import { handleKvText, isKvPath } from "../../../../src/kv/etcd/gateway.ts";
import { EtcdKv } from "../../../../src/kv/etcd/kv.ts";
import { MemoryMvccStore } from "../../../../src/kv/etcd/memory-store.ts";

const IDS = { clusterId: "1", memberId: "1", raftTerm: "1" };

describe("etcd fixtures replay", () => {
  const fixtures = readFixtures();

  it("has at least one fixture", () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  for (const fixture of fixtures) {
    it(`${fixture.name}: every answer equals etcd's`, () => {
      const kv = new EtcdKv(new MemoryMvccStore());
      const differences: string[] = [];
      fixture.steps.forEach((step, i) => {
        const where = `${fixture.name} step ${i + 1} ${step.path} ${JSON.stringify(step.request)}`;
        if (!isKvPath(step.path)) {
          differences.push(`${where}: path not handled`);
          return;
        }
        // The body as the recorder sent it: JSON.stringify of the recorded request.
        const answer = handleKvText(kv, step.path, JSON.stringify(step.request), IDS);
        const d =
          answer.status !== step.status
            ? `status: expected ${step.status}, got ${answer.status} (${JSON.stringify(answer.body)})`
            : diffAnswers(step.response, answer.body);
        if (d !== null) differences.push(`${where}\n    ${d}`);
      });
      expect(differences.slice(0, 10).join("\n"), `${differences.length} answers differ`).toBe("");
    });
  }
});
