// The network controls: partition into chosen groups, heal, lossy/reliable links.
// Reading the form is kept apart from calling the API so the rules are plain functions.

import type { El } from "./dom.ts";

const GROUP_NAMES = ["A", "B", "C"] as const;
const ALONE = "alone";

/**
 * One select per member (ids as the cluster has them, gaps and all): group A, B, C, or alone
 * (isolated). A member keeps the group it was given (`chosen`); a new one gets the default,
 * first half of the list A, the rest B.
 */
export function groupSelectsHtml(ids: readonly number[], chosen: ReadonlyMap<number, string> = new Map()): string {
  return ids
    .map((id, k) => {
      const preset = chosen.get(id) ?? (k < Math.ceil(ids.length / 2) ? "A" : "B");
      const options = [...GROUP_NAMES, ALONE]
        .map((g) => `<option value="${g}"${g === preset ? " selected" : ""}>${g === ALONE ? "alone" : `group ${g}`}</option>`)
        .join("");
      return `<label>Server ${id} <select data-group-of="${id}">${options}</select></label>`;
    })
    .join("");
}

/** Each select's member and group, as the panel shows them now. */
export function readChoices(container: El): { id: number; group: string }[] {
  const selects = Array.from(container.querySelectorAll("select[data-group-of]"));
  return selects.map((s) => ({ id: Number(s.getAttribute("data-group-of")), group: s.value }));
}

/**
 * Redraws the selects when the members changed (and only then, so an open select or a choice
 * being made survives the polls); members still there keep their groups.
 */
export function syncGroupSelects(container: El, ids: readonly number[]): void {
  const choices = readChoices(container);
  if (choices.length === ids.length && choices.every((c, k) => c.id === ids[k])) return;
  container.innerHTML = groupSelectsHtml(ids, new Map(choices.map((c) => [c.id, c.group])));
}

/** The API's `groups`: one array per non-empty group; "alone" servers are in none (isolated). */
export function groupsFromChoices(choices: readonly { id: number; group: string }[]): number[][] {
  const groups = new Map<string, number[]>();
  for (const { id, group } of choices) {
    if (group === ALONE) continue;
    const members = groups.get(group) ?? [];
    members.push(id);
    groups.set(group, members);
  }
  return [...groups.keys()].sort().map((g) => groups.get(g) ?? []);
}

export function readGroups(container: El): number[][] {
  return groupsFromChoices(readChoices(container));
}

/** Validates the lossy-network inputs into the API's body, or says what is wrong. */
export function networkConditions(
  dropRate: string,
  delayMin: string,
  delayMax: string,
): { ok: true; body: { dropRate: number; delayMs: [number, number] } } | { ok: false; error: string } {
  const drop = Number(dropRate);
  const min = Number(delayMin);
  const max = Number(delayMax);
  if (dropRate.trim() === "" || !Number.isFinite(drop) || drop < 0 || drop > 1) {
    return { ok: false, error: "Drop rate must be a number from 0 to 1." };
  }
  if (!Number.isFinite(min) || !Number.isFinite(max) || min < 0 || max < min) {
    return { ok: false, error: "Delays must be numbers with 0 ≤ min ≤ max." };
  }
  return { ok: true, body: { dropRate: drop, delayMs: [min, max] } };
}
