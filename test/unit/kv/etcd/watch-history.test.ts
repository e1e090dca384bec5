// etcd's watch guarantees checked on random schedules against an oracle that knows nothing of
// the store: two replicas (A and B) apply the same writes, clients watch ranges on either, servers
// crash (their hub forgets everything) and clients re-watch on the other replica from the
// revision after the last event they got, as etcd's client does. At the end every watcher's
// events, concatenated across servers, must equal the oracle's history of its range from its
// start: in revision order, no gap, no duplicate, a revision's events in one message. Servers
// also sleep: their hub is rebuilt from each stream's state() (what a WebSocket attachment keeps).

import { describe, expect, it } from "vitest";
import { Rng } from "../../../sim/prng.ts";
import { toBinaryString } from "../../../../src/kv/etcd/bytes.ts";
import { EtcdKv } from "../../../../src/kv/etcd/kv.ts";
import { MemoryMvccStore } from "../../../../src/kv/etcd/memory-store.ts";
import { WatchHub, type Outgoing, type StreamState } from "../../../../src/kv/etcd/watch-hub.ts";
import { FilterType, type WatchCreateRequest, type WatchEvent } from "../../../../src/kv/etcd/watch-types.ts";
import { b64, call } from "./helpers.ts";

const KEYS = ["a", "ab", "b", "b/1", "b/2", "c"];
const te = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** One change as the oracle sees it; `prev` is the key's value before it (null: it did not exist). */
interface Change {
  rev: number;
  type: "PUT" | "DELETE";
  key: string;
  value: string;
  create: number;
  version: number;
  prev: { value: string; mod: number; version: number } | null;
}

/** A plain map of keys, the revision, and every change ever made: the history watchers must see. */
class Oracle {
  rev = 1;
  readonly changes: Change[] = [];
  private readonly keys = new Map<string, { value: string; create: number; mod: number; version: number }>();

  /** One txn of puts (value) and deletes (null) of distinct keys; the revision moves only if something changed. */
  apply(ops: Array<[string, string | null]>): void {
    const rev = this.rev + 1;
    let changed = false;
    for (const [key, value] of ops) {
      const prev = this.keys.get(key);
      const prevView = prev ? { value: prev.value, mod: prev.mod, version: prev.version } : null;
      if (value !== null) {
        const next = { value, create: prev?.create ?? rev, mod: rev, version: (prev?.version ?? 0) + 1 };
        this.keys.set(key, next);
        this.changes.push({ rev, type: "PUT", key, value, create: next.create, version: next.version, prev: prevView });
        changed = true;
      } else if (prev) {
        this.keys.delete(key);
        this.changes.push({ rev, type: "DELETE", key, value: "", create: 0, version: 0, prev: prevView });
        changed = true;
      }
    }
    if (changed) this.rev = rev;
  }
}

interface Range {
  key: string;
  end: string;
  covers: (k: string) => boolean;
}

const RANGES: Range[] = [
  ...KEYS.map((k) => ({ key: k, end: "", covers: (x: string) => x === k })),
  { key: "b/", end: "b0", covers: (x) => x >= "b/" && x < "b0" },
  { key: "ab", end: "\0", covers: (x) => x >= "ab" },
  { key: "\0", end: "\0", covers: () => true },
  { key: "a", end: "b/", covers: (x) => x >= "a" && x < "b/" },
];

/** A client's watch: what it asked, where it is now, and every event it was given. */
interface ClientWatch {
  range: Range;
  filters: number[];
  prevKv: boolean;
  start: number;
  server: 0 | 1;
  stream: number;
  watchId: number;
  got: Array<{ event: WatchEvent; messageRevision: number; message: number }>;
}

interface Replica {
  store: MemoryMvccStore;
  kv: EtcdKv;
  hub: WatchHub<number>;
}

type Limits = { maxRevsPerMessage: number; readSpanRevisions: number };

function replica(limits: Limits): Replica {
  const store = new MemoryMvccStore();
  return { store, kv: new EtcdKv(store), hub: new WatchHub<number>(store, limits) };
}

const wantsEvent = (w: ClientWatch, c: Change) =>
  w.range.covers(c.key) && c.rev >= w.start && !w.filters.some((f) => (f === FilterType.NOPUT ? c.type === "PUT" : c.type === "DELETE"));

function runSchedule(seed: number, steps: number): { delivered: number; moves: number; sleeps: number; watches: number } {
  const rng = new Rng(seed, "watch-history");
  const oracle = new Oracle();
  // Half the seeds with etcd's 1000 revisions per catch-up message, half with 1 to 3 read a few
  // revisions at a time, so that watchers spend many rounds catching up while writes, crashes
  // and sleeps go on.
  const limits: Limits =
    seed % 2 === 0 ? { maxRevsPerMessage: 1000, readSpanRevisions: 10_000 } : { maxRevsPerMessage: rng.int(1, 4), readSpanRevisions: rng.int(1, 8) };
  const replicas: [Replica, Replica] = [replica(limits), replica(limits)];
  const newHub = (server: 0 | 1) => new WatchHub<number>(replicas[server].store, limits);
  const watches: ClientWatch[] = [];
  let nextStream = 0;
  let messageCount = 0;
  let moves = 0;
  let sleeps = 0;
  let compacted = 0;

  /**
   * Each stream's state as a Durable Object keeps it in the socket's attachment: saved when the
   * stream is sent a message, gets a watcher or is restored, so it is often older than the hub's.
   */
  const attachments = new Map<number, StreamState>();

  const deliver = (server: 0 | 1, out: Outgoing<number>[]) => {
    for (const stream of new Set(out.map((o) => o.stream))) attachments.set(stream, replicas[server].hub.state(stream));
    for (const o of out) {
      const r = o.response;
      const w = watches.find((x) => x.server === server && x.stream === o.stream && x.watchId === r.watchId);
      if (w === undefined || r.events.length === 0) continue;
      messageCount++;
      for (const event of r.events) w.got.push({ event, messageRevision: r.revision, message: messageCount });
    }
  };

  /** Opens a stream on `server` with one create; answers the id the hub gave. */
  const watchOn = (w: ClientWatch, server: 0 | 1, start: number) => {
    const stream = nextStream++;
    const hub = replicas[server].hub;
    hub.open(stream);
    const create: WatchCreateRequest = {
      key: te(w.range.key),
      rangeEnd: te(w.range.end),
      startRevision: start,
      progressNotify: false,
      filters: w.filters,
      prevKv: w.prevKv,
      watchId: 0,
      fragment: false,
    };
    w.server = server;
    w.stream = stream;
    const out = hub.handle(stream, { kind: "create", create });
    const created = out[0]!.response;
    expect(created.created && !created.canceled, "created").toBe(true);
    w.watchId = created.watchId;
    deliver(server, out);
    attachments.set(stream, hub.state(stream));
  };

  for (let step = 0; step < steps; step++) {
    const roll = rng.next();
    if (roll < 0.55) {
      const keys = rng.shuffle(KEYS).slice(0, rng.int(1, 4));
      const ops: Array<[string, string | null]> = keys.map((k) => [k, rng.chance(0.7) ? rng.pick(["", "1", "22", "v"]) : null]);
      const body = {
        success: ops.map(([k, v]) => (v === null ? { request_delete_range: { key: b64(k) } } : { request_put: { key: b64(k), value: b64(v) } })),
      };
      for (const server of [0, 1] as const) {
        const answer = call(replicas[server].kv, "txn", body);
        expect(answer.status).toBe(200);
        deliver(server, replicas[server].hub.notify());
      }
      oracle.apply(ops);
    } else if (roll < 0.75) {
      const f = rng.next();
      const w: ClientWatch = {
        range: rng.pick(RANGES),
        filters: f < 0.15 ? [FilterType.NOPUT] : f < 0.3 ? [FilterType.NODELETE] : [],
        prevKv: rng.chance(0.5),
        start: 0,
        server: 0,
        stream: -1,
        watchId: -1,
        got: [],
      };
      // From the past (above the compacted revision: at it, etcd has dropped its deletes), from now on, or from the future.
      const s = rng.next();
      w.start = s < 0.4 ? rng.int(compacted + 1, oracle.rev + 1) : s < 0.8 ? oracle.rev + 1 : oracle.rev + rng.int(2, 5);
      watches.push(w);
      watchOn(w, rng.pick([0, 1] as const), s < 0.4 || s >= 0.8 ? w.start : 0);
    } else if (roll < 0.85) {
      // A server crashes: its hub forgets everything; its clients re-watch on the other one.
      const server = rng.pick([0, 1] as const);
      const other = (1 - server) as 0 | 1;
      replicas[server].hub = newHub(server);
      for (const w of watches.filter((x) => x.server === server)) {
        const last = w.got[w.got.length - 1];
        const resume = last === undefined ? w.start : last.event.kv.modRevision + 1;
        moves++;
        watchOn(w, other, resume);
      }
    } else if (roll < 0.9) {
      // A server sleeps (hibernation): its hub is rebuilt from the streams' attachments alone.
      const server = rng.pick([0, 1] as const);
      const old = replicas[server].hub;
      const fresh = newHub(server);
      const wasBehind = old.hasUnsynced();
      const streams = [...new Set(watches.filter((x) => x.server === server).map((x) => x.stream))];
      // Half the time as a waking Durable Object does (every caught-up watcher was handled
      // through the store's revision), half from the saved nextRevisions alone, which may
      // re-read revisions that had nothing for a watcher but must send nothing twice.
      const revision = rng.chance(0.5) ? replicas[server].store.readMeta().revision : 0;
      const out = streams.flatMap((stream) => fresh.restore(stream, attachments.get(stream)!, revision));
      replicas[server].hub = fresh;
      for (const stream of streams) attachments.set(stream, fresh.state(stream));
      sleeps++;
      if (!wasBehind) expect(out, "a restored stream that was up to date has nothing to catch up").toEqual([]);
      deliver(server, out);
    } else if (roll < 0.93) {
      // A sync round (etcd's every 100 ms) on one server.
      const server = rng.pick([0, 1] as const);
      deliver(server, replicas[server].hub.sync());
    } else if (roll < 0.97 && oracle.rev > 2) {
      // Compaction below every watcher's resume point, so none of them is canceled by it.
      const floor = Math.min(
        oracle.rev,
        ...watches.map((w) => {
          const last = w.got[w.got.length - 1];
          return last === undefined ? w.start : last.event.kv.modRevision + 1;
        }),
      );
      if (floor > compacted + 1) {
        const at = rng.int(compacted + 1, floor);
        for (const server of [0, 1] as const) expect(call(replicas[server].kv, "compaction", { revision: String(at) }).status).toBe(200);
        compacted = at;
      }
    }
  }

  // Every catch-up finishes.
  for (const server of [0, 1] as const) {
    for (let rounds = 0; replicas[server].hub.hasUnsynced(); rounds++) {
      expect(rounds, "catch-up ends").toBeLessThan(10_000);
      deliver(server, replicas[server].hub.sync());
    }
  }
  // Checked in plain code and asserted once per schedule: an expect per event is too slow here.
  let delivered = 0;
  const problems: string[] = [];
  for (const w of watches) {
    const where = `seed ${seed}, watch of ${JSON.stringify(w.range.key)}..${JSON.stringify(w.range.end)} from ${w.start}`;
    const expected = oracle.changes.filter((c) => wantsEvent(w, c));
    const got = w.got.map(({ event }) => ({
      rev: event.kv.modRevision,
      type: event.type,
      key: toBinaryString(event.kv.key),
      value: toBinaryString(event.kv.value),
      create: event.kv.createRevision,
      version: event.kv.version,
    }));
    const same = (i: number) => {
      const { prev: _prev, ...want } = expected[i]!;
      return JSON.stringify(got[i]) === JSON.stringify(want);
    };
    const firstWrong = got.findIndex((_, i) => i >= expected.length || !same(i));
    if (firstWrong >= 0 || got.length !== expected.length) {
      const i = firstWrong >= 0 ? firstWrong : Math.min(got.length, expected.length);
      problems.push(`${where}: event ${i} is ${JSON.stringify(got[i])}, history says ${JSON.stringify(expected[i])} (${got.length} got, ${expected.length} in history)`);
      continue;
    }
    // A revision's events came in one message, stamped at or after it.
    const messageOfRev = new Map<number, number>();
    for (const g of w.got) {
      const rev = g.event.kv.modRevision;
      const seen = messageOfRev.get(rev);
      if (seen !== undefined && seen !== g.message) problems.push(`${where}: revision ${rev} split over two messages`);
      if (g.messageRevision < rev) problems.push(`${where}: revision ${rev} in a message stamped ${g.messageRevision}`);
      messageOfRev.set(rev, g.message);
    }
    // prev_kv: the key's version just before, unless that revision was compacted away when it was sent.
    w.got.forEach(({ event }, i) => {
      const prev = expected[i]!.prev;
      if (!w.prevKv) {
        if (event.prevKv !== null) problems.push(`${where}: prev_kv not asked for`);
      } else if (event.prevKv !== null) {
        const gotPrev = { value: toBinaryString(event.prevKv.value), mod: event.prevKv.modRevision, version: event.prevKv.version };
        if (JSON.stringify(gotPrev) !== JSON.stringify(prev)) problems.push(`${where}: prev_kv ${JSON.stringify(gotPrev)}, history ${JSON.stringify(prev)}`);
      } else if (prev !== null && event.kv.modRevision - 1 >= compacted) {
        problems.push(`${where}: prev_kv missing at revision ${event.kv.modRevision}`);
      }
    });
    delivered += got.length;
  }
  expect(problems.slice(0, 5).join("\n"), `${problems.length} problems`).toBe("");
  return { delivered, moves, sleeps, watches: watches.length };
}

describe("watch history under crashes and re-watches", () => {
  it("every watcher's events equal its range's history: order, no gap, no duplicate (24 seeds)", () => {
    let delivered = 0;
    let moves = 0;
    let watches = 0;
    let sleeps = 0;
    for (let seed = 1; seed <= 24; seed++) {
      const r = runSchedule(seed, 300);
      delivered += r.delivered;
      moves += r.moves;
      sleeps += r.sleeps;
      watches += r.watches;
    }
    if (process.env.WATCH_COUNTS) console.log({ watches, delivered, moves, sleeps });
    // The schedules did what they are for: many watchers, many events, many moves between servers.
    expect(watches).toBeGreaterThan(1000);
    expect(delivered).toBeGreaterThan(10000);
    expect(moves).toBeGreaterThan(1000);
    expect(sleeps).toBeGreaterThan(250);
  });
});
