// The dashboard's membership parts (issue 12): each card's role and region, ids with gaps
// everywhere the page lists servers (cards, partition groups, timeline columns), and the
// Add / Promote / Remove buttons calling the API's membership routes, one change at a time.
import { describe, expect, test } from "vitest";
import { dashboardHtml } from "../../../src/ui/dashboard.ts";
import { Api, ApiError, type ClusterStatus, type ServerStatus } from "../../../src/ui/dashboard/api.ts";
import { cardHtml, ServerCards, type ServerAction } from "../../../src/ui/dashboard/cards.ts";
import type { El } from "../../../src/ui/dashboard/dom.ts";
import { LiveTimeline } from "../../../src/ui/dashboard/live-timeline.ts";
import {
  callFor,
  cardChanges,
  ChangeInFlight,
  changeErrorHint,
  changeLabel,
  memberButtons,
  memberIds,
  membersText,
  REGIONS,
  regionText,
  roleOf,
} from "../../../src/ui/dashboard/membership.ts";
import { groupSelectsHtml, readGroups, syncGroupSelects } from "../../../src/ui/dashboard/network-panel.ts";
import { parseTestLog } from "../../../src/ui/timeline/parse.ts";
import { FakeCards, FakeEl, fakeEl } from "./fake-dom.ts";
import { SEED } from "./seed.ts";

function server(id: number, over: Partial<ServerStatus> = {}): ServerStatus {
  return {
    id,
    state: "Follower",
    term: 2,
    votedFor: null,
    commitIndex: 4,
    lastApplied: 4,
    logLength: 4,
    connected: true,
    snapshotIndex: 0,
    transferringTo: null,
    role: "voter",
    locationHint: null,
    stats: { alarms: 1, rpcsSent: 2, rpcsReceived: 3, loadedAt: 1_000 },
    ...over,
  };
}

/** A cluster of three that lost server 1 and gained 3 (a voter now) and 5 (a learner in weur). */
function gapped(over: Partial<ClusterStatus> = {}): ClusterStatus {
  return {
    cluster: "c",
    size: 3,
    leader: 2,
    voters: [0, 2, 3],
    learners: [5],
    servers: [
      server(0, { locationHint: "enam" }),
      server(2, { state: "Leader" }),
      server(3, { locationHint: "apac" }),
      server(5, { role: "learner", locationHint: "weur" }),
    ],
    ...over,
  };
}

describe("role and region", () => {
  test("a server's role is the configuration's (voters / learners), else its own; an older Worker's servers all vote", () => {
    expect(roleOf({ id: 5, role: "learner" }, {})).toBe("learner");
    expect(roleOf({ id: 5, role: "voter" }, { voters: [0], learners: [5] })).toBe("learner");
    expect(roleOf({ id: 5, role: "learner" }, { voters: [0, 5], learners: [] })).toBe("voter");
    expect(roleOf({ id: 5 }, { learners: [5] })).toBe("learner");
    expect(roleOf({ id: 5 }, {})).toBe("voter");
  });

  test("a region is its hint with Cloudflare's name, or 'no region'", () => {
    expect(regionText("weur")).toEqual({ text: "weur", title: "locationHint weur: Western Europe" });
    expect(regionText(null).text).toBe("no region");
    expect(regionText(undefined).text).toBe("no region");
    expect(REGIONS.map((r) => r.hint)).toEqual(["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"]);
  });

  test("the summary counts voters and learners (size alone counts voters)", () => {
    expect(membersText(gapped())).toBe("3 voters + 1 learner");
    expect(membersText(gapped({ learners: [], servers: gapped().servers.slice(0, 3) }))).toBe("3 voters");
    expect(membersText({ size: 1, learners: [], servers: [server(4)] })).toBe("1 voter");
    // A Worker from before membership changes: no roles anywhere.
    const old = [0, 1, 2].map((id) => ({ ...server(id), role: undefined }));
    expect(membersText({ size: 3, servers: old })).toBe("3 servers");
  });

  test("Promote shows on learners only; Make leader never on a learner; a change in flight disables both membership buttons", () => {
    const status = gapped();
    const [s0, s2, , s5] = status.servers as [ServerStatus, ServerStatus, ServerStatus, ServerStatus];
    expect(memberButtons(s5, status, false)).toEqual({ promoteHidden: false, promoteDisabled: false, removeDisabled: false, leaderDisabled: true });
    expect(memberButtons(s0, status, false)).toEqual({ promoteHidden: true, promoteDisabled: true, removeDisabled: false, leaderDisabled: false });
    expect(memberButtons(s2, status, false).leaderDisabled).toBe(true); // the leader itself
    expect(memberButtons({ ...s0, state: "Dead" }, status, false).leaderDisabled).toBe(true);
    expect(memberButtons(s5, status, true)).toMatchObject({ promoteDisabled: true, removeDisabled: true });
    expect(memberButtons(s0, status, true).removeDisabled).toBe(true);
  });
});

describe("ids with gaps", () => {
  test("members are the servers listed, ascending, whatever their ids", () => {
    expect(memberIds({ servers: [server(5), server(0), server(3), server(2)] })).toEqual([0, 2, 3, 5]);
  });

  test("card changes: drop the removed, insert the new in id order", () => {
    expect(cardChanges([0, 1, 2], [0, 2, 3])).toEqual({ remove: [1], add: [{ id: 3, before: null }] });
    expect(cardChanges([0, 2, 3], [0, 2, 3])).toEqual({ remove: [], add: [] });
    // A removal rolled back brings a smaller id back: it goes before the next greater card.
    expect(cardChanges([0, 3, 5], [0, 2, 3, 5])).toEqual({ remove: [], add: [{ id: 2, before: 3 }] });
    expect(cardChanges([], [0, 2])).toEqual({ remove: [], add: [{ id: 0, before: null }, { id: 2, before: null }] });
  });

  test("a card has role and region fields and Promote / Remove buttons labelled with its id", () => {
    const html = cardHtml(7);
    expect(html).toContain('data-server="7"');
    expect(html).toContain('data-field="role"');
    expect(html).toContain('data-field="region"');
    expect(html).toContain('aria-label="Promote server 7"');
    expect(html).toContain('aria-label="Remove server 7"');
  });

  test("the cards follow the members: role badge, region, gaps, and nothing rebuilt that stayed", () => {
    const container = new FakeCards();
    const clicks: [number, ServerAction][] = [];
    const cards = new ServerCards(container as unknown as El, (id, action) => clicks.push([id, action]));
    const first: ClusterStatus = {
      cluster: "c",
      size: 3,
      leader: 0,
      voters: [0, 1, 2],
      learners: [],
      servers: [server(0, { state: "Leader", locationHint: "enam" }), server(1), server(2)],
    };
    cards.update(first, () => null, 2_000);
    expect(container.ids()).toEqual([0, 1, 2]);
    const kept = container.card(2);

    cards.update(gapped(), () => null, 2_000);
    expect(container.ids()).toEqual([0, 2, 3, 5]);
    expect(container.card(2)).toBe(kept); // updated in place, never rebuilt (focus stays put)
    const shown = (id: number) => ({
      role: container.card(id).text("role"),
      region: container.card(id).text("region"),
      state: container.card(id).text("state"),
    });
    expect(shown(0)).toEqual({ role: "voter", region: "enam", state: "Follower" });
    expect(shown(2)).toEqual({ role: "voter", region: "no region", state: "Leader" });
    expect(shown(5)).toEqual({ role: "learner", region: "weur", state: "Follower" });
    expect(container.card(5).className).toContain("learner");
    expect(container.card(5).fields.get("role")?.className).toBe("role learner");
    expect(container.card(5).fields.get("region")?.getAttribute("title")).toBe("locationHint weur: Western Europe");
    expect(container.card(0).className).not.toContain("learner");
    expect(container.card(2).text("mark")).toBe("★ current leader");

    // Promote only on the learner, Remove on every card; the clicks name the right server.
    expect(container.cards.map((c) => c.buttons.get("promote")?.hidden)).toEqual([true, true, true, false]);
    container.click(5, "promote");
    container.click(3, "remove");
    expect(clicks).toEqual([[5, "promote"], [3, "remove"]]);

    // While a change is in flight every card's Promote and Remove are disabled, then work again.
    cards.setChanging(true);
    expect(container.cards.every((c) => c.buttons.get("remove")?.disabled)).toBe(true);
    expect(container.card(5).buttons.get("promote")?.disabled).toBe(true);
    expect(container.card(0).buttons.get("disconnect")?.disabled).toBe(false); // faults are not membership changes
    cards.setChanging(false);
    expect(container.cards.some((c) => c.buttons.get("remove")?.disabled)).toBe(false);

    // Server 5 promoted: its badge says so and Promote goes away.
    const promoted = gapped({ voters: [0, 2, 3, 5], learners: [], size: 4 });
    promoted.servers[3] = server(5, { role: "voter", locationHint: "weur" });
    cards.update(promoted, () => null, 2_000);
    expect(container.card(5).text("role")).toBe("voter");
    expect(container.card(5).buttons.get("promote")?.hidden).toBe(true);
    expect(container.card(5).className).not.toContain("learner");

    // A server removed and another added: a gap stays, the new card goes last.
    cards.update({ ...promoted, servers: [promoted.servers[0]!, promoted.servers[1]!, promoted.servers[3]!, server(6)] }, () => null, 2_000);
    expect(container.ids()).toEqual([0, 2, 5, 6]);
    expect(container.card(6).text("term")).toBe("2");
  });
});

describe("partition groups with gaps", () => {
  test("one select per member, named by its id; a member keeps its group when others change", () => {
    const html = groupSelectsHtml([0, 2, 3, 5]);
    expect([...html.matchAll(/data-group-of="(\d+)"/g)].map((m) => Number(m[1]))).toEqual([0, 2, 3, 5]);
    expect([...html.matchAll(/<label>Server (\d+) /g)].map((m) => Number(m[1]))).toEqual([0, 2, 3, 5]);

    // A container that reads its selects back from the markup it was given.
    const panel = new (class extends FakeEl {
      override querySelectorAll(): ArrayLike<El> {
        return [...this.innerHTML.matchAll(/data-group-of="(\d+)">([\s\S]*?)<\/select>/g)].map((m) => {
          const el = new FakeEl();
          el.setAttribute("data-group-of", m[1] ?? "");
          el.value = /<option value="(\w+)" selected>/.exec(m[2] ?? "")?.[1] ?? "";
          return el as unknown as El;
        });
      }
    })();
    syncGroupSelects(panel as unknown as El, [0, 1, 2]);
    expect(readGroups(panel as unknown as El)).toEqual([[0, 1], [2]]);
    // The user isolates server 0; then 1 is removed and 3 added: 0 is still alone, 3 gets a default.
    panel.innerHTML = panel.innerHTML.replace(/(data-group-of="0">[\s\S]*?)<option value="A" selected>/, '$1<option value="A">').replace(
      /(data-group-of="0">[\s\S]*?)<option value="alone">/,
      '$1<option value="alone" selected>',
    );
    expect(readGroups(panel as unknown as El)).toEqual([[1], [2]]);
    syncGroupSelects(panel as unknown as El, [0, 2, 3]);
    expect(readGroups(panel as unknown as El)).toEqual([[2, 3]]);
    const before = panel.innerHTML;
    syncGroupSelects(panel as unknown as El, [0, 2, 3]); // same members: left alone
    expect(panel.innerHTML).toBe(before);
  });
});

describe("timeline columns follow the members", () => {
  function timeline() {
    const ui = {
      scroll: fakeEl(),
      pause: fakeEl(),
      clear: fakeEl(),
      filter: fakeEl(),
      heartbeats: fakeEl({ checked: false }),
      follow: fakeEl({ checked: true }),
      count: fakeEl(),
    };
    return { tl: new LiveTimeline(ui), scroll: ui.scroll };
  }
  const header = (html: string) => [...html.matchAll(/<th scope="col">server (\d+)<\/th>/g)].map((m) => Number(m[1]));
  const rows = (html: string) => [...html.matchAll(/<tr( class="[^"]*")?>([\s\S]*?)<\/tr>/g)].slice(1).map((m) => m[2] ?? "");
  /** Per server column of one row: its state, or "said: text" where the line sits. */
  const cells = (row: string) =>
    [...row.matchAll(/<td class="([^"]*)" (?:data-state="(\w+)")[^>]*>([^<]*)<\/td>/g)].map((m) => (m[3] ? `${m[2]}: ${m[3]}` : m[2]));

  // The seed's opening: servers 0, 1, 2 of a Go test, as the live feed would carry them.
  const seed = (parseTestLog(SEED)[0]?.entries ?? []).slice(0, 40).map((e, k) => ({
    t: 1_700_000_000_000 + k,
    server: e.server,
    line: e.server === null ? `[TEST] ${e.text}` : `[${e.server}] ${e.text}`,
  }));

  test("columns are the member ids, gaps and all, and each line sits in its own server's column", () => {
    const { tl, scroll } = timeline();
    tl.reset([0, 2, 5]);
    expect(header(scroll.innerHTML)).toEqual([0, 2, 5]);
    tl.add([{ t: 1, server: 5, line: "[5] becomes Candidate (currentTerm=3); log=[]" }]);
    const [row] = rows(scroll.innerHTML);
    expect(cells(row ?? "")).toEqual(["Follower", "Follower", "Candidate: becomes Candidate (currentTerm=3); log=[]"]);
  });

  test("a server added gets a blank column before it joined; a removed one's lines span the row", () => {
    const { tl, scroll } = timeline();
    tl.reset([0, 1, 2]);
    tl.add(seed);
    const leaderRow = () => rows(scroll.innerHTML).find((r) => r.includes("becomes Leader")) ?? "";
    expect(cells(leaderRow())).toEqual(["Follower", "Leader: becomes Leader; term=1, log=[]", "Follower"]);

    // Server 3 joins as a learner, seen by the status as a Follower of term 1.
    tl.setServers([0, 1, 2, 3], new Map([[3, { state: "Follower" as const, term: 1 }]]));
    expect(header(scroll.innerHTML)).toEqual([0, 1, 2, 3]);
    expect(leaderRow()).toContain('<td class="tl-absent" data-state="none" title="server 3: not a member yet"></td>');
    tl.add([{ t: 1_700_000_001_000, server: 3, line: "[3] becomes Follower with term=1; log=[]" }]);
    const joined = cells(rows(scroll.innerHTML).at(-1) ?? "");
    expect(joined[3]).toBe("Follower: becomes Follower with term=1; log=[]");
    expect(joined.slice(0, 3)).toEqual(cells(leaderRow()).slice(0, 3).map((c) => c?.replace(/:.*/, "")));

    // Server 1 removed: its column goes, its past lines span the row as "[1] ...".
    tl.setServers([0, 2, 3]);
    expect(header(scroll.innerHTML)).toEqual([0, 2, 3]);
    expect(scroll.innerHTML).toContain('<tr class="tl-other"><td class="tl-time">');
    expect(scroll.innerHTML).toMatch(/<td class="tl-event" colspan="3">\[1\] becomes Leader; term=1, log=\[\]<\/td>/);
    expect(tl.columns()).toEqual([0, 2, 3]);
  });
});

describe("membership calls", () => {
  async function recorded(run: (api: Api) => Promise<unknown>, answer: { status: number; body: unknown } = { status: 200, body: gapped() }) {
    const calls: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (path: string, init: { method: string; body: string | null }) => {
      calls.push(`${init.method} ${path}${init.body ? ` ${init.body}` : ""}`);
      return new Response(JSON.stringify(answer.body), { status: answer.status });
    }) as unknown as typeof fetch;
    let error: unknown = null;
    try {
      await run(new Api(() => ({ admin: "", client: "" })));
    } catch (err) {
      error = err;
    } finally {
      globalThis.fetch = realFetch;
    }
    return { calls, error };
  }

  test("Add, Promote and Remove call the API's membership routes", async () => {
    const { calls } = await recorded(async (api) => {
      await callFor(api, "c", { kind: "add", role: "learner", locationHint: "weur" });
      await callFor(api, "c", { kind: "add", role: "voter", locationHint: null });
      await callFor(api, "c", { kind: "promote", id: 5 });
      await callFor(api, "c", { kind: "remove", id: 3 });
    });
    expect(calls).toEqual([
      'POST /clusters/c/members {"role":"learner","locationHint":"weur"}',
      'POST /clusters/c/members {"role":"voter"}',
      "POST /clusters/c/members/5/promote",
      "DELETE /clusters/c/members/3",
    ]);
  });

  test("the buttons are labelled by what they change", () => {
    expect(changeLabel({ kind: "add", role: "learner", locationHint: "weur" })).toBe("Add a learner in weur");
    expect(changeLabel({ kind: "add", role: "voter", locationHint: null })).toBe("Add a voter");
    expect(changeLabel({ kind: "promote", id: 5 })).toBe("Promote server 5");
    expect(changeLabel({ kind: "remove", id: 0 })).toBe("Remove server 0");
  });

  test("refusals keep the API's words and say what they mean", async () => {
    const { error } = await recorded((api) => api.removeMember("c", 0), {
      status: 409,
      body: { error: "last_voter", message: "server 0 is the only voter" },
    });
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).describe()).toBe("409 last_voter: server 0 is the only voter");
    expect(changeErrorHint(error as ApiError)).toMatch(/only voter cannot be removed/);
    expect(changeErrorHint({ status: 409, code: "change_in_progress" })).toMatch(/another membership change/);
    expect(changeErrorHint({ status: 503, code: "unavailable" })).toMatch(/no leader/);
    expect(changeErrorHint({ status: 504, code: "timeout" })).toMatch(/outcome is unknown/);
    expect(changeErrorHint({ status: 500, code: "internal" })).toBe("");
  });

  test("one change at a time: a second one while the first is in flight runs nothing", async () => {
    const inFlight = new ChangeInFlight();
    const busy: boolean[] = [];
    let finish = () => {};
    const first = inFlight.run({ kind: "promote", id: 5 }, (b) => busy.push(b), () => new Promise<void>((r) => (finish = r)));
    expect(inFlight.busy).toBe(true);
    let ran = false;
    expect(await inFlight.run({ kind: "remove", id: 3 }, (b) => busy.push(b), async () => void (ran = true))).toBe(false);
    expect(ran).toBe(false);
    finish();
    expect(await first).toBe(true);
    expect(inFlight.busy).toBe(false);
    expect(busy).toEqual([true, false]);
    // A failed change frees the buttons too.
    await expect(inFlight.run({ kind: "remove", id: 3 }, (b) => busy.push(b), () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(inFlight.busy).toBe(false);
    expect(busy).toEqual([true, false, true, false]);
  });

  test("the page has the Add control: role, region (every hint, and none) and the button, all labelled", () => {
    const html = dashboardHtml();
    expect(html).toContain('id="add-member"');
    const region = /<select id="member-region">([\s\S]*?)<\/select>/.exec(html)?.[1] ?? "";
    expect([...region.matchAll(/<option value="(\w*)"/g)].map((m) => m[1])).toEqual(["", ...REGIONS.map((r) => r.hint)]);
    const role = /<select id="member-role">([\s\S]*?)<\/select>/.exec(html)?.[1] ?? "";
    expect([...role.matchAll(/<option value="(\w+)"/g)].map((m) => m[1])).toEqual(["voter", "learner"]);
    expect(html).toMatch(/<label>Role <select id="member-role">/);
    expect(html).toMatch(/<label>Region <select id="member-region">/);
  });
});
