// Issue 20.1 / 23.3: a snapshot streams the store's rows in chunks. A server added to a
// cluster holding a few thousand keys catches up through InstallSnapshot pieces read from the
// leader's etcd_kv as they leave and staged in the follower's SQLite as they arrive
// (src/kv/snapshot-stream.ts, src/server/etcd-store.ts SqliteSnapshotStaging); its rows end
// up equal to the leader's, row for row. A transfer cut by a reset of the follower half-way
// (its staged rows dropped at boot) completes when the core asks again.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, test } from "vitest";
import { KvStateMachine, makeEtcdCommand, makeKvCommand, SnapshotIntake } from "../../src/kv/index.ts";
import { MemoryMvccStore } from "../../src/kv/etcd/memory-store.ts";
import { ETCD_SQL } from "../../src/server/etcd-store.ts";
import { KvState } from "../../src/server/kv-state.ts";
import { freshName, Harness } from "./harness.ts";
import { currentLeader, events, stableLeader } from "./issue6-harness.ts";
import { eventually } from "./kv-harness.ts";
import { caughtUp, ensureAdd } from "./membership-harness.ts";

const KEYS = 3_000;
const PER_TXN = 100;
const CHUNK = 4_096;
const b64 = (s: string) => btoa(s);
const keyOf = (k: number) => `key-${String(k).padStart(5, "0")}`;
const valueOf = (k: number, round: number) => `${round}:${k}:`.padEnd(100, "v");

/**
 * `KEYS` keys written (twice, so keys have history; some deleted), a txn of PER_TXN puts at a
 * time, through the leader's log. A write a server refused as not leading was not proposed:
 * it goes to the new leader (an election under the load of the test run is no failure).
 */
async function fill(h: Harness): Promise<void> {
  let { leader } = await stableLeader(h);
  const epoch = await h.epoch();
  const write = async (op: "txn" | "deleterange", request: unknown) => {
    for (;;) {
      const answer = await h.inside(leader, (s) => s.etcdWrite(epoch, op, request, undefined, 20_000));
      if (answer.kind === "not_leader") {
        leader = (await stableLeader(h)).leader;
        continue;
      }
      expect(answer.kind, JSON.stringify(answer)).toBe("ok");
      return;
    }
  };
  for (const round of [0, 1]) {
    for (let from = 0; from < KEYS; from += PER_TXN) {
      const keys = Array.from({ length: PER_TXN }, (_, i) => from + i).filter((k) => round === 0 || k % 3 === 0);
      await write("txn", { success: keys.map((k) => ({ request_put: { key: b64(keyOf(k)), value: b64(valueOf(k, round)) } })) });
    }
  }
  await write("deleterange", { key: b64(keyOf(0)), range_end: b64(keyOf(50)) });
}

/** Server `id`'s rows equal the current leader's, row for row, and nothing is left staged. */
async function rowsEqualLeaders(h: Harness, id: number): Promise<void> {
  await eventually("the new server's rows equal the leader's", async () => {
    const lead = await currentLeader(h);
    if (lead === null) return "no leader";
    const [l, n] = [await rowsDigest(h, lead.leader), await rowsDigest(h, id)];
    return (l.rows === n.rows && l.digest === n.digest && n.staged === 0) || `leader ${lead.leader} ${JSON.stringify(l)}, new server ${JSON.stringify(n)}`;
  }, 10_000);
}

/** A digest of server i's etcd_kv, every row in primary-key order (computed inside its object), and the row count. */
async function rowsDigest(h: Harness, i: number): Promise<{ rows: number; digest: string; staged: number }> {
  return h.inside(i, (_, state) => {
    const sql = state.storage.sql;
    let hash = 0x811c9dc5;
    let rows = 0;
    const mix = (bytes: Uint8Array) => {
      for (const b of bytes) hash = Math.imul(hash ^ b, 0x01000193) >>> 0;
      hash = Math.imul(hash ^ 0xff, 0x01000193) >>> 0;
    };
    const cursor = sql.exec<{ key: ArrayBuffer; value: ArrayBuffer | null; meta: string }>(
      "SELECT key, value, mod_revision || '/' || sub || '/' || create_revision || '/' || version || '/' || lease || '/' || tombstone AS meta FROM etcd_kv ORDER BY key, mod_revision, sub",
    );
    for (const r of cursor) {
      rows++;
      mix(new Uint8Array(r.key));
      mix(new Uint8Array(r.value ?? new ArrayBuffer(0)));
      mix(new TextEncoder().encode(r.meta));
    }
    const staging = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'etcd_kv_staging'").one().n;
    const staged = staging > 0 ? sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM etcd_kv_staging").one().n : 0;
    return { rows, digest: hash.toString(16), staged };
  });
}

/** The leader's narration of finished transfers: rows, characters, chunks and milliseconds each. */
async function transfersSent(h: Harness): Promise<Array<{ rows: number; chars: number; chunks: number; ms: number }>> {
  return (await events(h))
    .map((l) => / sent \d+ the state machine at index \d+ \(term \d+\): (\d+) rows, (\d+) characters in (\d+) chunk\(s\), (\d+) ms/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ rows: Number(m![1]), chars: Number(m![2]), chunks: Number(m![3]), ms: Number(m![4]) }));
}

async function startedTo(h: Harness, id: number): Promise<number> {
  return (await events(h)).filter((l) => new RegExp(` streams ${id} its state at index `).test(l)).length;
}

test("a server added to a cluster of 3,000 keys catches up through streamed chunks; its rows equal the leader's", async () => {
  const h = await Harness.create(3, { snapshotThreshold: 10, snapshotChunkBytes: CHUNK });
  await fill(h);
  const id = await ensureAdd(h, "learner");
  await caughtUp(h, id, 30_000);
  await rowsEqualLeaders(h, id);
  // Each piece's read is a seek on the primary key and a walk in its order: nothing sorted, nothing read twice.
  const plans = await h.inside(id, (_, state) =>
    [
      [ETCD_SQL.versionsFromStart, 5, 10],
      [ETCD_SQL.versionsAfter, 5, 10, new Uint8Array([1]).buffer, 1, 0],
    ].map(([q, ...args]) =>
      state.storage.sql
        .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${q as string}`, ...(args as SqlStorageValue[]))
        .toArray()
        .map((r) => r.detail)
        .join(" | "),
    ),
  );
  expect(plans[0]).toMatch(/^SCAN etcd_kv$/);
  expect(plans[1]).toMatch(/^SEARCH etcd_kv USING PRIMARY KEY \(\(key,mod_revision,sub\)>\(\?,\?,\?\)\)$|^SEARCH etcd_kv USING PRIMARY KEY \(key>\?\)$/);
  const { rows } = await rowsDigest(h, id);
  expect(rows).toBeGreaterThanOrEqual(KEYS); // every key's newest version at least
  const sent = await transfersSent(h);
  expect(sent.length).toBeGreaterThan(0);
  const t = sent[sent.length - 1]!;
  expect(t.chunks, "many chunks").toBeGreaterThan(50);
  expect(t.chars / t.chunks, "each chunk within the budget (plus the head and its wrapper)").toBeLessThanOrEqual(CHUNK + 100);
  console.log(
    `SnapshotStream: query plans ${plans.join(" ; ")}; ${KEYS} keys, ${rows} rows on the new server; transfer(s): ` +
      sent.map((s) => `${s.rows} rows, ${s.chars} chars in ${s.chunks} chunks (${(s.rows / s.chunks).toFixed(1)} rows, ${Math.round(s.chars / s.chunks)} chars per chunk), ${s.ms} ms (${(s.ms / s.chunks).toFixed(1)} ms per chunk)`).join("; "),
  );
}, 90_000);

test("a transfer cut by a reset of the follower half-way (its staged rows dropped) completes on the next attempt", async () => {
  const h = await Harness.create(3, { snapshotThreshold: 10, snapshotChunkBytes: 1_024 });
  await fill(h);
  const id = await ensureAdd(h, "learner");
  // Half-way: rows staged, not installed yet. Then the platform resets the object.
  let stagedAtReset = 0;
  await eventually("the new server stages rows of a transfer", async () => {
    const s = await rowsDigest(h, id);
    stagedAtReset = s.staged;
    return s.staged > 200 || `staged ${s.staged}, rows ${s.rows}`;
  }, 30_000);
  const before = await h.inside(id, (s) => s.status()?.stats.snapshotsInstalled ?? 0);
  await h.resetObject(id);
  const afterReset = await rowsDigest(h, id); // the first call loads it: boot drops the staging table
  expect(before).toBe(0);
  expect(afterReset.staged, "staged rows left by the cut transfer").toBeLessThan(stagedAtReset);
  await caughtUp(h, id, 30_000);
  await rowsEqualLeaders(h, id);
  expect(await startedTo(h, id), "transfers started to the new server").toBeGreaterThanOrEqual(2);
  console.log(`SnapshotStream interrupted: ${stagedAtReset} rows staged when the follower was reset; ${await startedTo(h, id)} transfers started, completed: ${JSON.stringify(await transfersSent(h))}`);
}, 90_000);

test("on SQLite: a compaction applied during a transfer keeps its rows until the transfer ends (then the purge deletes them); the pieces are the state at the start", async () => {
  const got = await runInDurableObject(env.RAFT_SERVER.getByName(freshName("stream")), (_, state) => {
    const sql = state.storage.sql;
    const kv = new KvState(sql);
    const rows = () => sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM etcd_kv").one().n;
    let index = 0;
    const entry = (command: unknown) => ({ index: ++index, term: 1, command });
    kv.apply(Array.from({ length: 300 }, (_, n) => entry(makeKvCommand({ op: "put", key: `k${n % 30}`, value: `value ${n}`.padEnd(60, ".") }, 1_000 + n))));
    const want = JSON.stringify(kv.snapshot());
    const before = rows();
    const reader = kv.snapshotReader();
    const intake = new SnapshotIntake(new MemoryMvccStore());
    let piece = reader.next(1_000);
    let chunks = 0;
    let during = 0;
    for (;;) {
      if ("aborted" in piece) throw new Error(piece.aborted);
      intake.add(piece.text);
      chunks++;
      if (chunks === 3) {
        const revision = kv.stored().revision;
        const [answer] = kv.apply([entry(makeEtcdCommand("compaction", { revision: revision - 10 }, 2_000))]);
        if (answer?.status !== "applied") throw new Error(`compaction: ${JSON.stringify(answer)}`);
        during = rows();
      }
      if (piece.last) break;
      piece = reader.next(1_000);
    }
    const staged = JSON.stringify(KvStateMachine.fromStaged(intake.finish()).snapshot());
    state.storage.transactionSync(() => reader.close()); // as raft-server.ts ends a transfer
    // The server's store deletes a compaction's rows in chunks (purgeStep), once no transfer reads them.
    for (let i = 0; i < 100 && kv.purgePending; i++) state.storage.transactionSync(() => kv.purgeStep());
    return { before, during, after: rows(), chunks, equal: staged === want, compacted: kv.stored().compactedRevision };
  });
  expect(got.chunks).toBeGreaterThan(5);
  expect(got.equal, "the streamed state is the state at the transfer's start").toBe(true);
  expect(got.compacted).toBeGreaterThan(0);
  expect(got.during, "the compaction's rows wait for the transfer").toBe(got.before);
  expect(got.after, "and go once it ends and the purge runs").toBeLessThan(got.before);
});
