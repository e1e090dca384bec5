// etcd 3.4's watches on one server, as a pure state machine: its watch streams (an HTTP stream
// or a WebSocket each), their watchers, and what each must be sent. Nothing here keeps events:
// every message is made from the store's rows (RevisionLog), so a watcher is only its definition
// and `nextRevision`, and catching up from the past or after a move is the same read.
//
// What etcd guarantees and this keeps:
//  - a watcher gets every change in its range from its start revision on, in revision order,
//    each once: `nextRevision` moves past a revision exactly when that revision is handled for it;
//  - a revision's events (a whole txn) go in one message stamped with that revision;
//  - a watch from the past first gets its history, after `created`, in messages stamped with the
//    current revision, at most 1000 revisions each (etcd's watchBatchMaxRevs): the first at once,
//    each next one from sync(), which the host calls while hasUnsynced() (etcd syncs its
//    "unsynced" watchers every 100 ms); until it has caught up, notify() leaves it alone, so a
//    long history is never read at once and never holds writes back;
//  - a start below the compacted revision is answered `created`, then `canceled` with
//    `compact_revision` and a header without a revision.
// The caller (the Durable Object, or a test) calls notify() after it applies writes (one or a
// batch: each revision still gets its own message), sync() while hasUnsynced(), and
// progressTick(stream) on each stream's progress interval.

import { compareBytes, EMPTY } from "./bytes.ts";
import { toKeyRange } from "./key-range.ts";
import type { KeyRange, KeyVersion, MvccStore, RevisionLog } from "./store.ts";
import { CATCH_UP_READ_SPAN, eventOf, readBatch, withPrevKv, type BatchLimits } from "./watch-events.ts";
import { copyWatcher, covers, wanted, type WatcherState } from "./watcher.ts";
import {
  ERR_DUPLICATE_WATCH_ID,
  ERR_EMPTY_WATCHER_RANGE,
  WATCH_BATCH_MAX_REVS,
  watchResponse,
  type WatchCreateRequest,
  type WatchRequest,
  type WatchResponse,
} from "./watch-types.ts";

/** One message for one stream. */
export interface Outgoing<S> {
  stream: S;
  response: WatchResponse;
}

/** A stream's whole state: what a WebSocket's attachment holds, and what restore() takes back. */
export interface StreamState {
  /** etcd's nextID: the next id to try for a create without watch_id. */
  nextId: number;
  watchers: SavedWatcher[];
}

/** A watcher as saved: whether it had caught up says whether restore() may trust `handledThrough` for it. */
export type SavedWatcher = WatcherState & { caughtUp: boolean };

/** Every key: what one revision's rows are read over before they are matched to watchers. */
const ALL_KEYS: KeyRange = { start: EMPTY, end: EMPTY };
/** etcd watches key "\0" when the create names no key (the smallest key). */
const SMALLEST_KEY = new Uint8Array([0]);

interface Stream {
  nextId: number;
  watchers: Map<number, WatcherState>;
}

export class WatchHub<S> {
  private readonly streams = new Map<S, Stream>();
  /** The last revision notify() handled; a watcher created since starts above it or caught up to the store. */
  private notified: number;

  /** etcd's 1000 revisions per catch-up message, read 10,000 revisions at a time; smaller in tests to exercise many rounds. */
  private readonly limits: BatchLimits;

  constructor(
    private readonly store: MvccStore & RevisionLog,
    options: { maxRevsPerMessage?: number; readSpanRevisions?: number } = {},
  ) {
    this.notified = store.readMeta().revision;
    this.limits = { maxRevs: options.maxRevsPerMessage ?? WATCH_BATCH_MAX_REVS, readSpan: options.readSpanRevisions ?? CATCH_UP_READ_SPAN };
  }

  open(stream: S): void {
    if (this.streams.has(stream)) throw new Error(`watch stream ${String(stream)} is already open`);
    this.streams.set(stream, { nextId: 0, watchers: new Map() });
  }

  /** The client went away: its watchers go with it (etcd's watchStream.Close). */
  close(stream: S): void {
    this.streams.delete(stream);
  }

  isOpen(stream: S): boolean {
    return this.streams.has(stream);
  }

  /** How many watchers are live (not canceled by compaction), over every stream. */
  watcherCount(): number {
    let n = 0;
    for (const s of this.streams.values()) for (const w of s.watchers.values()) if (!w.compacted) n++;
    return n;
  }

  /** One client message, answered as etcd's recvLoop answers it, then any history the watch needs. */
  handle(stream: S, request: WatchRequest): Outgoing<S>[] {
    const s = this.streamOf(stream);
    const revision = this.store.readMeta().revision;
    switch (request.kind) {
      case "create":
        return this.create(stream, s, request.create, revision);
      case "cancel": {
        if (!s.watchers.has(request.watchId)) return []; // etcd ignores a cancel of an unknown id
        s.watchers.delete(request.watchId);
        return [{ stream, response: watchResponse({ revision, watchId: request.watchId, canceled: true }) }];
      }
      case "progress":
        // 3.4 answers at once, for the whole stream (-1), even while a watch is catching up.
        return [{ stream, response: watchResponse({ revision, watchId: -1 }) }];
      case "none":
        return [];
    }
  }

  /**
   * After writes: every revision not yet handled, in order, to every watcher whose range it
   * touched (one message per watcher per revision, the revision's events together). One read of
   * the new rows however many revisions, and none at all while nobody watches.
   */
  notify(): Outgoing<S>[] {
    const current = this.store.readMeta().revision;
    const from = this.notified + 1;
    this.notified = Math.max(this.notified, current);
    if (from > current || this.watcherCount() === 0) return [];
    const rowsByRevision = new Map<number, KeyVersion[]>();
    for (const row of this.store.changes(ALL_KEYS, from, current)) {
      const rows = rowsByRevision.get(row.modRevision);
      if (rows === undefined) rowsByRevision.set(row.modRevision, [row]);
      else rows.push(row);
    }
    const out: Outgoing<S>[] = [];
    for (let rev = from; rev <= current; rev++) {
      const rows = rowsByRevision.get(rev) ?? [];
      for (const [stream, s] of this.streams) {
        for (const w of s.watchers.values()) {
          // Not there yet (a future start), or still catching up (sync() brings it here).
          if (w.compacted || w.nextRevision > rev || w.nextRevision < from) continue;
          w.nextRevision = rev + 1;
          const response = this.eventsMessage(w, rows.filter((r) => covers(w.range, r.key)), rev);
          if (response !== null) out.push({ stream, response });
        }
      }
    }
    return out;
  }

  /** One round of catching up (etcd's syncWatchers): the next history message of every watcher still behind. */
  sync(): Outgoing<S>[] {
    const revision = this.store.readMeta().revision;
    const out: Outgoing<S>[] = [];
    for (const [stream, s] of this.streams) {
      for (const w of s.watchers.values()) if (this.behind(w, revision)) out.push(...this.catchUp(stream, w, revision));
    }
    return out;
  }

  /** Whether some watcher still has history to catch up: the host should call sync() again. */
  hasUnsynced(): boolean {
    const revision = this.store.readMeta().revision;
    for (const s of this.streams.values()) for (const w of s.watchers.values()) if (this.behind(w, revision)) return true;
    return false;
  }

  /**
   * A progress interval of this stream passed: each progress_notify watcher that has caught up
   * and was sent no event since the last tick gets a message with only a header (the current
   * revision); etcd sends none to a watcher still catching up.
   */
  progressTick(stream: S): Outgoing<S>[] {
    const s = this.streamOf(stream);
    const revision = this.store.readMeta().revision;
    const out: Outgoing<S>[] = [];
    for (const w of s.watchers.values()) {
      if (!w.progressNotify) continue;
      if (w.quietSinceTick && !w.compacted && !this.behind(w, revision)) out.push({ stream, response: watchResponse({ revision, watchId: w.id }) });
      w.quietSinceTick = true;
    }
    return out;
  }

  /**
   * A copy of the stream's state, to keep with its socket while the object sleeps. Saved again
   * whenever the stream is sent a message, gets or loses a watcher, or is restored, it never
   * makes restore() send an event twice or skip one: a watcher's saved `nextRevision` is then at
   * most behind by revisions that had nothing for it, and `caughtUp` is still true if it says so.
   */
  state(stream: S): StreamState {
    const s = this.streamOf(stream);
    const watchers = [...s.watchers.values()].map((w) => ({ ...copyWatcher(w), caughtUp: w.nextRevision > this.notified }));
    return { nextId: s.nextId, watchers };
  }

  /**
   * Opens `stream` again with the watchers it had. `handledThrough`: a revision every watcher that
   * had caught up is known to have been handled through, whatever its saved `nextRevision` says;
   * a Durable Object waking from hibernation passes its store's revision (it ran notify() in the
   * same event as each apply, so nothing applied before it slept is unsent). A watcher still
   * catching up when saved goes on from its `nextRevision`. A watcher still behind the current
   * revision (a state saved earlier, or taken to another replica) catches up from its
   * `nextRevision` exactly as a create from the past does (its first message now, the rest from
   * sync()), without another `created`.
   */
  restore(stream: S, state: StreamState, handledThrough = 0): Outgoing<S>[] {
    this.open(stream);
    const s = this.streamOf(stream);
    s.nextId = state.nextId;
    const revision = this.store.readMeta().revision;
    const out: Outgoing<S>[] = [];
    for (const { caughtUp, ...saved } of state.watchers) {
      const w = copyWatcher(saved);
      if (caughtUp) w.nextRevision = Math.max(w.nextRevision, handledThrough + 1);
      s.watchers.set(w.id, w);
      if (!w.compacted && w.nextRevision <= revision) out.push(...this.catchUp(stream, w, revision));
    }
    return out;
  }

  private create(stream: S, s: Stream, c: WatchCreateRequest, revision: number): Outgoing<S>[] {
    const refuse = (cancelReason: string): Outgoing<S>[] => [
      { stream, response: watchResponse({ revision, watchId: -1, created: true, canceled: true, cancelReason }) },
    ];
    const range = toKeyRange(c.key.length === 0 ? SMALLEST_KEY : c.key, c.rangeEnd);
    if (range.end !== null && range.end.length > 0 && compareBytes(range.start, range.end) >= 0) return refuse(ERR_EMPTY_WATCHER_RANGE);
    let id = c.watchId;
    if (id === 0) {
      while (s.watchers.has(s.nextId)) s.nextId++;
      id = s.nextId++;
    } else if (s.watchers.has(id)) {
      return refuse(ERR_DUPLICATE_WATCH_ID);
    }
    const start = c.startRevision === 0 ? revision + 1 : c.startRevision;
    const w: WatcherState = {
      id,
      range,
      filters: [...c.filters],
      prevKv: c.prevKv,
      progressNotify: c.progressNotify,
      nextRevision: start,
      quietSinceTick: true,
      compacted: false,
    };
    s.watchers.set(id, w);
    const out: Outgoing<S>[] = [{ stream, response: watchResponse({ revision, watchId: id, created: true }) }];
    if (start <= revision) out.push(...this.catchUp(stream, w, revision));
    return out;
  }

  /** Has history left to catch up: behind the store and not handled by notify() (see there). */
  private behind(w: WatcherState, revision: number): boolean {
    return !w.compacted && w.nextRevision <= revision;
  }

  /**
   * etcd's syncWatchers for one watcher: its next batch of history up to `revision` (at most
   * `limits.maxRevs` revisions with rows), or the compaction cancel.
   */
  private catchUp(stream: S, w: WatcherState, revision: number): Outgoing<S>[] {
    const compactedRevision = this.store.readMeta().compactedRevision;
    if (w.nextRevision < compactedRevision) {
      w.compacted = true;
      const response = watchResponse({ revision: 0, watchId: w.id, canceled: true, compactRevision: compactedRevision });
      return [{ stream, response }];
    }
    const batch = readBatch(this.store, w.range, w.nextRevision, revision, this.limits);
    w.nextRevision = batch.next;
    const response = this.eventsMessage(w, batch.rows, revision);
    return response === null ? [] : [{ stream, response }];
  }

  /** The message carrying `rows` to `w`, stamped `revision`; null when its filters leave nothing. */
  private eventsMessage(w: WatcherState, rows: readonly KeyVersion[], revision: number): WatchResponse | null {
    const events = wanted(w, rows.map(eventOf));
    if (events.length === 0) return null;
    w.quietSinceTick = false;
    return watchResponse({
      revision,
      watchId: w.id,
      events: w.prevKv ? events.map((e) => withPrevKv(this.store, e)) : events,
    });
  }

  private streamOf(stream: S): Stream {
    const s = this.streams.get(stream);
    if (s === undefined) throw new Error(`watch stream ${String(stream)} is not open`);
    return s;
  }
}
