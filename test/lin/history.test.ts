// The recorder that nemesis tests use to build histories.
import { expect, test } from "vitest";
import { HistoryRecorder } from "./history.ts";

test("records answered, unknown and failed operations; pending ones count as unknown", () => {
  let t = 0;
  const rec = new HistoryRecorder<string, number>(() => t++);
  const a = rec.invoke("c1", "a"); // call 0
  const b = rec.invoke("c2", "b"); // call 1
  const c = rec.invoke("c3", "c"); // call 2
  const d = rec.invoke("c4", "d"); // call 3
  rec.ok(a, 7); // ret 4
  rec.unknown(b);
  rec.fail(c);
  expect(rec.history()).toEqual([
    { clientId: "c1", input: "a", output: 7, call: 0, ret: 4 },
    { clientId: "c2", input: "b", output: undefined, call: 1, ret: Infinity },
    { clientId: "c4", input: "d", output: undefined, call: 3, ret: Infinity },
  ]);
  expect(() => rec.ok(c, 1)).toThrow(/not pending/);
  rec.ok(d, 9);
  expect(rec.history().at(-1)).toEqual({ clientId: "c4", input: "d", output: 9, call: 3, ret: 5 });
});
