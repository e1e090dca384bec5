// A watcher whose server installs a snapshot compacted past what it had sent (watch-host.ts,
// afterApply): the revisions between are gone from that server, so it cannot bring the watcher
// across them; it closes the stream as a restart (1012), and the client, re-watching from its
// last event's revision + 1, is told compact_revision as etcd tells it. Nothing is skipped
// silently.
import { expect, test } from "vitest";
import { Harness } from "./harness.ts";
import { b64, etcdWrite, put, WatchSocket } from "./watch-harness.ts";

test("a snapshot installed past a watcher's position closes its stream; re-watching from its last event + 1 answers compact_revision", async () => {
  const h = await Harness.create(3, { snapshotThreshold: 10 });
  const { leader } = await h.checkSingleLeader();
  const follower = [0, 1, 2].find((i) => i !== leader)!;
  const ws = await WatchSocket.open(h, follower);
  const w = await ws.create({ key: b64("k") });
  const first = Number((await put(h, "k", "0")).header.revision);
  await ws.until("the first event", () => ws.events(w).length === 1);

  await h.disconnect(follower);
  let last = first;
  for (let i = 1; i <= 30; i++) last = Number((await put(h, "k", String(i))).header.revision);
  await etcdWrite(h, "compaction", { revision: String(last) });
  for (let i = 31; i <= 45; i++) await put(h, "other", String(i)); // the leader's log moves on past the compaction
  await h.reconnect(follower);

  await ws.until("the stream closes", () => ws.closed !== null, 15_000);
  expect(ws.closed!.code).toBe(1012);
  expect(ws.events(w)).toEqual([`PUT k=0@${first}`]); // nothing after it, and nothing skipped silently
  const status = await h.server(follower);
  expect(status.stats.snapshotsInstalled).toBeGreaterThan(0);

  const again = await WatchSocket.open(h, follower);
  const w2 = await again.create({ key: b64("k"), start_revision: String(first + 1) });
  await again.until("the compaction cancel", () => again.results.some((m) => m.canceled === true));
  const cancel = again.results.find((m) => m.canceled === true)!;
  expect(Number(cancel.watch_id ?? 0)).toBe(w2);
  expect(cancel.compact_revision).toBe(String(last));
  again.close();
});
