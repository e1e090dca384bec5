// etcd's automatic compaction (issue 20 item 2): a cluster keeps the last `compactionRetention`
// revisions of its store. The leader proposes a compaction through the log once the history
// exceeds retention + a tenth (src/kv/auto-compaction.ts), every replica compacts at the same
// revision, reads below it answer etcd's compacted error, and the rows it hides are deleted
// (etcd-store.ts, in chunks), so the table stays bounded however many writes come.
import { expect, test } from "vitest";
import { encodeBase64, utf8 } from "../../src/kv/etcd/bytes.ts";
import type { EtcdAnswer } from "../../src/kv/index.ts";
import type { KvState } from "../../src/server/kv-state.ts";
import type { SnapshotTransfers } from "../../src/server/snapshot-transfers.ts";
import { api, Harness } from "./harness.ts";
import { eventually, kvClient } from "./kv-harness.ts";

const RETENTION = 50;
const WRITES = 200;
const KEYS = 10;
/**
 * What the table may hold: each key's newest version at or below the compacted revision, the
 * at most retention + a tenth revisions above it, and what waits for the next purge pass
 * (which starts once a tenth as many revisions as the table's rows were compacted).
 */
const ROW_BOUND = Math.ceil((KEYS + RETENTION + RETENTION / 10) * 1.1);

/** Server i's serializable etcd range, answered from its own state (the state machine's answer). */
function rangeOn(h: Harness, i: number, body: Record<string, unknown>): Promise<EtcdAnswer> {
  // kvState is the server's own; the range is what a serializable v3 range answers from it.
  return h.inside(i, (s) => (s as unknown as { kvState: KvState }).kvState.range({ serializable: true, ...body }));
}

async function durable(h: Harness, i: number): Promise<{ revision: number; compactedRevision: number; historyRows: number; applied: number }> {
  return (await api("GET", `/clusters/${h.name}/servers/${i}`)).body.durable;
}

test("compactionRetention 50: after 200 writes every replica compacted at the same revision, 50 to 55 behind; older reads answer etcd's compacted error; the table stays near keys + 55 rows", async () => {
  const h = await Harness.create(3, { compactionRetention: RETENTION });
  const c = kvClient(h);
  for (let n = 0; n < WRITES; n++) await c.put(`k${n % KEYS}`, `v${n}`);
  const revision = 1 + WRITES; // a fresh store is at revision 1, and every put is one revision

  let seen: Awaited<ReturnType<typeof durable>>[] = [];
  await eventually(
    "every server applied every write and the compaction after them, and purged what it hides",
    async () => {
      seen = await Promise.all([0, 1, 2].map((i) => durable(h, i)));
      const same = seen.every((d) => d.revision === revision && d.compactedRevision === seen[0]!.compactedRevision);
      return (same && seen.every((d) => d.historyRows <= ROW_BOUND)) || JSON.stringify(seen);
    },
    10_000,
  );
  const compacted = seen[0]!.compactedRevision;
  console.log(`after ${WRITES} writes: ${JSON.stringify(seen)}`);
  // Kept: between retention and retention + a tenth of it.
  expect(revision - compacted).toBeGreaterThanOrEqual(RETENTION);
  expect(revision - compacted).toBeLessThanOrEqual(RETENTION + RETENTION / 10);
  // Without compaction the table would hold one row per write.
  expect(seen[0]!.historyRows).toBeLessThan(WRITES / 2);

  const key = encodeBase64(utf8("k3"));
  for (const i of [0, 1, 2]) {
    for (const old of [2, compacted - 1]) {
      const below = await rangeOn(h, i, { key, revision: String(old) });
      expect(below, `server ${i} at revision ${old}`).toEqual({
        status: 400,
        body: { error: "etcdserver: mvcc: required revision has been compacted", code: 11, message: "etcdserver: mvcc: required revision has been compacted" },
      });
    }
  }
  // At the compacted revision and above, every replica answers the same (and the history is there).
  for (const at of [compacted, compacted + 7, revision]) {
    const answers = await Promise.all([0, 1, 2].map((i) => rangeOn(h, i, { key: "AA==", range_end: "AA==", revision: String(at) })));
    expect(answers[0]!.status).toBe(200);
    expect((answers[0]!.body as { count?: string }).count).toBe(String(KEYS));
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  }

  // A client's compaction below the automatic one is stale: etcd's compacted error, through
  // the log, and nothing changes.
  const epoch = await h.epoch();
  const { leader } = await h.checkSingleLeader();
  const stale = await h.inside(leader, (s) => s.etcdWrite(epoch, "compaction", { revision: String(compacted - 1) }, undefined, 5_000));
  expect(stale).toMatchObject({ kind: "ok", result: { status: 400, body: { code: 11 } } });
  expect((await durable(h, leader)).compactedRevision).toBe(compacted);
});

test("compactionRetention is a setting: 400 when not a whole number 0..1e9, part of the settings compared for 200/409, reported in the status", async () => {
  const name = `compaction-settings-${crypto.randomUUID().slice(0, 8)}`;
  for (const bad of [-1, 1.5, "50", 1e10, null]) {
    const r = await api("POST", `/clusters/${name}`, { compactionRetention: bad });
    expect(r.status, JSON.stringify(bad)).toBe(400);
    expect(r.body.message).toMatch(/compactionRetention/);
  }
  const created = await api("POST", `/clusters/${name}`, { compactionRetention: 500 });
  try {
    expect(created.status).toBe(201);
    expect(created.body.compactionRetention).toBe(500);
    expect((await api("POST", `/clusters/${name}`, { compactionRetention: 500 })).status).toBe(200);
    const other = await api("POST", `/clusters/${name}`, { compactionRetention: 600 });
    expect(other.status).toBe(409);
    expect(other.body.message).toMatch(/compactionRetention 500/);
    // The default is a different setting too.
    expect((await api("POST", `/clusters/${name}`, {})).status).toBe(409);
    expect((await api("GET", `/clusters/${name}`)).body.compactionRetention).toBe(500);
  } finally {
    await api("DELETE", `/clusters/${name}`);
  }
  const plain = `compaction-default-${crypto.randomUUID().slice(0, 8)}`;
  const made = await api("POST", `/clusters/${plain}`, {});
  try {
    expect(made.body.compactionRetention).toBe(10_000);
    expect((await api("POST", `/clusters/${plain}`, { compactionRetention: 10_000 })).status).toBe(200);
  } finally {
    await api("DELETE", `/clusters/${plain}`);
  }
});

test("the rows a compaction hides stay while a snapshot transfer is under way, and are purged once it ends", async () => {
  const h = await Harness.create(1, { compactionRetention: 5 });
  const { leader } = await h.checkSingleLeader();
  type Transfers = { transfers: SnapshotTransfers };
  // A transfer in flight, as sendSnapshot marks one (to a peer that does not exist: nothing is sent).
  const token = await h.inside(leader, (s) => (s as unknown as Transfers).transfers.start(99, 1));
  expect(token).not.toBeNull();
  const c = kvClient(h);
  for (let n = 0; n < 30; n++) await c.put(`k${n % 3}`, `v${n}`);
  const during = await durable(h, leader);
  // Compacted (through the log, as always), but every version is still stored.
  expect(during.compactedRevision).toBeGreaterThan(20);
  expect(during.historyRows).toBe(30);

  await h.inside(leader, (s) => (s as unknown as Transfers).transfers.release(99, token!));
  await c.put("k0", "after");
  await eventually("the purge ran once the transfer ended", async () => {
    const d = await durable(h, leader);
    return d.historyRows <= 3 + 5 + 1 + 1 || JSON.stringify(d);
  });
});
