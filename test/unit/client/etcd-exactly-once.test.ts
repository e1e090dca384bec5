// EtcdClient's writes under faulty answers (lost after applying, 504 after applying, 503,
// delays), against etcd's real semantics (fake-etcd-server.ts): every acknowledged txn and
// put is applied exactly once, none twice. etcd itself is the witness: a key's `version`
// counts the puts it took, so each write puts its own key once and a double apply would
// show as version 2.
import { expect, test } from "vitest";
import { EtcdClient, EtcdError, op } from "../../../src/client/index.ts";
import { ClientIdPool, WriteLanes } from "../../../src/client/client-ids.ts";
import { TimeIds } from "../../../src/client/request-ids.ts";
import { mulberry32, pick } from "../../lin/random.ts";
import { fakeEtcdServer } from "./fake-etcd-server.ts";
import type { Fault } from "./fake-server.ts";

test("faulty answers: acknowledged v3 writes applied exactly once, uncertain ones at most once", async () => {
  const rand = mulberry32(7);
  const server = fakeEtcdServer(() => pick<Fault>(rand, ["none", "none", "none", "unavailable", "lost-answer", "timeout-after-apply", "delay"]));
  const shared = { pool: new ClientIdPool(), lanes: new WriteLanes(), ids: new TimeIds() };
  const acknowledged: string[] = [];
  const uncertain: string[] = [];

  const run = async (c: number): Promise<void> => {
    const etcd = new EtcdClient({ baseUrl: "http://v3.test", cluster: "x", fetch: server.fetch, shared, backoff: { initialMs: 1, maxMs: 4 }, deadlineMs: 3_000 });
    for (let n = 0; n < 20; n++) {
      const token = `tok/${c}.${n}`;
      try {
        if (n % 2 === 0) {
          // A txn with a put and a read in it, or a plain put.
          const t = await etcd.txn({ compare: [], success: [op.put(token, "v"), op.range("tok/", { rangeEnd: "tok0", countOnly: true })] });
          expect(t.succeeded).toBe(true);
        } else await etcd.put({ key: token, value: "v" });
        acknowledged.push(token);
      } catch (error) {
        if (!(error instanceof EtcdError) || !error.maybeApplied) throw error;
        uncertain.push(token);
      }
    }
  };
  await Promise.all([0, 1, 2, 3, 4].map(run));

  // Read back through a client on a fault-free line to the same store.
  const reader = new EtcdClient({ baseUrl: "http://v3.test", cluster: "x", fetch: fakeEtcdServer(() => "none", server.kv).fetch });
  const all = await reader.range({ key: "tok/", rangeEnd: "tok0" });
  const versions = new Map(all.kvs.map((kv) => [kv.keyString, kv.version]));
  expect(all.count).toBe(versions.size);
  for (const token of acknowledged) expect(versions.get(token), token).toBe(1);
  for (const token of uncertain) expect(versions.get(token) ?? 0, token).toBeLessThanOrEqual(1);
  expect(acknowledged.length).toBeGreaterThan(80);
  // The faults really happened: retries reached the server and were answered from the session.
  expect(server.stats.duplicates).toBeGreaterThan(10);
});
