// Issue 23's story in the simulator: a follower that needs a snapshot catches up while writes
// continue. The same numbers as the workerd test (test/workerd/snapshot-catchup.test.ts):
// a three-server cluster with live snapshots (the Durable Object's way), threshold 10,
// InstallSnapshot in 64-character pieces, a key/value state of ~8.7 K characters, every
// message delayed 4–6 ms, 50 writes/s for 6 s; one follower is down when the load starts and
// comes back 300 ms into it. The state is etcd's store, which keeps every version until
// compacted, and a snapshot carries them all: so after every 8 puts the story compacts the
// store to its revision (an etcd compaction through the log), and the state stays at 32 to
// 40 versions of 32 keys, values of 150 characters (base64 in the snapshot).
//
// The invariant (reported as Liveness, "CatchUp"): a follower that is up and connected gets
// within the leader's kept tail (its log reaches the leader's snapshot index, so appends can
// serve it) within
//     bound = 2 × (longest election timeout + transfer time),
//     transfer time = pieces × 2 × longest one-way delay (each piece is a round trip),
// of its restart: one transfer and one retry, each after at most an election timeout of
// waiting for the core to ask (its "presumed lost" timer); and once within, it stays within
// while the writes go on (appends keep it there). The old compaction rule breaks it: the
// leader folds away the entries after the snapshot while it travels, so each install is
// followed by another, for as long as the load lasts.
import { makeEtcdCommand, makeKvCommand } from "../../src/kv/index.ts";
import type { NodeId } from "../../src/raft/types.ts";
import { Cluster, type HostFaults } from "./cluster.ts";
import { InvariantViolation } from "./invariants.ts";
import { KvReplicas } from "./kv-replicas.ts";

export interface CatchUpOptions {
  readonly seed: number;
  /** snapshotThreshold (compactEvery); 10. */
  readonly threshold?: number;
  /** 50. */
  readonly writesPerS?: number;
  /** 6000. */
  readonly loadMs?: number;
  /** Check the bound (off for stories whose follower is too slow for the cap by design). */
  readonly checkBound?: boolean;
  readonly faults?: Omit<HostFaults, "apply">;
  readonly echo?: (line: string) => void;
}

export interface CatchUpResult {
  readonly victim: NodeId;
  /** When the victim first got within the kept tail, ms after its restart (null: never, during the load). */
  readonly withinAfterMs: number | null;
  readonly boundMs: number;
  /**
   * Characters of the leader's state at the restart, and the pieces a transfer of it takes at
   * most: a streamed piece carries at least one row, and every row here is over 64 characters.
   */
  readonly stateChars: number;
  readonly pieces: number;
  /** Transfers to the victim started after its restart, and their replies that reached the leader. */
  readonly transfers: number;
  readonly replies: number;
  /** The longest wait from a transfer's reply to the next transfer to the victim, ms (null: none followed). */
  readonly maxReplyToNextMs: number | null;
  readonly writes: number;
}

const KEYS = 32;
const VALUE_CHARS = 150;
/** Puts between compactions: the state stays at 32 to 40 versions. */
const COMPACT_EVERY = 8;
const CHUNK_CHARS = 64;
const DELAY_MS: readonly [number, number] = [4, 6];
const ELECTION_TIMEOUT_MS: readonly [number, number] = [150, 300];
const RESTART_AFTER_MS = 300;

export function catchUpUnderLoad(opts: CatchUpOptions): CatchUpResult {
  const threshold = opts.threshold ?? 10;
  const writesPerS = opts.writesPerS ?? 50;
  const loadMs = opts.loadMs ?? 6_000;
  let replicas: KvReplicas | null = null;
  const c = new Cluster({
    n: 3,
    seed: opts.seed,
    stateMachine: "durable",
    snapshotSource: "live",
    compactEvery: threshold,
    snapshotChunkChars: CHUNK_CHARS,
    electionTimeoutMs: ELECTION_TIMEOUT_MS,
    network: { delayMs: DELAY_MS },
    faults: {
      ...opts.faults,
      apply: (id, entries) => {
        replicas?.onApply(id, entries);
        return entries;
      },
    },
    narrate: opts.echo !== undefined,
    ...(opts.echo ? { echo: opts.echo } : {}),
  });
  replicas = new KvReplicas(c);
  const leader = (): NodeId | null => {
    let best: NodeId | null = null;
    for (const id of c.ids) {
      const s = c.status(id);
      if (s?.state === "Leader" && c.connected(id) && (best === null || s.term > c.status(best)!.term)) best = id;
    }
    return best;
  };
  let writes = 0;
  const put = (n: number): void => {
    const l = leader();
    if (l === null) return;
    const k = n % KEYS;
    const command = makeKvCommand({ op: "put", key: `k${k}`, value: `${k}:${n}:`.padEnd(VALUE_CHARS, "x") }, c.now);
    if (c.propose(l, command).accepted) writes++;
    // History kept until compacted: the leader's revision now (at most what it is when applied).
    if (n % COMPACT_EVERY === COMPACT_EVERY - 1) c.propose(l, makeEtcdCommand("compaction", { revision: replicas!.machine(l).revision }, c.now));
  };

  c.runFor(1_000);
  for (let n = 0; n < KEYS; n++) put(n);
  c.runFor(200);
  const first = leader();
  if (first === null) throw new Error(`seed ${opts.seed}: no leader after the start`);
  const victim = (first + 1) % 3;
  c.crash(victim);
  for (let n = KEYS; n < KEYS + 3 * threshold; n++) {
    put(n);
    c.runFor(5);
  }
  c.runFor(200);

  // The load, paced by the virtual clock.
  const start = c.now;
  const total = Math.floor((loadMs * writesPerS) / 1000);
  for (let n = 0; n < total; n++) c.at(start + (n * 1000) / writesPerS, () => put(1_000 + n));

  c.runUntil(start + RESTART_AFTER_MS);
  const l0 = leader();
  if (l0 === null) throw new Error(`seed ${opts.seed}: no leader when the victim restarts`);
  const stateChars = JSON.stringify(replicas.machine(l0).snapshot()).length;
  const pieces = Math.ceil(stateChars / CHUNK_CHARS);
  const transferMs = pieces * 2 * DELAY_MS[1];
  const boundMs = 2 * (ELECTION_TIMEOUT_MS[1] + transferMs);
  const behind = c.disk(victim).lastIndex;
  if (behind >= c.disk(l0).snapshotIndex) {
    throw new Error(`seed ${opts.seed}: the premise fails: victim ${victim}'s log (${behind}) reaches leader ${l0}'s snapshot (${c.disk(l0).snapshotIndex})`);
  }
  c.restart(victim);
  const restartedAt = c.now;

  let withinAt: number | null = null;
  const fail = (what: string): never => {
    throw new InvariantViolation("Liveness", `CatchUp (seed ${opts.seed}): follower ${victim}, restarted at ${restartedAt.toFixed(0)} ms, ${what}`);
  };
  while (c.now < start + loadMs) {
    c.runFor(5);
    const l = leader();
    if (l === null || l === victim || !c.alive(victim)) continue;
    const log = c.status(victim)!.logLength;
    const kept = c.disk(l).snapshotIndex;
    if (log >= kept) withinAt ??= c.now;
    else if (withinAt !== null) fail(`fell out of leader ${l}'s kept tail (log ${log}, leader's snapshot ${kept}) at ${c.now.toFixed(0)} ms`);
    else if (opts.checkBound !== false && c.now - restartedAt > boundMs) {
      fail(`is not within leader ${l}'s kept tail ${boundMs} ms later (log ${log}, leader's snapshot ${kept}; ${pieces} pieces a transfer)`);
    }
  }
  c.runFor(1_000);
  c.finalCheck();

  // From the restart on (while it was down, the core's attempts ended at the first piece).
  const log = c.transferLog.filter((t) => t.at >= restartedAt && (t.to === victim || t.from === victim));
  let maxGap: number | null = null;
  log.forEach((t, i) => {
    if (t.what !== "reply") return;
    const next = log.slice(i + 1).find((u) => u.what === "start" && u.to === victim);
    if (next && next.at < start + loadMs) maxGap = Math.max(maxGap ?? 0, next.at - t.at);
  });
  return {
    victim,
    withinAfterMs: withinAt === null ? null : withinAt - restartedAt,
    boundMs,
    stateChars,
    pieces,
    transfers: log.filter((t) => t.what === "start").length,
    replies: log.filter((t) => t.what === "reply").length,
    maxReplyToNextMs: maxGap,
    writes,
  };
}

/** The rule of old (issue 23): compact to applied − threshold/2, whatever is in flight or lags. */
export const OLD_COMPACTION_RULE: HostFaults["compactionPoint"] = (i) =>
  i.lastApplied - i.snapshotIndex > i.threshold ? i.lastApplied - Math.floor(i.threshold / 2) : null;
