// The watch hub's rules one at a time: what the fixtures cannot hold (a catch-up past 1000
// revisions, checked against etcd 3.4.23 by test/etcd/probe-watch.ts), what only a Durable Object
// needs (state and restore), and the gateway's reading and writing of watch messages.

import { describe, expect, it } from "vitest";
import { encodeBase64 } from "../../../../src/kv/etcd/bytes.ts";
import { watchResultLine } from "../../../../src/kv/etcd/codec/watch-encode.ts";
import { EtcdKv } from "../../../../src/kv/etcd/kv.ts";
import { MemoryMvccStore } from "../../../../src/kv/etcd/memory-store.ts";
import { openWatchStream, readWatchBody, readWatchFrame } from "../../../../src/kv/etcd/watch-gateway.ts";
import { WatchHub, type Outgoing } from "../../../../src/kv/etcd/watch-hub.ts";
import { watchResponse, type WatchCreateRequest } from "../../../../src/kv/etcd/watch-types.ts";
import { b64, call, IDS, put } from "./helpers.ts";

const te = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function fresh() {
  const store = new MemoryMvccStore();
  const kv = new EtcdKv(store);
  return { store, kv, hub: new WatchHub<string>(store) };
}

function create(key: string, fields: Partial<WatchCreateRequest> = {}) {
  const c: WatchCreateRequest = {
    key: te(key),
    rangeEnd: new Uint8Array(0),
    startRevision: 0,
    progressNotify: false,
    filters: [],
    prevKv: false,
    watchId: 0,
    fragment: false,
    ...fields,
  };
  return { kind: "create" as const, create: c };
}

describe("catch-up", () => {
  it("cuts history into messages of at most 1000 revisions, the first at once and each next one per sync() round (as etcd 3.4.23 did)", () => {
    const { kv, hub } = fresh();
    for (let i = 0; i < 2100; i++) put(kv, "k", String(i));
    expect(hub.notify()).toEqual([]);
    hub.open("s");
    const shape = (out: Outgoing<string>[]) =>
      out.map(({ response: r }) => [r.created, r.revision, r.events.length, r.events[0]?.kv.modRevision ?? 0]);
    expect(shape(hub.handle("s", create("k", { startRevision: 1 })))).toEqual([
      [true, 2101, 0, 0],
      [false, 2101, 1000, 2],
    ]);
    expect(hub.hasUnsynced()).toBe(true);
    // A write while it catches up is not sent live (it would skip history): a later round has it.
    put(kv, "k", "late");
    expect(hub.notify()).toEqual([]);
    expect(shape(hub.sync())).toEqual([[false, 2102, 1000, 1002]]);
    expect(shape(hub.sync())).toEqual([[false, 2102, 101, 2002]]);
    expect(hub.hasUnsynced()).toBe(false);
    expect(hub.sync()).toEqual([]);
    put(kv, "k", "next");
    expect(shape(hub.notify())).toEqual([[false, 2103, 1, 2103]]);
  });

  it("reads a long history in spans of revisions, yet cuts messages only at etcd's 1000 revisions with events", () => {
    const reads: Array<[number, number]> = [];
    class CountingStore extends MemoryMvccStore {
      override changes(...args: Parameters<MemoryMvccStore["changes"]>) {
        reads.push([args[1], args[2]]);
        return super.changes(...args);
      }
    }
    const store = new CountingStore();
    const kv = new EtcdKv(store);
    const hub = new WatchHub<string>(store, { maxRevsPerMessage: 2 });
    // "k" changes at revisions 3, 10,004, 10,005 and 12,002 among 12,001 writes.
    for (let i = 2; i <= 12_002; i++) put(kv, [3, 10_004, 10_005, 12_002].includes(i) ? "k" : "other", String(i));
    hub.notify();
    hub.open("s");
    const revisions = (out: Outgoing<string>[]) => out.map((o) => o.response.events.map((e) => e.kv.modRevision));
    expect(revisions(hub.handle("s", create("k", { startRevision: 1 })))).toEqual([[], [3, 10_004]]);
    expect(reads).toEqual([
      [1, 10_000],
      [10_001, 12_002],
    ]);
    expect(revisions(hub.sync())).toEqual([[10_005, 12_002]]);
    expect(hub.hasUnsynced()).toBe(false);
  });

  it("sends no progress notification to a watcher still catching up", () => {
    const { store, kv } = fresh();
    for (let i = 0; i < 5; i++) put(kv, "k", String(i));
    const small = new WatchHub<string>(store, { maxRevsPerMessage: 2 });
    small.open("s");
    expect(small.handle("s", create("k", { startRevision: 2, progressNotify: true })).length).toBe(2);
    expect(small.progressTick("s")).toEqual([]);
    small.sync();
    small.sync();
    expect(small.hasUnsynced()).toBe(false);
    expect(small.progressTick("s")).toEqual([]); // events went out since the last tick
    expect(small.progressTick("s").map((o) => o.response.revision)).toEqual([6]);
    expect(kv.revision()).toBe(6);
  });

  it("from a compacted revision: created, then canceled with compact_revision; the id stays taken until a cancel", () => {
    const { kv, hub } = fresh();
    put(kv, "a", "1");
    put(kv, "a", "2");
    expect(call(kv, "compaction", { revision: "3" }).status).toBe(200);
    hub.open("s");
    expect(hub.handle("s", create("a", { startRevision: 2 })).map((o) => o.response)).toEqual([
      watchResponse({ revision: 3, watchId: 0, created: true }),
      watchResponse({ revision: 0, watchId: 0, canceled: true, compactRevision: 3 }),
    ]);
    expect(hub.handle("s", create("a")).map((o) => o.response.watchId)).toEqual([1]);
    put(kv, "a", "3");
    expect(hub.notify().map((o) => o.response.watchId)).toEqual([1]);
    expect(hub.handle("s", { kind: "cancel", watchId: 0 }).map((o) => o.response)).toEqual([
      watchResponse({ revision: 4, watchId: 0, canceled: true }),
    ]);
  });
});

describe("state and restore (a sleeping object, or another replica)", () => {
  it("a stream restored behind the current revision catches up from each watcher's nextRevision, without another created", () => {
    const a = fresh();
    const b = fresh();
    const both = (key: string, value: string) => [a.kv, b.kv].forEach((kv) => put(kv, key, value));
    both("x", "1");
    a.hub.open("s");
    a.hub.handle("s", create("x", { prevKv: true }));
    a.hub.handle("s", create("y"));
    both("x", "2");
    expect(a.hub.notify().map((o) => o.response.events.length)).toEqual([1]);
    const state = a.hub.state("s");
    expect(state.watchers.map((w) => w.nextRevision)).toEqual([4, 4]);
    // Replica b applied two more writes that a never told its watchers about.
    both("x", "3");
    both("y", "1");
    const out = b.hub.restore("s", state).map((o) => o.response);
    expect(out.map((r) => [r.watchId, r.created, r.revision, r.events.map((e) => e.kv.modRevision)])).toEqual([
      [0, false, 5, [4]],
      [1, false, 5, [5]],
    ]);
    expect(out[0]!.events[0]!.prevKv?.modRevision).toBe(3);
    // After the restore both watchers are live on b, and nothing is sent twice.
    expect(b.hub.notify()).toEqual([]);
    put(b.kv, "y", "2");
    expect(b.hub.notify().map((o) => [o.response.watchId, o.response.revision])).toEqual([[1, 6]]);
    expect(b.hub.handle("s", create("z")).map((o) => o.response.watchId)).toEqual([2]);
  });
});

describe("waking from hibernation", () => {
  it("a stream saved before later writes it was sent is not caught up again when restored as handled through the store's revision", () => {
    const { store, kv, hub } = fresh();
    hub.open("s");
    hub.handle("s", create("a"));
    hub.handle("s", create("b", { startRevision: 50 }));
    const early = hub.state("s");
    put(kv, "a", "1");
    put(kv, "b", "1");
    expect(hub.notify().map((o) => o.response.revision)).toEqual([2]);
    expect(call(kv, "compaction", { revision: "3" }).status).toBe(200);
    // Restored as handled through revision 3: nothing again, no compaction cancel for a live watcher.
    const woken = new WatchHub<string>(store);
    expect(woken.restore("s", early, 3)).toEqual([]);
    expect(woken.state("s").watchers.map((w) => w.nextRevision)).toEqual([4, 50]);
    // Without that promise the saved revision is below the compaction: canceled as etcd would a watch from there.
    const stale = new WatchHub<string>(store);
    expect(stale.restore("s", early).map((o) => o.response.compactRevision)).toEqual([3]);
  });
});

describe("notify's reads", () => {
  it("reads the new rows once per call however many revisions, and not at all while nobody watches", () => {
    const reads: Array<[number, number]> = [];
    class CountingStore extends MemoryMvccStore {
      override changes(...args: Parameters<MemoryMvccStore["changes"]>) {
        reads.push([args[1], args[2]]);
        return super.changes(...args);
      }
    }
    const store = new CountingStore();
    const kv = new EtcdKv(store);
    const hub = new WatchHub<string>(store);
    put(kv, "a", "1");
    expect(hub.notify()).toEqual([]);
    hub.open("s");
    hub.handle("s", create("a"));
    put(kv, "a", "2");
    put(kv, "b", "1");
    put(kv, "a", "3");
    expect(hub.notify().map((o) => o.response.revision)).toEqual([3, 5]);
    expect(reads).toEqual([[3, 5]]);
  });
});

describe("progress notifications", () => {
  it("each tick notifies a quiet progress_notify watcher; an event elides the next one", () => {
    const { kv, hub } = fresh();
    hub.open("s");
    hub.handle("s", create("a", { progressNotify: true }));
    hub.handle("s", create("b"));
    const tick = () => hub.progressTick("s").map((o) => [o.response.watchId, o.response.revision]);
    expect(tick()).toEqual([[0, 1]]);
    put(kv, "a", "1");
    hub.notify();
    expect(tick()).toEqual([]);
    expect(tick()).toEqual([[0, 2]]);
    // A write elsewhere is no event for it: the next tick still comes, with the new revision.
    put(kv, "b", "1");
    hub.notify();
    expect(tick()).toEqual([[0, 3]]);
  });
});

describe("the gateway's watch messages", () => {
  it("writes each message as one {\"result\": ...} line, fields in proto order, zero values left out", () => {
    const { kv, hub } = fresh();
    put(kv, "k", "v");
    hub.open("s");
    const [created] = hub.handle("s", create("k", { watchId: 3, prevKv: true }));
    expect(watchResultLine(created!.response, IDS)).toBe(
      '{"result":{"header":{"cluster_id":"7","member_id":"8","revision":"2","raft_term":"9"},"watch_id":"3","created":true}}\n',
    );
    call(kv, "deleterange", { key: b64("k") });
    const [deleted] = hub.notify();
    const k = encodeBase64(te("k"));
    expect(watchResultLine(deleted!.response, IDS)).toBe(
      `{"result":{"header":{"cluster_id":"7","member_id":"8","revision":"3","raft_term":"9"},"watch_id":"3","events":[` +
        `{"type":"DELETE","kv":{"key":"${k}","mod_revision":"3"},"prev_kv":{"key":"${k}","create_revision":"2","mod_revision":"2","version":"1","value":"${b64("v")}"}}]}}\n`,
    );
  });

  it("reads a body's messages until the first that is not a request; only a bad first one refuses the stream", () => {
    expect(readWatchBody("")).toEqual({ ok: true, requests: [] });
    expect(readWatchBody('{"progress_request":{}} {"cancel_request":{"watch_id":"2"}}\n')).toEqual({
      ok: true,
      requests: [{ kind: "progress" }, { kind: "cancel", watchId: 2 }],
    });
    const later = readWatchBody('{"progress_request":{}}\n"not json"\n{"progress_request":{}}\n');
    expect(later).toEqual({ ok: true, requests: [{ kind: "progress" }] });
    const syntax = readWatchBody("{\"progress_request\":{}}\n{oops");
    expect(syntax).toEqual({ ok: true, requests: [{ kind: "progress" }] });
    const { hub } = fresh();
    expect(openWatchStream(hub, "bad", "xyz")).toEqual({
      status: 500,
      body: { error: "invalid character 'x' looking for beginning of value", message: "invalid character 'x' looking for beginning of value", code: 2 },
    });
    expect(openWatchStream(hub, "bad", '{"create_request":{"start_revision":"1.5"}}')).toEqual({
      status: 500,
      body: {
        error: "json: cannot unmarshal number 1.5 into Go value of type int64",
        message: "json: cannot unmarshal number 1.5 into Go value of type int64",
        code: 2,
      },
    });
    expect(hub.isOpen("bad")).toBe(false);
  });

  it("reads one WebSocket frame as one request", () => {
    expect(readWatchFrame('{"create_request":{"key":"YQ==","filters":["NODELETE",0]}}')).toMatchObject({
      ok: true,
      request: { kind: "create", create: { key: te("a"), filters: [1, 0] } },
    });
    expect(readWatchFrame("")).toMatchObject({ ok: false });
    expect(readWatchFrame("[]")).toMatchObject({ ok: false, error: { message: "json: cannot unmarshal array into Go value of type map[string]json.RawMessage" } });
  });
});
