// The Jepsen-style test of the key/value service on a real Durable Object cluster: five
// servers, five concurrent clients doing random get/put/cas/append on three keys for 20 s,
// while a nemesis partitions, heals, disconnects, crashes and restarts servers (never more
// than two of the five down or cut off at once: a majority always exists) and makes the
// network lossy and slow. Every operation is recorded with its call and return times and
// its outcome; the history must be linearizable (WGL checker, test/lin) and enough
// operations must have succeeded.
//
// Outcomes (ok, unknown, failed) are recorded as nemesis-harness.ts describes.
//
// One seed draws every choice of a run (the nemesis's faults, victims and pauses, the
// clients' operations). It is printed with the schedule the nemesis followed; to replay a
// run's choices, set it: NEMESIS_SEED=<seed> npx vitest run --project workerd
// test/workerd/kv-nemesis.test.ts (vitest.config.ts hands the variable to workerd). The
// choices replay exactly; the timing of a real-time cluster does not.
import { expect, test } from "vitest";
import { Harness, sleep } from "./harness.ts";
import { call, network } from "./kv-harness.ts";
import { clientsUnderNemesis, finishRun, injectFault, pick, rng, runSeed } from "./nemesis-harness.ts";

const SERVERS = 5;
/** How long the nemesis runs; the clients run as long, then finish their last call. */
const RUN_MS = 20_000;
/** A healthy stretch at the end, after the nemesis has healed everything. */
const CALM_MS = 1_000;
/** Fewer successes than this means the service was not available enough to matter. */
const MIN_OK = 200;
const LOSSY = { dropRate: 0.1, delayMs: [0, 20] as [number, number] };

/**
 * The nemesis: rounds of one fault, held for a while, then undone. At most two servers
 * are impaired (crashed or cut off from the majority) in any round, and each round is
 * fully undone before the next, so three of five can always elect and commit.
 */
async function runNemesis(h: Harness, seed: number, stop: () => boolean, log: string[]): Promise<void> {
  const r = rng(seed);
  const started = Date.now();
  const post = async (path: string, body?: unknown) => {
    const res = await call("POST", `/clusters/${h.name}/${path}`, body);
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
    return res.body as { leader: number | null };
  };
  const all = Array.from({ length: SERVERS }, (_, i) => i);
  while (!stop()) {
    const leader = (await call("GET", `/clusters/${h.name}`)).body.leader as number | null;
    // Victims: one or two servers, the leader among them half of the time.
    const count = r() < 0.5 ? 1 : 2;
    const pool = all.filter((i) => i !== leader);
    const victims: number[] = leader !== null && r() < 0.5 ? [leader] : [];
    while (victims.length < count) {
      const v = pick(r, pool.filter((i) => !victims.includes(i)));
      victims.push(v);
    }
    const lossy = r() < 0.4;
    if (lossy) await network(h, LOSSY);
    const kind = pick(r, ["partition", "crash", "disconnect", "crash+partition"] as const);
    log.push(`+${Date.now() - started}ms ${kind} ${victims.join(",")}${lossy ? " lossy" : ""}`);
    const pair = kind === "crash+partition" && victims.length === 1 ? [victims[0]!, pick(r, pool.filter((i) => i !== victims[0]))] : victims;
    const crashed = await injectFault(kind, pair, all, r, post);
    await sleep(400 + r() * 1200);
    for (const v of crashed) await post(`servers/${v}/restart`);
    await post("heal");
    if (lossy) await network(h, {});
    await sleep(150 + r() * 600);
  }
  // Leave everything whole: the clients' last calls and the final reads need a cluster.
  for (const i of all) if ((await h.server(i)).state === "Dead") await post(`servers/${i}/restart`);
  await post("heal");
  await network(h, {});
}

const NAME_PLAIN = "Nemesis: linearizable under partitions, crashes and a lossy network (5 servers, 5 clients)";
const NAME_OPTIONS = "Nemesis with PreVote, CheckQuorum and compaction every 16 entries";

test(NAME_PLAIN, () => nemesisRun(NAME_PLAIN, {}), 58_000);

// The same with every option of issue 6 on: PreVote, CheckQuorum, and compaction so eager
// (every 16 entries, snapshots in 64-character pieces) that servers cut off or crashed by
// the nemesis come back behind the leader's snapshot and are sent it, under loss and delay.
test(NAME_OPTIONS, async () => {
  const h = await nemesisRun(NAME_OPTIONS, { preVote: true, checkQuorum: true, snapshotThreshold: 16, snapshotChunkBytes: 64 });
  const servers = await Promise.all(Array.from({ length: SERVERS }, (_, i) => h.server(i)));
  console.log(
    `snapshot indices ${servers.map((s) => s.durable.snapshotIndex).join(" ")}; log rows ${servers.map((s) => s.durable.rows.log).join(" ")}; ` +
      `snapshots installed (since each server's last restart) ${servers.map((s) => s.stats.snapshotsInstalled).join(" ")}`,
  );
  for (const s of servers) {
    expect(s.durable.snapshotIndex, `server ${s.id} compacted`).toBeGreaterThan(0);
    // At most threshold applied entries stay, plus what is not yet applied (a little, once calm).
    expect(s.durable.rows.log, `server ${s.id}'s stored log is bounded`).toBeLessThanOrEqual(16 + 16);
  }
}, 58_000);

async function nemesisRun(name: string, settings: Record<string, unknown>): Promise<Harness> {
  const seed = runSeed();
  console.log(`${name}: seed ${seed}; replay its choices with NEMESIS_SEED=${seed} npx vitest run --project workerd test/workerd/kv-nemesis.test.ts -t "${name}"`);
  const h = await Harness.create(SERVERS, settings);
  await h.checkSingleLeader();
  const nemesisLog: string[] = [];
  const { rec, tally, runMs } = await clientsUnderNemesis(h, seed, { runMs: RUN_MS, calmMs: CALM_MS }, (stop) => runNemesis(h, seed, stop, nemesisLog));

  await finishRun(h, { seed, rec, tally, nemesisLog, runMs, minOk: MIN_OK, servers: Array.from({ length: SERVERS }, (_, i) => i) });
  return h;
}
