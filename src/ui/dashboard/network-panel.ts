// The network controls: partition into chosen groups, heal, lossy/reliable links.
// Reading the form is kept apart from calling the API so the rules are plain functions.

import type { El } from "./dom.ts";

const GROUP_NAMES = ["A", "B", "C"] as const;
const ALONE = "alone";

/** One select per server: group A, B, C, or alone (isolated). Default: first half A, rest B. */
export function groupSelectsHtml(size: number): string {
  return Array.from({ length: size }, (_, id) => {
    const preset = id < Math.ceil(size / 2) ? "A" : "B";
    const options = [...GROUP_NAMES, ALONE]
      .map((g) => `<option value="${g}"${g === preset ? " selected" : ""}>${g === ALONE ? "alone" : `group ${g}`}</option>`)
      .join("");
    return `<label>Server ${id} <select data-group-of="${id}">${options}</select></label>`;
  }).join("");
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
  const selects = Array.from(container.querySelectorAll("select[data-group-of]"));
  return groupsFromChoices(selects.map((s) => ({ id: Number(s.getAttribute("data-group-of")), group: s.value })));
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
