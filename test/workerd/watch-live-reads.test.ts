// What a write costs a live watcher on a server (issue 20 bounds rows per put; issue 21 wants
// watchers cheap): with the apply path a server runs (KvState) and a hub over its store, every
// notify after an apply is answered from the rows the apply just wrote (RecentChanges), never
// by walking etcd_kv; only history older than the tail (after a reset, say) reads SQL. Counted by the store's own figures.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, test } from "vitest";
import { utf8 } from "../../src/kv/etcd/bytes.ts";
import { WatchHub } from "../../src/kv/etcd/watch-hub.ts";
import { makeKvCommand } from "../../src/kv/index.ts";
import { KvState } from "../../src/server/kv-state.ts";
import type { RecentChanges } from "../../src/server/recent-changes.ts";
import { freshName } from "./harness.ts";

const create = (key: string, startRevision = 0) => ({
  kind: "create" as const,
  create: { key: utf8(key), rangeEnd: new Uint8Array(0), startRevision, progressNotify: false, filters: [], prevKv: false, watchId: 0, fragment: false },
});

test("a live watcher's events come from the rows the apply wrote (0 SQL span reads over 50 writes); history reads SQL only past what the tail holds", async () => {
  const figures = await runInDurableObject(env.RAFT_SERVER.getByName(freshName("watch-live")), (_, state) => {
    const kv = new KvState(state.storage.sql);
    const log = kv.watchStore as RecentChanges;
    const hub = new WatchHub<string>(kv.watchStore);
    hub.open("s");
    hub.handle("s", create("k"));
    let events = 0;
    for (let i = 1; i <= 50; i++) {
      kv.apply([{ index: i, term: 1, command: makeKvCommand({ op: "put", key: i % 2 === 0 ? "k" : "other", value: String(i) }, 1_000 + i) }]);
      events += hub.notify().reduce((n, o) => n + o.response.events.length, 0);
    }
    const live = { ...log.reads };
    // History the tail still holds comes from memory too; after a reset (a new instance) it is SQL's.
    hub.handle("s", create("k", 2));
    const recentHistory = { ...log.reads };
    const reloaded = new KvState(state.storage.sql);
    const hub2 = new WatchHub<string>(reloaded.watchStore);
    hub2.open("s");
    const history = hub2.handle("s", create("k", 2)).reduce((n, o) => n + o.response.events.length, 0);
    return { events, live, recentHistory, history, reloaded: { ...(reloaded.watchStore as RecentChanges).reads } };
  });
  expect(figures.events).toBe(25);
  expect(figures.live).toEqual({ fromMemory: 50, fromSql: 0 });
  expect(figures.recentHistory).toEqual({ fromMemory: 51, fromSql: 0 });
  expect(figures.history).toBe(25);
  expect(figures.reloaded).toEqual({ fromMemory: 0, fromSql: 1 });
});
