// POST /v3/watch as etcd 3.4's JSON gateway (grpc-gateway v1 over HTTP/1.1) takes it: the body is
// the client's messages, one JSON value after another, read in full before anything is answered.
// The first message decides the answer: if it cannot be read as a WatchRequest the gateway
// answers HTTP 500, gRPC code 2 (Unknown) and one error object with Go's text, and there is no
// stream. Otherwise the answer is 200 and a stream of `{"result": ...}` lines; a later message
// that cannot be read ends the reading silently (the stream stays open). The same messages flow
// one per WebSocket frame in the WebSocket form (readWatchFrame).

import { decodeValues } from "./codec/body.ts";
import { encodeError } from "./codec/encode.ts";
import { WatchRequestSchema } from "./codec/watch-parse.ts";
import { EtcdError } from "./errors.ts";
import type { Outgoing, WatchHub } from "./watch-hub.ts";
import type { WatchRequest } from "./watch-types.ts";

/** grpc's Unknown, which the gateway gives an error that is not a gRPC status. */
const UNKNOWN = 2;

export type WatchBody = { ok: true; requests: WatchRequest[] } | { ok: false; error: EtcdError };

/** The requests in a watch body, in order; an error only when the first one cannot be read. */
export function readWatchBody(text: string): WatchBody {
  const { values, error } = decodeValues(text);
  const requests: WatchRequest[] = [];
  for (const value of values) {
    const r = WatchRequestSchema.safeParse(value);
    if (!r.success) return requests.length === 0 ? { ok: false, error: streamError(r.error.issues[0]?.message) } : { ok: true, requests };
    requests.push(r.data);
  }
  if (error !== null && requests.length === 0) return { ok: false, error: streamError(error.message) };
  return { ok: true, requests };
}

/** One WebSocket frame's text: one request, or why it is not one (the same texts as the stream's). */
export function readWatchFrame(text: string): { ok: true; request: WatchRequest } | { ok: false; error: EtcdError } {
  const { values, error } = decodeValues(text);
  if (values.length === 0) return { ok: false, error: streamError(error?.message ?? "EOF") };
  const r = WatchRequestSchema.safeParse(values[0]);
  return r.success ? { ok: true, request: r.data } : { ok: false, error: streamError(r.error.issues[0]?.message) };
}

export type WatchOpenAnswer<S> =
  | { status: 200; out: Outgoing<S>[] }
  | { status: 500; body: Record<string, unknown> };

/**
 * Opens `stream` on the hub from a POST body and answers what etcd answers at once: 200 with the
 * messages the requests produced (created, canceled, progress, history), or 500 and no stream.
 */
export function openWatchStream<S>(hub: WatchHub<S>, stream: S, text: string): WatchOpenAnswer<S> {
  const body = readWatchBody(text);
  if (!body.ok) return { status: 500, body: encodeError(body.error) };
  hub.open(stream);
  return { status: 200, out: body.requests.flatMap((request) => hub.handle(stream, request)) };
}

function streamError(message: string | undefined): EtcdError {
  return new EtcdError(500, UNKNOWN, message ?? "bad request");
}
