// The Keys panel's pure parts: which page of keys to ask for (paging with `after`, as
// `GET /clusters/{c}/kv?prefix=&after=&limit=` pages), and the rows and caption drawn from an
// answer. No DOM and no fetch, so they are tested in Node (test/unit/ui/keys.test.ts);
// keys-panel.ts wires them to the page.

import { escapeHtml } from "../timeline/render.ts";
import type { KeyEntry, KeysPage, KeysQuery } from "./api.ts";

/** The page sizes offered (the API's default is 100, its most 1,000). */
export const PAGE_SIZES = [10, 25, 100] as const;
export const DEFAULT_PAGE_SIZE = 25;

/** A value cell shows this many characters; the full value (up to TITLE_CHARS) is its tooltip. */
const CELL_CHARS = 40;
const TITLE_CHARS = 500;

/**
 * Where the panel is in the key space. The API pages forward only (`after` = the last key
 * seen), so going back means remembering where each earlier page started: `starts` holds the
 * `after` of every page from the first (null) to the current one.
 */
export class KeyPager {
  private prefix_ = "";
  private limit_ = DEFAULT_PAGE_SIZE;
  private starts: (string | null)[] = [null];
  /** The answer for the current position; null while it is being read (or was never read). */
  private shown: KeysPage | null = null;

  get prefix(): string {
    return this.prefix_;
  }
  get limit(): number {
    return this.limit_;
  }
  /** 1 for the first page. */
  get pageNumber(): number {
    return this.starts.length;
  }
  get page(): KeysPage | null {
    return this.shown;
  }

  /** The page to read now. */
  query(): KeysQuery {
    return { prefix: this.prefix_, after: this.starts[this.starts.length - 1] ?? null, limit: this.limit_ };
  }

  /** Another prefix or page size lists from the first page; the same ones stay on this page. */
  filter(prefix: string, limit: number): void {
    if (prefix === this.prefix_ && limit === this.limit_) return;
    this.prefix_ = prefix;
    this.limit_ = limit;
    this.first();
  }

  /**
   * Takes the answer to `query()`. A page past the first that came back empty (its keys were
   * deleted since the page before it was read) is not shown: "step back" says to read the
   * page before it instead.
   */
  accept(page: KeysPage): "shown" | "step back" {
    if (page.keys.length === 0 && this.starts.length > 1) {
      this.previous();
      return "step back";
    }
    this.shown = page;
    return "shown";
  }

  canNext(): boolean {
    return this.shown !== null && this.shown.more && this.shown.keys.length > 0;
  }
  canPrevious(): boolean {
    return this.starts.length > 1;
  }

  /** Moves to the page after the one shown (strictly after its last key). */
  next(): void {
    const last = this.shown?.keys[this.shown.keys.length - 1];
    if (!this.canNext() || !last) return;
    this.starts.push(last.key);
    this.shown = null;
  }
  previous(): void {
    if (this.starts.length > 1) this.starts.pop();
    this.shown = null;
  }
  first(): void {
    this.starts = [null];
    this.shown = null;
  }
  /** Another cluster: nothing listed, no filter. */
  reset(): void {
    this.prefix_ = "";
    this.limit_ = DEFAULT_PAGE_SIZE;
    this.first();
  }
}

/**
 * Text as it can be read in a cell: control characters (a newline, a NUL) written as escapes,
 * so a key or value that holds them does not look like another one.
 */
export function visibleText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, (ch) => {
    const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    return named[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/** At most `max` characters (whole code points), with "…" when cut. */
export function shorten(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join("")}…`;
}

/**
 * One key's row: key, value (shortened), createRevision, modRevision, version, Delete. The
 * Delete button carries its key as JSON (`keyOfDeleteButton` reads it back): the HTML parser
 * would turn a NUL into U+FFFD and a CR into LF in a raw attribute, JSON's escapes survive.
 */
export function keyRowHtml(entry: KeyEntry): string {
  const key = visibleText(entry.key);
  const value = visibleText(entry.value);
  const valueCell =
    entry.value === ""
      ? `<td class="value empty">(empty)</td>`
      : `<td class="value" title="${escapeHtml(shorten(value, TITLE_CHARS))}">${escapeHtml(shorten(value, CELL_CHARS))}</td>`;
  return (
    `<tr>` +
    `<td class="key">${escapeHtml(key)}</td>` +
    valueCell +
    `<td class="num" data-field="createRevision">${entry.createRevision}</td>` +
    `<td class="num" data-field="modRevision">${entry.modRevision}</td>` +
    `<td class="num" data-field="version">${entry.version}</td>` +
    `<td><button type="button" data-key-delete="${escapeHtml(JSON.stringify(entry.key))}" aria-label="Delete key ${escapeHtml(JSON.stringify(entry.key))}">Delete</button></td>` +
    `</tr>`
  );
}

/** The key a row's Delete button deletes; null for anything else. */
export function keyOfDeleteButton(attribute: string | null): string | null {
  if (attribute === null) return null;
  try {
    const key: unknown = JSON.parse(attribute);
    return typeof key === "string" ? key : null;
  } catch {
    return null;
  }
}

export function keyRowsHtml(keys: readonly KeyEntry[]): string {
  return keys.map(keyRowHtml).join("");
}

/** What the page shows and when it was read: "Page 2: 25 keys starting with "a/", read at revision 17; more follow." */
export function keysCaption(page: KeysPage, prefix: string, pageNumber: number): string {
  const where = prefix === "" ? "" : ` starting with ${JSON.stringify(prefix)}`;
  const at = `read at revision ${page.revision}`;
  if (page.keys.length === 0) return `No keys${where} (${at}).`;
  const count = page.keys.length === 1 ? "1 key" : `${page.keys.length} keys`;
  return `Page ${pageNumber}: ${count}${where}, ${at}${page.more ? "; more follow (Next page)" : ""}.`;
}
