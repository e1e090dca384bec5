// One card per server. A card is built when its server joins and dropped when it leaves (ids
// have gaps once members were removed); otherwise only its text and classes change, so a
// button keeps keyboard focus while the status polls underneath it.

import { formatClock } from "../timeline/events.ts";
import { escapeHtml, stateClass } from "../timeline/render.ts";
import type { ClusterStatus, ServerStats, ServerStatus } from "./api.ts";
import type { El } from "./dom.ts";
import { eventTarget } from "./dom.ts";
import { cardChanges, memberButtons, memberIds, regionText, roleOf } from "./membership.ts";
import { ageText } from "./sleep.ts";

export type ServerAction = "disconnect" | "reconnect" | "crash" | "restart" | "evict" | "leader" | "promote" | "remove";

const ACTIONS: readonly { action: ServerAction; label: string; danger?: boolean; wide?: boolean; title?: string }[] = [
  { action: "disconnect", label: "Disconnect" },
  { action: "reconnect", label: "Reconnect" },
  { action: "crash", label: "Crash", danger: true, title: "Reset the object and keep it down (Dead) until restarted" },
  { action: "restart", label: "Restart" },
  // POST .../evict: reset as the platform resets objects; unlike a crash, not kept down.
  { action: "evict", label: "Evict", title: "Reset the object as the platform does (eviction): memory lost, storage and alarm kept; it loads again at once" },
  // Leadership transfer (POST /clusters/{c}/leader); disabled on the leader, dead servers and learners.
  { action: "leader", label: "Make leader" },
  // Membership (POST .../members/{i}/promote, DELETE .../members/{i}): shown on learners only,
  // and disabled, like Remove, while another membership change is in flight.
  { action: "promote", label: "Promote", title: "Make this learner a voter (it is caught up first)" },
  { action: "remove", label: "Remove", danger: true, title: "Take the server out of the cluster: its timers stop, it answers no Raft RPC" },
];

/** How long a card calls attention to a reload it saw ("↻ reloaded 3 s ago"). */
const RELOAD_HIGHLIGHT_MS = 20_000;

/** How many of the newest log indices a card draws. */
const TAIL = 10;

/** A new card, its fields empty until the first update fills them. */
export function cardHtml(id: number): string {
  const fact = (name: string, label = name) =>
    `<div><dt>${label}</dt><dd data-field="${name}">–</dd></div>`;
  const buttons = ACTIONS.map(({ action, label, danger, wide, title }) => {
    const cls = [danger ? "danger" : "", wide ? "wide" : ""].filter(Boolean).join(" ");
    return (
      `<button type="button" data-action="${action}"${cls ? ` class="${cls}"` : ""} ` +
      `aria-label="${label} server ${id}"${title ? ` title="${escapeHtml(title)}"` : ""}` +
      // Promote waits hidden until the status says this server is a learner.
      `${action === "promote" ? " hidden" : ""}>${label}</button>`
    );
  }).join("");
  return (
    `<article class="card st-follower" data-server="${id}" aria-labelledby="srv-${id}-title">` +
    `<div class="card-head"><h3 id="srv-${id}-title">Server ${id}</h3>` +
    `<span class="badge" data-field="state">–</span></div>` +
    `<p class="memberline"><span class="role" data-field="role">–</span> ` +
    `<span class="region" data-field="region">–</span></p>` +
    `<p class="mark" data-field="mark"></p>` +
    `<p class="sleepline" data-field="sleep"></p>` +
    `<p class="netline">network: <strong data-field="connected">–</strong></p>` +
    `<dl class="facts">${fact("term")}${fact("votedFor")}${fact("logLength")}` +
    `${fact("commitIndex")}${fact("lastApplied")}</dl>` +
    `<div class="logtail" data-field="logtail"></div>` +
    `<p class="said" data-field="said"></p>` +
    `<div class="cost"><div data-field="cost"></div><div class="loaded" data-field="loaded"></div></div>` +
    `<div class="actions" role="group" aria-label="Actions for server ${id}">${buttons}</div>` +
    `</article>`
  );
}

/**
 * The newest log indices as boxes: applied (solid), committed (light), not yet committed
 * (white). Indices folded into the snapshot are no longer in the log: one box stands for them.
 */
export function logTailHtml(s: Pick<ServerStatus, "logLength" | "commitIndex" | "lastApplied" | "snapshotIndex">): string {
  if (s.logLength === 0) return `<span class="empty">empty log</span>`;
  const snap = s.snapshotIndex;
  const from = Math.max(snap + 1, s.logLength - TAIL + 1);
  const boxes: string[] = [];
  if (snap > 0) boxes.push(`<span class="snap" title="entries 1–${snap} are folded into the snapshot">snapshot ≤ ${snap}</span>`);
  if (from > snap + 1) boxes.push(`<span class="empty" aria-hidden="true">…</span>`);
  for (let i = from; i <= s.logLength; i++) {
    const kind = i <= s.lastApplied ? "applied" : i <= s.commitIndex ? "committed" : "pending";
    boxes.push(`<span class="${kind}" title="entry ${i}: ${kind}">${i}</span>`);
  }
  return boxes.join("");
}

/**
 * The line under a card's title: the cluster's current leader, a stale leader (cut off, still
 * believing in an older term), and a leader handing leadership over.
 */
export function cardMark(
  s: Pick<ServerStatus, "id" | "state" | "term" | "transferringTo">,
  leader: number | null,
  leaderTerm: number | null,
): { text: string; cls: string } {
  let text = "";
  let cls = "mark";
  if (s.id === leader) {
    text = "★ current leader";
    cls = "mark current";
  } else if (s.state === "Leader" && leaderTerm !== null && s.term < leaderTerm) {
    // A cut-off leader keeps believing in its old term until it hears a newer one.
    text = `stale leader (cluster is at term ${leaderTerm})`;
    cls = "mark stale";
  }
  if (s.state === "Leader" && s.transferringTo !== null) text += `${text ? " · " : ""}handing over to ${s.transferringTo}`;
  return { text, cls };
}

/** The card's sleep line: empty while awake (the line is then hidden). */
export function sleepLine(s: Pick<ServerStatus, "asleep" | "state">): string {
  return s.asleep === true && s.state !== "Dead" ? "☾ asleep: no timers, no heartbeats" : "";
}

/** The card's cost counters: what this instance of the object did since it was loaded. */
export function costText(stats: ServerStats | undefined): string {
  if (!stats) return "";
  const sent = stats.snapshotsSent ?? 0;
  const installed = stats.snapshotsInstalled ?? 0;
  const snapshots = sent + installed > 0 ? ` · snapshots ${sent} sent, ${installed} installed` : "";
  return `${stats.alarms} alarms · RPCs ${stats.rpcsSent} sent, ${stats.rpcsReceived} received${snapshots}`;
}

/** Reloads of one server's object this page saw: `loadedAt` moved forward. */
export interface ReloadsSeen {
  loadedAt: number;
  count: number;
}

/** Follows `loadedAt` across polls: a newer one is a reset (eviction, deploy, crash). */
export function noteLoadedAt(before: ReloadsSeen | undefined, loadedAt: number): ReloadsSeen {
  if (!before || before.loadedAt === 0) return { loadedAt, count: 0 };
  return loadedAt > before.loadedAt ? { loadedAt, count: before.count + 1 } : before;
}

/**
 * "loaded 42 s ago" under the counters (they count from then); right after a reload this page
 * saw, "↻ reloaded 3 s ago: memory lost, storage kept", highlighted.
 */
export function loadedLine(loadedAt: number, now: number, reloads: number): { text: string; cls: string } {
  if (!(loadedAt > 0)) return { text: "", cls: "loaded" };
  const age = now - loadedAt;
  const seen = reloads > 1 ? ` (${reloads}× while watched)` : "";
  if (reloads > 0 && age < RELOAD_HIGHLIGHT_MS) {
    return { text: `↻ reloaded ${ageText(age)}: memory lost, storage kept${seen}`, cls: "loaded reloaded" };
  }
  return { text: `loaded ${ageText(age)}${reloads > 0 ? ` · reloaded ${reloads}× while watched` : ""}`, cls: "loaded" };
}

export class ServerCards {
  /** The ids with a card, ascending. */
  private shown: number[] = [];
  private readonly rendered = new Map<string, string>();
  private readonly reloads = new Map<number, ReloadsSeen>();
  /** A membership change is in flight: Promote and Remove wait for it. */
  private changing = false;
  private latest: ClusterStatus | null = null;

  constructor(
    private readonly container: El,
    onAction: (id: number, action: ServerAction) => void,
  ) {
    container.addEventListener("click", (event) => {
      const button = eventTarget(event, "button[data-action]");
      const card = button?.closest("[data-server]");
      if (!button || !card) return;
      onAction(Number(card.getAttribute("data-server")), button.getAttribute("data-action") as ServerAction);
    });
  }

  /** Starts over (another cluster): no cards until the first update. */
  clear(): void {
    this.shown = [];
    this.rendered.clear();
    this.reloads.clear();
    this.latest = null;
    this.container.innerHTML = "";
  }

  /** Adds the cards of new members and drops those of removed ones; the others stay as they are. */
  private sync(ids: readonly number[]): void {
    const { remove, add } = cardChanges(this.shown, ids);
    for (const id of remove) {
      this.container.querySelector(`[data-server="${id}"]`)?.remove();
      this.reloads.delete(id);
      for (const key of [...this.rendered.keys()]) if (key.startsWith(`${id}:`)) this.rendered.delete(key);
    }
    for (const { id, before } of add) {
      const next = before === null ? null : this.container.querySelector(`[data-server="${before}"]`);
      if (next) next.insertAdjacentHTML("beforebegin", cardHtml(id));
      else this.container.insertAdjacentHTML("beforeend", cardHtml(id));
    }
    this.shown = [...ids];
  }

  /** Disables (or enables again) every card's membership buttons while a change is in flight. */
  setChanging(changing: boolean): void {
    this.changing = changing;
    const status = this.latest;
    if (!status) return;
    for (const s of status.servers) {
      const card = this.container.querySelector(`[data-server="${s.id}"]`);
      if (card) this.buttons(card, s, status);
    }
  }

  /** Make leader, Promote and Remove as the server's role, state and the change in flight allow. */
  private buttons(card: El, s: ServerStatus, status: ClusterStatus): void {
    const b = memberButtons(s, status, this.changing);
    this.toggle(card, "leader", b.leaderDisabled);
    this.toggle(card, "promote", b.promoteDisabled, b.promoteHidden);
    this.toggle(card, "remove", b.removeDisabled);
  }

  /** Sets a button's disabled (and hidden) flags, touching the element only when they change. */
  private toggle(card: El, action: ServerAction, disabled: boolean, hidden = false): void {
    const button = card.querySelector(`[data-action="${action}"]`);
    if (!button) return;
    if (button.disabled !== disabled) button.disabled = disabled;
    if (button.hidden !== hidden) button.hidden = hidden;
  }

  /** Writes `value` into a field only when it changed (no churn for screen readers or layout). */
  private set(card: El, field: string, value: string, html = false): void {
    const key = `${card.getAttribute("data-server")}:${field}`;
    if (this.rendered.get(key) === value) return;
    this.rendered.set(key, value);
    const el = card.querySelector(`[data-field="${field}"]`);
    if (!el) return;
    if (html) el.innerHTML = value;
    else el.textContent = value;
  }

  update(status: ClusterStatus, lastSaid: (id: number) => string | null, now = Date.now()): void {
    this.latest = status;
    this.sync(memberIds(status));
    const leaderTerm = status.servers.find((s) => s.id === status.leader)?.term ?? null;
    for (const s of status.servers) {
      const card = this.container.querySelector(`[data-server="${s.id}"]`);
      if (!card) continue;
      const sleeping = sleepLine(s);
      const role = roleOf(s, status);
      // A learner's card is drawn apart: it receives the log and never votes.
      const cls = `card ${stateClass(s.state)}${sleeping ? " asleep" : ""}${role === "learner" ? " learner" : ""}`;
      if (card.className !== cls) card.className = cls;
      this.set(card, "state", s.state);
      this.set(card, "term", String(s.term));
      this.set(card, "votedFor", s.votedFor === null ? "none" : String(s.votedFor));
      this.set(card, "commitIndex", String(s.commitIndex));
      this.set(card, "lastApplied", String(s.lastApplied));
      this.set(card, "logLength", String(s.logLength));
      this.set(card, "connected", s.connected ? "connected" : "cut off (disconnected)");
      card.querySelector('[data-field="connected"]')?.classList.toggle("net-down", !s.connected);

      const mark = card.querySelector('[data-field="mark"]');
      const { text: markText, cls: markClass } = cardMark(s, status.leader, leaderTerm);
      this.set(card, "mark", markText);
      if (mark && mark.className !== markClass) mark.className = markClass;

      this.set(card, "role", role);
      const roleEl = card.querySelector('[data-field="role"]');
      if (roleEl && roleEl.className !== `role ${role}`) roleEl.className = `role ${role}`;
      const region = regionText(s.locationHint);
      this.set(card, "region", region.text);
      const regionEl = card.querySelector('[data-field="region"]');
      if (regionEl && regionEl.getAttribute("title") !== region.title) regionEl.setAttribute("title", region.title);

      // Leadership can go to any other live voter; a cut-off one answers 409, shown as an error.
      this.buttons(card, s, status);

      this.set(card, "sleep", sleeping);

      // Cost: counters since the object was loaded, and when that was (a reset moves it).
      this.set(card, "cost", costText(s.stats));
      const loadedAt = s.stats?.loadedAt ?? 0;
      const seen = noteLoadedAt(this.reloads.get(s.id), loadedAt);
      this.reloads.set(s.id, seen);
      const loaded = loadedLine(loadedAt, now, seen.count);
      this.set(card, "loaded", loaded.text);
      const loadedEl = card.querySelector('[data-field="loaded"]');
      if (loadedEl) {
        if (loadedEl.className !== loaded.cls) loadedEl.className = loaded.cls;
        if (loadedEl.getAttribute("data-loaded-at") !== String(loadedAt)) {
          loadedEl.setAttribute("data-loaded-at", String(loadedAt));
          loadedEl.setAttribute("title", loadedAt > 0 ? `object loaded at ${formatClock(loadedAt)}; the counters count from then` : "");
        }
      }

      this.set(card, "logtail", logTailHtml(s), true);
      const said = lastSaid(s.id);
      this.set(card, "said", said === null ? "" : `“${said}”`);
      const saidEl = card.querySelector('[data-field="said"]');
      if (saidEl && said !== null) saidEl.setAttribute("title", said);
    }
  }
}
