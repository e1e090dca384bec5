// The Keys panel: the open cluster's keys in byte order with their revisions, a prefix
// filter, paging, and a Delete button per key.
//
// Cost rule (docs/operations.md, "Sleeping, evictions and deploys"): listing keys is a
// linearizable read, and every kv operation wakes a sleeping cluster. So the panel reads only
// when the user asks: when it is opened, on Refresh / Next / Previous / First, and after a
// write the page itself made (which woke the cluster already). Never on the status poll's
// timer: a page left open must not keep an idle cluster awake.

import { ApiError, type Api } from "./api.ts";
import type { El } from "./dom.ts";
import { eventTarget } from "./dom.ts";
import { DEFAULT_PAGE_SIZE, KeyPager, keyOfDeleteButton, keyRowsHtml, keysCaption, PAGE_SIZES } from "./keys-list.ts";

export interface KeysPanelUi {
  /** The <details> that holds the panel: opening it is asking for the list. */
  details: El;
  /** Prefix and page size; submitting it (Refresh, or Enter in the prefix) reads again. */
  form: El;
  prefix: El;
  limit: El;
  first: El;
  previous: El;
  next: El;
  caption: El;
  rows: El;
}

export class KeysPanel {
  private readonly pager = new KeyPager();
  /** Numbers each read; only the newest one's answer is drawn (an older one is stale). */
  private reads = 0;
  private reading = false;

  constructor(
    private readonly api: Api,
    private readonly cluster: () => string | null,
    /** Deletes one key through the kv console, which reports it and calls `refreshIfOpen`. */
    private readonly deleteKey: (key: string) => Promise<void>,
    private readonly ui: KeysPanelUi,
  ) {
    ui.details.addEventListener("toggle", () => {
      if (this.isOpen()) this.readAsTheFormSays();
    });
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.readAsTheFormSays();
    });
    ui.first.addEventListener("click", () => this.move(() => this.pager.first()));
    ui.previous.addEventListener("click", () => this.move(() => this.pager.previous()));
    ui.next.addEventListener("click", () => this.move(() => this.pager.next()));
    ui.rows.addEventListener("click", (event) => {
      const button = eventTarget(event, "button[data-key-delete]");
      const key = keyOfDeleteButton(button?.getAttribute("data-key-delete") ?? null);
      if (!button || key === null) return;
      button.disabled = true; // one delete per click; the list is read again afterwards
      void this.deleteKey(key).finally(() => {
        button.disabled = false;
      });
    });
    this.syncButtons();
  }

  /** A `<details>` is open when it has the `open` attribute (the browser toggles it). */
  private isOpen(): boolean {
    return this.ui.details.getAttribute("open") !== null;
  }

  /** After a write the page made: the cluster is awake anyway, so an open list is read again. */
  refreshIfOpen(): void {
    if (this.isOpen()) void this.read();
  }

  /** Another cluster was opened: nothing of the last one's list stays, and nothing is read yet. */
  reset(): void {
    this.reads += 1;
    this.reading = false;
    this.pager.reset();
    this.ui.prefix.value = "";
    this.ui.limit.value = String(this.pager.limit);
    this.ui.rows.innerHTML = "";
    this.say(this.isOpen() ? "Not listed yet: Refresh reads the keys (and wakes the cluster if it sleeps)." : "", false);
    this.syncButtons();
  }

  /** The prefix and page size as the form shows them (another one starts at the first page). */
  private readAsTheFormSays(): void {
    this.pager.filter(this.ui.prefix.value, pageSize(this.ui.limit.value));
    void this.read();
  }

  private move(step: () => void): void {
    step();
    void this.read();
  }

  private async read(): Promise<void> {
    const c = this.cluster();
    if (!c) return this.say("Open a cluster first.", true);
    const read = ++this.reads;
    const query = this.pager.query();
    this.reading = true;
    this.syncButtons();
    this.say("Reading keys…", false);
    try {
      const page = await this.api.kvList(c, query);
      if (read !== this.reads) return;
      if (this.pager.accept(page) === "step back") {
        // Every key of this page was deleted since: show the page before it instead.
        this.reading = false;
        return await this.read();
      }
      this.ui.rows.innerHTML = keyRowsHtml(page.keys);
      this.say(keysCaption(page, query.prefix, this.pager.pageNumber), false);
    } catch (err) {
      if (read !== this.reads) return;
      // The rows would no longer match the caption: the list is gone until a read succeeds.
      this.ui.rows.innerHTML = "";
      // As the rest of the page shows errors: "503 unavailable: no leader ...".
      this.say(`Listing keys failed: ${err instanceof ApiError ? err.describe() : String(err)}`, true);
    } finally {
      if (read === this.reads) {
        this.reading = false;
        this.syncButtons();
      }
    }
  }

  private syncButtons(): void {
    this.ui.next.disabled = this.reading || !this.pager.canNext();
    this.ui.previous.disabled = this.reading || !this.pager.canPrevious();
    this.ui.first.disabled = this.reading || !this.pager.canPrevious();
  }

  private say(text: string, error: boolean): void {
    this.ui.caption.textContent = text;
    this.ui.caption.classList.toggle("error", error);
  }
}

/** The chosen page size, one of those offered (anything else: the default). */
function pageSize(value: string): number {
  const n = Number(value);
  return (PAGE_SIZES as readonly number[]).includes(n) ? n : DEFAULT_PAGE_SIZE;
}
