// A snapshot streamed in chunks (src/kv/snapshot-stream.ts): the leader reads its store a chunk
// at a time from a fixed point, the follower checks and stages each chunk, and the machine on
// the staged rows equals the one that sent them.
import { describe, expect, test } from "vitest";
import { makeEtcdCommand, makeKvCommand, snapshotRow, type KvOperation } from "../../../src/kv/index.ts";
import { MemoryMvccStore } from "../../../src/kv/etcd/memory-store.ts";
import type { KeyVersion, MvccStore, VersionPosition } from "../../../src/kv/etcd/store.ts";
import { SnapshotIntake, SnapshotReader, type SnapshotPiece } from "../../../src/kv/snapshot-stream.ts";
import { KvStateMachine } from "../../../src/kv/state-machine.ts";

const T0 = 1_700_000_000_000;

/** A machine after `n` writes over 40 keys (overwrites, appends, deletes: several versions per key) from index 1, with sessions. */
function busyMachine(n: number, store = new MemoryMvccStore()): { sm: KvStateMachine; index: number } {
  const sm = new KvStateMachine({ store });
  let index = 0;
  for (let i = 0; i < n; i++) {
    const key = `key-${(i * 7) % 40}`;
    const op: KvOperation = i % 11 === 0 ? { op: "delete", key } : i % 5 === 0 ? { op: "append", key, value: `+${i}` } : { op: "put", key, value: `value ${i} `.repeat(1 + (i % 4)) };
    sm.apply(makeKvCommand(op, T0 + i, { clientId: `c${i % 6}`, requestId: i + 1 }), ++index);
  }
  return { sm, index };
}

function piece(p: SnapshotPiece): { text: string; last: boolean; rows: number } {
  if ("aborted" in p) throw new Error(`aborted: ${p.aborted}`);
  return p;
}

/** Every chunk of `reader` at `size`, each handed to `between` before the next is read. */
function drainReader(reader: SnapshotReader, size: number, between: (i: number) => void = () => {}): { texts: string[]; rows: number[] } {
  const texts: string[] = [];
  const rows: number[] = [];
  for (let i = 0; ; i++) {
    const p = piece(reader.next(size));
    texts.push(p.text);
    rows.push(p.rows);
    if (p.last) return { texts, rows };
    between(i);
  }
}

describe("streamed snapshots", () => {
  test("chunks of at most the budget (one row at least) install a machine equal to the sender's", () => {
    const { sm } = busyMachine(300);
    const want = JSON.stringify(sm.snapshot());
    const total = sm.snapshot().rows.length;
    for (const size of [64, 300, 4096, Infinity]) {
      const { texts, rows } = drainReader(sm.snapshotReader(), size);
      expect(rows.reduce((a, b) => a + b, 0)).toBe(total);
      for (const [i, t] of texts.entries()) {
        if (i === 0) continue; // the head has the sessions
        const encoded = JSON.stringify(JSON.parse(t).rows).length - 2; // the rows and their commas
        if (rows[i]! > 1) expect(encoded, `chunk ${i} at ${size}`).toBeLessThanOrEqual(size);
      }
      expect(rows.slice(1, -1).every((r) => r >= 1)).toBe(true); // progress: every chunk but the head and the end has a row
      if (size === 64) expect(texts.length).toBeGreaterThan(total / 2);
      if (size === Infinity) expect(texts).toHaveLength(1);
      const intake = new SnapshotIntake(new MemoryMvccStore());
      for (const t of texts) intake.add(t);
      const installed = KvStateMachine.fromStaged(intake.finish());
      expect(JSON.stringify(installed.snapshot())).toBe(want);
    }
  });

  test("writes applied between chunks are not in the stream: the snapshot is the state at its start", () => {
    const { sm, index } = busyMachine(200);
    const want = JSON.stringify(sm.snapshot());
    const reader = sm.snapshotReader();
    let next = index;
    const { texts } = drainReader(reader, 200, (i) => {
      sm.apply(makeKvCommand({ op: "put", key: `key-${i % 40}`, value: `later ${i}` }, T0 + 10_000), ++next);
      sm.apply(makeKvCommand({ op: "put", key: `zz-new-${i}`, value: "x" }, T0 + 10_000), ++next);
    });
    expect(next).toBeGreaterThan(index + 10);
    const intake = new SnapshotIntake(new MemoryMvccStore());
    for (const t of texts) intake.add(t);
    expect(JSON.stringify(KvStateMachine.fromStaged(intake.finish()).snapshot())).toBe(want);
  });

  test("a compaction during the transfer waits for it: the stream is the state at its start, the rows go when it ends", () => {
    const store = new MemoryMvccStore();
    const { sm, index } = busyMachine(200, store);
    const want = JSON.stringify(sm.snapshot());
    const reader = sm.snapshotReader();
    const rowsBefore = store.rowCount();
    let compacted = false;
    const { texts } = drainReader(reader, 300, (i) => {
      if (i !== 2) return;
      const answer = sm.apply(makeEtcdCommand("compaction", { revision: sm.revision - 5 }, T0 + 10_000), index + 1);
      expect(answer.status).toBe("applied");
      compacted = true;
    });
    expect(compacted).toBe(true);
    expect(sm.compactedRevision).toBe(sm.revision - 5); // etcd's answers move at once...
    expect(store.rowCount()).toBe(rowsBefore); // ...the rows wait for the transfer
    const intake = new SnapshotIntake(new MemoryMvccStore());
    for (const t of texts) intake.add(t);
    expect(JSON.stringify(KvStateMachine.fromStaged(intake.finish()).snapshot())).toBe(want);
    reader.close();
    expect(store.rowCount()).toBeLessThan(rowsBefore);
    // A transfer that starts now leaves out what the compaction drops, deleted yet or not.
    const later = JSON.stringify(sm.snapshot());
    const again = new SnapshotIntake(new MemoryMvccStore());
    for (const t of drainReader(sm.snapshotReader(), 300).texts) again.add(t);
    expect(JSON.stringify(KvStateMachine.fromStaged(again.finish()).snapshot())).toBe(later);
  });

  test("a snapshot started while a compaction waits for another transfer leaves out what that compaction drops", () => {
    const store = new MemoryMvccStore();
    const { sm, index } = busyMachine(200, store);
    const first = sm.snapshotReader(); // holds the rows
    sm.apply(makeEtcdCommand("compaction", { revision: sm.revision - 3 }, T0 + 10_000), index + 1);
    const rowsHeld = store.rowCount();
    const second = sm.snapshotReader();
    const intake = new SnapshotIntake(new MemoryMvccStore());
    for (const t of drainReader(second, 500).texts) intake.add(t);
    const staged = intake.finish();
    expect(staged.rows).toBeLessThan(rowsHeld);
    const compactedForReal = new MemoryMvccStore();
    compactedForReal.append(store.allRows());
    compactedForReal.compact(sm.compactedRevision);
    expect(staged.staging.allRows()).toEqual(compactedForReal.allRows());
    expect(sm.snapshot().rows, "the state as one value leaves them out too").toEqual(compactedForReal.allRows().map(snapshotRow));
    first.close();
    expect(store.rowCount()).toBe(rowsHeld); // the second transfer still holds them
    second.close();
    expect(store.allRows()).toEqual(compactedForReal.allRows());
  });

  test("rows replaced under a transfer abort it (the core asks again)", () => {
    const { sm } = busyMachine(100);
    const reader = sm.snapshotReader();
    piece(reader.next(300));
    sm.storeReplaced(); // a snapshot installed over this server's rows
    const got = reader.next(300);
    expect("aborted" in got ? got.aborted : "not aborted").toMatch(/changed under the transfer/);
    // A compaction that went round the pin (its revision moved, not by a deferred compaction) aborts too.
    const store = new MemoryMvccStore();
    const other = busyMachine(100, store).sm;
    const second = other.snapshotReader();
    piece(second.next(300));
    store.writeMeta({ revision: other.revision, compactedRevision: other.revision - 10 });
    const cut = second.next(300);
    expect("aborted" in cut ? cut.aborted : "not aborted").toMatch(/changed under the transfer/);
  });

  test("the follower refuses what is out of place before anything is installed", () => {
    const { sm } = busyMachine(120);
    const { texts } = drainReader(sm.snapshotReader(), 300);
    expect(texts.length).toBeGreaterThan(4);
    const fresh = () => new SnapshotIntake(new MemoryMvccStore());
    // A chunk twice, a chunk skipped, no head, a head twice, the end too early, garbage.
    const cases: Array<[string, string[]]> = [
      ["repeated", [texts[0]!, texts[1]!, texts[1]!]],
      ["skipped", [texts[0]!, texts[2]!, texts[1]!]],
      ["no head", [texts[1]!]],
      ["head twice", [texts[0]!, texts[0]!]],
      ["not json", [texts[0]!, "{rows"]],
      ["bad base64", [texts[0]!, '{"rows":[["!!",1,0,1,1,"",0,0]]}']],
    ];
    for (const [what, seq] of cases) {
      const intake = fresh();
      expect(() => seq.forEach((t) => intake.add(t)), what).toThrow();
    }
    // A version past the snapshot's revision.
    const head = JSON.parse(texts[0]!).head as { revision: number };
    const intake = fresh();
    intake.add(JSON.stringify({ head, rows: [] }));
    expect(() => intake.add(JSON.stringify({ rows: [["enp6", head.revision + 1, 0, head.revision + 1, 1, "", 0, 0]] }))).toThrow(/past the snapshot/);
    // Not finished without the last chunk; a count that disagrees.
    const partial = fresh();
    partial.add(texts[0]!);
    expect(() => partial.finish()).toThrow(/incomplete/);
    const miscounted = fresh();
    expect(() => miscounted.add(JSON.stringify({ head, rows: [], end: 3 }))).toThrow(/0 rows arrived/);
  });

  test("the leader reads about one chunk's rows per chunk, never the table (what bounds its memory)", () => {
    const store = new MemoryMvccStore();
    const { sm } = busyMachine(2_000, store);
    const total = store.rowCount();
    let readNow = 0;
    const counting: MvccStore = Object.assign(Object.create(store) as MvccStore, {
      versionsAfter: (after: VersionPosition | null, at: number, limit: number) => {
        const got = store.versionsAfter(after, at, limit);
        readNow += got.length;
        return got;
      },
    });
    const reader = new SnapshotReader(counting, sm.snapshotHead(), null);
    let most = 0;
    let chunks = 0;
    for (;;) {
      readNow = 0;
      const p = piece(reader.next(2_000));
      chunks++;
      most = Math.max(most, readNow - p.rows);
      if (p.last) break;
    }
    expect(reader.rowsSent).toBe(total);
    expect(chunks).toBeGreaterThan(20);
    expect(most, "rows read beyond those sent, in any one chunk").toBeLessThanOrEqual(16);
  });

  test("versionsAfter walks the versions at or below a revision after a position, a few at a time", () => {
    const store = new MemoryMvccStore();
    const { sm } = busyMachine(150, store);
    const at = sm.revision - 30;
    const all = store.allRows().filter((v) => v.modRevision <= at);
    const walked: KeyVersion[] = [];
    let after: VersionPosition | null = null;
    for (;;) {
      const batch = store.versionsAfter(after, at, 7);
      walked.push(...batch);
      if (batch.length < 7) break;
      after = batch[batch.length - 1]!;
    }
    expect(walked).toEqual(all);
  });
});
