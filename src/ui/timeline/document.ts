// Self-contained HTML documents for the CLI: one test's timeline, several tests in one page,
// and an index linking to one file per test. No scripts, no external resources.

import { escapeHtml, renderLegend, renderTimelineTable, TIMELINE_CSS } from "./render.ts";
import { isHeartbeat } from "./filters.ts";
import { serversIn } from "./parse.ts";
import { trackStates } from "./state.ts";
import type { TestLog } from "./types.ts";

const PAGE_CSS = `
body { margin: 0; padding: 16px 20px 40px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: #1d2330; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 4px; }
.meta { color: #4b5366; margin: 0 0 6px; }
.result { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; font-weight: 700; }
.result-PASS { background: #c8efc8; color: #114d11; } .result-FAIL { background: #fbd5da; color: #6d0f1f; }
.result-SKIP, .result-none { background: #e4e6eb; color: #3d4350; }
a { color: #1d4ed8; } a:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
`;

export function testTitle(test: TestLog): string {
  return test.name ?? "log";
}

function resultBadge(test: TestLog): string {
  const r = test.result ?? "none";
  return `<span class="result result-${r}">${test.result ?? "no result"}</span>`;
}

export interface DocumentOptions {
  /** Leave heartbeat lines out of the table (states are still replayed from every line). */
  hideHeartbeats?: boolean;
}

/** A test's timeline section: heading, summary, legend, table. */
export function renderTestSection(test: TestLog, headingLevel: 1 | 2 = 1, id?: string, options: DocumentOptions = {}): string {
  const servers = serversIn(test.entries);
  const all = trackStates(test.entries, servers);
  const rows = options.hideHeartbeats ? all.filter((r) => r.entry.server === null || !isHeartbeat(r.entry.text)) : all;
  const hidden = all.length - rows.length;
  const first = test.entries[0];
  const last = test.entries[test.entries.length - 1];
  const span = first && last ? ` from ${escapeHtml(first.time)} to ${escapeHtml(last.time)}` : "";
  const h = `h${headingLevel}`;
  return (
    `<section${id ? ` id="${escapeHtml(id)}"` : ""}>` +
    `<${h}>${escapeHtml(testTitle(test))} ${resultBadge(test)}</${h}>` +
    `<p class="meta">${test.entries.length} lines${hidden ? ` (${hidden} heartbeat lines hidden)` : ""}, ` +
    `${servers.length} servers${span}</p>` +
    renderLegend() +
    renderTimelineTable(rows, servers) +
    `</section>`
  );
}

function page(title: string, body: string): string {
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><style>${PAGE_CSS}${TIMELINE_CSS}</style></head>` +
    `<body>${body}</body></html>\n`
  );
}

/** One test's timeline as a whole HTML file. */
export function timelineDocument(test: TestLog, options: DocumentOptions = {}): string {
  return page(`${testTitle(test)} — timeline`, renderTestSection(test, 1, undefined, options));
}

/** Several tests in one file (what stdout gets when no --out directory is given). */
export function allTestsDocument(tests: readonly TestLog[], options: DocumentOptions = {}): string {
  const toc = tests
    .map((t, i) => `<li><a href="#test-${i}">${escapeHtml(testTitle(t))}</a> ${resultBadge(t)}</li>`)
    .join("");
  const sections = tests.map((t, i) => renderTestSection(t, 2, `test-${i}`, options)).join("");
  return page("Timelines", `<h1>Timelines</h1><nav aria-label="Tests"><ol>${toc}</ol></nav>${sections}`);
}

/** An index of per-test files; `href` is where each file is, relative to the index. */
export function indexDocument(items: readonly { test: TestLog; href: string }[]): string {
  const list = items
    .map(
      ({ test, href }) =>
        `<li><a href="${escapeHtml(href)}">${escapeHtml(testTitle(test))}</a> ${resultBadge(test)} ` +
        `<span class="meta">${test.entries.length} lines</span></li>`,
    )
    .join("");
  return page("Timelines", `<h1>Timelines</h1><ol>${list}</ol>`);
}
