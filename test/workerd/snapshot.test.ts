// The MIT 6.5840 lab 3D snapshot scenarios (TestSnapshotBasic3D, TestSnapshotInstall3D,
// TestSnapshotInstallUnreliable3D, TestSnapshotInstallCrash3D, TestSnapshotAllCrash3D,
// TestSnapshotInit3D), on a real Durable Object cluster in real time.
//
// Adapted: the reference's tester tells Raft to snapshot every 10 applied entries; here the
// servers compact themselves (snapshotThreshold 10: past 10 applied entries in the log, a
// server folds all but the newest 5 into its snapshot), and InstallSnapshot travels in
// chunks of at most 256 characters, so a snapshot of a few keys takes several RPCs. The
// raw log (rf.Start → POST .../submit, one() → LogWatch.one) is mixed with key/value writes,
// because the kv state machine ignores raw commands and a snapshot of nothing proves little:
// after every install the victim's key/value state is compared with what the clients wrote.
//
// Throughout, LogWatch checks that no two servers ever show different commands at one index
// and that snapshotIndex, applied and commitIndex never go back.
//
// Iteration counts are smaller than the reference's 30: each iteration here is a second or
// so of real time (a full InstallSnapshot round included), and the file stays within a minute.
import { expect, test } from "vitest";
import type { KvClient } from "../../src/client/index.ts";
import { Harness } from "./harness.ts";
import { checkStored, eventually, kvClient } from "./kv-harness.ts";
import {
  SNAPSHOT_SETTINGS,
  LogWatch,
  crash,
  currentLeader,
  disconnect,
  events,
  inspect,
  network,
  randomCommand,
  reconnect,
  request,
  retried,
  retryBudget,
  transferTo,
  view,
} from "./issue6-harness.ts";

// transferTo asks again after a 503/504 hand-over, leadAndRead after a 421 (an election
// took the lead away). Measured: none in 7 runs on a loaded machine; allowed: two.
retryBudget(2, "a hand-over or a pinned read meeting an election, twice");

const THRESHOLD = SNAPSHOT_SETTINGS.snapshotThreshold;
const N = 3;
const ALL = [0, 1, 2];

/** Key/value writes whose expected outcome the test keeps (the snapshot's real content). */
class KvModel {
  readonly data: Record<string, string> = {};
  private seq = 0;
  constructor(readonly c: KvClient) {}

  /** `puts` puts of fresh keys with values long enough that the snapshot spans several chunks, and one append. */
  async write(puts = 2): Promise<void> {
    for (let k = 0; k < puts; k++) {
      const n = this.seq++;
      const key = `k${n}`;
      const value = `v${n}-${"x".repeat(60)}`;
      expect(await this.c.put(key, value)).toEqual({ found: false, prev: null });
      this.data[key] = value;
    }
    const prev = this.data.acc ?? null;
    expect(await this.c.append("acc", `.${this.seq}`)).toEqual({ found: prev !== null, prev });
    this.data.acc = (prev ?? "") + `.${this.seq}`;
  }
}

/**
 * Server `i` takes the lead, and answers every key the model holds itself (ReadIndex GETs
 * pinned to it). Should an election under load take the lead away in between (a 421), the
 * lead is handed back and the read repeated; a wrong value fails at once.
 */
async function leadAndRead(h: Harness, i: number, model: KvModel): Promise<void> {
  await transferTo(h, i);
  for (const [key, value] of Object.entries(model.data)) {
    for (let tries = 0; ; tries++) {
      const r = await request("GET", `/clusters/${h.name}/kv/${key}?server=${i}`);
      if (r.status === 421 && tries < 3) {
        retried("leadAndRead", `GET ${key} pinned to ${i}: 421 (leader ${r.body.leader}); handing the lead back`);
        await transferTo(h, i);
        continue;
      }
      expect({ status: r.status, body: r.body }, `GET ${key} pinned to ${i}`).toEqual({ status: 200, body: { found: true, value } });
      break;
    }
  }
}

async function cluster(): Promise<{ h: Harness; watch: LogWatch; model: KvModel }> {
  const h = await Harness.create(N, SNAPSHOT_SETTINGS);
  return { h, watch: new LogWatch(h), model: new KvModel(kvClient(h)) };
}

// No faults: every server keeps up, compacts on its own, and its stored log stays short.
test("SnapshotBasic", async () => {
  const { h, watch, model } = await cluster();
  await watch.one(randomCommand(), N);
  for (let iter = 0; iter < 8; iter++) {
    // The reference's nn = interval/2 + rand(interval) starts, some of them kv writes.
    const nn = THRESHOLD / 2 + Math.floor(Math.random() * THRESHOLD);
    await watch.start(Array.from({ length: nn - 3 }, randomCommand));
    await model.write(2);
    await watch.one(randomCommand(), N);
    await watch.checkCompact(ALL, THRESHOLD);
  }
  for (const i of ALL) await checkStored(h, i, model.data);
  console.log(`SnapshotBasic: largest stored log ${watch.maxQuietRows} rows (threshold ${THRESHOLD})`);
});

/**
 * The reference's snapcommon with a victim cut off (disconnect) or crashed: while it is
 * away more than a threshold's worth of entries commit, so the others' snapshots pass the
 * end of its log and only an InstallSnapshot can bring it back.
 */
async function snapshotInstall(fault: "disconnect" | "crash", reliable: boolean, iters: number): Promise<void> {
  const { h, watch, model } = await cluster();
  if (!reliable) await network(h, { dropRate: 0.1, delayMs: [0, 20] });
  await watch.one(randomCommand(), N);
  let victim = -1;
  for (let iter = 0; iter < iters; iter++) {
    const leader = (await currentLeader(h))?.leader ?? (await h.checkSingleLeader()).leader;
    // As the reference: every third round the victim is the leader itself.
    victim = iter % 3 === 1 ? leader : (leader + 1) % N;
    const others = ALL.filter((i) => i !== victim);

    if (fault === "disconnect") await disconnect(h, victim);
    else await crash(h, victim);
    await watch.one(randomCommand(), N - 1);

    await watch.start(Array.from({ length: THRESHOLD + 1 }, randomCommand));
    await model.write(2);
    await watch.one(randomCommand(), N - 1);
    await watch.checkCompact(others, THRESHOLD);

    // The scenario's premise: the others have folded the victim's missing entries away.
    const away = await inspect(h, victim);
    for (const o of others) {
      const d = (await inspect(h, o)).durable;
      expect(d.snapshotIndex, `server ${o}'s snapshot should pass victim ${victim}'s log (${away.durable.logLength})`).toBeGreaterThan(away.durable.logLength);
    }
    // A crashed server's counters start again at its restart.
    const installedBefore = fault === "disconnect" ? away.stats.snapshotsInstalled : 0;

    if (fault === "disconnect") await reconnect(h, victim);
    else await watch.restart(victim);
    await watch.one(randomCommand(), N);

    await eventually(`victim ${victim} installs a snapshot`, async () => {
      const s = await inspect(h, victim);
      return s.stats.snapshotsInstalled > installedBefore || `snapshotsInstalled=${s.stats.snapshotsInstalled}, snapshotIndex=${s.durable.snapshotIndex}`;
    });
    await checkStored(h, victim, model.data);
  }
  if (!reliable) await network(h, {});
  await watch.checkCompact(ALL, THRESHOLD);
  for (const i of ALL) await checkStored(h, i, model.data);
  // The last victim, caught up by a snapshot, leads and answers every key itself.
  await leadAndRead(h, victim, model);
  // Someone sent those snapshots (a crashed server's counters restart, the last sender's did not).
  const servers = (await view(h)).servers;
  const sent = servers.reduce((n, s) => n + s.stats.snapshotsSent, 0);
  expect(sent, JSON.stringify(servers.map((s) => s.stats))).toBeGreaterThan(0);
  const chunked = (await events(h)).filter((l) => / the state machine at index /.test(l)).map((l) => /(\d+) chunk/.exec(l)?.[1]);
  console.log(
    `SnapshotInstall(${fault}, ${reliable ? "reliable" : "unreliable"}): largest stored log ${watch.maxQuietRows} rows; ` +
      `${sent} snapshot transfers counted, chunks per transfer (narration): ${chunked.join(", ")}`,
  );
}

test("SnapshotInstall", () => snapshotInstall("disconnect", true, 3));

test("SnapshotInstallUnreliable", () => snapshotInstall("disconnect", false, 3));

test("SnapshotInstallCrash", () => snapshotInstall("crash", true, 3));

/** Crash every server and bring them all back (the reference restarts them together). */
async function crashAll(h: Harness, watch: LogWatch): Promise<void> {
  await Promise.all(ALL.map((i) => crash(h, i)));
  for (const i of ALL) await watch.restart(i);
}

// Everyone crashes after a snapshot: each comes back from its snapshot plus tail, and the
// log's next index carries on from where it was.
test("SnapshotAllCrash", async () => {
  const { h, watch, model } = await cluster();
  await watch.one(randomCommand(), N);
  for (let round = 0; round < 3; round++) {
    await watch.start(Array.from({ length: THRESHOLD + 1 }, randomCommand));
    await model.write(1);
    const index1 = await watch.one(randomCommand(), N);
    await watch.checkCompact(ALL, THRESHOLD);

    await crashAll(h, watch);
    // Back from storage alone: the snapshot is part of what they remember.
    for (const i of ALL) {
      const s = await inspect(h, i);
      expect(s.logLength, `server ${i} after restart: ${JSON.stringify(s)}`).toBeGreaterThanOrEqual(index1);
      expect(s.snapshotIndex, `server ${i} after restart`).toBeGreaterThan(0);
    }
    await watch.look();

    const index2 = await watch.one(randomCommand(), N);
    expect(index2).toBeGreaterThan(index1);
  }
  for (const i of ALL) await checkStored(h, i, model.data);
});

// A restart must start from the snapshot: one that ignored it would hand out indices
// from the start of the stored tail (or from 1) again.
test("SnapshotInit", async () => {
  const { h, watch, model } = await cluster();
  await watch.one(randomCommand(), N);
  for (let k = 0; k < THRESHOLD + 1; k++) await watch.one(randomCommand(), N);
  await model.write(1);
  const before = await watch.one(randomCommand(), N);

  await crashAll(h, watch);
  const index1 = await watch.one(randomCommand(), N);
  expect(index1).toBeGreaterThan(before);

  await crashAll(h, watch);
  const index2 = await watch.one(randomCommand(), N);
  expect(index2).toBeGreaterThan(index1);

  await watch.checkCompact(ALL, THRESHOLD);
  for (const i of ALL) await checkStored(h, i, model.data);
});
