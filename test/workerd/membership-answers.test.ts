// What the membership routes answer around other changes (issue 19 item 5): a removed
// server is 404 whatever else is under way (a DELETE of a server just removed answered 409
// change_in_progress while another change waited), and a 200 shows the configuration the
// change committed.
import { expect, test } from "vitest";
import { Harness } from "./harness.ts";
import { call } from "./kv-harness.ts";
import { addRaw, expectAnswer, fault, removeRaw, settledLeader, sorted } from "./membership-harness.ts";

test("DELETE of a server just removed is 404, also while another change waits; the 200 showed the committed configuration", async () => {
  const h = await Harness.create(3, { sleepAfterMs: 0 });
  const { leader } = await settledLeader(h);
  expect((await call("PUT", `/clusters/${h.name}/kv/k`, { value: "v" })).status).toBe(200);
  const [gone, kept] = [0, 1, 2].filter((i) => i !== leader) as [number, number];
  const removed = await removeRaw(h, gone);
  expectAnswer(removed, 200, undefined, `remove ${gone}`);
  expect(sorted(removed.body.voters)).toEqual(sorted([leader, kept]));
  expect(removed.body.servers.map((s) => s.id)).toEqual(sorted([leader, kept]));
  expectAnswer(await removeRaw(h, gone), 404, "not_found", `remove ${gone} again`);

  // The other voter cut off: an addition cannot commit, and waits.
  await fault(h, `servers/${kept}/disconnect`);
  const adding = addRaw(h, { role: "learner" }, undefined, 1_500);
  await new Promise((resolve) => setTimeout(resolve, 300));
  // The removed server is no member for any of it: 404, not "another change under way".
  expectAnswer(await removeRaw(h, gone), 404, "not_found", `remove ${gone} while an addition waits`);
  expectAnswer(await call("POST", `/clusters/${h.name}/members/${gone}/promote`), 404, "not_found", `promote ${gone} while an addition waits`);
  // A member is still refused while the addition waits.
  expectAnswer(await removeRaw(h, kept), 409, "change_in_progress", `remove ${kept} while an addition waits`);
  expectAnswer(await adding, 504, "timeout", "the addition with one voter of two");
  await fault(h, "heal");
});
