// Answer comparison for the lease and watch fixtures, on top of compare.ts (which drops the
// per-cluster header ids). What differs between two honest runs, and nothing else, is forgiven:
//  - lease IDs etcd picked for grants without an ID (mapped in grant order: LeaseIds);
//  - the order of `leases` and of `timetolive`'s `keys` (Go map order: compared as sets);
//  - `timetolive`'s remaining `TTL`, within a slack the caller derives from the two runs' timings.
// Watch steps compare each watch's messages in order (per stream and watch_id: across the watches of
// one stream etcd's order varies); timings (`at_ms`, `sent_ms`) are not compared.

import { diffAnswers } from "./compare.ts";
import type { StreamMessage, TimedFixtureStep, WatchStep } from "./fixture.ts";

type Json = Record<string, any>;

/** Lease IDs etcd chose in a recording, mapped to the IDs another run answered for the same grants. */
export class LeaseIds {
  private readonly ids = new Map<string, string>();

  /** After a grant without ID answered 200 on both sides: remember which ID stands for which. */
  learn(recorded: TimedFixtureStep, actual: unknown): void {
    const asked = recorded.request as Json | null;
    if (recorded.path !== "/v3/lease/grant" || recorded.status !== 200 || asked?.ID !== undefined) return;
    const from = (recorded.response as Json).ID as string;
    const to = (actual as Json | null)?.ID;
    if (typeof to === "string" && from !== to) this.ids.set(from, to);
  }

  /** A deep copy with every string equal to a recorded auto ID replaced by its counterpart. */
  rewrite<T>(x: T): T {
    if (typeof x === "string") return (this.ids.get(x) ?? x) as T;
    if (Array.isArray(x)) return x.map((item) => this.rewrite(item)) as T;
    if (x === null || typeof x !== "object") return x;
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, this.rewrite(v)])) as T;
  }
}

/**
 * null when `actual` answers a lease step as the recording did (after `ids` rewrote the recorded
 * answer), else the first difference. `ttlSlack` is how many seconds a `timetolive` TTL may differ.
 */
export function diffLeaseAnswer(
  recorded: TimedFixtureStep,
  actual: { status: number; response: unknown },
  ids: LeaseIds,
  ttlSlack: number,
): string | null {
  if (recorded.status !== actual.status) return `status: expected ${recorded.status}, got ${actual.status}`;
  const expected = canonicalLease(recorded.path, ids.rewrite(recorded.response));
  const got = canonicalLease(recorded.path, actual.response);
  // A grant without ID: etcd chose the ID, so any ID is the right one (LeaseIds.learn maps it afterwards).
  const chosen = recorded.path === "/v3/lease/grant" && (recorded.request as Json | null)?.ID === undefined;
  if (chosen && isObject(expected) && isObject(got) && typeof expected.ID === "string" && typeof got.ID === "string") got.ID = expected.ID;
  if (recorded.path.endsWith("/timetolive") && isObject(expected) && isObject(got) && expected.TTL !== undefined && got.TTL !== undefined) {
    const drift = Math.abs(Number(expected.TTL) - Number(got.TTL));
    if (drift > ttlSlack) return `$.TTL: expected ${expected.TTL} ± ${ttlSlack}, got ${got.TTL}`;
    got.TTL = expected.TTL;
  }
  return diffAnswers(expected, got);
}

/** Lists in Go map order sorted, so they compare as sets. */
function canonicalLease(path: string, response: unknown): any {
  if (!isObject(response)) return response;
  const copy = structuredClone(response);
  if (path === "/v3/lease/leases" && Array.isArray(copy.leases)) copy.leases.sort((a: Json, b: Json) => String(a.ID).localeCompare(String(b.ID)));
  if (path.endsWith("/timetolive") && Array.isArray(copy.keys)) copy.keys.sort();
  return copy;
}

/**
 * null when a replayed watch step matches the recorded one: the kv answer (if any), the stream's
 * HTTP status (if an open), and for every watch the messages received after the step, in order.
 */
export function diffWatchStep(recorded: WatchStep, actual: WatchStep): string | null {
  if (recorded.do !== actual.do) return `step: expected ${recorded.do}, got ${actual.do}`;
  if (recorded.do === "kv" && actual.do === "kv") {
    if (recorded.status !== actual.status) return `status: expected ${recorded.status}, got ${actual.status}`;
    const d = diffAnswers(recorded.response, actual.response);
    if (d !== null) return `answer ${d}`;
  }
  if (recorded.do === "open" && actual.do === "open" && recorded.status !== actual.status) {
    return `stream ${recorded.stream} status: expected ${recorded.status}, got ${actual.status}`;
  }
  const watches = [...new Set([...recorded.received, ...actual.received].map(watchOf))].sort();
  for (const watch of watches) {
    const d = diffAnswers(messagesOf(recorded.received, watch), messagesOf(actual.received, watch));
    if (d !== null) return `${watch} messages ${d}`;
  }
  return null;
}

/**
 * The order etcd keeps is per watch: messages for different watches of one stream at the same
 * revision come in Go map order (seen: a txn's events for watch 0 and watch 7 in either order).
 * "-1" collects progress answers and refused creates; "error" a stream's error object.
 */
function watchOf(m: StreamMessage): string {
  const message = m.message as Json | null;
  const id = message?.result === undefined ? "error" : String(message.result.watch_id ?? "0");
  return `stream ${m.stream} watch ${id}`;
}

function messagesOf(received: readonly StreamMessage[], watch: string): unknown[] {
  return received.filter((m) => watchOf(m) === watch).map((m) => m.message);
}

function isObject(x: unknown): x is Json {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}
