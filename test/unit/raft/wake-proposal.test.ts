// The first write after sleeping costs what a warm write costs (issue 23, item 7): a sleeping
// leader woken by a proposal sends each follower one AppendEntries, carrying the entry — not
// a bare wake-up heartbeat that each follower handles (and persists its waking) before the
// entry comes in a message of its own.
import { expect, test } from "vitest";
import type { AppendEntries } from "../../../src/raft/index.ts";
import { cluster } from "./lockstep.ts";

const SLEEP_AFTER = 600;

test("a proposal that wakes the leader goes out in the wake-up AppendEntries, one per follower", () => {
  const c = cluster(3, 31, { sleepAfterMs: SLEEP_AFTER });
  c.advance(400);
  const [leader] = c.leaders();
  c.advance(SLEEP_AFTER + 200);
  expect(leader!.status().asleep).toBe(true);

  const r = leader!.propose("after-sleep", c.now());
  expect(r).toMatchObject({ accepted: true });
  const appends = leader!.ready().messages.filter((m): m is AppendEntries => m.type === "AppendEntries");
  const followers = c.nodes.map((n) => n.id).filter((id) => id !== leader!.id);
  expect(appends.map((m) => m.to).sort()).toEqual(followers);
  for (const m of appends) expect(m.entries.map((e) => e.command)).toEqual(["after-sleep"]);
  expect(c.lines).toContain(`[${leader!.id}] wakes (woken by a proposal)`);
});
