import { Raft, type Entry, type HardState, type Message, type RaftConfig } from "../../../src/raft/index.ts";

export type Options = Partial<Pick<RaftConfig, "preVote" | "checkQuorum" | "leaderNoop">>;

/** A tiny lock-step driver: every message is delivered at once, in order. Enough for unit checks. */
export function cluster(n: number, seed = 1, options: Options = {}) {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const lines: string[] = [];
  const disk = Array.from({ length: n }, () => ({ hs: { term: 0, votedFor: null } as HardState, log: [] as Entry[] }));
  const applied: Entry[][] = Array.from({ length: n }, () => []);
  const reads: { ctx: string; index: number | null }[][] = Array.from({ length: n }, () => []);
  const peers = [...Array(n).keys()];
  let now = 0;
  const nodes = peers.map(
    (id) => new Raft({ id, peers, electionTimeoutMs: [150, 300], heartbeatMs: 50, rand, log: (l) => lines.push(l), ...options }, { hardState: disk[id]!.hs, entries: [], applied: 0 }, now),
  );
  const queue: Message[] = [];
  /** Servers cut off from everyone: their messages, in and out, are dropped. */
  const cut = new Set<number>();
  const drain = (i: number) => {
    const rd = nodes[i]!.ready();
    if (rd.hardState) disk[i]!.hs = rd.hardState;
    if (rd.logWrite) disk[i]!.log = [...disk[i]!.log.slice(0, rd.logWrite.fromIndex - 1), ...rd.logWrite.entries];
    queue.push(...rd.messages);
    applied[i]!.push(...rd.committed);
    reads[i]!.push(...rd.reads, ...rd.failedReads.map((ctx) => ({ ctx, index: null })));
    return rd.wakeAt;
  };
  const settle = () => {
    for (let i = 0; i < n; i++) drain(i);
    while (queue.length) {
      const m = queue.shift()!;
      if (cut.has(m.from) || cut.has(m.to)) continue;
      nodes[m.to]!.step(m, now);
      drain(m.to);
    }
  };
  const advance = (ms: number) => {
    const end = now + ms;
    while (now < end) {
      now += 1;
      nodes.forEach((r) => r.tick(now));
      settle();
    }
  };
  const leaders = () => nodes.filter((r) => r.status().state === "Leader" && !cut.has(r.id));
  return { nodes, disk, applied, reads, lines, advance, settle, cut, leaders, now: () => now };
}

