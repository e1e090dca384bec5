// Just enough of the DOM for the dashboard's classes to run in Node: elements that keep
// their text, classes and flags, and a card container that understands the markup cards.ts
// writes (one <article data-server> per server, data-field and data-action inside). Not a
// browser: the e2e test (test/e2e/dashboard.test.ts) is the real one.
import type { DomEvent, El } from "../../../src/ui/dashboard/dom.ts";

type Listener = (event: DomEvent) => void;

/** A plain element: its properties, attributes and listeners; querySelector finds nothing. */
export class FakeEl {
  id = "";
  textContent: string | null = "";
  private html_ = "";
  className = "";
  hidden = false;
  value = "";
  checked = false;
  disabled = false;
  scrollTop = 0;
  scrollHeight = 0;
  clientHeight = 0;
  readonly attributes = new Map<string, string>();
  readonly listeners = new Map<string, Listener[]>();
  parent: FakeCards | null = null;
  readonly classList = {
    toggle: (name: string, force?: boolean) => {
      const names = new Set(this.className.split(" ").filter(Boolean));
      const on = force ?? !names.has(name);
      if (on) names.add(name);
      else names.delete(name);
      this.className = [...names].join(" ");
      return on;
    },
    add: (...names: string[]) => names.forEach((n) => this.classList.toggle(n, true)),
    remove: (...names: string[]) => names.forEach((n) => this.classList.toggle(n, false)),
  };
  get innerHTML(): string {
    return this.html_;
  }
  set innerHTML(html: string) {
    this.html_ = html;
  }
  get firstElementChild(): El | null {
    return null;
  }
  get childElementCount(): number {
    return 0;
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }
  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  /** Calls the `type` listeners as the browser would, with `target` as the event's target. */
  dispatch(type: string, target: unknown = this): void {
    for (const l of this.listeners.get(type) ?? []) l({ target, preventDefault: () => undefined });
  }
  querySelector(_selector: string): El | null {
    return null;
  }
  querySelectorAll(_selector: string): ArrayLike<El> {
    return [];
  }
  closest(_selector: string): El | null {
    return null;
  }
  insertAdjacentHTML(_position: string, html: string): void {
    this.innerHTML += html;
  }
  remove(): void {
    this.parent?.drop(this);
  }
  focus(): void {}
}

export function fakeEl(init: Partial<Pick<FakeEl, "checked" | "value">> = {}): FakeEl & El {
  return Object.assign(new FakeEl(), init) as FakeEl & El;
}

/** One server card as cards.ts writes it: its fields and its buttons by name. */
export class FakeCard extends FakeEl {
  readonly fields = new Map<string, FakeEl>();
  readonly buttons = new Map<string, FakeEl>();

  constructor(readonly markup: string) {
    super();
    const html = markup;
    const id = /data-server="(\d+)"/.exec(html)?.[1];
    if (id === undefined) throw new Error(`not a card: ${html.slice(0, 80)}`);
    this.setAttribute("data-server", id);
    this.className = /class="([^"]*)"/.exec(html)?.[1] ?? "";
    for (const m of html.matchAll(/data-field="(\w+)"/g)) this.fields.set(m[1] ?? "", new FakeEl());
    for (const m of html.matchAll(/<button[^>]*data-action="(\w+)"[^>]*>/g)) {
      const button = new FakeEl();
      button.setAttribute("data-action", m[1] ?? "");
      button.setAttribute("aria-label", /aria-label="([^"]*)"/.exec(m[0])?.[1] ?? "");
      button.hidden = /\shidden[\s>]/.test(m[0]);
      button.closest = (sel: string) => (sel === "[data-server]" ? (this as unknown as El) : null);
      this.buttons.set(m[1] ?? "", button);
    }
  }

  get id_(): number {
    return Number(this.getAttribute("data-server"));
  }

  override querySelector(selector: string): El | null {
    const field = /^\[data-field="(\w+)"\]$/.exec(selector)?.[1];
    if (field !== undefined) return (this.fields.get(field) ?? null) as El | null;
    const action = /^\[data-action="(\w+)"\]$/.exec(selector)?.[1];
    if (action !== undefined) return (this.buttons.get(action) ?? null) as El | null;
    return null;
  }

  override insertAdjacentHTML(position: string, html: string): void {
    if (position !== "beforebegin" || !this.parent) throw new Error(`card.insertAdjacentHTML(${position}) is not expected`);
    this.parent.insertBefore(this, html);
  }

  /** What a reader sees of a field. */
  text(field: string): string {
    return this.fields.get(field)?.textContent ?? "";
  }
}

/** The #cards container: a list of cards in page order. */
export class FakeCards extends FakeEl {
  cards: FakeCard[] = [];

  override set innerHTML(html: string) {
    this.cards = [];
    for (const part of html.split(/(?=<article )/).filter((p) => p.startsWith("<article"))) this.adopt(new FakeCard(part));
  }
  override get innerHTML(): string {
    return this.cards.map((c) => c.markup).join("");
  }

  private adopt(card: FakeCard, at = this.cards.length): void {
    card.parent = this;
    this.cards.splice(at, 0, card);
  }

  override insertAdjacentHTML(position: string, html: string): void {
    if (position !== "beforeend") throw new Error(`container.insertAdjacentHTML(${position}) is not expected`);
    this.adopt(new FakeCard(html));
  }

  insertBefore(card: FakeCard, html: string): void {
    this.adopt(new FakeCard(html), this.cards.indexOf(card));
  }

  drop(card: FakeEl): void {
    this.cards = this.cards.filter((c) => c !== card);
  }

  override querySelector(selector: string): El | null {
    const id = /^\[data-server="(\d+)"\]$/.exec(selector)?.[1];
    return (this.cards.find((c) => c.getAttribute("data-server") === id) ?? null) as El | null;
  }

  /** The ids of the cards, in page order. */
  ids(): number[] {
    return this.cards.map((c) => c.id_);
  }

  card(id: number): FakeCard {
    const card = this.cards.find((c) => c.id_ === id);
    if (!card) throw new Error(`no card for server ${id}`);
    return card;
  }

  /** Clicks `action` on server `id`'s card: the click bubbles to the container's listener. */
  click(id: number, action: string): void {
    const card = this.card(id);
    const button = card.buttons.get(action);
    if (!button) throw new Error(`server ${id} has no ${action} button`);
    if (button.disabled || button.hidden) throw new Error(`server ${id}'s ${action} button cannot be clicked now`);
    this.dispatch("click", { closest: (sel: string) => (sel === "button[data-action]" ? button : null) });
  }
}
