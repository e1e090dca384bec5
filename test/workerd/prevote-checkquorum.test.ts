// PreVote and CheckQuorum (Raft thesis §9.6, §6.2), on a real Durable Object cluster in
// real time.
//
// PreVote: the seed's story (a follower cut off for 650 ms, then back) told again with
// "preVote": true. Without PreVote the cut-off follower raises its term at every timeout and,
// back, forces an election (part1's ElectionFollowerComesBack, which stays as it is). With
// it, the follower only asks whether it could win, raises nothing, and the cluster does not
// notice its return.
//
// CheckQuorum: a leader cut off from the majority steps down by itself within an election
// timeout, instead of believing it leads until it hears of a higher term.
import { expect, test } from "vitest";
import { ELECTION_TIMEOUT_MS, Harness } from "./harness.ts";
import { eventually } from "./kv-harness.ts";
import { currentLeader, disconnect, events, heal, partition, reconnect, request, retryBudget, sleep, stableLeader, submit, type Status6 } from "./issue6-harness.ts";

// stableLeader asks again when the first leader is deposed right after the start. Measured:
// none in 7 runs on a loaded machine; allowed: one in each of the two tests.
retryBudget(2, "a leader deposed right after the start, in each test");

test("PreVoteFollowerComesBack", async () => {
  const h = await Harness.create(3, { preVote: true });
  const orig = await stableLeader(h);
  const other = (orig.leader + 1) % 3;
  await disconnect(h, other);

  // While it is cut off: never Candidate (a pre-candidate reports "Follower"), no new term.
  const cut = Date.now();
  const seen = new Set<string>();
  while (Date.now() - cut < 650) {
    const s = (await h.statuses())[other]!;
    seen.add(s.state);
    expect(s.state, `server ${other} while cut off`).not.toBe("Candidate");
    expect(s.term, `server ${other} raised its term while cut off`).toBe(orig.term);
    await sleep(25);
  }
  expect([...seen]).toEqual(["Follower"]);
  // It did try: its timer ran out and it polled (in vain) as a pre-candidate.
  const lines = await events(h);
  expect(lines.some((l) => l.startsWith(`[${other}] becomes PreCandidate`)), `no "[${other}] becomes PreCandidate" line`).toBe(true);

  await reconnect(h, other);
  await sleep(150);
  const next = await h.checkSingleLeader();
  expect(next).toEqual(orig);
  expect((await h.statuses())[other]!.term).toBe(orig.term);
});

test("CheckQuorumLeaderAloneStepsDown", async () => {
  const h = await Harness.create(3, { checkQuorum: true });
  const orig = await stableLeader(h);
  const others = [0, 1, 2].filter((i) => i !== orig.leader);
  await partition(h, [[orig.leader], others]);
  const cut = Date.now();

  // It steps down once fewer than a majority answered within the last electionTimeoutMs[1]:
  // the last answers came before the partition, so within one upper bound (plus the time the
  // coordinator takes to push the partition). The bound asserted is generous for a loaded
  // machine; the figure is logged.
  await eventually(`leader ${orig.leader} steps down`, async () => {
    const s = (await h.statuses())[orig.leader]! as unknown as Status6;
    return s.state !== "Leader" || `still ${s.state} in term ${s.term}`;
  }, 2 * ELECTION_TIMEOUT_MS[1] + 1_000);
  console.log(`CheckQuorum: the lone leader stepped down ${Date.now() - cut} ms after the partition (election timeout max ${ELECTION_TIMEOUT_MS[1]} ms)`);

  // It takes no more commands.
  expect(await submit(h, orig.leader, 42)).toBeNull();
  const r = await request("POST", `/clusters/${h.name}/servers/${orig.leader}/submit`, { command: 43 });
  expect(r.body.accepted).toBe(false);

  // The majority elects a leader of its own.
  await eventually("the majority elects a leader", async () => {
    const l = await currentLeader(h);
    return (l !== null && others.includes(l.leader) && l.term > orig.term) || `leader ${JSON.stringify(l)}`;
  }, 3_000);

  await heal(h);
  const after = await h.checkSingleLeader();
  expect(after.term).toBeGreaterThan(orig.term);
  expect(await submit(h, after.leader, 44)).not.toBeNull();
  await h.checkCommittedN(44, 3);
});
