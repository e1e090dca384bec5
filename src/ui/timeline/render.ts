// Timeline rows as HTML strings: the same code draws the static file (Node) and the
// dashboard's live timeline (browser, appended row by row), so it builds strings and never
// touches the DOM. One column per server; every cell of a row is shaded by its server's state
// at that moment, so the columns read as bands of Follower / Candidate / Leader / Dead.

import type { ServerState, TimelineRow } from "./types.ts";
import { SERVER_STATES } from "./types.ts";

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** The CSS class that shades a cell: st-follower, st-candidate, st-leader, st-dead. */
export function stateClass(state: ServerState): string {
  return `st-${state.toLowerCase()}`;
}

/**
 * Colours are paired with a hatch (Dead), bold text (transitions) and an edge (asleep) so they
 * are not the only cue. Asleep is drawn over the state's own colour: lighter, with a violet edge.
 */
export const TIMELINE_CSS = `
.tl { border-collapse: separate; border-spacing: 0; table-layout: fixed; width: 100%;
  font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; color: #1d2330; }
.tl th, .tl td { padding: 2px 6px; vertical-align: top; text-align: left;
  border-bottom: 1px solid rgba(0,0,0,.07); overflow-wrap: anywhere; }
.tl thead th { position: sticky; top: 0; z-index: 1; background: #fff; border-bottom: 2px solid #8a93a6;
  font-family: system-ui, sans-serif; font-size: 13px; }
.tl .tl-time { width: 10.5em; color: #4b5366; white-space: nowrap; }
.tl td + td { border-left: 1px solid rgba(0,0,0,.08); }
.st-follower { background-color: #e9eef6; }
.st-candidate { background-color: #ffe7a3; }
.st-leader { background-color: #c8efc8; }
.st-dead { background-color: #cfd2d8; color: #3d4350;
  background-image: repeating-linear-gradient(45deg, transparent 0 5px, rgba(0,0,0,.07) 5px 10px); }
.tl-asleep { background-image: linear-gradient(rgba(255,255,255,.62), rgba(255,255,255,.62));
  box-shadow: inset 4px 0 0 #7c6fd0; }
.tl td.tl-transition { font-weight: 700; }
.tl td.tl-absent { background: #fff; }
.tl tr.tl-test td.tl-event { background: #fbd5da; color: #6d0f1f; font-weight: 700; }
.tl tr.tl-other td.tl-event { background: #f3f3f3; font-style: italic; }
.tl-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; list-style: none; padding: 0; margin: 6px 0;
  font: 13px system-ui, sans-serif; }
.tl-legend li { display: flex; align-items: center; gap: 6px; }
.tl-legend .tl-swatch { display: inline-block; width: 1.2em; height: 1em; border: 1px solid rgba(0,0,0,.25); }
`;

export function renderLegend(): string {
  const items = SERVER_STATES.map(
    (s) => `<li><span class="tl-swatch ${stateClass(s)}"></span>${s}</li>`,
  );
  items.push(`<li><span class="tl-swatch st-follower tl-asleep"></span>asleep (no timers, no heartbeats)</li>`);
  items.push(`<li><span class="tl-swatch" style="background:#fbd5da"></span>[TEST] fault injected</li>`);
  return `<ul class="tl-legend" aria-label="Legend">${items.join("")}</ul>`;
}

export function renderHeader(servers: readonly number[]): string {
  const cols = servers.map((id) => `<th scope="col">server ${id}</th>`).join("");
  return `<tr><th scope="col" class="tl-time">time</th>${cols}</tr>`;
}

/** The `<colgroup>` keeps the server columns equally wide whatever their text. */
function renderColgroup(servers: readonly number[]): string {
  return `<colgroup><col class="tl-time">${servers.map(() => "<col>").join("")}</colgroup>`;
}

export function renderRow(row: TimelineRow, servers: readonly number[]): string {
  const { entry } = row;
  const time = `<td class="tl-time">${escapeHtml(entry.time)}</td>`;
  const column = entry.server === null ? -1 : servers.indexOf(entry.server);
  if (column < 0) {
    // A [TEST] line (or a server without a column) spans every server column.
    const isTest = entry.server === null;
    const label = isTest ? "[TEST]" : `[${entry.server}]`;
    return (
      `<tr class="${isTest ? "tl-test" : "tl-other"}">${time}` +
      `<td class="tl-event" colspan="${Math.max(servers.length, 1)}">${label} ${escapeHtml(entry.text)}</td></tr>`
    );
  }
  const cells = servers.map((id, k) => {
    const state = row.states[k];
    // A server that joined later had no state then: a blank cell, not a made-up Follower.
    if (state == null) return `<td class="tl-absent" data-state="none" title="server ${id}: not a member yet"></td>`;
    const term = row.terms[k];
    const asleep = row.asleep[k] === true;
    const title = `server ${id}: ${state}${term == null ? "" : `, term ${term}`}${asleep ? ", asleep" : ""}`;
    const said = k === column;
    const classes = [stateClass(state)];
    if (asleep) classes.push("tl-asleep");
    if (said) classes.push("tl-said");
    if (said && row.transition) classes.push("tl-transition");
    return (
      `<td class="${classes.join(" ")}" data-state="${state}" title="${escapeHtml(title)}">` +
      `${said ? escapeHtml(entry.text) : ""}</td>`
    );
  });
  return `<tr>${time}${cells.join("")}</tr>`;
}

/** A whole timeline table; `bodyId` lets the dashboard find the body to append rows to. */
export function renderTimelineTable(
  rows: readonly TimelineRow[],
  servers: readonly number[],
  options: { caption?: string; bodyId?: string } = {},
): string {
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : "";
  const bodyId = options.bodyId ? ` id="${escapeHtml(options.bodyId)}"` : "";
  return (
    `<table class="tl">${caption}${renderColgroup(servers)}<thead>${renderHeader(servers)}</thead>` +
    `<tbody${bodyId}>${rows.map((r) => renderRow(r, servers)).join("")}</tbody></table>`
  );
}
