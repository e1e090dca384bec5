// etcd's watches served by one server (issue 21): one WatchHub over this server's store, and
// the streams that reach it. Every member applies the whole log, so any of them can serve a
// watch, as any etcd member does; the coordinator picks one (routes/watch.ts).
//
// Two forms of a stream, the same messages:
//  - a WebSocket, accepted through the Hibernation API (ctx.acceptWebSocket): the object may
//    sleep and leave memory while its sockets stay open. Its stream id is in the socket's tag,
//    its watchers in its attachment (watch-attachment.ts), saved whenever the socket is sent a
//    message or its watchers change; on wake the constructor rebuilds the hub from
//    ctx.getWebSockets() before anything else runs (WatchHub.restore, trusting the store's
//    revision: notify ran in the same event as every apply, so nothing applied was unsent).
//  - an HTTP stream (POST, etcd's gateway): the body's requests are read whole, then the answer
//    streams `{"result": ...}` lines for as long as the client reads. It holds the object in
//    memory while open (an HTTP request is an event in progress): fine for a test or a short
//    watch; long-lived watchers should take the WebSocket.
//
// What it costs an idle cluster: nothing. A write's apply calls afterApply(), in the same event
// (so the sends leave behind the same output gate as the apply's answer); with no writes,
// nothing here runs, reads or schedules: no alarm, no timer. A watcher catching up from the past
// is served in rounds from a timer every 100 ms (etcd's syncWatchers) until caught up. Only a
// progress_notify watcher needs the object to wake on its own: the alarm then also carries the
// next round of progress notifications (etcd's interval, 10 minutes), and only while one exists.

import type { Bytes } from "../kv/etcd/bytes.ts";
import type { HeaderIds } from "../kv/etcd/codec/encode.ts";
import { encodeError } from "../kv/etcd/codec/encode.ts";
import { watchResultFrame, watchResultLine } from "../kv/etcd/codec/watch-encode.ts";
import type { MvccStore, RevisionLog } from "../kv/etcd/store.ts";
import { readWatchBody, readWatchFrame } from "../kv/etcd/watch-gateway.ts";
import { WatchHub, type Outgoing } from "../kv/etcd/watch-hub.ts";
import type { WatchRequest } from "../kv/etcd/watch-types.ts";
import { WatchStates } from "./watch-attachment.ts";

/** A watch stream's socket carries this tag followed by its stream id. */
const TAG = "watch:";
/** etcd's syncWatchers interval: how often a watcher catching up gets its next batch. */
export const SYNC_MS = 100;
/** etcd's default progress notification interval (--experimental-watch-progress-notify-interval): 10 minutes. */
export const PROGRESS_NOTIFY_MS = 10 * 60_000;
/** WebSocket close codes: 1012 "service restart" (re-watch elsewhere), 1001 "going away" (the cluster is gone). */
export const CLOSE_RESTART = 1012;
export const CLOSE_GONE = 1001;

/** What the host needs from its server, asked when it needs it. */
export interface WatchServer {
  /** The header ids of a message sent now (the term moves). */
  ids(): HeaderIds;
  /** A narration line, "[2] serves watch 1 ...". */
  narrate(line: string): void;
  /** The server's id, for the narration. */
  id(): number;
  /** Wake the object by then (its alarm): a progress notification is due. */
  wakeAt(t: number): void;
}

export class WatchHost {
  private hub: WatchHub<string>;
  private readonly sockets = new Map<string, WebSocket>();
  private readonly http = new Map<string, WritableStreamDefaultWriter<Uint8Array>>();
  private readonly states: WatchStates;
  private syncTimer: ReturnType<typeof setTimeout> | null = null;
  /** When the next progress notifications are due; null while no watcher asked for them (no alarm then). */
  private progressAt: number | null = null;
  /** Messages the wake produced before the server booted (see booted()). */
  private unsent: Outgoing<string>[] = [];
  /** The store's revision the hub last handled (after each apply): a snapshot installed past it is checked against its compaction. */
  private handled: number;

  constructor(
    private readonly ctx: DurableObjectState,
    private store: MvccStore & RevisionLog,
    private readonly server: WatchServer,
    private readonly progressMs = PROGRESS_NOTIFY_MS,
  ) {
    this.states = new WatchStates(ctx.storage.sql);
    this.hub = new WatchHub(store);
    this.handled = store.readMeta().revision;
    this.restoreSockets();
  }

  /** How many watchers this server serves now (status: the dashboard's watchers per server). */
  watcherCount(): number {
    return this.hub.watcherCount();
  }

  /** How many streams are open (WebSockets and HTTP streams). */
  streamCount(): number {
    return this.sockets.size + this.http.size;
  }

  /**
   * A watch request forwarded by the coordinator: a WebSocket upgrade (any method with
   * `Upgrade: websocket`) or a POST whose body holds the requests.
   */
  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() === "websocket") return this.acceptSocket();
    if (request.method !== "POST") return jsonError(405, "method_not_allowed", "POST the watch requests, or open a WebSocket");
    const text = await request.text();
    // As openWatchStream (watch-gateway.ts), one request at a time so each create is narrated.
    const body = readWatchBody(text);
    if (!body.ok) return Response.json(encodeError(body.error), { status: 500 });
    const streamId = crypto.randomUUID();
    this.hub.open(streamId);
    const out = body.requests.flatMap((request) => this.handle(streamId, request));
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    this.http.set(streamId, writer);
    // The client went away (the readable side was canceled): its watchers go with it.
    writer.closed.catch(() => this.closeStream(streamId));
    this.send(out);
    this.scheduleSync(); // a watch from the past gets the rest of its history in rounds
    this.armProgress();
    return new Response(readable, { status: 200, headers: { "Content-Type": "application/json" } });
  }

  /** A client message on a socket: one WatchRequest per frame. */
  message(ws: WebSocket, data: string | ArrayBuffer): void {
    const streamId = streamIdOf(this.ctx, ws);
    if (streamId === null || !this.hub.isOpen(streamId)) return;
    const frame = readWatchFrame(typeof data === "string" ? data : new TextDecoder().decode(data));
    if (!frame.ok) {
      // The gateway's error object, as the stream form answers a body it cannot read; the stream stays.
      this.trySend(ws, JSON.stringify({ error: encodeError(frame.error) }));
      return;
    }
    this.send(this.handle(streamId, frame.request));
    this.save(streamId); // its watchers may have changed even if nothing was sent
    this.scheduleSync(); // a watch from the past gets the rest of its history in rounds
    this.armProgress();
  }

  /** The client closed its socket (or it failed): its watchers go. */
  closed(ws: WebSocket): void {
    try {
      ws.close(1000, "closed"); // answer the client's close (a runtime that already did ignores it)
    } catch {
      // already closed
    }
    const streamId = streamIdOf(this.ctx, ws);
    if (streamId !== null) this.closeStream(streamId);
  }

  /**
   * After an apply (same event): every new revision to every watcher it concerns. `installed`:
   * a snapshot replaced the store. If that snapshot was compacted past what the hub had
   * handled, the revisions between are gone and no watcher can be brought across them here:
   * every stream is closed as a server restart, and each client re-watches from its last
   * event's mod_revision + 1 (on this server or another: compacted, it is told so).
   */
  afterApply(installed: boolean): void {
    if (this.unsent.length > 0) this.booted(); // (boot's own first apply comes before booted())
    const meta = this.store.readMeta();
    if (installed && meta.compactedRevision > this.handled) {
      this.closeAll(CLOSE_RESTART, "snapshot installed past this stream: re-watch from your last event's revision + 1");
      this.hub = new WatchHub(this.store);
    }
    this.handled = meta.revision;
    if (this.hub.watcherCount() === 0) {
      this.hub.notify(); // nobody watches: it reads nothing, and moves past the revision
      return;
    }
    this.send(this.hub.notify());
    this.scheduleSync();
  }

  /**
   * Every stream ends (the server crashes, is evicted, retires, or the cluster is deleted).
   * Each client keeps the last event it was given and re-watches from the next revision.
   */
  closeAll(code: number, reason: string): void {
    for (const [streamId, ws] of this.sockets) {
      try {
        ws.close(code, reason);
      } catch {
        // already closed
      }
      this.closeStream(streamId);
    }
    for (const [streamId, writer] of this.http) {
      writer.close().catch(() => undefined);
      this.closeStream(streamId);
    }
  }

  /** The cluster was deleted: streams end, and a new hub serves the new (empty) store. */
  reset(store: MvccStore & RevisionLog): void {
    this.closeAll(CLOSE_GONE, "cluster deleted");
    this.store = store;
    this.hub = new WatchHub(store);
    this.handled = store.readMeta().revision;
  }

  private acceptSocket(): Response {
    const pair = new WebSocketPair();
    const client = pair[0];
    const ws = pair[1];
    const streamId = crypto.randomUUID();
    this.ctx.acceptWebSocket(ws, [TAG + streamId]);
    this.hub.open(streamId);
    this.sockets.set(streamId, ws);
    this.save(streamId);
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * On wake: every watch socket back into the hub, as its attachment left it. What a watcher
   * still catching up gets at once waits for booted(): a message's header names the server and
   * its term, which the server knows only once it has booted.
   */
  private restoreSockets(): void {
    const revision = this.store.readMeta().revision;
    for (const ws of this.ctx.getWebSockets()) {
      const saved = this.states.load(ws);
      if (saved === null || this.hub.isOpen(saved.streamId)) continue;
      this.sockets.set(saved.streamId, ws);
      this.unsent.push(...this.hub.restore(saved.streamId, saved.state, revision));
    }
  }

  /** The server has booted (it knows its id and term): send what the wake left to send, and save each socket's state. */
  booted(): void {
    const out = this.unsent;
    this.unsent = [];
    this.send(out);
    for (const streamId of this.sockets.keys()) this.save(streamId);
    this.scheduleSync();
    this.armProgress();
  }

  /**
   * The object's alarm fired: if progress notifications are due, each stream's progress_notify
   * watchers that were sent nothing since the last round get one (WatchHub.progressTick), and
   * the next round is set while any such watcher remains.
   */
  progress(now: number): void {
    if (this.progressAt === null || now < this.progressAt) return;
    this.progressAt = null;
    for (const streamId of [...this.sockets.keys(), ...this.http.keys()]) this.send(this.hub.progressTick(streamId));
    this.armProgress();
  }

  /** When the object must wake for progress notifications (Infinity: never; the alarm stays free). */
  wakeAt(): number {
    return this.progressAt ?? Infinity;
  }

  /** A progress_notify watcher exists and no round is set: set one, progressMs from now (etcd's ticker per stream, here one for all). */
  private armProgress(): void {
    if (this.progressAt !== null) return;
    const wanted = [...this.sockets.keys(), ...this.http.keys()].some((id) =>
      this.hub.isOpen(id) ? this.hub.state(id).watchers.some((w) => w.progressNotify && !w.compacted) : false,
    );
    if (!wanted) return;
    this.progressAt = Date.now() + this.progressMs;
    this.server.wakeAt(this.progressAt);
  }

  private closeStream(streamId: string): void {
    this.hub.close(streamId);
    this.sockets.delete(streamId);
    this.http.delete(streamId);
    this.states.forget(streamId);
  }

  /** Sends each message to its stream, then saves the state of each socket that was sent one. */
  private send(out: readonly Outgoing<string>[]): void {
    if (out.length === 0) return;
    const ids = this.server.ids();
    const touched = new Set<string>();
    for (const { stream, response } of out) {
      const ws = this.sockets.get(stream);
      if (ws !== undefined) {
        if (this.trySend(ws, watchResultFrame(response, ids))) touched.add(stream);
        else this.closeStream(stream);
        continue;
      }
      const writer = this.http.get(stream);
      if (writer !== undefined) writer.write(new TextEncoder().encode(watchResultLine(response, ids))).catch(() => this.closeStream(stream));
    }
    for (const stream of touched) this.save(stream);
  }

  private trySend(ws: WebSocket, text: string): boolean {
    try {
      ws.send(text);
      return true;
    } catch {
      return false; // the socket closed under us; webSocketClose follows
    }
  }

  private save(streamId: string): void {
    const ws = this.sockets.get(streamId);
    if (ws !== undefined && this.hub.isOpen(streamId)) this.states.save(ws, streamId, this.hub.state(streamId));
  }

  /** While a watcher is catching up, the next round in SYNC_MS (a timer, not an alarm: it runs only while there is history to send). */
  private scheduleSync(): void {
    if (this.syncTimer !== null || !this.hub.hasUnsynced()) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      this.send(this.hub.sync());
      this.scheduleSync();
    }, SYNC_MS);
  }

  /** One client request, narrated when it creates or cancels a watch: `[2] serves watch 1 on "a".."b" from revision 7`. */
  private handle(streamId: string, request: WatchRequest): Outgoing<string>[] {
    const out = this.hub.handle(streamId, request);
    const me = this.server.id();
    const first = out[0]?.response;
    if (request.kind === "create" && first !== undefined && first.created && !first.canceled) {
      const c = request.create;
      const start = c.startRevision === 0 ? first.revision + 1 : c.startRevision;
      this.server.narrate(`[${me}] serves watch ${first.watchId} on ${rangeText(c.key, c.rangeEnd)} from revision ${start}`);
    }
    if (request.kind === "cancel" && first !== undefined && first.canceled) this.server.narrate(`[${me}] ends watch ${first.watchId}`);
    return out;
  }
}

/** The stream id in a socket's tag, or null for a socket that is not a watch stream. */
function streamIdOf(ctx: DurableObjectState, ws: WebSocket): string | null {
  const tag = ctx.getTags(ws).find((t) => t.startsWith(TAG));
  return tag === undefined ? null : tag.slice(TAG.length);
}

function rangeText(key: Bytes, rangeEnd: Bytes): string {
  const text = (b: Bytes) => JSON.stringify(new TextDecoder().decode(b));
  if (rangeEnd.length === 0) return text(key);
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return `${text(key)}..`;
  return `${text(key)}..${text(rangeEnd)}`;
}

function jsonError(status: number, error: string, message: string): Response {
  return Response.json({ error, message }, { status });
}
