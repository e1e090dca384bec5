// The dashboard's static markup and styles. The page script (client.ts) fills in the parts
// that depend on the cluster's members: the server cards, the partition groups, the timeline.
// Every control is a real <button>/<input> with a label, so the page works from the keyboard.

import { renderLegend, TIMELINE_CSS } from "../timeline/render.ts";
import { DEFAULT_PAGE_SIZE, PAGE_SIZES } from "./keys-list.ts";
import { regionOptionsHtml } from "./membership.ts";

export const DASHBOARD_CSS = `
:root { --ink: #1d2330; --muted: #4b5366; --line: #d4d9e2; --focus: #2563eb;
  --follower: #6b7c99; --candidate: #c98a00; --leader: #23804a; --dead: #5b606b; --asleep: #7c6fd0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: #f3f5f9; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
h1 { font-size: 18px; margin: 0; } h2 { font-size: 15px; margin: 0 0 8px; }
h3 { font-size: 15px; margin: 0; }
.top { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 10px 24px; padding: 10px 20px;
  background: #1f2937; color: #f9fafb; }
.top h1 { align-self: center; }
.top label { color: #d1d5db; }
.top input, .top select { background: #fff; color: var(--ink); }
.top details { align-self: center; }
.top label.inline { flex-direction: row; align-items: center; gap: 5px; font-size: 13px; padding-bottom: 5px; }
.top summary { cursor: pointer; color: #d1d5db; }
.top details[open] { padding-top: 4px; }
.row { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-end; }
label { display: flex; flex-direction: column; gap: 2px; font-size: 12px; color: var(--muted); }
input, select { font: inherit; padding: 4px 6px; border: 1px solid #9aa3b5; border-radius: 5px; min-width: 0; }
input[type=number] { width: 6.5em; }
input.invalid { border-color: #b42318; background: #fff5f5; }
button { font: inherit; padding: 4px 11px; border: 1px solid #8b95a8; border-radius: 6px; background: #fff;
  color: var(--ink); cursor: pointer; }
button:hover { background: #e8eef9; }
button:disabled { opacity: .5; cursor: default; }
button.primary { background: #2563eb; border-color: #1d4ed8; color: #fff; }
button.primary:hover { background: #1d4ed8; }
button.danger { border-color: #b42318; color: #9b1c1c; }
button[aria-pressed=true] { background: #fde68a; }
.status { min-height: 1.45em; margin: 0; padding: 6px 20px; background: #e5e9f2; border-bottom: 1px solid var(--line); }
.status.error { background: #fde2e1; color: #8a1c1c; }
.intro { padding: 24px 20px; max-width: 60em; }
.workspace { display: grid; grid-template-columns: minmax(0, 1fr) 360px; gap: 16px; padding: 14px 20px 30px; }
@media (max-width: 1050px) { .workspace { grid-template-columns: minmax(0, 1fr); } }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin-bottom: 14px; }
.summary { margin: 0 0 10px; color: var(--muted); }
.summary strong { color: var(--ink); }
.sleep-banner { margin: 0 0 10px; padding: 7px 12px; border: 1px solid #b9b1ec; border-left: 6px solid var(--asleep);
  border-radius: 6px; background: #f1effc; color: #2e2670; font-weight: 600; }
.sleep-banner::before { content: "☾ "; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(245px, 1fr)); gap: 12px; margin-bottom: 14px; }
.card { display: flex; flex-direction: column; background: #fff; border: 1px solid var(--line);
  border-top: 7px solid var(--follower); border-radius: 8px; padding: 8px 12px 10px; }
.card.st-candidate { border-top-color: var(--candidate); }
.card.st-leader { border-top-color: var(--leader); box-shadow: 0 0 0 2px rgba(35,128,74,.25); }
.card.st-dead { border-top-color: var(--dead); background: #eceef1;
  background-image: repeating-linear-gradient(45deg, transparent 0 8px, rgba(0,0,0,.035) 8px 16px); }
.card-head { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
.badge { padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 700; color: #fff; background: var(--follower); }
.card.st-candidate .badge { background: var(--candidate); }
.card.st-leader .badge { background: var(--leader); }
.card.st-dead .badge { background: var(--dead); }
.memberline { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin: 3px 0 0; font-size: 12px; color: var(--muted); }
.memberline .role { padding: 0 7px; border-radius: 9px; border: 1px solid #8b95a8; font-weight: 700; color: var(--ink); }
.memberline .role.learner { border: 1px dashed #0f766e; color: #0f5f58; background: #e6f6f4; }
.memberline .region::before { content: "· "; }
.card.learner { border-style: dashed; border-top-style: solid; }
.mark { margin: 2px 0 0; font-size: 12px; color: var(--muted); }
.mark:empty { display: none; }
.mark.current { color: var(--leader); font-weight: 700; }
.mark.stale { color: #9a6700; }
.card.asleep { background: #f7f6fe; border-color: #cdc7f1; }
.sleepline { margin: 2px 0 0; font-size: 12px; font-weight: 700; color: #4c3fb5; }
.sleepline:empty { display: none; }
.cost { margin: 0 0 8px; font-size: 11px; line-height: 1.4; color: var(--muted); }
.cost .loaded.reloaded { color: #8a4b00; font-weight: 700; }
.facts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 2px 8px; margin: 0 0 6px; }
.facts div { min-width: 0; }
.facts dt { font-size: 11px; color: var(--muted); }
.facts dd { margin: 0; font: 600 13px ui-monospace, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
.netline { margin: 2px 0 6px; font-size: 12px; color: var(--muted); }
.netline strong { color: var(--leader); }
.netline strong.net-down { color: #b42318; }
.logtail { display: flex; flex-wrap: wrap; gap: 2px; min-height: 22px; margin: 4px 0 2px; }
.logtail span { min-width: 20px; padding: 1px 2px; text-align: center; border-radius: 3px; border: 1px solid #b7c0cf;
  font: 10px/18px ui-monospace, Menlo, Consolas, monospace; color: var(--muted); background: #fff; }
.logtail span.committed { background: #bfe3c9; border-color: #7fbf92; color: #0f3d1f; }
.logtail span.applied { background: #23804a; border-color: #23804a; color: #fff; }
.logtail span.snap { padding: 1px 5px; background: #d9dde6; border-color: #9aa3b5; color: var(--ink); }
.logtail span.empty { border-color: transparent; background: transparent; min-width: 0; padding: 0 2px; font-size: 12px; }
.said { margin: 4px 0 8px; font: 11px/1.35 ui-monospace, Menlo, Consolas, monospace; color: var(--muted);
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.actions { display: grid; grid-template-columns: 1fr 1fr; gap: 6px; margin-top: auto; }
.actions button.wide { grid-column: 1 / -1; }
.log-legend { margin: -6px 0 8px; }
.log-legend .logtail { display: inline-flex; vertical-align: middle; margin: 0 0 0 4px; min-height: 0; }
.log-legend .logtail span { padding: 0 5px; }
.groups { display: grid; grid-template-columns: repeat(auto-fill, minmax(95px, 1fr)); gap: 6px; margin-bottom: 8px; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 10px; padding: 8px 10px; }
legend { font-size: 13px; font-weight: 600; padding: 0 4px; }
.hint { font-size: 12px; color: var(--muted); margin: 4px 0 0; }
.kv-fields { display: grid; grid-template-columns: 1fr 1fr; gap: 6px; margin-bottom: 8px; }
.kv-fields label:first-child { grid-column: 1 / -1; }
.kv-log { list-style: none; margin: 8px 0 0; padding: 0; max-height: 230px; overflow: auto;
  font: 12px/1.4 ui-monospace, Menlo, Consolas, monospace; }
.kv-log li { padding: 3px 6px; border-bottom: 1px solid #eef0f4; overflow-wrap: anywhere; }
.kv-log li.error { background: #fde2e1; color: #8a1c1c; }
.keys-panel summary { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 12px; cursor: pointer; }
.keys-panel summary h2 { display: inline; margin: 0; }
.keys-panel details[open] summary { margin-bottom: 8px; }
.keys-caption { margin: 8px 0 6px; }
.keys-caption.error { color: #8a1c1c; background: #fde2e1; padding: 3px 6px; border-radius: 4px; }
.keys-table { width: 100%; border-collapse: collapse; font: 12px/1.4 ui-monospace, Menlo, Consolas, monospace; }
.keys-table th { text-align: left; font: 600 11px system-ui, sans-serif; color: var(--muted); border-bottom: 1px solid var(--line); padding: 2px 6px; }
.keys-table td { padding: 3px 6px; border-bottom: 1px solid #eef0f4; vertical-align: top; }
.keys-table td.key { overflow-wrap: anywhere; font-weight: 600; }
.keys-table td.value { overflow-wrap: anywhere; color: var(--muted); }
.keys-table td.value.empty { font-style: italic; }
.keys-table td.num, .keys-table th.num { width: 6.5em; text-align: right; white-space: nowrap; }
.keys-table td:last-child { width: 1%; }
.keys-table button { padding: 1px 8px; font-size: 12px; }
.tl-controls { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: flex-end; margin-bottom: 6px; }
.tl-controls label.inline { flex-direction: row; align-items: center; gap: 5px; font-size: 13px; color: var(--ink); }
.tl-scroll { max-height: 52vh; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

const PAGE_SIZE_OPTIONS = PAGE_SIZES.map((n) => `<option value="${n}"${n === DEFAULT_PAGE_SIZE ? " selected" : ""}>${n}</option>`).join("");

const SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9]
  .map((n) => `<option value="${n}"${n === 3 ? " selected" : ""}>${n}</option>`)
  .join("");

export const DASHBOARD_BODY = `
<header class="top">
  <h1>Raft on Durable Objects</h1>
  <form id="cluster-form" class="row" aria-label="Cluster">
    <label>Cluster name <input id="cluster-name" name="cluster" value="demo" required maxlength="64"
      pattern="[A-Za-z0-9_\\-]{1,64}" autocomplete="off" spellcheck="false"></label>
    <label>Servers <select id="cluster-size" name="size">${SIZES}</select></label>
    <label class="inline" title="A server cut off from the others cannot push the term up (Raft thesis §9.6)">
      <input type="checkbox" id="cluster-prevote" name="preVote"> PreVote</label>
    <label class="inline" title="A leader that stops hearing from a majority steps down">
      <input type="checkbox" id="cluster-checkquorum" name="checkQuorum"> CheckQuorum</label>
    <button type="submit" id="open-cluster" class="primary">Create / open</button>
    <button type="button" id="delete-cluster" class="danger" disabled>Delete cluster</button>
  </form>
  <details>
    <summary>Access tokens</summary>
    <div class="row">
      <label>Admin token <input id="admin-token" type="password" autocomplete="off"></label>
      <label>Client token <input id="client-token" type="password" autocomplete="off"></label>
    </div>
  </details>
</header>
<p id="status" class="status" role="status" aria-live="polite">No cluster open.</p>
<div id="intro" class="intro">
  <p>Pick a cluster name and a size (PreVote and CheckQuorum are off unless ticked), then <strong>Create / open</strong>.
  An existing cluster is opened as it is.
  Each server is a Durable Object; the cards below show what each one reports, about four times a second.</p>
</div>
<main id="workspace" class="workspace" hidden>
  <div>
    <section aria-labelledby="servers-title">
      <h2 id="servers-title" class="visually-hidden">Servers</h2>
      <p id="summary" class="summary"></p>
      <p id="sleep-banner" class="sleep-banner" hidden></p>
      <p class="hint log-legend">Log boxes show each server's newest entries:
        <span class="logtail"><span class="snap">snapshot ≤ k</span><span class="applied">applied</span><span class="committed">committed</span><span>not committed</span></span></p>
      <div id="cards" class="cards"></div>
    </section>
    <section class="panel keys-panel" aria-labelledby="keys-title">
      <details id="keys-details">
        <summary><h2 id="keys-title">Keys</h2>
          <span class="hint">listed when you ask: a list is a read through Raft, and wakes a sleeping cluster</span></summary>
        <form id="keys-form" class="row" aria-label="Which keys">
          <label>Prefix <input id="keys-prefix" autocomplete="off" spellcheck="false" placeholder="all keys"></label>
          <label>Per page <select id="keys-limit">${PAGE_SIZE_OPTIONS}</select></label>
          <button type="submit" id="keys-refresh">Refresh</button>
          <button type="button" id="keys-first">First page</button>
          <button type="button" id="keys-previous">Previous page</button>
          <button type="button" id="keys-next">Next page</button>
        </form>
        <p id="keys-caption" class="hint keys-caption" aria-live="polite"></p>
        <table class="keys-table" aria-labelledby="keys-title" aria-describedby="keys-caption">
          <thead><tr><th scope="col">key</th><th scope="col">value</th>
            <th scope="col" class="num" title="the revision that created the key">created</th>
            <th scope="col" class="num" title="the revision of its last write">modified</th>
            <th scope="col" class="num" title="writes since it was created">version</th>
            <th scope="col"><span class="visually-hidden">delete</span></th></tr></thead>
          <tbody id="keys-rows"></tbody>
        </table>
      </details>
    </section>
    <section class="panel" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Event timeline</h2>
      <div class="tl-controls">
        <button type="button" id="tl-pause" aria-pressed="false">Pause</button>
        <button type="button" id="tl-clear">Clear</button>
        <label>Hide lines matching <input id="tl-filter" placeholder="e.g. AppendEntries|heartbeat" size="28"
          autocomplete="off" spellcheck="false"></label>
        <label class="inline"><input type="checkbox" id="tl-heartbeats" checked> Hide heartbeats</label>
        <label class="inline"><input type="checkbox" id="tl-follow" checked> Follow newest</label>
        <span id="tl-count" class="hint" aria-live="off"></span>
      </div>
      ${renderLegend()}
      <div id="tl-scroll" class="tl-scroll" tabindex="0" aria-label="Event timeline, one column per server"></div>
    </section>
  </div>
  <aside>
    <section class="panel" aria-labelledby="network-title">
      <h2 id="network-title">Network</h2>
      <fieldset>
        <legend>Partition</legend>
        <div id="groups" class="groups"></div>
        <div class="row">
          <button type="button" id="partition">Partition</button>
          <button type="button" id="heal">Heal</button>
        </div>
        <p class="hint">Only servers in the same group can talk; "alone" isolates a server.</p>
      </fieldset>
      <fieldset>
        <legend>Message loss and delay</legend>
        <div class="row">
          <label>Drop rate (0–1) <input id="drop-rate" type="number" min="0" max="1" step="0.05" value="0.2"></label>
          <label>Delay min ms <input id="delay-min" type="number" min="0" step="5" value="0"></label>
          <label>Delay max ms <input id="delay-max" type="number" min="0" step="5" value="75"></label>
        </div>
        <div class="row" style="margin-top:8px">
          <button type="button" id="lossy">Make lossy</button>
          <button type="button" id="reliable">Make reliable</button>
        </div>
      </fieldset>
    </section>
    <section class="panel" aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      <div class="row">
        <label>Role <select id="member-role">
          <option value="voter" selected>voter</option><option value="learner">learner</option></select></label>
        <label>Region <select id="member-region">${regionOptionsHtml()}</select></label>
        <button type="button" id="add-member">Add server</button>
      </div>
      <p class="hint">A new server gets the next unused id. A learner receives the log but does not vote;
        <strong>Promote</strong> on its card makes it a voter, <strong>Remove</strong> takes a server out.
        One change at a time: the buttons wait until the cluster has committed it.</p>
    </section>
    <section class="panel" aria-labelledby="platform-title">
      <h2 id="platform-title">Platform</h2>
      <div class="row">
        <button type="button" id="deploy">Deploy (evict all)</button>
      </div>
      <p class="hint">Resets every server's object at once, as a deploy of a new version does: memory lost,
        storage and alarms kept, nothing kept down. <strong>Evict</strong> on a card resets one. A reloaded leader
        of the current term leads on, so no election follows.</p>
    </section>
    <section class="panel" aria-labelledby="kv-title">
      <h2 id="kv-title">Key/value console</h2>
      <form id="kv-form" aria-labelledby="kv-title">
        <div class="kv-fields">
          <label>Key <input id="kv-key" value="greeting" autocomplete="off" spellcheck="false"></label>
          <label>Value <input id="kv-value" value="hello" autocomplete="off" spellcheck="false"></label>
          <label>Compare (CAS) <input id="kv-compare" autocomplete="off" spellcheck="false"></label>
        </div>
        <div class="row">
          <button type="submit" data-kv="get">Get</button>
          <button type="button" data-kv="put">Put</button>
          <button type="button" data-kv="cas">CAS</button>
          <button type="button" data-kv="append">Append</button>
          <button type="button" data-kv="delete">Delete</button>
        </div>
      </form>
      <ol id="kv-log" class="kv-log" aria-live="polite" aria-label="Key/value results, newest first"></ol>
    </section>
  </aside>
</main>
`;

export { TIMELINE_CSS };
