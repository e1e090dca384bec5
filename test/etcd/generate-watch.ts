// A seeded generator of watch sequences for etcd 3.4's streaming gateway (/v3/watch), recorded
// by record-watch.ts: streams opened with one or more client messages (creates over keys, ranges
// and prefixes, from past, compacted and future revisions, with prev_kv and filters; progress
// requests; cancels), writes and compactions through the kv gateway in between, streams closed.
//
// Deterministic as generate.ts: one seed and the kv answers it is shown give one sequence.
// Recording must also be reproducible, so the generator avoids what etcd answers by a race:
// a cancel in the same body as a create that starts in the past (the catch-up may or may not come
// first), and progress notifications except in a "progress episode" (open a stream with
// progress_notify, wait one notify interval and a half, close it), where exactly one arrives.

import { Rng } from "../sim/prng.ts";
import { b64, prefixEnd } from "./generate.ts";
import type { WatchAction } from "./fixture.ts";

/** Bump when a change to this file changes the sequence a seed produces. */
export const WATCH_GENERATOR_VERSION = 2;

/** etcd's --experimental-watch-progress-notify-interval while recording (default is 10 min). */
export const PROGRESS_NOTIFY_INTERVAL_MS = 2000;

/** What the generator decides; the recorder fills in status, answers and received messages. */
export type WatchOp =
  | { do: "open"; stream: number; body: unknown[] }
  | { do: "kv"; path: string; request: unknown }
  | { do: "close"; stream: number }
  | { do: "wait"; ms: number };

type Json = Record<string, unknown>;

export const WATCH_KEYS: readonly string[] = ["a", "ab", "b", "b/1", "b/2", "c"];
const VALUES: readonly string[] = ["", "1", "22", "value"];
const MAX_OPEN_STREAMS = 4;

export class WatchSequenceGenerator {
  private readonly rng: Rng;
  private revision = 1;
  private compacted = 0;
  private nextStream = 0;
  private readonly open: number[] = [];
  private readonly queue: WatchOp[] = [];

  constructor(readonly seed: number) {
    this.rng = new Rng(seed, "etcd-watch-sequence", WATCH_GENERATOR_VERSION);
  }

  /** Learns the revision and the compacted revision from a kv step's answer. */
  observe(step: WatchAction): void {
    if (step.do !== "kv") return;
    const header = (step.response as { header?: { revision?: string } } | null)?.header;
    if (header?.revision !== undefined) this.revision = Math.max(this.revision, Number(header.revision));
    if (step.path === "/v3/kv/compaction" && step.status === 200) {
      this.compacted = Math.max(this.compacted, Number((step.request as Json).revision));
    }
  }

  next(): WatchOp {
    const queued = this.queue.shift();
    if (queued) return queued;
    const r = this.rng;
    // Writes need someone watching, and a few revisions make the past worth watching.
    if (this.open.length === 0 && this.revision > 3) return this.openStream();
    const roll = r.next();
    if (roll < 0.45) return this.write();
    if (roll < 0.65 && this.open.length < MAX_OPEN_STREAMS) return this.openStream();
    if (roll < 0.75 && this.open.length > 0) return this.close(r.pick(this.open));
    if (roll < 0.8 && this.revision > 4) return this.compaction();
    if (roll < 0.83 && this.revision > 3) return this.progressEpisode();
    return this.write();
  }

  private close(stream: number): WatchOp {
    this.open.splice(this.open.indexOf(stream), 1);
    return { do: "close", stream };
  }

  private openStream(body?: unknown[]): WatchOp {
    const stream = this.nextStream++;
    this.open.push(stream);
    return { do: "open", stream, body: body ?? this.body() };
  }

  /** One or more client messages sent as one request body. */
  private body(): unknown[] {
    const r = this.rng;
    const roll = r.next();
    if (roll < 0.06) return ["not json"]; // sent as the raw text `"not json"`: a string, not a request
    const creates = r.chance(0.7) ? 1 : r.int(2, 4);
    const body: Json[] = [];
    let pastStart = false;
    for (let i = 0; i < creates; i++) {
      const create = this.create();
      if (create.start_revision !== undefined && Number(create.start_revision) <= this.revision) pastStart = true;
      body.push({ create_request: create });
    }
    if (r.chance(0.25)) body.push({ progress_request: {} });
    // Cancel only a watch with no history to catch up: otherwise the cancel races the catch-up.
    if (!pastStart && r.chance(0.2)) body.push({ cancel_request: { watch_id: String(r.chance(0.8) ? r.int(0, creates) : creates + 5) } }); // now and then one that does not exist
    if (r.chance(0.08)) body.push({ create_request: { key: b64("a"), watch_id: "7" } }, { create_request: { key: b64("b"), watch_id: "7" } });
    return body;
  }

  private create(): Json {
    const r = this.rng;
    const req: Json = {};
    const k = r.pick(WATCH_KEYS);
    switch (r.int(0, 6)) {
      case 0:
      case 1:
        req.key = b64(k);
        break;
      case 2:
        req.key = b64("b/");
        req.range_end = b64(prefixEnd("b/"));
        break;
      case 3:
        req.key = b64(k);
        req.range_end = b64(r.pick(WATCH_KEYS));
        break;
      case 4:
        req.key = b64(k);
        req.range_end = b64("\0");
        break;
      default:
        req.key = b64("\0");
        req.range_end = b64("\0");
    }
    const start = r.next();
    if (start < 0.35) {
      // no start_revision: from the next write on
    } else if (start < 0.65) req.start_revision = String(r.int(Math.max(1, this.compacted + 1), this.revision + 1)); // the past, still kept
    else if (start < 0.75 && this.compacted > 0) req.start_revision = String(r.int(1, this.compacted + 1)); // compacted (or exactly at it)
    else if (start < 0.85) req.start_revision = String(this.revision + 1); // the next revision
    else req.start_revision = String(this.revision + r.int(2, 4)); // the future: events only from there on
    if (r.chance(0.4)) req.prev_kv = true;
    const f = r.next();
    if (f < 0.15) req.filters = ["NOPUT"];
    else if (f < 0.3) req.filters = ["NODELETE"];
    else if (f < 0.35) req.filters = [0, 1]; // both, by number
    return req;
  }

  /** A put, a delete (one key or a prefix, maybe of nothing) or a txn whose events come together. */
  private write(): WatchOp {
    const r = this.rng;
    const roll = r.next();
    if (roll < 0.45) {
      return { do: "kv", path: "/v3/kv/put", request: { key: b64(r.pick(WATCH_KEYS)), value: b64(r.pick(VALUES)) } };
    }
    if (roll < 0.7) {
      const req: Json = { key: b64(r.pick(WATCH_KEYS)) };
      if (r.chance(0.3)) req.range_end = b64(prefixEnd(r.pick(["a", "b/"])));
      return { do: "kv", path: "/v3/kv/deleterange", request: req };
    }
    const [k1, k2, k3] = r.shuffle(WATCH_KEYS) as [string, string, string];
    const success: Json[] = [
      { request_put: { key: b64(k1), value: b64(r.pick(VALUES)) } },
      { request_put: { key: b64(k2), value: b64(r.pick(VALUES)) } },
    ];
    if (r.chance(0.5)) success.push({ request_delete_range: { key: b64(k3) } });
    return { do: "kv", path: "/v3/kv/txn", request: { success } };
  }

  private compaction(): WatchOp {
    const r = this.rng;
    const revision = r.int(Math.max(1, this.compacted + 1), this.revision);
    return { do: "kv", path: "/v3/kv/compaction", request: { revision: String(revision), physical: r.chance(0.5) } };
  }

  /** A stream asking progress_notify, left idle for 1.5 notify intervals (one notification), then closed. */
  private progressEpisode(): WatchOp {
    const r = this.rng;
    const create: Json = { key: b64(r.pick(WATCH_KEYS)), progress_notify: true };
    if (r.chance(0.5)) create.range_end = b64("\0");
    const open = this.openStream([{ create_request: create }]);
    const stream = (open as { stream: number }).stream;
    this.queue.push({ do: "wait", ms: Math.round(PROGRESS_NOTIFY_INTERVAL_MS * 1.5) }, this.close(stream));
    return open;
  }
}

/**
 * The whole sequence for one seed, asking `run` to carry out each op (etcd when recording; the
 * recorded fixture when checking the generator) and learning from what it answers.
 */
export async function generateWatchSequence(
  seed: number,
  count: number,
  run: (op: WatchOp, index: number) => Promise<WatchAction> | WatchAction,
): Promise<Array<{ op: WatchOp; done: WatchAction }>> {
  const gen = new WatchSequenceGenerator(seed);
  const out: Array<{ op: WatchOp; done: WatchAction }> = [];
  for (let i = 0; i < count; i++) {
    const op = gen.next();
    const done = await run(op, i);
    gen.observe(done);
    out.push({ op, done });
  }
  return out;
}
