import { describe, expect, test } from "vitest";
import { applyChange, membershipCommand, membershipOf, MembershipHistory } from "../../../src/raft/membership.ts";
import type { Membership } from "../../../src/raft/types.ts";

const m = (voters: number[], learners: number[] = []): Membership => ({ voters, learners });
const conf = (index: number, term: number, membership: Membership) => ({ index, term, command: membershipCommand(membership) });

describe("membership changes", () => {
  test("one server at a time: add a learner, promote it, remove a voter", () => {
    let c: Membership = m([0, 1, 2]);
    const add = applyChange(c, { op: "add_learner", id: 3 });
    expect(add).toEqual(m([0, 1, 2], [3]));
    c = add as Membership;
    expect(applyChange(c, { op: "promote", id: 3 })).toEqual(m([0, 1, 2, 3]));
    expect(applyChange(c, { op: "remove", id: 0 })).toEqual(m([1, 2], [3]));
  });

  test("refusals: an existing member, promoting a non-learner, the last voter, the limits", () => {
    expect(applyChange(m([0]), { op: "add_learner", id: 0 })).toHaveProperty("refused");
    expect(applyChange(m([0]), { op: "promote", id: 1 })).toHaveProperty("refused");
    expect(applyChange(m([0], [1]), { op: "remove", id: 0 })).toEqual({ refused: "last_voter", message: "server 0 is the last voter" });
    expect(applyChange(m([0, 1, 2, 3, 4, 5, 6, 7, 8], [9]), { op: "promote", id: 9 })).toHaveProperty("refused");
    expect(applyChange(m([0], [1, 2, 3, 4, 5, 6, 7, 8, 9]), { op: "add_learner", id: 10 })).toHaveProperty("refused");
    expect(applyChange(m([0, 1]), { op: "remove", id: 7 })).toHaveProperty("refused");
  });

  test("a configuration entry round-trips through JSON; other commands are not configurations", () => {
    const c = membershipCommand(m([2, 0], [5]));
    expect(membershipOf(JSON.parse(JSON.stringify(c)))).toEqual(m([0, 2], [5]));
    for (const other of [null, 42, "membership", { kind: "kv" }, { kind: "membership", voters: [-1], learners: [] }]) {
      expect(membershipOf(other)).toBeNull();
    }
  });
});

describe("MembershipHistory", () => {
  test("the latest configuration in the log is in force, from the moment it is appended", () => {
    const h = new MembershipHistory(m([0, 1, 2]), 0, [{ index: 1, term: 1, command: "x" }]);
    expect(h.current).toEqual(m([0, 1, 2]));
    expect(h.appended(conf(2, 1, m([0, 1, 2], [3])))).toBe(true);
    expect(h.appended({ index: 3, term: 1, command: null })).toBe(false);
    expect(h.current).toEqual(m([0, 1, 2], [3]));
    expect(h.currentIndex).toBe(2);
    expect(h.at(1)).toEqual(m([0, 1, 2]));
  });

  test("a truncation rolls the configuration back", () => {
    const h = new MembershipHistory(m([0, 1, 2]), 0, [conf(1, 1, m([0, 1, 2], [3])), conf(2, 1, m([0, 1, 2, 3]))]);
    expect(h.current).toEqual(m([0, 1, 2, 3]));
    expect(h.truncatedFrom(2)).toBe(true);
    expect(h.current).toEqual(m([0, 1, 2], [3]));
    expect(h.truncatedFrom(1)).toBe(true);
    expect(h.current).toEqual(m([0, 1, 2]));
    expect(h.currentIndex).toBe(0);
  });

  test("compaction keeps the configuration as of the snapshot as the base", () => {
    const h = new MembershipHistory(m([0, 1, 2]), 0, [conf(3, 1, m([0, 1])), conf(7, 2, m([0, 1], [4]))]);
    h.compactedTo(5);
    expect(h.at(5)).toEqual(m([0, 1]));
    expect(h.current).toEqual(m([0, 1], [4]));
    h.truncatedFrom(6);
    expect(h.current).toEqual(m([0, 1]));
    expect(h.currentIndex).toBe(5);
  });
});
