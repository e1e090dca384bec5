/// <reference types="vite/client" />
// The SQLite MvccStore (src/server/etcd-store.ts) inside a real Durable Object: the store
// contract the in-memory store meets, every recorded etcd 3.4.23 answer replayed through the
// gateway over it, the query plans of its reads, and what each operation costs in SQL rows when
// the store holds 20,000 keys of 1 KB.
// The store gets a RaftServer object of its own (a fresh name, never started as a server):
// its tables sit beside the server's, which they do not touch.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { diffAnswers } from "../etcd/compare.ts";
import { parseFixture } from "../etcd/fixture.ts";
import { EMPTY, encodeBase64, fromBinaryString, utf8 } from "../../src/kv/etcd/bytes.ts";
import { handleKv, handleKvText, isKvPath, type KvPath } from "../../src/kv/etcd/gateway.ts";
import { EtcdKv } from "../../src/kv/etcd/kv.ts";
import { MemoryMvccStore } from "../../src/kv/etcd/memory-store.ts";
import { ETCD_SQL, keyBounds, SqliteMvccStore } from "../../src/server/etcd-store.ts";
import { revisionLogContract } from "../unit/kv/etcd/revision-log-contract.ts";
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

  revisionLogContract(async (body) => {
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

  it("writes in the caller's transaction and caches nothing: a rolled back put leaves no trace", async () => {
    await inFreshObject((sql, storage) => {
      const store = new SqliteMvccStore(sql);
      const kv = new EtcdKv(store);
      const put = (k: string) => handleKv(kv, "/v3/kv/put", { key: encodeBase64(utf8(k)), value: "dg==" }, IDS);
      put("kept");
      expect(() =>
        storage.transactionSync(() => {
          put("rolled-back");
          expect(kv.revision()).toBe(3);
          throw new Error("the apply failed");
        }),
      ).toThrow("the apply failed");
      expect(store.readMeta()).toEqual({ revision: 2, compactedRevision: -1 });
      expect(store.rowCount()).toBe(1);
      // The next put takes revision 3 again, as it would have on a replica that never tried.
      expect((put("next").body as { header: { revision: string } }).header.revision).toBe("3");
    });
  });
});

/** The server's store (compaction purged in chunks), purging in chunks of 2 rows until done right after each compaction. */
class PurgedInSteps extends SqliteMvccStore {
  constructor(sql: SqlStorage) {
    super(sql, null, true);
  }
  override compact(revision: number): void {
    super.compact(revision);
    while (this.purgeStep(revision, 2));
  }
}

describe("SqliteMvccStore purging in chunks: the store contract, every chunk of 2 rows", () => {
  mvccStoreContract(async (body) => {
    await inFreshObject((sql) => body(new PurgedInSteps(sql)));
  });
});

describe("SqliteMvccStore purging in chunks: what a compaction leaves, chunk by chunk", () => {
  const put = (kv: EtcdKv, k: string, v: string) => expect(handleKv(kv, "/v3/kv/put", { key: encodeBase64(utf8(k)), value: encodeBase64(utf8(v)) }, IDS).status).toBe(200);
  const del = (kv: EtcdKv, k: string) => expect(handleKv(kv, "/v3/kv/deleterange", { key: encodeBase64(utf8(k)) }, IDS).status).toBe(200);
  const compact = (kv: EtcdKv, revision: number) => handleKv(kv, "/v3/kv/compaction", { revision: String(revision) }, IDS);
  const rangeAt = (kv: EtcdKv, revision: number) => handleKv(kv, "/v3/kv/range", { key: "AA==", range_end: "AA==", revision: String(revision) }, IDS);

  it("reads, snapshots' rows and finally the stored rows equal a store compacted at once, with chunks bounded in rows read", async () => {
    const figures = await inFreshObject((sql) => {
      const store = new SqliteMvccStore(sql, null, true);
      const memory = new MemoryMvccStore(); // compacts at once
      const both = [new EtcdKv(store), new EtcdKv(memory)] as const;
      // 30 keys written over and over, every fifth deleted now and then, and one key ("hot")
      // with far more versions than a chunk holds.
      for (let round = 0; round < 6; round++) {
        for (let i = 0; i < 30; i++) for (const kv of both) put(kv, `k${String(i).padStart(2, "0")}`, `${round}`);
        for (let i = 0; i < 30; i += 5) if (round % 2 === 1) for (const kv of both) del(kv, `k${String(i).padStart(2, "0")}`);
        for (let n = 0; n < 5; n++) for (const kv of both) put(kv, "hot", `${round}.${n}`);
      }
      const revision = both[0].revision();
      expect(both[1].revision()).toBe(revision);
      const compactedAt = revision - 40;
      for (const kv of both) expect(compact(kv, compactedAt).status).toBe(200);
      store.writeMeta({ revision, compactedRevision: compactedAt });
      const rowsBefore = store.rowCount();
      // Before any purge: the rows a read or a snapshot sees are already the compacted ones.
      expect(store.allRows()).toEqual(memory.allRows());
      for (const at of [compactedAt, compactedAt + 7, revision]) expect(rangeAt(both[0], at)).toEqual(rangeAt(both[1], at));
      expect(rangeAt(both[0], compactedAt - 1)).toEqual(rangeAt(both[1], compactedAt - 1)); // etcd's compacted error, both

      const CHUNK = 7;
      let steps = 0;
      let mostRead = 0;
      for (let more = true; more; steps++) {
        const before = store.rows.rowsRead;
        more = store.purgeStep(compactedAt, CHUNK);
        mostRead = Math.max(mostRead, store.rows.rowsRead - before);
        expect(store.allRows()).toEqual(memory.allRows());
      }
      const rowsAfter = store.rowCount();
      expect(rowsAfter).toBe(memory.rowCount());
      expect(store.purgePending(compactedAt)).toBe(false);

      // A compaction during a pass: the pass goes on (each chunk deletes up to the newest
      // compaction), and the keys it had done are taken by the next pass.
      for (let i = 0; i < 30; i++) for (const kv of both) put(kv, `k${String(i).padStart(2, "0")}`, "again");
      const second = both[0].revision() - 10;
      for (const kv of both) compact(kv, second - 15);
      expect(store.purgeStep(second - 15, CHUNK)).toBe(true);
      expect(store.purgeStep(second - 15, CHUNK)).toBe(true);
      for (const kv of both) compact(kv, second);
      store.writeMeta({ revision: both[0].revision(), compactedRevision: second });
      while (store.purgeStep(second, CHUNK));
      expect(store.rowCount()).toBe(memory.rowCount());
      expect(store.allRows()).toEqual(memory.allRows());

      // A store opened afresh on the same tables resumes where the purge row says.
      const again = new SqliteMvccStore(sql, null, true);
      expect(again.purgePending(second)).toBe(false);
      // The next pass waits for a tenth as many revisions as this one walked rows (pacing).
      expect(again.purgePending(second + 1)).toBe(false);
      expect(again.purgePending(second + 1000)).toBe(true);
      return { rowsBefore, rowsAfter, steps, mostRead };
    });
    console.log(`purge in chunks of 7 rows: ${JSON.stringify(figures)}`);
    expect(figures.rowsAfter).toBeLessThan(figures.rowsBefore);
    expect(figures.steps).toBeGreaterThan(figures.rowsBefore / 7 / 2);
    // A chunk walks 7 rows to find its end, deletes within them (a seek each for a newer
    // version), and "hot" (30 versions) is a chunk of one key: bounded by that key, not the table.
    expect(figures.mostRead).toBeLessThanOrEqual(4 * 30);
  });

  it("a chunk's statements walk the primary key and never sort", async () => {
    const plans = await inFreshObject((sql) => {
      new SqliteMvccStore(sql, null, true);
      const plan = (q: string, args: unknown[]) => sql.exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${q}`, ...args).toArray().map((r) => r.detail);
      const b = keyBounds({ start: utf8("a"), end: utf8("b") })!;
      return { chunk: plan(ETCD_SQL.purgeChunk(b.where), [5, ...b.args]), end: plan(ETCD_SQL.chunkEnd, [utf8("a").buffer, 7]) };
    });
    console.log(`purge plans: ${JSON.stringify(plans)}`);
    expect(plans.chunk[0]).toBe("SEARCH v USING PRIMARY KEY (key>? AND key<?)");
    expect(plans.end[0]).toBe("SEARCH etcd_kv USING PRIMARY KEY (key>?)");
    expect([...plans.chunk, ...plans.end].join(" ")).not.toMatch(/TEMP B-TREE/);
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

describe("SqliteMvccStore: query plans", () => {
  // Every read is a search on the primary key in its order (no temporary b-tree: nothing is
  // sorted, so a LIMIT stops the walk), and "is there a newer version" is a seek on it too.
  // Only "every key" and compaction scan the table, as they must.
  const at = (start: string, end: string | null) => ({ start: utf8(start), end: end === null ? null : utf8(end) });
  const cases: [string, (keys: string) => string, ReturnType<typeof at>, string][] = [
    ["latest [a, b) limit 10", (k) => ETCD_SQL.latest(k, 10), at("a", "b"), "SEARCH v USING PRIMARY KEY (key>? AND key<?)"],
    ["latest of one key", (k) => ETCD_SQL.latest(k, 0), at("a", null), "SEARCH v USING PRIMARY KEY (key=? AND mod_revision<?)"],
    ["latest from a", (k) => ETCD_SQL.latest(k, 10), at("a", ""), "SEARCH v USING PRIMARY KEY (key>?)"],
    ["count [a, b)", (k) => ETCD_SQL.countLatest(k), at("a", "b"), "SEARCH v USING PRIMARY KEY (key>? AND key<?)"],
    ["latest of every key", (k) => ETCD_SQL.latest(k, 10), at("", ""), "SCAN v"],
  ];
  const SEEK = "SEARCH w USING PRIMARY KEY (key=? AND mod_revision>? AND mod_revision<?)";

  it("reads walk the primary key and never sort", async () => {
    const plans = await inFreshObject((sql) => {
      new SqliteMvccStore(sql);
      const plan = (q: string, args: unknown[]) =>
        sql.exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${q}`, ...args).toArray().map((r) => r.detail);
      const out: Record<string, string[]> = {};
      for (const [name, statement, range] of cases) {
        const b = keyBounds(range)!;
        out[name] = plan(statement(b.where), [5, ...b.args]);
      }
      out.compact = plan(ETCD_SQL.compact, [5]);
      out.latestOfKey = plan(ETCD_SQL.latestOfKey, [5, utf8("a").buffer]);
      return out;
    });
    console.log(`query plans:\n${Object.entries(plans).map(([k, v]) => `  ${k}: ${v.join(" | ")}`).join("\n")}`);
    for (const [name, , , outer] of cases) {
      expect(plans[name]![0], name).toBe(outer);
      expect(plans[name], name).toContain(SEEK);
      expect(plans[name]!.join(" "), name).not.toMatch(/TEMP B-TREE/);
    }
    expect(plans.compact).toEqual(["SCAN v", "CORRELATED SCALAR SUBQUERY 1", SEEK]);
    // One key (every put's lookup): one seek, walked backwards from its newest version, no subquery.
    expect(plans.latestOfKey).toEqual(["SEARCH etcd_kv USING PRIMARY KEY (key=? AND mod_revision<?)"]);
  });
});

describe("SqliteMvccStore: one key with many versions", () => {
  it("its newest version costs one row read, however many versions it has (every put asks)", async () => {
    const figures = await inFreshObject((sql) => {
      const store = new SqliteMvccStore(sql);
      const kv = new EtcdKv(store);
      const key = utf8("hot");
      for (let i = 0; i < 500; i++) kv.put({ key, value: utf8(`v${i}`), lease: 0, prevKv: false, ignoreValue: false, ignoreLease: false });
      const readBefore = store.rows.rowsRead;
      const newest = store.latest({ start: key, end: null }, 1_000, 0);
      const read = store.rows.rowsRead - readBefore;
      kv.deleteRange({ key, rangeEnd: EMPTY, prevKv: false });
      const afterDelete = store.latest({ start: key, end: null }, 1_000, 0);
      const beforeDelete = store.latest({ start: key, end: null }, 501, 0);
      return { read, newest: newest.map((v) => [v.modRevision, v.version]), afterDelete: afterDelete.length, beforeDelete: beforeDelete.map((v) => v.version) };
    });
    expect(figures).toEqual({ read: 1, newest: [[501, 500]], afterDelete: 0, beforeDelete: [500] });
  });
});

describe("SqliteMvccStore: 20,000 keys of 1 KB", () => {
  const KEYS = 20_000;
  const BATCH = 1_000;
  const VALUE = encodeBase64(utf8("v".repeat(1024)));
  const key = (i: number) => encodeBase64(utf8(`key/${String(i).padStart(6, "0")}`));

  it("a range with limit 10 reads a few rows beyond its 10 (plus etcd's count of the range); a put writes 2", async () => {
    const name = freshName("etcd-store-20k");
    // Written through the model in batches of 1,000 puts, one transaction and one
    // runInDurableObject each: nothing of a batch stays referenced after it.
    for (let from = 0; from < KEYS; from += BATCH) {
      await inFreshObject((sql, storage) => {
        const kv = new EtcdKv(new SqliteMvccStore(sql));
        storage.transactionSync(() => {
          for (let i = from; i < from + BATCH; i++) {
            const answer = handleKv(kv, "/v3/kv/put", { key: key(i), value: VALUE }, IDS);
            if (answer.status !== 200) throw new Error(JSON.stringify(answer.body));
          }
        });
      }, name);
    }

    const figures = await inFreshObject((sql) => {
      const store = new SqliteMvccStore(sql);
      const kv = new EtcdKv(store);
      /** Rows read and written by one gateway call, and its answer. */
      const cost = (path: KvPath, body: unknown) => {
        const before = { ...store.rows };
        const answer = handleKv(kv, path, body, IDS);
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        return { read: store.rows.rowsRead - before.rowsRead, written: store.rows.rowsWritten - before.rowsWritten, body: answer.body as Record<string, unknown> };
      };
      const rev = kv.revision();
      const all = { start: fromBinaryString("\0"), end: EMPTY };
      const before = { ...store.rows };
      const ten = store.latest(all, rev, 10);
      const latest10 = store.rows.rowsRead - before.rowsRead;
      const count = store.countLatest(all, rev);
      const countAll = store.rows.rowsRead - before.rowsRead - latest10;

      const range10 = cost("/v3/kv/range", { key: "AA==", range_end: "AA==", limit: 10 });
      const rangeOne = cost("/v3/kv/range", { key: key(5) });
      const putNew = cost("/v3/kv/put", { key: key(KEYS), value: VALUE });
      const putExisting = cost("/v3/kv/put", { key: key(7), value: VALUE });
      const txn = cost("/v3/kv/txn", {
        compare: [{ key: key(8), target: "VERSION", result: "EQUAL", version: "1" }],
        success: [{ request_put: { key: key(8), value: VALUE } }, { request_range: { key: key(9) } }],
      });
      const deleteOne = cost("/v3/kv/deleterange", { key: key(10) });
      const rangeAfter = cost("/v3/kv/range", { key: key(7) });
      const compact = cost("/v3/kv/compaction", { revision: String(kv.revision()) });
      return {
        ten: ten.length,
        count,
        latest10,
        countAll,
        range10: { read: range10.read, written: range10.written, kvs: (range10.body.kvs as unknown[]).length, more: range10.body.more, count: range10.body.count },
        rangeOne: { read: rangeOne.read, written: rangeOne.written },
        putNew: { read: putNew.read, written: putNew.written },
        putExisting: { read: putExisting.read, written: putExisting.written },
        txn: { read: txn.read, written: txn.written, succeeded: txn.body.succeeded },
        deleteOne: { read: deleteOne.read, written: deleteOne.written, deleted: (deleteOne.body as { deleted?: string }).deleted },
        rangeAfter: { read: rangeAfter.read, written: rangeAfter.written },
        compact: { read: compact.read, written: compact.written },
        rowsAfterCompaction: store.rowCount(),
        databaseSize: sql.databaseSize,
      };
    }, name);
    console.log(`20,000 keys of 1 KB, SQL rows per operation: ${JSON.stringify(figures, null, 1)}`);

    expect(figures.ten).toBe(10);
    expect(figures.count).toBe(KEYS);
    // The 10 rows, each with its one seek for a newer version, and the row that ends the LIMIT.
    expect(figures.latest10).toBeLessThanOrEqual(30);
    // etcd's answer carries the range's count: that one statement reads each key (in SQLite,
    // never in JavaScript); nothing else does.
    expect(figures.range10.kvs).toBe(10);
    expect(figures.range10.more).toBe(true);
    expect(figures.range10.count).toBe(String(KEYS));
    expect(figures.range10.read).toBeLessThanOrEqual(figures.latest10 + figures.countAll + 5);
    expect(figures.rangeOne.read).toBeLessThanOrEqual(5);
    expect(figures.rangeOne.written).toBe(0);
    // A put: its version and the meta row.
    expect(figures.putNew.written).toBe(2);
    expect(figures.putExisting.written).toBe(2);
    expect(figures.putExisting.read).toBeLessThanOrEqual(10);
    expect(figures.txn.succeeded).toBe(true);
    expect(figures.txn.written).toBe(2);
    expect(figures.deleteOne.deleted).toBe("1");
    expect(figures.deleteOne.written).toBe(2);
    expect(figures.rangeAfter.read).toBeLessThanOrEqual(10);
    // Compaction drops the superseded versions of keys 7 and 8 and key 10's whole history.
    expect(figures.rowsAfterCompaction).toBe(KEYS + 1 - 1);
  });

  it("purging in chunks of 1000 rows: 40,000 versions of 20,000 keys of 1 KB, half of them hidden by a compaction, go in 40 chunks, each reading and writing a bounded number of rows", async () => {
    const name = freshName("etcd-store-purge");
    for (const round of [0, 1]) {
      for (let from = 0; from < KEYS; from += BATCH) {
        await inFreshObject((sql, storage) => {
          const kv = new EtcdKv(new SqliteMvccStore(sql, null, true));
          storage.transactionSync(() => {
            for (let i = from; i < from + BATCH; i++) handleKv(kv, "/v3/kv/put", { key: key(i), value: VALUE }, IDS);
          });
        }, name);
      }
      if (round === 1) {
        // Compact at the end: every key's first version is superseded below the compacted revision.
        await inFreshObject((sql) => {
          const kv = new EtcdKv(new SqliteMvccStore(sql, null, true));
          expect(handleKv(kv, "/v3/kv/compaction", { revision: String(kv.revision()) }, IDS).status).toBe(200);
        }, name);
      }
    }
    const chunks: { read: number; written: number; ms: number }[] = [];
    let compacted = 0;
    for (let more = true; more; ) {
      const started = Date.now();
      const one = await inFreshObject((sql, storage) => {
        const store = new SqliteMvccStore(sql, null, true);
        compacted = store.readMeta().compactedRevision;
        const before = { ...store.rows };
        const pending = storage.transactionSync(() => store.purgeStep(compacted, 1000));
        return { pending, read: store.rows.rowsRead - before.rowsRead, written: store.rows.rowsWritten - before.rowsWritten };
      }, name);
      more = one.pending;
      chunks.push({ read: one.read, written: one.written, ms: Date.now() - started });
    }
    const rows = await inFreshObject((sql) => new SqliteMvccStore(sql, null, true).rowCount(), name);
    const most = (f: "read" | "written" | "ms") => Math.max(...chunks.map((c) => c[f]));
    const total = (f: "read" | "written" | "ms") => chunks.reduce((n, c) => n + c[f], 0);
    console.log(
      `purge of 20,000 hidden versions in chunks of 1000 rows: ${chunks.length} chunks; rows read per chunk at most ${most("read")} (total ${total("read")}), ` +
        `written at most ${most("written")} (total ${total("written")}); ms per chunk, call included: at most ${most("ms")}, mean ${(total("ms") / chunks.length).toFixed(1)}; rows left ${rows}`,
    );
    expect(rows).toBe(KEYS);
    expect(chunks.length).toBeGreaterThanOrEqual(40);
    expect(chunks.length).toBeLessThanOrEqual(42);
    // A chunk walks its 1000 rows to find its end, then deletes within them (a seek or two
    // each for a newer version, and the delete's own reads): bounded by the chunk, not the table.
    expect(most("read")).toBeLessThanOrEqual(5 * 1000);
    // About half the chunk's rows are hidden versions, plus the purge's own row.
    expect(most("written")).toBeLessThanOrEqual(1000 / 2 + 2);
  });
});
