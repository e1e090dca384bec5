/// <reference types="vite/client" />
// The SQLite MvccStore (src/server/etcd-store.ts) inside a real Durable Object: the store
// contract the in-memory store meets, every recorded etcd 3.4.23 answer replayed through the
// gateway over it, and what a range costs in SQL rows when the store holds 20,000 keys of 1 KB.
// The store gets a RaftServer object of its own (a fresh name, never started as a server):
// its tables sit beside the server's, which they do not touch.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { diffAnswers } from "../etcd/compare.ts";
import { parseFixture } from "../etcd/fixture.ts";
import { EMPTY, fromBinaryString } from "../../src/kv/etcd/bytes.ts";
import { handleKvText, isKvPath } from "../../src/kv/etcd/gateway.ts";
import { EtcdKv } from "../../src/kv/etcd/kv.ts";
import { SqliteMvccStore } from "../../src/server/etcd-store.ts";
import { mvccStoreContract } from "../unit/kv/etcd/store-contract.ts";
import { freshName } from "./harness.ts";

const IDS = { clusterId: "1", memberId: "1", raftTerm: "1" };

/** Runs `body` inside a fresh object, with its SqlStorage and storage (for transactionSync). */
function inFreshObject<T>(body: (sql: SqlStorage, storage: DurableObjectStorage) => T, name = freshName("etcd-store")): Promise<T> {
  return runInDurableObject(env.RAFT_SERVER.getByName(name), (_, state) => body(state.storage.sql, state.storage));
}

describe("SqliteMvccStore: the store contract", () => {
  mvccStoreContract(async (body) => {
    await inFreshObject((sql) => body(new SqliteMvccStore(sql)));
  });

  it("creates its tables idempotently: a second store on the same object sees the first one's rows", async () => {
    await inFreshObject((sql) => {
      const first = new SqliteMvccStore(sql);
      first.append([{ key: fromBinaryString("k"), modRevision: 2, sub: 0, createRevision: 2, version: 1, value: EMPTY, lease: 0, tombstone: false }]);
      first.writeMeta({ revision: 2, compactedRevision: -1 });
      const second = new SqliteMvccStore(sql);
      expect(second.readMeta()).toEqual({ revision: 2, compactedRevision: -1 });
      expect(second.rowCount()).toBe(1);
    });
  });
});

// Vite inlines each fixture's text at build time: workerd has no file system to read them from.
const FIXTURE_TEXT = import.meta.glob<string>("../etcd/fixtures/*.jsonl", { query: "?raw", import: "default", eager: true });

describe("SqliteMvccStore: every recorded etcd answer", () => {
  const fixtures = Object.entries(FIXTURE_TEXT)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, text]) => parseFixture(path.replace(/^.*\/(.*)\.jsonl$/, "$1"), text));

  it("has every fixture", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(6);
  });

  for (const fixture of fixtures) {
    it(`${fixture.name}: every answer equals etcd's`, async () => {
      const differences = await inFreshObject((sql) => {
        const kv = new EtcdKv(new SqliteMvccStore(sql));
        const out: string[] = [];
        fixture.steps.forEach((step, i) => {
          const where = `${fixture.name} step ${i + 1} ${step.path} ${JSON.stringify(step.request)}`;
          if (!isKvPath(step.path)) return out.push(`${where}: path not handled`);
          const answer = handleKvText(kv, step.path, JSON.stringify(step.request), IDS);
          const d =
            answer.status !== step.status
              ? `status: expected ${step.status}, got ${answer.status} (${JSON.stringify(answer.body)})`
              : diffAnswers(step.response, answer.body);
          if (d !== null) out.push(`${where}\n    ${d}`);
        });
        return out;
      });
      expect(differences.slice(0, 10).join("\n"), `${differences.length} answers differ`).toBe("");
    });
  }
});
