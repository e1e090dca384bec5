import { describe, expect, test } from "vitest";
import { Raft, type Entry, type HardState, type Message } from "../../../src/raft/index.ts";

/** A tiny lock-step driver: every message is delivered at once, in order. Enough for unit checks. */
function cluster(n: number, seed = 1) {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const lines: string[] = [];
  const disk = Array.from({ length: n }, () => ({ hs: { term: 0, votedFor: null } as HardState, log: [] as Entry[] }));
  const applied: Entry[][] = Array.from({ length: n }, () => []);
  const peers = [...Array(n).keys()];
  let now = 0;
  const nodes = peers.map(
    (id) => new Raft({ id, peers, electionTimeoutMs: [150, 300], heartbeatMs: 50, rand, log: (l) => lines.push(l) }, { hardState: disk[id]!.hs, entries: [], applied: 0 }, now),
  );
  const queue: Message[] = [];
  const drain = (i: number) => {
    const rd = nodes[i]!.ready();
    if (rd.hardState) disk[i]!.hs = rd.hardState;
    if (rd.logWrite) disk[i]!.log = [...disk[i]!.log.slice(0, rd.logWrite.fromIndex - 1), ...rd.logWrite.entries];
    queue.push(...rd.messages);
    applied[i]!.push(...rd.committed);
    return rd.wakeAt;
  };
  const settle = () => {
    for (let i = 0; i < n; i++) drain(i);
    while (queue.length) {
      const m = queue.shift()!;
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
  return { nodes, disk, applied, lines, advance, settle, now: () => now };
}

describe("core smoke", () => {
  test("elects one leader and commits a proposal on every server", () => {
    const c = cluster(3);
    c.advance(400);
    const leaders = c.nodes.filter((r) => r.status().state === "Leader");
    expect(leaders).toHaveLength(1);
    const res = leaders[0]!.propose(42, c.now());
    expect(res).toMatchObject({ accepted: true, index: 1 });
    c.settle();
    for (const a of c.applied) expect(a.map((e) => e.command)).toEqual([42]);
    for (const d of c.disk) expect(d.log.map((e) => e.command)).toEqual([42]);
    expect(c.lines.some((l) => /becomes Leader; term=\d+/.test(l))).toBe(true);
  });

  test("a single server elects itself and commits alone", () => {
    const c = cluster(1);
    c.advance(301);
    expect(c.nodes[0]!.status().state).toBe("Leader");
    c.nodes[0]!.propose("x", c.now());
    c.settle();
    expect(c.applied[0]!.map((e) => e.command)).toEqual(["x"]);
  });
});
