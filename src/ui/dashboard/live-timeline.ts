// The dashboard's event timeline: the shared renderer fed by the cluster's event feed.
// Rows are appended as they arrive (the table is never rebuilt while following), the DOM
// keeps the newest MAX_SHOWN rows, and a larger buffer lets Pause and the filter re-draw.

import { entryFromEvent, type FeedEvent } from "../timeline/events.ts";
import { isHeartbeat } from "../timeline/filters.ts";
import { renderRow, renderTimelineTable } from "../timeline/render.ts";
import { remapRow, sleepChangeIn, StateTracker } from "../timeline/state.ts";
import type { ServerState, TimelineRow } from "../timeline/types.ts";
import type { El } from "./dom.ts";

const MAX_SHOWN = 400;
const MAX_BUFFER = 4000;
const BODY_ID = "tl-body";

export interface LiveTimelineControls {
  scroll: El;
  pause: El;
  clear: El;
  filter: El;
  heartbeats: El;
  follow: El;
  count: El;
}

export class LiveTimeline {
  private servers: number[] = [];
  private tracker = new StateTracker([]);
  private rows: TimelineRow[] = [];
  private readonly said = new Map<number, string>();
  /** When the latest "sleeps" line since the latest "wakes" was said (ms epoch), or null. */
  private sleptAtMs: number | null = null;
  private paused = false;
  private hide: RegExp | null = null;
  private hideHeartbeats: boolean;
  /** Why the feed could not be read, shown beside the count until it can again. */
  private trouble: string | null = null;

  constructor(private readonly ui: LiveTimelineControls) {
    this.hideHeartbeats = ui.heartbeats.checked;
    ui.heartbeats.addEventListener("change", () => {
      this.hideHeartbeats = ui.heartbeats.checked;
      this.redraw();
    });
    ui.pause.addEventListener("click", () => {
      this.paused = !this.paused;
      ui.pause.setAttribute("aria-pressed", String(this.paused));
      ui.pause.textContent = this.paused ? "Resume" : "Pause";
      if (!this.paused) this.redraw();
    });
    ui.clear.addEventListener("click", () => {
      this.rows = [];
      this.redraw();
    });
    ui.filter.addEventListener("input", () => {
      this.hide = compileFilter(ui.filter.value);
      ui.filter.classList.toggle("invalid", this.hide === null && ui.filter.value.trim() !== "");
      this.redraw();
    });
  }

  /** Starts over for a cluster whose members are `ids` (ascending, gaps and all), states known from its status. */
  reset(ids: readonly number[], initial: ReadonlyMap<number, { state: ServerState; term: number; asleep?: boolean }> = new Map()): void {
    this.servers = [...ids];
    this.tracker = new StateTracker(this.servers, initial);
    this.rows = [];
    this.said.clear();
    this.sleptAtMs = null;
    this.redraw();
  }

  /**
   * One column per current member: when a server joins it gets a column (blank in the rows
   * from before it joined), when one is removed its column goes (its past lines then span
   * the row). The rows kept are re-aligned and the table drawn again; nothing when unchanged.
   */
  setServers(ids: readonly number[], initial: ReadonlyMap<number, { state: ServerState; term: number; asleep?: boolean }> = new Map()): void {
    if (ids.length === this.servers.length && ids.every((id, k) => id === this.servers[k])) return;
    const from = this.servers;
    this.servers = [...ids];
    this.tracker = this.tracker.withServers(this.servers, initial);
    this.rows = this.rows.map((row) => remapRow(row, from, this.servers));
    if (this.paused) return this.updateCount();
    this.redraw();
  }

  /** The columns, in order: the members the timeline was last told of. */
  columns(): readonly number[] {
    return this.servers;
  }

  /** Reports a failed poll of the event feed (null: the last poll worked). */
  feedProblem(message: string | null): void {
    if (message === this.trouble) return;
    this.trouble = message;
    this.updateCount();
  }

  /** The latest line (heartbeats aside) a server narrated, for its card. */
  lastSaid(id: number): string | null {
    return this.said.get(id) ?? null;
  }

  /**
   * When the cluster went to sleep, as the feed told it: the time of the newest "sleeps" line
   * (the leader's comes last, once its followers agreed) with no "wakes" after it.
   */
  sleptAt(): number | null {
    return this.sleptAtMs;
  }

  add(events: readonly FeedEvent[]): void {
    if (events.length === 0) return;
    const fresh = events.map((e) => this.tracker.apply(entryFromEvent(e)));
    for (const { entry } of fresh) {
      if (entry.server !== null && !isHeartbeat(entry.text)) this.said.set(entry.server, entry.text);
      const sleep = entry.server === null ? null : sleepChangeIn(entry.text);
      // "reloads asleep" says nothing about when the cluster fell asleep.
      if (sleep === true && entry.text.startsWith("sleeps")) this.sleptAtMs = Math.max(this.sleptAtMs ?? 0, entry.at / 1000);
      if (sleep === false) this.sleptAtMs = null;
    }
    this.rows.push(...fresh);
    if (this.rows.length > MAX_BUFFER) this.rows.splice(0, this.rows.length - MAX_BUFFER);
    if (this.paused) return this.updateCount();

    const body = this.body();
    if (!body) return this.redraw();
    const shown = fresh.filter((r) => this.visible(r));
    if (shown.length > 0) {
      const stick = this.atBottom();
      body.insertAdjacentHTML("beforeend", shown.map((r) => renderRow(r, this.servers)).join(""));
      while (body.childElementCount > MAX_SHOWN) body.firstElementChild?.remove();
      if (stick) this.toBottom();
    }
    this.updateCount();
  }

  private visible(row: TimelineRow): boolean {
    if (this.hideHeartbeats && row.entry.server !== null && isHeartbeat(row.entry.text)) return false;
    if (!this.hide) return true;
    const label = row.entry.server === null ? "[TEST]" : `[${row.entry.server}]`;
    return !this.hide.test(`${label} ${row.entry.text}`);
  }

  private body(): El | null {
    return this.ui.scroll.querySelector(`#${BODY_ID}`);
  }

  /** "Follow newest" keeps the view at the bottom unless the reader scrolled up to look. */
  private atBottom(): boolean {
    const s = this.ui.scroll;
    return this.ui.follow.checked && s.scrollHeight - s.scrollTop - s.clientHeight < 40;
  }

  private toBottom(): void {
    this.ui.scroll.scrollTop = this.ui.scroll.scrollHeight;
  }

  private redraw(): void {
    const shown = this.rows.filter((r) => this.visible(r)).slice(-MAX_SHOWN);
    this.ui.scroll.innerHTML = renderTimelineTable(shown, this.servers, { bodyId: BODY_ID });
    if (this.ui.follow.checked) this.toBottom();
    this.updateCount();
  }

  private updateCount(): void {
    const hidden = this.rows.filter((r) => !this.visible(r)).length;
    const paused = this.paused ? " · paused" : "";
    const trouble = this.trouble ? ` · event feed failing: ${this.trouble}` : "";
    this.ui.count.textContent = `${this.rows.length} events${hidden ? `, ${hidden} hidden` : ""}${paused}${trouble}`;
  }
}

/** The filter box takes a regular expression (case-insensitive); empty or invalid hides nothing. */
export function compileFilter(source: string): RegExp | null {
  const s = source.trim();
  if (!s) return null;
  try {
    return new RegExp(s, "i");
  } catch {
    return null;
  }
}
