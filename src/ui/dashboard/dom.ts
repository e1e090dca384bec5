// The slice of the browser the page script uses, typed here.
//
// The project compiles against the Workers types, not the DOM library (adding "DOM" to the
// tsconfig would let Worker code call `document` and would clash with Workers' own Request and
// Response). So the page script declares the few DOM members it touches and reaches the
// browser's globals through `globalThis`; esbuild bundles it for the browser.

export interface El {
  id: string;
  textContent: string | null;
  innerHTML: string;
  className: string;
  hidden: boolean;
  value: string;
  checked: boolean;
  disabled: boolean;
  readonly classList: {
    toggle(name: string, force?: boolean): boolean;
    add(...names: string[]): void;
    remove(...names: string[]): void;
  };
  readonly firstElementChild: El | null;
  readonly childElementCount: number;
  scrollTop: number;
  readonly scrollHeight: number;
  readonly clientHeight: number;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  addEventListener(type: string, listener: (event: DomEvent) => void): void;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El>;
  closest(selector: string): El | null;
  insertAdjacentHTML(position: "beforeend" | "afterbegin" | "beforebegin", html: string): void;
  remove(): void;
  focus(): void;
}

export interface DomEvent {
  readonly target: unknown;
  preventDefault(): void;
}

interface Browser {
  document: { getElementById(id: string): El | null; querySelector(selector: string): El | null };
  location: { hash: string };
  history: { replaceState(data: unknown, unused: string, url: string): void };
  sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  confirm(message: string): boolean;
}

export const browser = globalThis as unknown as Browser;

/** An element the page markup guarantees; a missing one is a bug in markup.ts, so say which. */
export function byId(id: string): El {
  const el = browser.document.getElementById(id);
  if (!el) throw new Error(`dashboard markup has no #${id}`);
  return el;
}

/** The element an event came from, if it is (inside) one matching `selector`. */
export function eventTarget(event: DomEvent, selector: string): El | null {
  const t = event.target as Partial<El> | null;
  return t && typeof t.closest === "function" ? t.closest(selector) : null;
}
