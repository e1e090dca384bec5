// What the recorded watch fixtures exercise, counted from the streams' messages (what etcd
// did), not from what was asked: "watch from a compacted revision" counts when etcd answered
// compact_revision. A test asserts every watch feature of issue 21 item 1 is covered.

import type { WatchFixture } from "./fixture.ts";

type Json = Record<string, any>;

/** Every watch feature the fixtures must cover. */
export const REQUIRED_WATCH_FEATURES: readonly string[] = [
  "create key only", "create key+range_end", "create prefix", "create range_end \\0 (key and above)", "create all keys",
  "create past start_revision: history delivered", "create compacted start_revision: canceled with compact_revision",
  "create future start_revision", "create empty range: canceled",
  "prev_kv on put event", "prev_kv on delete event", "filter NOPUT", "filter NODELETE", "filters by number",
  "put event", "delete event", "txn events in one message", "events of several revisions in one message",
  "several watches on one stream", "explicit watch_id", "duplicate explicit watch_id",
  "progress_request answered", "progress_notify notification", "cancel_request answered",
  "write seen by several streams", "write seen by no stream", "compaction with streams open",
  "stream closed by client", "bad message in body",
];

const ALL = "AA==";

/** Counts of each feature over all steps of all watch fixtures. */
export function watchCoverage(fixtures: readonly WatchFixture[]): Map<string, number> {
  const counts = new Map<string, number>();
  const hit = (feature: string): void => void counts.set(feature, (counts.get(feature) ?? 0) + 1);
  for (const fixture of fixtures) {
    const open = new Set<number>();
    /** Watches that asked progress_notify, as `stream/watch_id`. */
    const notifying = new Set<string>();
    for (const step of fixture.steps) {
      const results = step.received.map((m) => ({ stream: m.stream, result: (m.message as Json).result as Json | undefined, error: (m.message as Json).error }));
      switch (step.do) {
        case "open": {
          open.add(step.stream);
          let creates = 0;
          const explicit = new Set<string>();
          for (const msg of step.body as Json[]) {
            const c = msg?.create_request as Json | undefined;
            if (!c) {
              if (msg?.cancel_request && results.some((r) => r.result?.canceled && !r.result.compact_revision && !r.result.cancel_reason)) hit("cancel_request answered");
              continue;
            }
            creates++;
            if (c.key === ALL && c.range_end === ALL) hit("create all keys");
            else if (c.range_end === ALL) hit("create range_end \\0 (key and above)");
            else if (c.key === "Yi8=" && c.range_end === "YjA=") hit("create prefix");
            else if (c.range_end !== undefined) hit("create key+range_end");
            else hit("create key only");
            const filters = (c.filters ?? []) as unknown[];
            if (filters.includes("NOPUT")) hit("filter NOPUT");
            if (filters.includes("NODELETE")) hit("filter NODELETE");
            if (filters.some((f) => typeof f === "number")) hit("filters by number");
            if (c.watch_id !== undefined) {
              hit("explicit watch_id");
              if (explicit.has(String(c.watch_id))) hit("duplicate explicit watch_id");
              explicit.add(String(c.watch_id));
            }
            if (c.progress_notify) notifying.add(`${step.stream}/${c.watch_id ?? creates - 1}`);
          }
          if (creates > 1) hit("several watches on one stream");
          if (step.body.some((m) => (m as Json)?.progress_request) && results.some((r) => r.result?.watch_id === "-1" && !r.result.created)) hit("progress_request answered");
          if (results.some((r) => r.error !== undefined)) hit("bad message in body");
          if (results.some((r) => r.result?.compact_revision !== undefined && r.result.canceled)) hit("create compacted start_revision: canceled with compact_revision");
          if (results.some((r) => r.result?.cancel_reason)) hit("create empty range: canceled");
          if (results.some((r) => (r.result?.events ?? []).length > 0)) hit("create past start_revision: history delivered");
          const revision = Number(results.find((r) => r.result?.header?.revision)?.result?.header.revision ?? 0);
          if ((step.body as Json[]).some((m) => Number(m?.create_request?.start_revision ?? 0) > revision + 1 && revision > 0)) hit("create future start_revision");
          break;
        }
        case "kv": {
          if (step.path === "/v3/kv/compaction" && step.status === 200 && open.size > 0) hit("compaction with streams open");
          const isWrite = step.path !== "/v3/kv/compaction" && step.path !== "/v3/kv/range";
          const streams = new Set(results.filter((r) => (r.result?.events ?? []).length > 0).map((r) => r.stream));
          if (isWrite && streams.size > 1) hit("write seen by several streams");
          if (isWrite && streams.size === 0 && open.size > 0 && step.status === 200) hit("write seen by no stream");
          break;
        }
        case "close":
          open.delete(step.stream);
          hit("stream closed by client");
          break;
        case "wait":
          break;
      }
      for (const { stream, result } of results) {
        if (!result) continue;
        const events = (result.events ?? []) as Json[];
        for (const e of events) {
          hit(e.type === "DELETE" ? "delete event" : "put event");
          if (e.prev_kv) hit(e.type === "DELETE" ? "prev_kv on delete event" : "prev_kv on put event");
        }
        const revisions = new Set(events.map((e) => e.kv?.mod_revision));
        if (events.length > 1 && revisions.size === 1) hit("txn events in one message");
        if (revisions.size > 1) hit("events of several revisions in one message");
        const quiet = events.length === 0 && !result.created && !result.canceled && result.watch_id !== "-1";
        if (quiet && notifying.has(`${stream}/${result.watch_id ?? "0"}`)) hit("progress_notify notification");
      }
    }
  }
  return counts;
}
