// Issue 23.1: a follower that needs a snapshot catches up while writes continue.
//
// The story, as the issue reproduced it: threshold 10, InstallSnapshot in 64-character
// chunks, a key/value state of ~9 KB (so a transfer is ~140 chunk round trips), every link
// delayed 4–6 ms, and ~50 writes/s for 6 s. A follower that was down comes back under that
// load. With the old compaction rule (compact to applied − threshold/2 whatever is in flight)
// the leader had folded away the entries after the snapshot by the time the follower
// installed it, so it needed another one, and another: it never got within the kept tail
// and installed 4–5 snapshots. Now the leader keeps the entries after a snapshot in flight
// and after the match index of a follower it hears from (src/raft/compaction.ts): the
// follower installs one snapshot (two at most, should an election come in between), and from
// then on appends keep it within the leader's log while the writes go on.
import { expect, test } from "vitest";
import { Harness } from "./harness.ts";
import { crash, currentLeader, events, inspect, network, restart, sleep, stableLeader } from "./issue6-harness.ts";
import { checkStored, kvClient } from "./kv-harness.ts";

const THRESHOLD = 10;
const KEYS = 32;
/**
 * 32 keys of ~150 characters, 32 to 40 versions of them (the store keeps every version until
 * compacted, and a snapshot carries them all: the load compacts after every 8 puts): a
 * snapshot of ~9 K characters, ~140 chunks of 64, as the simulator's story (test/sim/catch-up.ts).
 */
const value = (k: number, n: number) => `${k}:${n}:`.padEnd(150, "x");
const COMPACT_EVERY = 8;

/** An etcd compaction to the leader's revision, through the log (non-leaders answer not_leader and propose nothing). */
async function compactToLeaderRevision(h: Harness, epoch: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await h.inside(i, async (s) => {
      const revision = s.inspect()?.durable.revision;
      if (s.status()?.state !== "Leader" || revision === undefined) return;
      await s.etcdWrite(epoch, "compaction", { revision }, undefined, 5_000);
    });
  }
}
const WRITES_PER_S = 50;
const LOAD_MS = 6_000;

test("a follower back from a crash catches up through one snapshot while ~50 writes/s go on", async () => {
  const h = await Harness.create(3, { snapshotThreshold: THRESHOLD, snapshotChunkBytes: 64 });
  const c = kvClient(h, { deadlineMs: 10_000 });
  const want: Record<string, string> = {};
  for (let k = 0; k < KEYS; k++) await c.put(`k${k}`, (want[`k${k}`] = value(k, 0)));
  const { leader } = await stableLeader(h);
  const epoch = await h.epoch();
  const victim = (leader + 1) % 3;
  await crash(h, victim);
  // While it is down, enough writes that the others' snapshots pass the end of its log.
  for (let n = 1; n <= 3 * THRESHOLD; n++) await c.put(`k${n % KEYS}`, (want[`k${n % KEYS}`] = value(n % KEYS, n)));
  await network(h, { delayMs: [4, 6] });

  // The load: one write every 20 ms, paced by the clock (a slow write does not slow the rate).
  const start = Date.now();
  const writes: Promise<unknown>[] = [];
  let written = 0;
  const load = (async () => {
    for (let n = 0; Date.now() - start < LOAD_MS; n++) {
      const due = start + (n * 1000) / WRITES_PER_S;
      if (due > Date.now()) await sleep(due - Date.now());
      const k = n % KEYS;
      const v = value(k, 1000 + n);
      writes.push(c.put(`k${k}`, v).then(() => written++));
      want[`k${k}`] = v; // puts of one key are issued in order; the last one issued wins
      if (n % COMPACT_EVERY === COMPACT_EVERY - 1) writes.push(compactToLeaderRevision(h, epoch));
    }
  })();

  await sleep(300);
  await restart(h, victim);
  // Poll: when did the victim first get within the leader's kept tail (its log reaches the
  // leader's snapshot, so appends can serve it), and does it stay there?
  let within: number | null = null;
  let lastGap = "";
  while (Date.now() - start < LOAD_MS) {
    const lead = await currentLeader(h);
    if (lead !== null && lead.leader !== victim) {
      const [l, v] = [await inspect(h, lead.leader), await inspect(h, victim)];
      const inTail = v.logLength >= l.snapshotIndex && v.stats.snapshotsInstalled > 0;
      lastGap = `victim log ${v.logLength} (snapshot ${v.snapshotIndex}), leader ${lead.leader} snapshot ${l.snapshotIndex} log ${l.logLength}`;
      if (inTail && within === null) within = Date.now() - start;
    }
    await sleep(50);
  }
  await load;
  await Promise.all(writes);
  const during = await inspect(h, victim);
  const lines = (await events(h)).filter((l) => l.includes(`sends ${victim} the state machine`) || l.startsWith(`[${victim}] installs snapshot`));
  console.log(
    `catch-up under load: ${written} writes in ${LOAD_MS} ms; victim ${victim} within the kept tail after ${within} ms ` +
      `(restarted at ~300 ms); snapshots installed ${during.stats.snapshotsInstalled}; last look: ${lastGap}\n  ${lines.join("\n  ")}`,
  );
  expect(written, "the load ran").toBeGreaterThan(0.8 * (WRITES_PER_S * LOAD_MS) / 1000);
  expect(within, `the victim never got within the leader's kept tail while the writes went on (${lastGap})`).not.toBeNull();
  expect(during.stats.snapshotsInstalled, "snapshots the victim needed").toBeLessThanOrEqual(2);
  await checkStored(h, victim, want, 10_000);
});
