// Where a WebSocket watch stream's state (WatchHub.state: its watchers and how far each got)
// waits while the object hibernates: in the socket's attachment, which costs nothing (it is
// kept by the runtime with the connection, not written to storage). An attachment has a size
// limit, and serializeAttachment throws beyond it: 16,384 bytes serialized in the pinned
// workerd (measured: test/workerd/watch-attachment.test.ts; Cloudflare's docs long said
// 2,048). A watcher takes about 100–200 bytes, so a stream with more than about a hundred
// watchers keeps its state in a SQLite row keyed by its stream id instead, and the attachment
// names the row. That row is rewritten whenever the stream's state is saved: rows written,
// billed, so only the streams that need it pay. Whatever the platform's limit, the throw decides.

import type { StreamState } from "../kv/etcd/watch-hub.ts";

/** What a socket's attachment holds. `state` null: the state is in the watch_stream row. */
export interface WatchAttachment {
  streamId: string;
  state: StreamState | null;
}

const TABLE = `CREATE TABLE IF NOT EXISTS watch_stream (
     stream_id TEXT PRIMARY KEY,
     state TEXT NOT NULL
   ) WITHOUT ROWID`;

export class WatchStates {
  private tableMade = false;
  /** Streams whose state is in a row now (so a close deletes the row, and a smaller state moves back). */
  private readonly inRows = new Set<string>();

  constructor(private readonly sql: SqlStorage) {}

  /** Saves `state` with `ws`: in its attachment when it fits, else in a row. */
  save(ws: WebSocket, streamId: string, state: StreamState): void {
    try {
      ws.serializeAttachment({ streamId, state } satisfies WatchAttachment);
      if (this.inRows.delete(streamId)) this.sql.exec("DELETE FROM watch_stream WHERE stream_id = ?", streamId);
      return;
    } catch {
      // Too big for an attachment (or the socket is gone, and the next line fails the same way).
    }
    this.table();
    this.sql.exec(
      "INSERT INTO watch_stream (stream_id, state) VALUES (?1, ?2) ON CONFLICT (stream_id) DO UPDATE SET state = ?2",
      streamId,
      JSON.stringify(state, bytesAsArrays),
    );
    this.inRows.add(streamId);
    ws.serializeAttachment({ streamId, state: null } satisfies WatchAttachment);
  }

  /** The state saved with `ws`, or null for a socket that never saved one (not a watch stream). */
  load(ws: WebSocket): { streamId: string; state: StreamState } | null {
    const a = ws.deserializeAttachment() as WatchAttachment | null;
    if (a === null || typeof a.streamId !== "string") return null;
    if (a.state !== null) return { streamId: a.streamId, state: a.state };
    this.table();
    const row = this.sql.exec<{ state: string }>("SELECT state FROM watch_stream WHERE stream_id = ?", a.streamId).toArray()[0];
    if (row === undefined) return null;
    this.inRows.add(a.streamId);
    return { streamId: a.streamId, state: JSON.parse(row.state, arraysAsBytes) as StreamState };
  }

  /** The stream closed: its row, if it had one, goes. */
  forget(streamId: string): void {
    if (this.inRows.delete(streamId)) this.sql.exec("DELETE FROM watch_stream WHERE stream_id = ?", streamId);
  }

  private table(): void {
    if (!this.tableMade) this.sql.exec(TABLE);
    this.tableMade = true;
  }
}

/** Keys are Uint8Arrays, which JSON cannot hold: written as {"bytes": [...]}. */
function bytesAsArrays(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? { bytes: Array.from(value) } : value;
}

function arraysAsBytes(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === "object" && "bytes" in value && Array.isArray((value as { bytes: unknown }).bytes)) {
    return new Uint8Array((value as { bytes: number[] }).bytes);
  }
  return value;
}
