// On a retry recognised as a duplicate, `Raft-Index` names the entry where the write was
// applied, not the retry's own entry (issue 23 item 7): the session keeps that index on every
// replica, so the answer is the same from a new leader after the old one crashed.
import { expect, test } from "vitest";
import { Harness } from "./harness.ts";
import { request } from "./kv-harness.ts";

test("a duplicate answers the Raft-Index where the write applied, from any leader", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  const ids = { "Client-Id": "raft-index-writer", "Request-Id": "1" };
  const put = (value: string, headers: Record<string, string> = {}) => request("PUT", `/clusters/${h.name}/kv/k`, { value }, headers);
  const indexOf = (r: { headers: Headers }) => Number(r.headers.get("Raft-Index"));

  const first = await put("first", ids);
  expect(first.status).toBe(200);
  expect(first.body).toEqual({ found: false, prev: null });
  const applied = indexOf(first);
  expect(applied).toBeGreaterThan(0);

  // More writes, by others: the log moves on past the first one.
  let last = applied;
  for (const [i, value] of ["second", "third"].entries()) {
    const other = await put(value, { "Client-Id": "raft-index-other", "Request-Id": String(i + 1) });
    expect(other.status).toBe(200);
    last = indexOf(other);
  }
  expect(last).toBeGreaterThan(applied);

  // The retry is a new entry of its own (after `last`), answered as the first write was.
  const retry = await put("first", ids);
  expect(retry.status).toBe(200);
  expect(retry.body).toEqual(first.body);
  expect(indexOf(retry)).toBe(applied);

  // The index is the replicated session's: a new leader answers the same.
  await h.crash(leader);
  const { leader: next } = await h.checkSingleLeader();
  expect(next).not.toBe(leader);
  const again = await put("first", ids);
  expect(again.status).toBe(200);
  expect(again.body).toEqual(first.body);
  expect(Number(again.headers.get("Raft-Server"))).toBe(next);
  expect(indexOf(again)).toBe(applied);
  // A new request under the next id is applied at an entry of its own, past the retries'.
  const fresh = await put("fresh", { ...ids, "Request-Id": "2" });
  expect(fresh.status).toBe(200);
  expect(indexOf(fresh)).toBeGreaterThan(last + 1);
});
