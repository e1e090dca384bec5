// Watch messages as etcd 3.4's JSON gateway streams them: each WatchResponse is one line
// `{"result": {...}}` (grpc-gateway's stream chunk), jsonpb as the kv answers (encode.ts): fields
// in proto order, zero values omitted (watch_id 0, the event type PUT), int64 as strings. A
// header without a revision (a compaction cancel) keeps only the ids.

import type { HeaderIds } from "./encode.ts";
import { encodeKeyValue, topHeader } from "./encode.ts";
import type { WatchEvent, WatchResponse } from "../watch-types.ts";

type Json = Record<string, unknown>;

function encodeEvent(e: WatchEvent): Json {
  const out: Json = {};
  if (e.type === "DELETE") out.type = "DELETE";
  out.kv = encodeKeyValue(e.kv);
  if (e.prevKv !== null) out.prev_kv = encodeKeyValue(e.prevKv);
  return out;
}

/** The WatchResponse object itself (what a WebSocket frame's `result` holds too). */
export function encodeWatchResponse(r: WatchResponse, ids: HeaderIds): Json {
  const out: Json = { header: topHeader({ revision: r.revision }, ids) };
  if (r.watchId !== 0) out.watch_id = String(r.watchId);
  if (r.created) out.created = true;
  if (r.canceled) out.canceled = true;
  if (r.compactRevision !== 0) out.compact_revision = String(r.compactRevision);
  if (r.cancelReason !== "") out.cancel_reason = r.cancelReason;
  if (r.events.length > 0) out.events = r.events.map(encodeEvent);
  return out;
}

/** One message as a WebSocket text frame: `{"result": ...}`, as the stream's line without its newline. */
export function watchResultFrame(r: WatchResponse, ids: HeaderIds): string {
  return JSON.stringify({ result: encodeWatchResponse(r, ids) });
}

/** One message of the HTTP stream: `{"result": ...}` as its own line. */
export function watchResultLine(r: WatchResponse, ids: HeaderIds): string {
  return `${watchResultFrame(r, ids)}\n`;
}
