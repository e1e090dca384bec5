// Lease answers as etcd 3.4's JSON gateway writes them: jsonpb with the proto's names (`ID`,
// `TTL`, `grantedTTL`), zero values omitted (so an unknown lease's keepalive has no `TTL`, and a
// timetolive without keys no `keys`), int64 as strings, keys as base64. Keepalive is a stream in
// the gateway: each answer is wrapped in `{"result": ...}`.

import { encodeBase64 } from "../bytes.ts";
import type {
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
} from "../lease-types.ts";
import { putInt, topHeader, type HeaderIds, type Json } from "./encode.ts";

export function encodeLeaseGrant(r: LeaseGrantResponse, ids: HeaderIds): Json {
  const out: Json = { header: topHeader(r.header, ids) };
  putInt(out, "ID", r.ID);
  putInt(out, "TTL", r.TTL);
  return out;
}

export const encodeLeaseRevoke = (r: LeaseRevokeResponse, ids: HeaderIds): Json => ({ header: topHeader(r.header, ids) });

export function encodeLeaseKeepAlive(r: LeaseKeepAliveResponse, ids: HeaderIds): Json {
  const result: Json = { header: topHeader(r.header, ids) };
  putInt(result, "ID", r.ID);
  putInt(result, "TTL", r.TTL);
  return { result };
}

export function encodeLeaseTimeToLive(r: LeaseTimeToLiveResponse, ids: HeaderIds): Json {
  const out: Json = { header: topHeader(r.header, ids) };
  putInt(out, "ID", r.ID);
  putInt(out, "TTL", r.TTL);
  putInt(out, "grantedTTL", r.grantedTTL);
  if (r.keys.length > 0) out.keys = r.keys.map(encodeBase64);
  return out;
}

export function encodeLeaseLeases(r: LeaseLeasesResponse, ids: HeaderIds): Json {
  const out: Json = { header: topHeader(r.header, ids) };
  if (r.leases.length > 0) {
    out.leases = r.leases.map((l) => {
      const status: Json = {};
      putInt(status, "ID", l.ID);
      return status;
    });
  }
  return out;
}
