// Watches served by the servers (issue 21 item 1) on workerd, through the coordinator's
// /clusters/{c}/v3/watch: the WebSocket form (events in revision order with prev_kv and the
// NOPUT/NODELETE filters, a txn's events in one message, cancel, a watch from a compacted
// revision canceled with compact_revision) and etcd's HTTP streaming form (history first, then
// live events as lines).
import { expect, test } from "vitest";
import { api, Harness } from "./harness.ts";
import { b64, del, etcdWrite, put, WatchSocket, WatchStream } from "./watch-harness.ts";

test("WebSocket watch: events in order with prev_kv and filters, a txn's events in one message, cancel stops them", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const ws = await WatchSocket.open(h);
  const prefix = await ws.create({ key: b64("a"), range_end: b64("b"), prev_kv: true });
  const deletesOfA1 = await ws.create({ key: b64("a1"), filters: ["NOPUT"] });
  const putsOfA2 = await ws.create({ key: b64("a2"), filters: ["NODELETE"] });
  expect([prefix, deletesOfA1, putsOfA2]).toEqual([0, 1, 2]);

  const r1 = Number((await put(h, "a1", "1")).header.revision);
  await put(h, "a2", "2");
  await put(h, "zz", "outside");
  await etcdWrite(h, "txn", {
    success: [{ request_put: { key: b64("a1"), value: b64("3") } }, { request_delete_range: { key: b64("a2") } }],
  });
  await del(h, "a1");
  const r = (k: number) => r1 + k;
  await ws.until("the delete of a1 reaches its watcher", () => ws.events(deletesOfA1).length === 1);
  await ws.until("every event of the prefix", () => ws.events(prefix).length === 5);

  expect(ws.events(prefix)).toEqual([
    `PUT a1=1@${r(0)}`,
    `PUT a2=2@${r(1)}`,
    `PUT a1=3@${r(3)} (prev 1)`,
    `DELETE a2@${r(3)} (prev 2)`,
    `DELETE a1@${r(4)} (prev 3)`,
  ]);
  expect(ws.events(deletesOfA1)).toEqual([`DELETE a1@${r(4)}`]);
  expect(ws.events(putsOfA2)).toEqual([`PUT a2=2@${r(1)}`]);
  // The txn's two events are one message, stamped with its revision.
  const txn = ws.results.filter((m) => Number(m.watch_id ?? 0) === prefix && m.header.revision === String(r(3)));
  expect(txn).toHaveLength(1);
  expect(txn[0]!.events).toHaveLength(2);

  // Cancel the prefix watch: answered canceled; its later writes reach only the others.
  const before = ws.results.length;
  ws.send({ cancel_request: { watch_id: String(prefix) } });
  await ws.until("the cancel is answered", () => ws.results.slice(before).some((m) => m.canceled === true && Number(m.watch_id ?? 0) === prefix));
  await put(h, "a2", "4");
  await ws.until("the put of a2 after the cancel", () => ws.events(putsOfA2).length === 2);
  expect(ws.events(prefix)).toHaveLength(5);
  const narration = await h.narration();
  expect(narration).toMatch(/\[\d\] serves watch 0 on "a"\.\."b" from revision \d+/);
  expect(narration).toMatch(/\[\d\] ends watch 0/);
  ws.close();
});

test("WebSocket watch from a compacted revision: created, then canceled with compact_revision; from the compaction on, the history", async () => {
  const h = await Harness.create(3);
  for (let i = 1; i <= 5; i++) await put(h, "k", String(i));
  const last = Number((await put(h, "k", "6")).header.revision);
  await etcdWrite(h, "compaction", { revision: String(last - 2) });
  // On the leader, which applied the compaction before answering it (a follower that has not
  // yet would rightly serve the history).
  const { leader } = await h.checkSingleLeader();
  const ws = await WatchSocket.open(h, leader);
  const gone = await ws.create({ key: b64("k"), start_revision: "2" });
  await ws.until("the compaction cancel", () => ws.results.some((m) => m.canceled === true));
  const cancel = ws.results.find((m) => m.canceled === true)!;
  expect(Number(cancel.watch_id ?? 0)).toBe(gone); // watch_id 0 is left out, as jsonpb leaves out zeros
  expect(cancel).toMatchObject({ canceled: true, compact_revision: String(last - 2) });
  expect(cancel.header.revision).toBeUndefined();
  const kept = await ws.create({ key: b64("k"), start_revision: String(last - 2) });
  await ws.until("the history from the compaction", () => ws.events(kept).length === 3);
  expect(ws.events(kept)).toEqual([`PUT k=4@${last - 2}`, `PUT k=5@${last - 1}`, `PUT k=6@${last}`]);
  // History comes in one message stamped with the current revision.
  expect(ws.results.filter((m) => Number(m.watch_id ?? 0) === kept && m.events !== undefined)).toHaveLength(1);
  ws.close();
});

test("HTTP stream (etcd's gateway form): history, then live events as lines; a body that cannot be read is 500 with gRPC code 2", async () => {
  const h = await Harness.create(3);
  await h.checkSingleLeader();
  const first = Number((await put(h, "s", "1")).header.revision);
  const stream = await WatchStream.open(h, JSON.stringify({ create_request: { key: b64("s"), start_revision: String(first) } }));
  expect(stream.status).toBe(200);
  await stream.until("created and the history", () => stream.events(0).length === 1);
  expect(stream.results[0]).toMatchObject({ created: true });
  await put(h, "s", "2");
  await stream.until("the live event", () => stream.events(0).length === 2);
  expect(stream.events(0)).toEqual([`PUT s=1@${first}`, `PUT s=2@${first + 1}`]);
  await stream.cancel();

  const bad = await WatchStream.open(h, "{not json");
  expect(bad.status).toBe(500);
  expect(bad.errors[0]).toMatchObject({ code: 2 });
});

test("the watch route's bad input: a GET without Upgrade 426, another method 405, an unknown cluster or server 404, all JSON", async () => {
  const h = await Harness.create(3);
  const path = `/clusters/${h.name}/v3/watch`;
  const get = await api("GET", path);
  expect(get.status).toBe(426);
  expect(get.body).toMatchObject({ error: "upgrade_required" });
  expect((await api("PUT", path, {})).status).toBe(405);
  expect((await api("POST", `/clusters/no-such-${h.name}/v3/watch`, {})).body).toMatchObject({ error: "not_found" });
  const pinned = await api("POST", `${path}?server=7`, {});
  expect(pinned.status).toBe(404);
  expect(pinned.body).toMatchObject({ error: "not_found" });
  expect((await api("POST", `${path}?server=x`, {})).status).toBe(400);
  // A crashed server does not serve: pinned to it, 503; unpinned, another member takes the watch.
  await h.crash(1);
  const down = await api("POST", `${path}?server=1`, { create_request: { key: b64("k") } });
  expect(down.status).toBe(503);
  expect(down.body).toMatchObject({ error: "unavailable" });
});
