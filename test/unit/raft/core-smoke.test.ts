import { describe, expect, test } from "vitest";
import { cluster } from "./lockstep.ts";

describe("core smoke", () => {
  test("elects one leader and commits a proposal on every server", () => {
    const c = cluster(3);
    c.advance(400);
    const leaders = c.nodes.filter((r) => r.status().state === "Leader");
    expect(leaders).toHaveLength(1);
    const res = leaders[0]!.propose(42, c.now());
    expect(res).toMatchObject({ accepted: true, index: 1 });
    c.settle();
    expect(c.applied[leaders[0]!.id]!.map((e) => e.command)).toEqual([42]);
    c.advance(50); // followers learn the commit with the next heartbeat (lazy commit propagation)
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
