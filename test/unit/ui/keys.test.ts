// The dashboard's Keys panel (issue 20, item 5): paging with `after`, the rows and caption
// drawn from `GET /clusters/{c}/kv?prefix=&after=&limit=`, Delete through the kv console, and
// the cost rule: the list is read only when asked (opened, Refresh, paging, after the page's
// own write), never by itself. Driven on the small fake DOM with a fake fetch; the browser
// test (test/e2e/dashboard.test.ts) does it for real.
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { dashboardHtml } from "../../../src/ui/dashboard.ts";
import { Api, type KeyEntry, type KeysPage } from "../../../src/ui/dashboard/api.ts";
import type { El } from "../../../src/ui/dashboard/dom.ts";
import { KeyPager, keyOfDeleteButton, keyRowHtml, keysCaption, shorten, visibleText } from "../../../src/ui/dashboard/keys-list.ts";
import { KeysPanel } from "../../../src/ui/dashboard/keys-panel.ts";
import { describeKvResult, KvConsole } from "../../../src/ui/dashboard/kv-console.ts";
import { FakeEl, fakeEl } from "./fake-dom.ts";

const entry = (key: string, rev: number, over: Partial<KeyEntry> = {}): KeyEntry => ({
  key,
  value: `value of ${key}`,
  createRevision: rev,
  modRevision: rev,
  version: 1,
  ...over,
});
const page = (keys: KeyEntry[], more: boolean, revision = 9): KeysPage => ({ keys, more, revision });

/** What the browser's HTML parser gives back for an attribute value escaped by escapeHtml. */
function unescapeAttribute(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

describe("paging with after", () => {
  test("the first page asks for no `after`; Next asks strictly after the last key shown; Previous goes back", () => {
    const pager = new KeyPager();
    expect(pager.query()).toEqual({ prefix: "", after: null, limit: 25 });
    expect(pager.canNext()).toBe(false); // nothing read yet
    expect(pager.accept(page([entry("a", 2), entry("b", 3)], true))).toBe("shown");
    expect(pager.canNext()).toBe(true);
    expect(pager.canPrevious()).toBe(false);
    pager.next();
    expect(pager.query()).toEqual({ prefix: "", after: "b", limit: 25 });
    expect(pager.pageNumber).toBe(2);
    expect(pager.canNext()).toBe(false); // not before page 2 has been read
    pager.accept(page([entry("c", 4), entry("d", 5)], true));
    pager.next();
    pager.accept(page([entry("e", 6)], false));
    expect(pager.query().after).toBe("d");
    expect(pager.canNext()).toBe(false); // the last page
    pager.previous();
    expect(pager.query()).toEqual({ prefix: "", after: "b", limit: 25 });
    pager.first();
    expect(pager.query().after).toBeNull();
    expect(pager.pageNumber).toBe(1);
  });

  test("another prefix or page size starts at the first page; the same ones stay put", () => {
    const pager = new KeyPager();
    pager.accept(page([entry("a", 2)], true));
    pager.next();
    pager.filter("", 25);
    expect(pager.query().after).toBe("a");
    pager.filter("user/", 25);
    expect(pager.query()).toEqual({ prefix: "user/", after: null, limit: 25 });
    pager.accept(page([entry("user/1", 2)], true));
    pager.next();
    pager.filter("user/", 10);
    expect(pager.query()).toEqual({ prefix: "user/", after: null, limit: 10 });
    pager.reset();
    expect(pager.query()).toEqual({ prefix: "", after: null, limit: 25 });
  });

  test("a later page whose keys were all deleted meanwhile steps back; an empty first page is shown", () => {
    const pager = new KeyPager();
    pager.accept(page([entry("a", 2)], true));
    pager.next();
    expect(pager.accept(page([], false))).toBe("step back");
    expect(pager.query().after).toBeNull();
    expect(pager.accept(page([], false))).toBe("shown");
    expect(pager.page).toEqual(page([], false));
  });
});

describe("rows and caption", () => {
  test("a row: the key, its value shortened (full in the tooltip), the revisions, a Delete button", () => {
    const long = "x".repeat(100);
    const html = keyRowHtml({ key: "k1", value: long, createRevision: 3, modRevision: 7, version: 2 });
    expect(html).toContain(`<td class="key">k1</td>`);
    expect(html).toContain(`title="${long}">${"x".repeat(39)}…</td>`);
    expect([...html.matchAll(/data-field="(\w+)">(\d+)</g)].map((m) => `${m[1]}=${m[2]}`)).toEqual([
      "createRevision=3",
      "modRevision=7",
      "version=2",
    ]);
    expect(html).toContain(`aria-label="Delete key &quot;k1&quot;">Delete</button>`);
    expect(keyRowHtml(entry("e", 1, { value: "" }))).toContain(`<td class="value empty">(empty)</td>`);
  });

  test("keys and values are escaped, control characters shown as escapes, code points kept whole", () => {
    const html = keyRowHtml(entry("<b>&", 1, { value: `a"b\nc\u0000` }));
    expect(html).toContain(`<td class="key">&lt;b&gt;&amp;</td>`);
    expect(html).toContain(`>a&quot;b\\nc\\u0000</td>`);
    expect(html).not.toMatch(/<b>/);
    expect(visibleText("tab\there\r")).toBe("tab\\there\\r");
    expect(shorten("😀😀😀", 2)).toBe("😀…");
    expect(shorten("abc", 3)).toBe("abc");
  });

  test("a Delete button gives back its key exactly, whatever characters it holds", () => {
    for (const key of ["plain", 'quo"te', "a&b<c>", "nul\u0000cr\rlf\n", "ünï 😀", "x'y"]) {
      const attribute = /data-key-delete="([^"]*)"/.exec(keyRowHtml(entry(key, 1)))?.[1];
      expect(attribute, key).toBeDefined();
      // The HTML parser turns NUL and CR in raw text; JSON escapes keep them out of the attribute.
      expect(attribute).not.toMatch(/[\u0000\r\n]/);
      expect(keyOfDeleteButton(unescapeAttribute(attribute!))).toBe(key);
    }
    expect(keyOfDeleteButton(null)).toBeNull();
    expect(keyOfDeleteButton("not json")).toBeNull();
    expect(keyOfDeleteButton("7")).toBeNull();
  });

  test("the caption says which page, how many keys, the filter and the revision read at", () => {
    expect(keysCaption(page([entry("a", 2), entry("b", 3)], true, 17), "", 1)).toBe(
      "Page 1: 2 keys, read at revision 17; more follow (Next page).",
    );
    expect(keysCaption(page([entry("a/1", 2)], false, 17), "a/", 2)).toBe('Page 2: 1 key starting with "a/", read at revision 17.');
    expect(keysCaption(page([], false, 4), "", 1)).toBe("No keys (read at revision 4).");
    expect(keysCaption(page([], false, 4), "zz", 1)).toBe('No keys starting with "zz" (read at revision 4).');
  });

  test("a delete reads as a sentence; a get names the key's modRevision when the answer has it", () => {
    expect(describeKvResult("get", "k", { found: true, value: "v", modRevision: 7 })).toBe('GET "k" → "v" (modRevision 7)');
    expect(describeKvResult("get", "k", { found: true, value: "v" })).toBe('GET "k" → "v"');
    expect(describeKvResult("delete", "k", { found: true, prev: "v" })).toBe('DELETE "k" → deleted (was "v")');
    expect(describeKvResult("delete", "k", { found: false, prev: null })).toBe('DELETE "k" → not found (nothing to delete)');
  });

  test("the page has the panel's controls, the console's Delete, and opens the panel closed", () => {
    const html = dashboardHtml();
    for (const id of ["keys-details", "keys-form", "keys-prefix", "keys-limit", "keys-refresh", "keys-first", "keys-previous", "keys-next", "keys-caption", "keys-rows"]) {
      expect(html, id).toContain(`id="${id}"`);
    }
    expect(html).toContain(`data-kv="delete"`);
    expect(html).toMatch(/<details id="keys-details">/); // not `open`: reading it is the user's call
    expect(html).toMatch(/<option value="25" selected>25<\/option>/);
  });
});

/** A fake fetch answering the kv routes of one cluster from a sorted map, recording each call. */
class FakeStore {
  readonly calls: string[] = [];
  readonly keys = new Map<string, KeyEntry>();
  revision = 1;
  /** The next list answers with this instead (an error). */
  failNext: { status: number; body: unknown } | null = null;
  /** Holds list answers back until `release()`. */
  private held: (() => void)[] | null = null;

  put(key: string, value: string): void {
    this.revision += 1;
    const prev = this.keys.get(key);
    this.keys.set(key, prev ? { ...prev, value, modRevision: this.revision, version: prev.version + 1 } : entry(key, this.revision, { value }));
  }

  hold(): void {
    this.held = [];
  }
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const go of held) go();
  }

  readonly fetch = async (path: string, init: { method: string; body: string | null }): Promise<Response> => {
    this.calls.push(`${init.method} ${path}`);
    const url = new URL(path, "http://dashboard");
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
    const keyPath = /^\/clusters\/c\/kv\/(.+)$/.exec(url.pathname);
    if (init.method === "GET" && url.pathname === "/clusters/c/kv") {
      if (this.held) await new Promise<void>((go) => this.held!.push(go));
      if (this.failNext) {
        const { status, body } = this.failNext;
        this.failNext = null;
        return json(status, body);
      }
      const prefix = url.searchParams.get("prefix") ?? "";
      const after = url.searchParams.get("after");
      const limit = Number(url.searchParams.get("limit") ?? 100);
      const all = [...this.keys.values()]
        .filter((e) => e.key.startsWith(prefix) && (after === null || e.key > after))
        .sort((a, b) => (a.key < b.key ? -1 : 1));
      return json(200, { keys: all.slice(0, limit), more: all.length > limit, revision: this.revision });
    }
    if (keyPath?.[1] !== undefined) {
      const key = decodeURIComponent(keyPath[1]);
      const prev = this.keys.get(key)?.value ?? null;
      if (init.method === "PUT") {
        this.put(key, (JSON.parse(init.body ?? "{}") as { value: string }).value);
        return json(200, { found: prev !== null, prev });
      }
      if (init.method === "DELETE") {
        if (prev !== null) {
          this.revision += 1;
          this.keys.delete(key);
        }
        return json(200, { found: prev !== null, prev });
      }
    }
    return json(404, { error: "not_found", message: `no route ${init.method} ${url.pathname}` });
  };
}

/** Lets every pending promise (fake fetch, response bodies, the panel's reads) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

describe("the panel on a fake page", () => {
  const realFetch = globalThis.fetch;
  let store: FakeStore;
  beforeEach(() => {
    store = new FakeStore();
    globalThis.fetch = store.fetch as unknown as typeof fetch;
  });
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  function page_() {
    const api = new Api(() => ({ admin: "", client: "" }));
    let cluster: string | null = "c";
    const ui = {
      details: fakeEl(),
      form: fakeEl(),
      prefix: fakeEl(),
      limit: fakeEl({ value: "25" }),
      first: fakeEl(),
      previous: fakeEl(),
      next: fakeEl(),
      caption: fakeEl(),
      rows: fakeEl(),
    };
    const kvUi = { form: fakeEl(), key: fakeEl(), value: fakeEl(), compare: fakeEl(), log: fakeEl() };
    // Wired as client.ts wires them: writes refresh the list, a row's Delete goes through the console.
    const kv: KvConsole = new KvConsole(api, () => cluster, kvUi, () => panel.refreshIfOpen());
    const panel: KeysPanel = new KeysPanel(api, () => cluster, (key) => kv.perform("delete", key), ui);
    const open = () => {
      ui.details.setAttribute("open", "");
      (ui.details as unknown as FakeEl).dispatch("toggle");
    };
    const close = () => {
      ui.details.attributes.delete("open");
      (ui.details as unknown as FakeEl).dispatch("toggle");
    };
    const click = (el: El) => (el as unknown as FakeEl).dispatch("click");
    const submit = () => (ui.form as unknown as FakeEl).dispatch("submit");
    /** The keys of the rows drawn, read back from their Delete buttons as the browser would. */
    const listed = () => [...ui.rows.innerHTML.matchAll(/data-key-delete="([^"]*)"/g)].map((m) => keyOfDeleteButton(unescapeAttribute(m[1] ?? "")));
    /** Clicks the Delete button of `key`'s row: the click bubbles to the rows' listener. */
    const deleteRow = (key: string) => {
      const button = fakeEl();
      button.setAttribute("data-key-delete", JSON.stringify(key));
      (ui.rows as unknown as FakeEl).dispatch("click", { closest: (sel: string) => (sel === "button[data-key-delete]" ? button : null) });
      return button;
    };
    const lists = () => store.calls.filter((c) => c.startsWith("GET /clusters/c/kv?"));
    return { ui, kvUi, kv, panel, open, close, click, submit, listed, deleteRow, lists, setCluster: (c: string | null) => (cluster = c) };
  }

  test("nothing is read until the panel is opened; writes while it is closed read nothing either", async () => {
    const p = page_();
    store.put("a", "1");
    await p.kv.perform("put", "b", "2");
    p.panel.refreshIfOpen();
    await settle();
    expect(store.calls).toEqual(["PUT /clusters/c/kv/b"]);
    p.open();
    await settle();
    expect(p.lists()).toEqual(["GET /clusters/c/kv?limit=25"]);
    expect(p.listed()).toEqual(["a", "b"]);
    expect(p.ui.caption.textContent).toBe("Page 1: 2 keys, read at revision 3.");
    // Closing reads nothing; nor does time passing (there is no timer to read on).
    p.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(p.lists()).toHaveLength(1);
  });

  test("the page's own writes refresh an open list: a put from the console, a Delete from a row", async () => {
    const p = page_();
    p.open();
    await settle();
    expect(p.ui.caption.textContent).toBe("No keys (read at revision 1).");
    await p.kv.perform("put", "k1", "v1");
    await p.kv.perform("put", "k2", "v2");
    await settle();
    expect(p.listed()).toEqual(["k1", "k2"]);
    expect(p.ui.rows.innerHTML).toMatch(/<td class="key">k2<\/td><td class="value" title="v2">v2<\/td><td class="num" data-field="createRevision">3<\/td>/);
    const button = p.deleteRow("k1");
    expect(button.disabled).toBe(true); // until its delete has answered
    await settle();
    expect(button.disabled).toBe(false);
    expect(store.calls.filter((c) => c.startsWith("DELETE"))).toEqual(["DELETE /clusters/c/kv/k1"]);
    expect(p.listed()).toEqual(["k2"]);
    expect(p.ui.caption.textContent).toBe("Page 1: 1 key, read at revision 4.");
    expect(p.kvUi.log.innerHTML).toContain("DELETE &quot;k1&quot; → deleted (was &quot;v1&quot;)");
    // A get is not a write: no read of the list follows it.
    const before = p.lists().length;
    await p.kv.perform("get", "k2");
    await settle();
    expect(p.lists()).toHaveLength(before);
  });

  test("Next, Previous and First page through the keys; the prefix filters from the first page", async () => {
    const p = page_();
    for (const k of ["a/1", "a/2", "a/3", "b/1", "b/2"]) store.put(k, k);
    p.ui.limit.value = "10";
    p.open(); // with the prefix and page size the form shows
    await settle();
    expect(p.lists()).toEqual(["GET /clusters/c/kv?limit=10"]);
    expect(p.ui.next.disabled).toBe(true); // all five fit
    store.keys.clear();
    for (let i = 0; i < 23; i++) store.put(`k${String(i).padStart(2, "0")}`, "v");
    p.ui.limit.value = "25";
    p.ui.prefix.value = "k1";
    p.submit();
    await settle();
    expect(p.lists().at(-1)).toBe("GET /clusters/c/kv?prefix=k1&limit=25");
    expect(p.listed()).toHaveLength(10);
    p.ui.prefix.value = "";
    p.ui.limit.value = "10";
    p.submit();
    await settle();
    expect(p.listed()).toEqual(Array.from({ length: 10 }, (_, i) => `k0${i}`));
    expect({ next: p.ui.next.disabled, previous: p.ui.previous.disabled, first: p.ui.first.disabled }).toEqual({ next: false, previous: true, first: true });
    p.click(p.ui.next);
    expect(p.ui.next.disabled).toBe(true); // while page 2 is read
    await settle();
    expect(p.lists().at(-1)).toBe("GET /clusters/c/kv?after=k09&limit=10");
    expect(p.ui.caption.textContent).toBe(`Page 2: 10 keys, read at revision ${store.revision}; more follow (Next page).`);
    p.click(p.ui.next);
    await settle();
    expect(p.listed()).toEqual(["k20", "k21", "k22"]);
    expect(p.ui.next.disabled).toBe(true);
    p.click(p.ui.previous);
    await settle();
    expect(p.lists().at(-1)).toBe("GET /clusters/c/kv?after=k09&limit=10");
    p.click(p.ui.first);
    await settle();
    expect(p.lists().at(-1)).toBe("GET /clusters/c/kv?limit=10");
    // Refresh keeps the page it is on.
    p.click(p.ui.next);
    await settle();
    p.submit();
    await settle();
    expect(p.lists().at(-1)).toBe("GET /clusters/c/kv?after=k09&limit=10");
  });

  test("deleting the last key of a later page shows the page before it", async () => {
    const p = page_();
    for (let i = 0; i < 11; i++) store.put(`k${String(i).padStart(2, "0")}`, "v");
    p.open();
    await settle();
    p.ui.limit.value = "10";
    p.submit();
    await settle();
    p.click(p.ui.next);
    await settle();
    expect(p.listed()).toEqual(["k10"]);
    p.deleteRow("k10");
    await settle();
    expect(p.lists().slice(-2)).toEqual(["GET /clusters/c/kv?after=k09&limit=10", "GET /clusters/c/kv?limit=10"]);
    expect(p.ui.caption.textContent).toMatch(/^Page 1: 10 keys, read at revision \d+\.$/);
  });

  test("errors are shown as the rest of the page shows them, and the rows go", async () => {
    const p = page_();
    store.put("a", "1");
    p.open();
    await settle();
    expect(p.listed()).toEqual(["a"]);
    store.failNext = { status: 503, body: { error: "unavailable", message: "no leader could take the operation in time" } };
    p.submit();
    await settle();
    expect(p.ui.caption.textContent).toBe("Listing keys failed: 503 unavailable: no leader could take the operation in time");
    expect(p.ui.caption.className).toContain("error");
    expect(p.listed()).toEqual([]);
    p.submit();
    await settle();
    expect(p.ui.caption.className).not.toContain("error");
    expect(p.listed()).toEqual(["a"]);
    // No cluster open: said, nothing read.
    p.setCluster(null);
    const before = store.calls.length;
    p.submit();
    await settle();
    expect(p.ui.caption.textContent).toBe("Open a cluster first.");
    expect(store.calls).toHaveLength(before);
  });

  test("another cluster: the old list goes, an answer still on its way is not drawn, nothing is read", async () => {
    const p = page_();
    store.put("a", "1");
    p.open();
    await settle();
    store.hold();
    p.submit();
    await settle();
    p.panel.reset();
    store.release();
    await settle();
    expect(p.listed()).toEqual([]);
    expect(p.ui.caption.textContent).toBe("Not listed yet: Refresh reads the keys (and wakes the cluster if it sleeps).");
    expect(p.lists()).toHaveLength(2);
    expect({ next: p.ui.next.disabled, previous: p.ui.previous.disabled }).toEqual({ next: true, previous: true });
  });

  test("the status poll and what it draws never read the list: only keys-panel.ts calls kvList", () => {
    const source = (file: string) => readFileSync(new URL(`../../../src/ui/dashboard/${file}`, import.meta.url), "utf8");
    const client = source("client.ts");
    for (const fn of ["poll", "render"]) {
      const body = new RegExp(`function ${fn}\\([\\s\\S]*?\\n}\\n`).exec(client)?.[0] ?? "";
      expect(body, fn).toContain("status");
      expect(body, fn).not.toMatch(/keys\.|kvList/);
    }
    expect(client).not.toContain("kvList");
    expect(source("keys-panel.ts")).toContain("this.api.kvList(");
  });

  test("the Api's list and delete calls: the query encoded, the key in the path", async () => {
    const api = new Api(() => ({ admin: "", client: "" }));
    await api.kvList("c", { prefix: "a b+/", after: "a b+/1", limit: 10 });
    await api.kvDelete("c", "a/b c");
    expect(store.calls).toEqual(["GET /clusters/c/kv?prefix=a%20b%2B%2F&after=a%20b%2B%2F1&limit=10", "DELETE /clusters/c/kv/a%2Fb%20c"]);
  });
});
