// Storage failures are crashes (issue 15). Two stories on real workerd:
//  - the big append: appends that would grow one value past the value limit are refused
//    (413) by every replica alike, so no row ever outgrows SQLite's limit, and after every
//    server crashed and restarted the value is exactly the acknowledged appends;
//  - a write that throws (here: an injected "disk full" on one follower) resets the object
//    before anything leaves it, so the follower never acknowledges an entry it did not store.
import { expect, test } from "vitest";
import type { RaftServer } from "../../src/server/raft-server.ts";
import { Harness } from "./harness.ts";
import { request, storedLiveKeys } from "./kv-harness.ts";

const APPENDS = 45;
const PIECE = 60_000;

test("BigAppend: 45 appends of 60,000 characters answer 200 or 413, and after crashing every server the value is exactly the acknowledged ones", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const path = `/clusters/${h.name}/kv/big`;
  const acknowledged: string[] = [];
  for (let i = 0; i < APPENDS; i++) {
    const piece = String.fromCharCode(97 + (i % 26)).repeat(PIECE);
    const r = await request("POST", `${path}/append?timeoutMs=10000`, { value: piece }, { "Client-Id": "big", "Request-Id": String(i + 1) });
    expect([200, 413], `append ${i}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`).toContain(r.status);
    if (r.status === 200) acknowledged.push(piece);
    else expect(r.body).toMatchObject({ error: "too_large" });
  }
  // 60,000 + 60,000 bytes pass the 64 KiB value limit: only the first append fits.
  expect(acknowledged.length).toBe(1);
  const want = acknowledged.join("");

  for (let i = 0; i < 3; i++) await h.crash(i);
  for (let i = 0; i < 3; i++) await h.restart(i);
  await h.checkSingleLeader();
  for (const s of await h.statuses()) expect(s.state, `server ${s.id} booted`).not.toBe("Dead");
  const got = await request("GET", `${path}?timeoutMs=10000`);
  expect(got.status).toBe(200);
  expect(got.body.value?.length).toBe(want.length);
  expect(got.body.value === want, "the value is the acknowledged appends, in order").toBe(true);
  // Every replica stored the same (read from its rows, in its own object).
  for (let i = 0; i < 3; i++) {
    const stored = await h.inside(i, (_, state) => storedLiveKeys(state.storage.sql)["big"]);
    expect(stored === want, `server ${i} stored the acknowledged value`).toBe(true);
  }
});

/** Make server i's next write that carries log entries throw, as a full disk would. */
function failNextEntryWrite(server: RaftServer): void {
  type Persist = (hardState: unknown, logWrite: { entries: unknown[] } | null, also?: unknown) => void;
  const store = (server as unknown as { store: { persist: Persist } }).store;
  const persist = store.persist.bind(store);
  let armed = true;
  store.persist = (hardState: unknown, logWrite: { entries: unknown[] } | null, also?: unknown) => {
    if (armed && logWrite !== null && logWrite.entries.length > 0) {
      armed = false;
      throw new Error("SQLITE_FULL: database or disk is full (injected by the test)");
    }
    return persist(hardState, logWrite, also);
  };
}

test("FailedWriteIsACrash: a follower whose write throws resets itself and never acknowledges what it did not store", async () => {
  const h = await Harness.create(3);
  const { leader } = await h.checkSingleLeader();
  const [follower, other] = [0, 1, 2].filter((i) => i !== leader) as [number, number];
  // The leader's only majority is now {leader, follower}: the put commits only once the
  // follower acknowledges it, so an acknowledgement without a stored entry would show.
  await h.disconnect(other);
  const loadedBefore = await h.inside(follower, (s) => {
    (s as unknown as { marker?: boolean }).marker = true;
    failNextEntryWrite(s);
    return s.status()!.stats.loadedAt;
  });

  const r = await request("PUT", `/clusters/${h.name}/kv/k?timeoutMs=10000`, { value: "v" }, { "Client-Id": "c", "Request-Id": "1" });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const index = Number(r.headers.get("Raft-Index"));
  expect(index).toBeGreaterThan(0);

  const after = await h.inside(follower, (s, state) => ({
    marker: (s as unknown as { marker?: boolean }).marker,
    loadedAt: s.status()!.stats.loadedAt,
    stored: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM log WHERE idx = ?", index).one().n,
  }));
  // The entry the leader counted the follower for is in the follower's storage...
  expect(after.stored, `follower ${follower} stores entry ${index}`).toBe(1);
  // ...because the failed write reset the object (a new instance: the marker is gone, it
  // loaded again) and the leader's retry found nothing in memory to acknowledge blindly.
  expect(after.marker).toBeUndefined();
  expect(after.loadedAt).toBeGreaterThanOrEqual(loadedBefore);
  await h.reconnect(other);
});
