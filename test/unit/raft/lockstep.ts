import { Raft, type Entry, type HardState, type Message, type RaftConfig, type SnapshotMeta } from "../../../src/raft/index.ts";

export type Options = Partial<Pick<RaftConfig, "preVote" | "checkQuorum" | "leaderNoop" | "sleepAfterMs" | "resumeLeadership">>;

/** A tiny lock-step driver: every message is delivered at once, in order. Enough for unit checks. */
export function cluster(size: number, seed = 1, options: Options = {}) {
  let n = size;
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const lines: string[] = [];
  const disk = Array.from({ length: n }, () => ({ hs: { term: 0, votedFor: null } as HardState, log: [] as Entry[], snapshot: undefined as SnapshotMeta | undefined }));
  const applied: Entry[][] = Array.from({ length: n }, () => []);
  const reads: { ctx: string; index: number | null }[][] = Array.from({ length: n }, () => []);
  const peers = [...Array(size).keys()];
  let now = 0;
  /** A server booting from exactly what its disk holds; its state machine restarts from the snapshot. */
  const boot = (id: number, extra: Options = {}) => {
    const d = disk[id]!;
    applied[id] = applied[id]!.filter((e) => e.index <= (d.snapshot?.index ?? 0));
    return new Raft(
      { id, peers, electionTimeoutMs: [150, 300], heartbeatMs: 50, rand, log: (l) => lines.push(l), ...options, ...extra },
      { hardState: d.hs, snapshot: d.snapshot, entries: d.log, applied: d.snapshot?.index ?? 0 },
      now,
    );
  };
  const nodes = peers.map((id) => boot(id));
  /** A brand-new server with the next id (the initial voters stay `peers`, as for every server). */
  const add = () => {
    const id = nodes.length;
    disk.push({ hs: { term: 0, votedFor: null }, log: [], snapshot: undefined });
    applied.push([]);
    reads.push([]);
    nodes.push(boot(id));
    n += 1;
    return id;
  };
  /** A reload from disk alone; `extra` options for the new core (e.g. resumeLeadership, as after an eviction). */
  const restart = (id: number, extra: Options = {}) => {
    nodes[id] = boot(id, extra);
    drain(id);
  };
  /** The host's side of compaction: store the snapshot (here: its index), drop covered entries. */
  const compact = (id: number, index: number) => {
    const d = disk[id]!;
    d.snapshot = { index, term: d.log.find((e) => e.index === index)!.term };
    d.log = d.log.filter((e) => e.index > index);
    nodes[id]!.compact(index);
  };
  const queue: Message[] = [];
  const snapshotData: (Entry[] | undefined)[] = [];
  /** Servers cut off from everyone: their messages, in and out, are dropped. */
  const cut = new Set<number>();
  const drain = (i: number) => {
    const rd = nodes[i]!.ready();
    if (rd.hardState) disk[i]!.hs = rd.hardState;
    if (rd.snapshot) {
      // The state machine becomes the snapshot that came with the message; stored entries it covers go.
      const snap = rd.snapshot;
      applied[i] = (snapshotData[i] ?? []).filter((e) => e.index <= snap.index);
      disk[i]!.snapshot = snap;
      disk[i]!.log = disk[i]!.log.filter((e) => e.index > snap.index);
    }
    if (rd.logWrite) {
      const from = rd.logWrite.fromIndex;
      disk[i]!.log = [...disk[i]!.log.filter((e) => e.index < from), ...rd.logWrite.entries];
    }
    // A snapshot travels with the state machine it stands for: here, the list of applied entries.
    for (const m of rd.messages) sent.set(m.type, (sent.get(m.type) ?? 0) + 1);
    queue.push(...rd.messages.map((m) => (m.type === "InstallSnapshot" ? { ...m, data: applied[i]!.filter((e) => e.index <= m.lastIncludedIndex) } : m)));
    applied[i]!.push(...rd.committed);
    reads[i]!.push(...rd.reads, ...rd.failedReads.map((ctx) => ({ ctx, index: null })));
    return rd.wakeAt;
  };
  const settle = () => {
    for (let i = 0; i < n; i++) drain(i);
    while (queue.length) {
      const m = queue.shift()!;
      if (cut.has(m.from) || cut.has(m.to)) continue;
      if (m.type === "InstallSnapshot") snapshotData[m.to] = m.data as Entry[];
      nodes[m.to]!.step(m, now);
      drain(m.to);
    }
  };
  /** Messages sent so far (delivered or not), by type. */
  const sent = new Map<string, number>();
  const advance = (ms: number) => {
    const end = now + ms;
    while (now < end) {
      now += 1;
      nodes.forEach((r) => r.tick(now));
      settle();
    }
  };
  const leaders = () => nodes.filter((r) => r.status().state === "Leader" && !cut.has(r.id));
  return { nodes, disk, applied, reads, restart, compact, add, lines, advance, settle, cut, leaders, sent, now: () => now };
}

