// One etcd JSON gateway lease call, pure: the path ("/v3/lease/grant", or one of etcd 3.4's
// "/v3/kv/lease/..." aliases), the body text, the header ids, and what only the server knows:
// the time on the leader's clock and, for a grant, the log index of its entry → HTTP status
// and JSON answer, as etcd 3.4 answers them.
//
// Grant and revoke are what every replica applies from the log; keepalive and timetolive are
// answered by the leader from its LeaseExpiry; the list by anyone. Here one LeaseService plays
// the leader that applies, so a grant or revoke also updates its expiry.
//
// Keepalive is a stream in etcd's gateway (handleKeepAliveText): the body may hold several
// requests, each answered by one `{"result": ...}` line.

import { asStreamError, EtcdError } from "./errors.ts";
import type { GatewayAnswer } from "./gateway.ts";
import type { LeaseExpiry } from "./lease-expiry.ts";
import type { EtcdLeases } from "./leases.ts";
import { decodeBody, decodeValues } from "./codec/body.ts";
import { encodeError, type HeaderIds } from "./codec/encode.ts";
import {
  encodeLeaseGrant,
  encodeLeaseKeepAlive,
  encodeLeaseLeases,
  encodeLeaseRevoke,
  encodeLeaseTimeToLive,
} from "./codec/lease-encode.ts";
import {
  LeaseGrantRequestSchema,
  LeaseIdRequestSchema,
  LeaseLeasesRequestSchema,
  LeaseTimeToLiveRequestSchema,
} from "./codec/lease-parse.ts";
import { parseRequest } from "./codec/parse.ts";

/** The unary lease routes; keepalive (KEEPALIVE_PATH) is a stream. */
export const LEASE_PATHS = [
  "/v3/lease/grant",
  "/v3/lease/revoke",
  "/v3/lease/timetolive",
  "/v3/lease/leases",
  "/v3/kv/lease/revoke",
  "/v3/kv/lease/timetolive",
] as const;
export type LeasePath = (typeof LEASE_PATHS)[number];

export const isLeasePath = (path: string): path is LeasePath => (LEASE_PATHS as readonly string[]).includes(path);

export const KEEPALIVE_PATH = "/v3/lease/keepalive";

/** A streamed answer: each message is written as its JSON and a newline; an error object alone, without one. */
export interface StreamAnswer {
  status: number;
  messages: unknown[];
}

/** The replicated lease table and the leader's expiries. */
export interface LeaseService {
  leases: EtcdLeases;
  expiry: LeaseExpiry;
}

/** What a lease call needs from its server: the leader's clock (ms), and a grant's log index (for a chosen ID). */
export interface LeaseCallContext {
  now: number;
  logIndex: number;
}

export function handleLeaseText(
  svc: LeaseService,
  path: LeasePath,
  text: string,
  ids: HeaderIds,
  at: LeaseCallContext,
): GatewayAnswer {
  try {
    return { status: 200, body: dispatch(svc, path, text, ids, at) };
  } catch (e) {
    if (!(e instanceof EtcdError)) throw e;
    return { status: e.httpStatus, body: encodeError(e) };
  }
}

/**
 * etcd's keepalive route, as its gateway runs it: one renewal per request in the body, in order,
 * until the body ends (an empty body: 200 and nothing) or a request cannot be read. If the first
 * cannot, the answer is HTTP 500 with gRPC Unknown (the unary routes say 400 InvalidArgument); a
 * later one just ends the stream after the answers before it.
 */
export function handleKeepAliveText(svc: LeaseService, text: string, ids: HeaderIds, at: LeaseCallContext): StreamAnswer {
  const { values, error: unreadable } = decodeValues(text);
  const messages: unknown[] = [];
  let error = unreadable;
  for (const value of values) {
    let request;
    try {
      request = parseRequest(LeaseIdRequestSchema, value);
    } catch (e) {
      if (!(e instanceof EtcdError)) throw e;
      error = e;
      break;
    }
    messages.push(encodeLeaseKeepAlive(svc.leases.keepAlive(request, svc.expiry, at.now), ids));
  }
  if (messages.length > 0 || error === null) return { status: 200, messages };
  const streamError = asStreamError(error);
  return { status: streamError.httpStatus, messages: [encodeError(streamError)] };
}

function dispatch(svc: LeaseService, path: LeasePath, text: string, ids: HeaderIds, at: LeaseCallContext): unknown {
  const body = decodeBody(text);
  switch (path) {
    case "/v3/lease/grant": {
      const resp = svc.leases.grant(parseRequest(LeaseGrantRequestSchema, body), at.logIndex);
      svc.expiry.granted({ id: resp.ID, ttl: resp.TTL }, at.now);
      return encodeLeaseGrant(resp, ids);
    }
    case "/v3/lease/revoke":
    case "/v3/kv/lease/revoke": {
      const r = parseRequest(LeaseIdRequestSchema, body);
      const resp = svc.leases.revoke(r);
      svc.expiry.revoked(Number(r.ID));
      return encodeLeaseRevoke(resp, ids);
    }
    case "/v3/lease/timetolive":
    case "/v3/kv/lease/timetolive":
      return encodeLeaseTimeToLive(svc.leases.timeToLive(parseRequest(LeaseTimeToLiveRequestSchema, body), svc.expiry, at.now), ids);
    case "/v3/lease/leases":
      parseRequest(LeaseLeasesRequestSchema, body);
      return encodeLeaseLeases(svc.leases.list(svc.expiry, at.now), ids);
  }
}
