// What the recorded lease fixtures exercise, counted from etcd's answers (as coverage.ts does
// for the kv fixtures), so a test can assert every lease feature of issue 21 item 2 is covered.

import type { TimedFixture, TimedFixtureStep } from "./fixture.ts";
import { EXPIRY_WAIT_MS } from "./generate-lease.ts";

type Json = Record<string, any>;

/** Every lease feature the fixtures must cover. */
export const REQUIRED_LEASE_FEATURES: readonly string[] = [
  "grant without ID", "grant with ID", "grant negative ID", "grant TTL below minimum becomes 2",
  "grant duplicate ID error", "grant too large TTL error",
  "revoke", "revoke unknown lease error", "revoke alias /v3/kv/lease/revoke", "revoke deletes 2+ keys at one revision",
  "keepalive", "keepalive unknown lease (no TTL)",
  "timetolive with keys", "timetolive keys listed", "timetolive without keys", "timetolive unknown lease (TTL -1)",
  "timetolive alias /v3/kv/lease/timetolive", "timetolive TTL below granted",
  "leases list", "leases list empty",
  "put with lease", "put unknown lease error", "put ignore_lease", "put ignore_lease on missing key error",
  "put ignore_lease with lease error", "put prev_kv shows lease",
  "txn LEASE compare succeeded", "txn LEASE compare failed", "txn put with lease",
  "range shows a key's lease",
  "expiry: keys gone after waiting past TTL", "expiry deletes 2+ keys at one revision", "expiry: lease unknown afterwards",
  "wait before request", "error malformed request", "keepalive malformed (code 2)", "error body not an object",
];

const ALL = "AA==";

/** Counts of each feature over all steps of all lease fixtures. */
export function leaseCoverage(fixtures: readonly TimedFixture[]): Map<string, number> {
  const counts = new Map<string, number>();
  const hit = (feature: string): void => void counts.set(feature, (counts.get(feature) ?? 0) + 1);
  for (const fixture of fixtures) {
    let revision = 1;
    /** Keys per lease as the last all-keys range showed them. */
    let keysByLease = new Map<string, number>();
    const expired = new Set<string>();
    for (const step of fixture.steps) {
      const before = revision;
      classify(step, before, keysByLease, expired, hit);
      const res = step.response as Json | null;
      const header = res?.header ?? res?.result?.header;
      if (header?.revision !== undefined) revision = Number(header.revision);
      if (step.path === "/v3/kv/range" && step.status === 200 && isAll(step.request)) {
        const kvs = (res?.kvs ?? []) as Json[];
        const next = new Map<string, number>();
        for (const kv of kvs) if (kv.lease) next.set(kv.lease, (next.get(kv.lease) ?? 0) + 1);
        // Keys that vanished across a wait past the TTL: their lease expired.
        if (step.wait_ms >= EXPIRY_WAIT_MS) {
          for (const [lease, n] of keysByLease) {
            if (!next.has(lease)) {
              hit("expiry: keys gone after waiting past TTL");
              if (n >= 2 && revision === before + 1) hit("expiry deletes 2+ keys at one revision");
              expired.add(lease);
            }
          }
        }
        keysByLease = next;
      }
    }
  }
  return counts;
}

function isAll(request: unknown): boolean {
  const r = request as Json | null;
  return r?.key === ALL && r?.range_end === ALL;
}

function classify(step: TimedFixtureStep, before: number, keysByLease: Map<string, number>, expired: Set<string>, hit: (f: string) => void): void {
  const req = (step.request ?? {}) as Json;
  const res = (step.response ?? {}) as Json;
  const ok = step.status === 200;
  const code = res.code as number | undefined;
  if (step.wait_ms > 0) hit("wait before request");
  if (!ok && code === 3 && typeof res.error === "string" && (res.error.startsWith("json:") || res.error.startsWith("invalid character"))) hit("error malformed request");
  const isObj = typeof step.request === "object" && step.request !== null && !Array.isArray(step.request);
  if (!isObj && step.request !== null && !ok) hit("error body not an object");
  switch (step.path) {
    case "/v3/lease/grant":
      if (!isObj) return;
      if (ok) {
        hit(req.ID === undefined ? "grant without ID" : "grant with ID");
        if (req.ID !== undefined && Number(req.ID) < 0) hit("grant negative ID");
        if (Number(req.TTL) < 2 && res.TTL === "2") hit("grant TTL below minimum becomes 2");
      } else if (code === 9) hit("grant duplicate ID error");
      else if (code === 11 && /too large/.test(String(res.error))) hit("grant too large TTL error");
      return;
    case "/v3/lease/revoke":
    case "/v3/kv/lease/revoke":
      if (ok) {
        hit("revoke");
        if (step.path === "/v3/kv/lease/revoke") hit("revoke alias /v3/kv/lease/revoke");
        if ((keysByLease.get(String(req.ID)) ?? 0) >= 2 && Number(res.header?.revision) === before + 1) hit("revoke deletes 2+ keys at one revision");
      } else if (code === 5) hit("revoke unknown lease error");
      return;
    case "/v3/lease/keepalive":
      if (ok && res.result?.ID !== undefined) hit(res.result.TTL === undefined ? "keepalive unknown lease (no TTL)" : "keepalive");
      if (!ok && code === 2) hit("keepalive malformed (code 2)");
      return;
    case "/v3/lease/timetolive":
    case "/v3/kv/lease/timetolive":
      if (!ok) return;
      if (step.path === "/v3/kv/lease/timetolive") hit("timetolive alias /v3/kv/lease/timetolive");
      if (res.TTL === "-1") {
        hit("timetolive unknown lease (TTL -1)");
        if (expired.has(String(req.ID))) hit("expiry: lease unknown afterwards");
        return;
      }
      hit(req.keys === true ? "timetolive with keys" : "timetolive without keys");
      if (Array.isArray(res.keys) && res.keys.length > 0) hit("timetolive keys listed");
      if (Number(res.TTL) < Number(res.grantedTTL)) hit("timetolive TTL below granted");
      return;
    case "/v3/lease/leases":
      if (ok) hit(Array.isArray(res.leases) && res.leases.length > 0 ? "leases list" : "leases list empty");
      return;
    case "/v3/kv/put":
      if (ok && req.lease !== undefined && req.lease !== "0" && !req.ignore_lease) hit("put with lease");
      if (ok && req.ignore_lease) hit("put ignore_lease");
      if (ok && res.prev_kv?.lease) hit("put prev_kv shows lease");
      if (code === 5 && req.lease !== undefined) hit("put unknown lease error");
      if (code === 3 && req.ignore_lease && /key not found/.test(String(res.error))) hit("put ignore_lease on missing key error");
      if (code === 3 && req.ignore_lease && /lease is provided/.test(String(res.error))) hit("put ignore_lease with lease error");
      return;
    case "/v3/kv/txn": {
      if (!ok) return;
      const leaseCompare = ((req.compare ?? []) as Json[]).some((c) => c.target === "LEASE");
      if (leaseCompare) hit(res.succeeded ? "txn LEASE compare succeeded" : "txn LEASE compare failed");
      const leasedPut = ((req.success ?? []) as Json[]).some((o) => o.request_put?.lease && o.request_put.lease !== "0");
      if (res.succeeded && leasedPut) hit("txn put with lease");
      return;
    }
    case "/v3/kv/range":
      if (ok && ((res.kvs ?? []) as Json[]).some((kv) => kv.lease)) hit("range shows a key's lease");
      return;
  }
}

