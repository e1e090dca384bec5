// The key/value console: get / put / cas / append / delete through the API's kv routes, each
// answer (or error) written to a results list, newest first. The Keys panel's Delete buttons
// go through it too (`perform`), so every write the page makes is reported in one place and
// followed by one refresh of the key list (`afterWrite`).

import { escapeHtml } from "../timeline/render.ts";
import { ApiError, type Api } from "./api.ts";
import type { El } from "./dom.ts";
import { eventTarget } from "./dom.ts";

export type KvOp = "get" | "put" | "cas" | "append" | "delete";

const MAX_RESULTS = 40;

const quote = (s: string | null) => (s === null ? "null" : JSON.stringify(s));

/** A one-line human reading of an answer, e.g. `GET "k" → "v"`. */
export function describeKvResult(op: KvOp, key: string, result: Record<string, unknown>): string {
  const prev = result["prev"] as string | null | undefined;
  const head = `${op.toUpperCase()} ${quote(key)}`;
  switch (op) {
    case "get": {
      // A store with revisions answers the key's modRevision too (API.md); an older one does not.
      const rev = typeof result["modRevision"] === "number" ? ` (modRevision ${result["modRevision"]})` : "";
      return result["found"] ? `${head} → ${quote(result["value"] as string | null)}${rev}` : `${head} → not found`;
    }
    case "put":
      return result["found"] ? `${head} → stored (was ${quote(prev ?? null)})` : `${head} → stored (new key)`;
    case "cas":
      if (result["swapped"]) return `${head} → swapped (was ${quote(prev ?? null)})`;
      return result["found"] ? `${head} → not swapped (is ${quote(prev ?? null)})` : `${head} → not swapped (no such key)`;
    case "append":
      return result["found"] ? `${head} → appended (was ${quote(prev ?? null)})` : `${head} → created`;
    case "delete":
      return result["found"] ? `${head} → deleted (was ${quote(prev ?? null)})` : `${head} → not found (nothing to delete)`;
  }
}

export class KvConsole {
  constructor(
    private readonly api: Api,
    private readonly cluster: () => string | null,
    private readonly ui: { form: El; key: El; value: El; compare: El; log: El },
    /** Called after every write this console sent (the Keys panel reads the list again). */
    private readonly afterWrite: () => void = () => undefined,
  ) {
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.run("get");
    });
    ui.form.addEventListener("click", (event) => {
      const button = eventTarget(event, "button[data-kv]");
      if (!button || button.getAttribute("type") === "submit") return; // submit handles Get
      void this.run(button.getAttribute("data-kv") as KvOp);
    });
  }

  private run(op: KvOp): Promise<void> {
    return this.perform(op, this.ui.key.value, this.ui.value.value, this.ui.compare.value);
  }

  /**
   * Sends one operation and reports its answer. A write is followed by `afterWrite` whatever
   * its answer: a 504 may have been applied, and a refusal shows the list as it is.
   */
  async perform(op: KvOp, key: string, value = "", compare = ""): Promise<void> {
    const c = this.cluster();
    if (!c) return this.report("Open a cluster first.", true);
    if (key === "") return this.report("Type a key first.", true);
    const started = Date.now();
    try {
      let result: Record<string, unknown>;
      if (op === "get") result = await this.api.kvGet(c, key);
      else if (op === "put") result = await this.api.kvPut(c, key, value);
      else if (op === "cas") result = await this.api.kvCas(c, key, compare, value);
      else if (op === "append") result = await this.api.kvAppend(c, key, value);
      else result = await this.api.kvDelete(c, key);
      this.report(`${describeKvResult(op, key, result)}  (${Date.now() - started} ms)`, false, JSON.stringify(result));
    } catch (err) {
      // The API's own words (e.g. "503 unavailable: no leader ...") say what went wrong.
      const what = err instanceof ApiError ? err.describe() : String(err);
      this.report(`${op.toUpperCase()} ${quote(key)} failed: ${what}`, true);
    }
    if (op !== "get" && c === this.cluster()) this.afterWrite();
  }

  private report(text: string, error: boolean, raw?: string): void {
    const title = raw ? ` title="${escapeHtml(raw)}"` : "";
    this.ui.log.insertAdjacentHTML("afterbegin", `<li class="${error ? "error" : "ok"}"${title}>${escapeHtml(text)}</li>`);
    while (this.ui.log.childElementCount > MAX_RESULTS) {
      const items = this.ui.log.querySelectorAll("li");
      items[items.length - 1]?.remove();
    }
  }
}
