// A watcher whose server is reset loses nothing (issue 21 item 1): the server's crash,
// eviction or removal from the cluster closes its sockets; the client knows the last event it was given and re-watches from
// that event's mod_revision + 1 on another server. Under a stream of writes, the events of
// both sockets together are exactly the writes, in order: no gap, no duplicate.
import { expect, test } from "vitest";
import { api, Harness } from "./harness.ts";
import { b64, put, WatchSocket } from "./watch-harness.ts";

const WRITES = 24;
const RESET_AFTER = 8;

async function survivesReset(fault: "crash" | "evict" | "remove"): Promise<void> {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  const served = [0, 1, 2].find((i) => i !== leader)!; // a follower: the writes go on without it
  const other = [0, 1, 2].find((i) => i !== leader && i !== served)!;
  const prefix = { key: b64("r/"), range_end: b64("r0") };

  const first = await WatchSocket.open(h, served);
  const w = await first.create(prefix);
  const written: string[] = [];
  let resetDone = false;
  for (let i = 1; i <= WRITES; i++) {
    const revision = (await put(h, `r/${i}`, String(i))).header.revision;
    written.push(`PUT r/${i}=${i}@${revision}`);
    if (i === RESET_AFTER) {
      // Let the server deliver some of what it applied, then reset it mid-stream.
      await first.until("some events before the reset", () => first.events(w).length >= RESET_AFTER - 2);
      const r =
        fault === "remove"
          ? await api("DELETE", `/clusters/${h.name}/members/${served}`)
          : await api("POST", `/clusters/${h.name}/servers/${served}/${fault}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      resetDone = true;
    }
  }
  expect(resetDone).toBe(true);
  await first.until("the socket closes with its server", () => first.closed !== null, 10_000);
  const before = first.events(w);
  const last = before.length === 0 ? 0 : Number(/@(\d+)/.exec(before[before.length - 1]!)![1]);
  console.log(`${fault}: socket closed ${JSON.stringify(first.closed)} after ${before.length} events, re-watching from revision ${last + 1} on server ${other}`);

  const second = await WatchSocket.open(h, other);
  const w2 = await second.create({ ...prefix, start_revision: String(last + 1) });
  await second.until("every write after the last event", () => before.length + second.events(w2).length >= WRITES, 10_000);
  expect([...before, ...second.events(w2)]).toEqual(written);
  second.close();
}

test("a watcher whose server crashes re-watches on another from its last event + 1: every write once, in order", () => survivesReset("crash"));

test("a watcher whose server is evicted re-watches on another from its last event + 1: every write once, in order", () => survivesReset("evict"));

test("a watcher whose server is removed from the cluster re-watches on another from its last event + 1: every write once, in order", () => survivesReset("remove"));
