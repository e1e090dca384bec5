// Members as the page shows and changes them (API.md, "Membership (admin)"): each card's role
// and region, which membership buttons a card offers, the calls behind Add / Promote / Remove,
// and what their refusals mean. Plain functions and one small class, tested without a browser.
//
// Ids are whatever the cluster says: a cluster of three that lost server 1 and gained two has
// servers 0, 2, 3, 4 — nothing here counts from 0 to size.

import type { Api, ClusterStatus, MemberRole, ServerStatus } from "./api.ts";
import { escapeHtml } from "../timeline/render.ts";

/** Cloudflare's `locationHint` values, the only regions the API takes (anything else is 400). */
export const REGIONS: readonly { hint: string; name: string }[] = [
  { hint: "wnam", name: "Western North America" },
  { hint: "enam", name: "Eastern North America" },
  { hint: "sam", name: "South America" },
  { hint: "weur", name: "Western Europe" },
  { hint: "eeur", name: "Eastern Europe" },
  { hint: "apac", name: "Asia-Pacific" },
  { hint: "oc", name: "Oceania" },
  { hint: "afr", name: "Africa" },
  { hint: "me", name: "Middle East" },
];

/** The Add form's region select: "no region" first (the API's default), then every hint. */
export function regionOptionsHtml(): string {
  return (
    `<option value="" selected>no region</option>` +
    REGIONS.map(({ hint, name }) => `<option value="${hint}">${hint} — ${escapeHtml(name)}</option>`).join("")
  );
}

/** The current members in ascending id order: exactly the servers the status lists. */
export function memberIds(status: Pick<ClusterStatus, "servers">): number[] {
  return status.servers.map((s) => s.id).sort((a, b) => a - b);
}

/**
 * A server's role in the cluster's configuration: the status's `voters` / `learners` lists
 * (the configuration the leader holds), else the server's own `role`; a Worker from before
 * membership changes reports neither, and there every server votes.
 */
export function roleOf(s: Pick<ServerStatus, "id" | "role">, status: Pick<ClusterStatus, "voters" | "learners">): MemberRole {
  if (status.learners?.includes(s.id)) return "learner";
  if (status.voters?.includes(s.id)) return "voter";
  return s.role === "learner" ? "learner" : "voter";
}

/** The card's region line: the hint and its name, or "no region" (the object went wherever). */
export function regionText(hint: string | null | undefined): { text: string; title: string } {
  if (!hint) return { text: "no region", title: "created without a locationHint: Cloudflare places it near the first request" };
  const name = REGIONS.find((r) => r.hint === hint)?.name;
  return { text: hint, title: name ? `locationHint ${hint}: ${name}` : `locationHint ${hint}` };
}

/** "3 voters", "3 voters + 1 learner": the summary's count, which `size` (voters only) alone would hide. */
export function membersText(status: Pick<ClusterStatus, "servers" | "voters" | "learners" | "size">): string {
  const learners = status.servers.filter((s) => roleOf(s, status) === "learner").length;
  const voters = status.servers.length - learners;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  // An older Worker has no roles at all: keep its wording.
  if (learners === 0 && status.learners === undefined && status.servers.every((s) => s.role === undefined)) {
    return plural(status.size, "server");
  }
  return learners > 0 ? `${plural(voters, "voter")} + ${plural(learners, "learner")}` : plural(voters, "voter");
}

/** Which of a card's role-dependent buttons show and work. */
export interface MemberButtons {
  /** Promote is offered on learners only. */
  promoteHidden: boolean;
  promoteDisabled: boolean;
  removeDisabled: boolean;
  /** Make leader: never the leader itself, a dead server or a learner (it does not vote). */
  leaderDisabled: boolean;
}

/** While a membership change is in flight (`changing`), no other one can start from the page. */
export function memberButtons(
  s: Pick<ServerStatus, "id" | "state" | "role">,
  status: Pick<ClusterStatus, "leader" | "voters" | "learners">,
  changing: boolean,
): MemberButtons {
  const role = roleOf(s, status);
  return {
    promoteHidden: role !== "learner",
    promoteDisabled: changing || role !== "learner",
    removeDisabled: changing,
    leaderDisabled: s.id === status.leader || s.state === "Dead" || role === "learner",
  };
}

/**
 * How the cards must change to show `wanted` (ascending): cards to drop, and cards to insert,
 * each before the first shown card with a greater id (null: at the end). New ids are normally
 * the largest, but a removal rolled back can bring a smaller one back.
 */
export function cardChanges(shown: readonly number[], wanted: readonly number[]): { remove: number[]; add: { id: number; before: number | null }[] } {
  const keep = new Set(wanted);
  const have = new Set(shown);
  const remove = shown.filter((id) => !keep.has(id));
  const remaining = shown.filter((id) => keep.has(id)).sort((a, b) => a - b);
  const add = wanted
    .filter((id) => !have.has(id))
    .map((id) => ({ id, before: remaining.find((other) => other > id) ?? null }));
  return { remove, add };
}

/** One membership change the page asks for. */
export type MemberChange =
  | { kind: "add"; role: MemberRole; locationHint: string | null }
  | { kind: "promote"; id: number }
  | { kind: "remove"; id: number };

/** The status line's words for a change: "Add a learner in weur", "Promote server 3", "Remove server 2". */
export function changeLabel(change: MemberChange): string {
  switch (change.kind) {
    case "add":
      return `Add a ${change.role}${change.locationHint ? ` in ${change.locationHint}` : ""}`;
    case "promote":
      return `Promote server ${change.id}`;
    case "remove":
      return `Remove server ${change.id}`;
  }
}

/** The API call behind a change. Each answers with the cluster status once the change is committed. */
export function callFor(api: Pick<Api, "addMember" | "promoteMember" | "removeMember">, c: string, change: MemberChange): Promise<ClusterStatus & { added?: number }> {
  switch (change.kind) {
    case "add":
      return api.addMember(c, change.role, change.locationHint);
    case "promote":
      return api.promoteMember(c, change.id);
    case "remove":
      return api.removeMember(c, change.id);
  }
}

/** What the API's refusals of a membership change mean, said after its own code and message. */
export function changeErrorHint(err: { status: number; code: string }): string {
  if (err.status === 409 && err.code === "change_in_progress") return "another membership change is not committed yet; try again once it is";
  if (err.status === 409 && err.code === "last_voter") return "the only voter cannot be removed; add or promote another voter first";
  if (err.status === 503) return "no leader to take the change; nothing was changed";
  if (err.status === 504) return "not committed in time: the outcome is unknown, the cards show what the cluster holds now";
  if (err.status === 404) return "no such cluster or member";
  return "";
}

/**
 * The one membership change in flight, if any. The API refuses a second one (409
 * change_in_progress) and the first can take a while (a new voter is caught up first), so
 * the page disables its membership buttons meanwhile instead of letting clicks pile up.
 */
export class ChangeInFlight {
  private current: MemberChange | null = null;

  get busy(): boolean {
    return this.current !== null;
  }

  /** Runs `run` unless a change is already in flight (then answers false and runs nothing). */
  async run(change: MemberChange, onBusyChange: (busy: boolean) => void, run: () => Promise<void>): Promise<boolean> {
    if (this.current !== null) return false;
    this.current = change;
    onBusyChange(true);
    try {
      await run();
    } finally {
      this.current = null;
      onBusyChange(false);
    }
    return true;
  }
}
