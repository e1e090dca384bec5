// The dashboard's page script (bundled by esbuild into src/ui/generated/page-script.ts and
// inlined into the page). It opens a cluster, then polls its status and its event feed about
// every 250 ms — one request of each at a time, never overlapping — and wires the controls.
// The polls are GET routes only: reading never wakes a sleeping cluster, so the page can
// watch it sleep (and show that it costs nothing meanwhile).

import { EventCursor } from "../timeline/events.ts";
import { escapeHtml } from "../timeline/render.ts";
import type { ServerState } from "../timeline/types.ts";
import { Api, ApiError, type ClusterOptions, type ClusterStatus } from "./api.ts";
import { ServerCards, type ServerAction } from "./cards.ts";
import { browser, byId } from "./dom.ts";
import { KeysPanel } from "./keys-panel.ts";
import { KvConsole } from "./kv-console.ts";
import { LiveTimeline } from "./live-timeline.ts";
import { callFor, ChangeInFlight, changeErrorHint, changeLabel, memberIds, membersText, type MemberChange } from "./membership.ts";
import { networkConditions, readGroups, syncGroupSelects } from "./network-panel.ts";
import { CostMeter, costRateText, SleepWatch, sleepAfterText, sleepBannerText } from "./sleep.ts";

const POLL_MS = 250;
const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const ui = {
  form: byId("cluster-form"),
  name: byId("cluster-name"),
  size: byId("cluster-size"),
  preVote: byId("cluster-prevote"),
  checkQuorum: byId("cluster-checkquorum"),
  remove: byId("delete-cluster"),
  adminToken: byId("admin-token"),
  clientToken: byId("client-token"),
  status: byId("status"),
  intro: byId("intro"),
  workspace: byId("workspace"),
  summary: byId("summary"),
  sleepBanner: byId("sleep-banner"),
  deploy: byId("deploy"),
  groups: byId("groups"),
  memberRole: byId("member-role"),
  memberRegion: byId("member-region"),
  addMember: byId("add-member"),
};

// Tokens live in sessionStorage: they survive a reload of this tab, not the browser.
for (const [input, key] of [[ui.adminToken, "raft-admin-token"], [ui.clientToken, "raft-client-token"]] as const) {
  input.value = browser.sessionStorage.getItem(key) ?? "";
  input.addEventListener("change", () => browser.sessionStorage.setItem(key, input.value));
}
const api = new Api(() => ({ admin: ui.adminToken.value.trim(), client: ui.clientToken.value.trim() }));

let cluster: string | null = null;
/** Bumped whenever another cluster is opened, so a stale poll loop stops itself. */
let generation = 0;
let latest: ClusterStatus | null = null;
/**
 * When an action's answer (a status) was last drawn. A poll sent before then may bring an
 * older status (a card of a server just removed, a learner just promoted): it is not drawn.
 */
let answeredAt = 0;
const costMeter = new CostMeter();
let sleepWatch = new SleepWatch();

function say(message: string, error = false): void {
  ui.status.textContent = message;
  ui.status.classList.toggle("error", error);
}

function describe(err: unknown): string {
  return err instanceof ApiError ? err.describe() : err instanceof Error ? err.message : String(err);
}

const timeline = new LiveTimeline({
  scroll: byId("tl-scroll"),
  pause: byId("tl-pause"),
  clear: byId("tl-clear"),
  filter: byId("tl-filter"),
  heartbeats: byId("tl-heartbeats"),
  follow: byId("tl-follow"),
  count: byId("tl-count"),
});

const cards = new ServerCards(byId("cards"), (id, action) => void serverAction(id, action));

// Every write the page makes (console or a key's Delete) is followed by one read of the
// open key list; the status poll never reads it (keys-panel.ts: the cost rule).
const kvConsole = new KvConsole(
  api,
  () => cluster,
  { form: byId("kv-form"), key: byId("kv-key"), value: byId("kv-value"), compare: byId("kv-compare"), log: byId("kv-log") },
  () => keys.refreshIfOpen(),
);
const keys = new KeysPanel(api, () => cluster, (key) => kvConsole.perform("delete", key), {
  details: byId("keys-details"),
  form: byId("keys-form"),
  prefix: byId("keys-prefix"),
  limit: byId("keys-limit"),
  first: byId("keys-first"),
  previous: byId("keys-previous"),
  next: byId("keys-next"),
  caption: byId("keys-caption"),
  rows: byId("keys-rows"),
});

/** The cluster sleeps when every server that is up does (the status says so; older Workers do not). */
function clusterAsleep(status: ClusterStatus): boolean {
  if (status.asleep !== undefined) return status.asleep;
  const up = status.servers.filter((s) => s.state !== "Dead");
  return up.length > 0 && up.every((s) => s.asleep === true);
}

/** What the status tells of each server, for the timeline's new columns. */
function knownStates(status: ClusterStatus): Map<number, { state: ServerState; term: number; asleep: boolean }> {
  return new Map(status.servers.map((s) => [s.id, { state: s.state, term: s.term, asleep: s.asleep === true }]));
}

function render(status: ClusterStatus): void {
  latest = status;
  const now = Date.now();
  // Members come and go (ids with gaps): cards, partition groups and timeline columns follow.
  const ids = memberIds(status);
  timeline.setServers(ids, knownStates(status));
  syncGroupSelects(ui.groups, ids);
  cards.update(status, (id) => timeline.lastSaid(id), now);
  const leader = status.servers.find((s) => s.id === status.leader);
  const down = status.servers.filter((s) => s.state === "Dead").length;
  const cut = status.servers.filter((s) => !s.connected).length;
  const options = [status.preVote ? "PreVote" : "", status.checkQuorum ? "CheckQuorum" : ""].filter(Boolean);
  const sleepAfter = sleepAfterText(status.sleepAfterMs);
  const cost = costRateText(costMeter.sample(status.servers, now));
  const summary =
    `Cluster <strong>${escapeHtml(status.cluster)}</strong> · ${membersText(status)}` +
    (options.length ? ` (${options.join(", ")})` : "") +
    ` · leader: ` +
    (leader ? `<strong>server ${leader.id}</strong> (term ${leader.term})` : `<strong>none</strong>`) +
    (down ? ` · ${down} crashed` : "") +
    (cut ? ` · ${cut} cut off` : "") +
    (sleepAfter ? ` · ${sleepAfter}` : "") +
    (cost ? ` · <span class="cost-rate" title="alarms and Raft RPCs per second, over the last 2 s of polls">${cost}</span>` : "");
  if (ui.summary.innerHTML !== summary) ui.summary.innerHTML = summary;

  const since = sleepWatch.update(clusterAsleep(status), timeline.sleptAt(), now);
  const banner = since === null ? "" : sleepBannerText(since, now);
  if (ui.sleepBanner.textContent !== banner) ui.sleepBanner.textContent = banner;
  if (ui.sleepBanner.hidden !== (since === null)) ui.sleepBanner.hidden = since === null;
}

/** Shows a cluster whose status we just got: starts its cards and timeline afresh, then polls. */
function show(status: ClusterStatus): void {
  cluster = status.cluster;
  generation += 1;
  ui.intro.hidden = true;
  ui.workspace.hidden = false;
  ui.remove.disabled = false;
  ui.deploy.disabled = false;
  ui.name.value = status.cluster;
  ui.size.value = String(status.size);
  // The form shows the open cluster's options, as it shows its size.
  if (status.preVote !== undefined) ui.preVote.checked = status.preVote;
  if (status.checkQuorum !== undefined) ui.checkQuorum.checked = status.checkQuorum;
  browser.history.replaceState(null, "", `#cluster=${encodeURIComponent(status.cluster)}`);
  cards.clear();
  // The list is not read here: opening a cluster is not asking for its keys (keys-panel.ts).
  keys.reset();
  ui.groups.innerHTML = "";
  timeline.reset(memberIds(status), knownStates(status));
  costMeter.reset();
  sleepWatch = new SleepWatch();
  render(status);
  void poll(status.cluster, generation, new EventCursor());
}

async function poll(c: string, gen: number, cursor: EventCursor): Promise<void> {
  let failures = 0;
  while (gen === generation) {
    const started = Date.now();
    const [status, events] = await Promise.allSettled([api.status(c), api.events(c, cursor.since)]);
    if (gen !== generation) return;
    // Events first: the cards' latest lines and the "asleep since" time come from them.
    if (events.status === "fulfilled") {
      timeline.feedProblem(null);
      timeline.add(cursor.accept(events.value.events, events.value.now));
    } else {
      timeline.feedProblem(describe(events.reason));
    }
    if (status.status === "fulfilled") {
      if (started >= answeredAt) render(status.value);
      if (failures > 0) say(`Connected again to cluster ${c}.`);
      failures = 0;
    } else {
      failures += 1;
      const err = status.reason;
      if (err instanceof ApiError && err.status === 404) {
        say(`Cluster ${c} no longer exists.`, true);
        return;
      }
      say(`Status poll failed (${failures}×): ${describe(err)}`, true);
    }
    // Back off while the Worker is unreachable, so a dead tab does not hammer it.
    const wait = POLL_MS * Math.min(8, 2 ** failures) - (Date.now() - started);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  }
}

async function openCluster(name: string, size: number, options: ClusterOptions): Promise<void> {
  if (!CLUSTER_NAME.test(name)) {
    say("A cluster name is 1–64 letters, digits, '_' or '-'.", true);
    return;
  }
  say(`Opening cluster ${name}…`);
  try {
    let existing = false;
    try {
      await api.createCluster(name, size, options);
    } catch (err) {
      // 409: it exists with another size or other options — open it as it is.
      if (!(err instanceof ApiError && err.status === 409)) throw err;
      existing = true;
    }
    const status = await api.status(name);
    show(status);
    say(
      existing
        ? `Cluster ${name} already exists with other settings (${membersText(status)}` +
            `${status.preVote === undefined ? "" : `, PreVote ${status.preVote ? "on" : "off"}`}` +
            `${status.checkQuorum === undefined ? "" : `, CheckQuorum ${status.checkQuorum ? "on" : "off"}`}); opened it as it is.`
        : `Cluster ${name} is open: ${membersText(status)}.`,
    );
  } catch (err) {
    say(`Could not open cluster ${name}: ${describe(err)}`, true);
  }
}

/** Draws the status an action answered with, newer than any poll still under way. */
function drawAnswer(status: ClusterStatus): void {
  answeredAt = Date.now();
  render(status);
}

/** Runs a fault action; its answer is the cluster status, drawn at once without waiting for the poll. */
async function act(label: string, call: (c: string) => Promise<ClusterStatus>): Promise<void> {
  const c = cluster;
  if (!c) return;
  try {
    const status = await call(c);
    if (status && Array.isArray(status.servers)) drawAnswer(status);
    say(`${label}: done.`);
  } catch (err) {
    say(`${label} failed: ${describe(err)}`, true);
  }
}

const inFlight = new ChangeInFlight();

/** While a membership change is in flight, Add, Promote and Remove wait (the API would say 409). */
function setChanging(changing: boolean): void {
  ui.addMember.disabled = changing;
  cards.setChanging(changing);
}

/**
 * A membership change: one at a time (the buttons are disabled meanwhile), its answer drawn at
 * once, its refusal said with what it means (409 change_in_progress or last_voter, 503, 504).
 */
async function changeMembers(change: MemberChange): Promise<void> {
  const c = cluster;
  if (!c) return;
  const label = changeLabel(change);
  const started = await inFlight.run(change, setChanging, async () => {
    say(`${label}… (answered once the cluster has committed the new configuration)`);
    try {
      const status = await callFor(api, c, change);
      if (c !== cluster) return;
      if (status && Array.isArray(status.servers)) drawAnswer(status);
      say(status?.added !== undefined ? `${label}: done, server ${status.added} added.` : `${label}: done.`);
    } catch (err) {
      const hint = err instanceof ApiError ? changeErrorHint(err) : "";
      say(`${label} failed: ${describe(err)}${hint ? ` (${hint})` : ""}`, true);
    }
  });
  if (!started) say(`${label}: wait for the change in flight to finish.`, true);
}

const ACTION_LABELS: Record<Exclude<ServerAction, "leader" | "promote" | "remove">, string> = {
  disconnect: "Disconnect",
  reconnect: "Reconnect",
  crash: "Crash",
  restart: "Restart",
  evict: "Evict",
};

function serverAction(id: number, action: ServerAction): Promise<void> {
  if (action === "promote" || action === "remove") return changeMembers({ kind: action, id });
  if (action === "leader") {
    // The answer comes once server `id` leads, up to two election timeouts later: say so meanwhile.
    say(`Handing leadership to server ${id}…`);
    return act(`Make server ${id} leader`, (c) => api.transferLeader(c, id));
  }
  return act(`${ACTION_LABELS[action]} server ${id}`, (c) => api.serverFault(c, id, action));
}

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  void openCluster(ui.name.value.trim(), Number(ui.size.value), {
    preVote: ui.preVote.checked,
    checkQuorum: ui.checkQuorum.checked,
  });
});

ui.remove.addEventListener("click", () => {
  const c = cluster;
  if (!c || !browser.confirm(`Delete cluster ${c}? Its servers stop and their storage is wiped.`)) return;
  generation += 1; // stop polling first: the next status would be a 404
  api.deleteCluster(c).then(
    () => {
      cluster = null;
      latest = null;
      ui.workspace.hidden = true;
      ui.intro.hidden = false;
      ui.remove.disabled = true;
      ui.deploy.disabled = true;
      browser.history.replaceState(null, "", "#");
      say(`Cluster ${c} deleted.`);
    },
    (err: unknown) => {
      say(`Delete failed: ${describe(err)}`, true);
      if (latest) show(latest);
    },
  );
});

byId("partition").addEventListener("click", () => {
  const groups = readGroups(ui.groups);
  const text = groups.map((g) => `{${g.join(", ")}}`).join(" ") || "everyone alone";
  void act(`Partition ${text}`, (c) => api.partition(c, groups));
});
// A deploy resets every server's object at once (POST /clusters/{c}/evict); nothing is lost
// but memory, and a reloaded leader of the current term leads again, so no election follows.
ui.deploy.addEventListener("click", () => void act("Deploy (evict all)", (c) => api.evictAll(c)));

ui.addMember.addEventListener("click", () => {
  const role = ui.memberRole.value === "learner" ? "learner" : "voter";
  void changeMembers({ kind: "add", role, locationHint: ui.memberRegion.value || null });
});

byId("heal").addEventListener("click", () => void act("Heal", (c) => api.heal(c)));
byId("lossy").addEventListener("click", () => {
  const conditions = networkConditions(byId("drop-rate").value, byId("delay-min").value, byId("delay-max").value);
  if (!conditions.ok) return say(conditions.error, true);
  const { dropRate, delayMs } = conditions.body;
  void act(`Lossy network (drop ${dropRate}, delay ${delayMs[0]}–${delayMs[1]} ms)`, (c) => api.network(c, conditions.body));
});
byId("reliable").addEventListener("click", () => void act("Reliable network", (c) => api.network(c, {})));

// A link like /#cluster=demo reopens that cluster (without creating it).
const fromHash = /cluster=([^&]+)/.exec(browser.location.hash)?.[1];
if (fromHash) {
  const name = decodeURIComponent(fromHash);
  ui.name.value = name;
  api.status(name).then(
    (status) => {
      show(status);
      say(`Cluster ${name} is open: ${membersText(status)}.`);
    },
    (err: unknown) => {
      const missing = err instanceof ApiError && err.status === 404;
      say(
        missing ? `Cluster ${name} does not exist yet: press Create / open.` : `Could not open cluster ${name}: ${describe(err)}`,
        !missing,
      );
    },
  );
}
