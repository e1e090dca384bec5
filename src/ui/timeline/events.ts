// Live events (GET /clusters/{c}/events?since=ms) as timeline entries.
//
// The feed answers {"now", "events": [{t, server, line}]}; a line reads "[1] becomes Leader; ..."
// or "[TEST] Disconnect 2" (server null), the same narration as a text log minus its clock.

import { parseNarration } from "./parse.ts";
import type { LogEntry } from "./types.ts";

export interface FeedEvent {
  readonly t: number;
  readonly server: number | null;
  readonly line: string;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** "14:03:09.250" in the viewer's local time. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(d.getMilliseconds(), 3)}`;
}

export function entryFromEvent(event: FeedEvent): LogEntry {
  const narration = parseNarration(event.line);
  // The event's own server field wins; a line without the "[id]" prefix is kept whole.
  const text = narration ? narration.text : event.line;
  return { at: event.t * 1000, time: formatClock(event.t), server: event.server, text };
}

/**
 * Which `since` to ask for next, and which events are new. The feed answers events newer than
 * `since` and its own `now`, taken before it asked the servers: asking from `now` next time
 * never misses a line but may repeat one, so the cursor drops events it has already taken
 * (same time, server and line). Without a `now` it asks from the newest event seen.
 */
export class EventCursor {
  private next = 0;
  private readonly seen = new Map<string, number>();

  get since(): number {
    return this.next;
  }

  accept(events: readonly FeedEvent[], now?: number): FeedEvent[] {
    const fresh: FeedEvent[] = [];
    let newest = this.next;
    for (const e of events) {
      const key = `${e.t}|${e.server ?? "TEST"}|${e.line}`;
      if (this.seen.has(key)) continue;
      this.seen.set(key, e.t);
      fresh.push(e);
      newest = Math.max(newest, e.t);
    }
    this.next = typeof now === "number" && Number.isFinite(now) ? Math.max(this.next, now) : newest;
    // Only events at or after `since` can come back (if the feed were inclusive): forget the rest.
    for (const [key, t] of this.seen) if (t < this.next) this.seen.delete(key);
    return fresh.sort((a, b) => a.t - b.t);
  }
}
