// One watch as etcd's mvcc keeps it (watcher.go): the keys it covers, what it filters out, and
// how far it has got. Small and plain on purpose: a Durable Object keeps it in a WebSocket's
// attachment, and another server can take it over from `nextRevision` (see watch-hub.ts).

import { compareBytes, type Bytes } from "./bytes.ts";
import type { KeyRange } from "./store.ts";
import { FilterType, type WatchEvent } from "./watch-types.ts";

export interface WatcherState {
  id: number;
  /** The keys it covers, as a store read takes them (key-range.ts): one key, [start, end), or all ≥ start. */
  range: KeyRange;
  /** FilterType numbers; unknown numbers filter nothing (etcd ignores them). */
  filters: number[];
  prevKv: boolean;
  progressNotify: boolean;
  /**
   * The lowest revision whose events it has not been given: every change below it was delivered
   * or is not in its range (etcd's minRev). A client re-watching elsewhere starts from here.
   */
  nextRevision: number;
  /**
   * etcd's `progress[id]`: true when no event went out since the last progress tick, so the next
   * tick sends a progress notification (only for progress_notify watches).
   */
  quietSinceTick: boolean;
  /**
   * Canceled because its start was compacted: it gets nothing more but keeps its id until a
   * cancel_request, as etcd's watch stream does.
   */
  compacted: boolean;
}

/** A copy that shares nothing mutable with `w` (its keys are never written to, so they are shared). */
export function copyWatcher(w: WatcherState): WatcherState {
  return { ...w, range: { start: w.range.start, end: w.range.end }, filters: [...w.filters] };
}

export function covers(range: KeyRange, key: Bytes): boolean {
  if (range.end === null) return compareBytes(key, range.start) === 0;
  if (compareBytes(key, range.start) < 0) return false;
  return range.end.length === 0 || compareBytes(key, range.end) < 0;
}

/** etcd's filterNoPut / filterNoDelete: true when the watcher does not want the event. */
function filteredOut(filters: readonly number[], event: WatchEvent): boolean {
  return filters.some(
    (f) => (f === FilterType.NOPUT && event.type === "PUT") || (f === FilterType.NODELETE && event.type === "DELETE"),
  );
}

/** The events a watcher wants, in order (etcd's watcher.send applies the filters last). */
export function wanted(w: WatcherState, events: readonly WatchEvent[]): WatchEvent[] {
  return w.filters.length === 0 ? [...events] : events.filter((e) => !filteredOut(w.filters, e));
}
