// The one renderer: every table is a header and rows of cells, every figure formatted by the same functions.

export type Value = number | null | undefined;

const known = (x: Value): x is number => x !== null && x !== undefined && Number.isFinite(x);

/** A figure: 3 significant places below 10 (`digits` decimals), one decimal to 100, none above; "—" when unknown. */
export const fmt = (x: Value, digits = 2): string => (!known(x) ? "—" : x.toFixed(Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : digits));

/** a ÷ b as "1.23×", "—" when either is unknown or b is 0. */
export const ratio = (a: Value, b: Value): string => (known(a) && known(b) && b !== 0 ? `${fmt(a / b)}×` : "—");

/** Dollars: cents below $100, a tenth of a cent below $1. */
export const usd = (x: Value): string => (!known(x) ? "—" : x >= 100 ? `$${x.toFixed(0)}` : x >= 1 ? `$${x.toFixed(2)}` : `$${x.toFixed(3)}`);

/** A goal's or target's verdict. */
export const verdict = (met: boolean | null, none = "not evaluated"): string => (met === null ? none : met ? "**met**" : "**missed**");

/** "1 client", "64 clients". */
export const clientsLabel = (n: number): string => `${n} client${n > 1 ? "s" : ""}`;

/** A markdown table; the first column left-aligned, the figures right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)].join("\n");
}

/** "kv routes missing: PUT ... answered 404 {...}" → "kv routes missing" (the notes keep the whole text). */
export const short = (why: string | null | undefined): string | null => (why ? why.split(":")[0]! : null);

/** Non-200 answers of a phase as a note line, or nothing. */
export const errorNote = (what: string, errors: Record<string, number>): string[] =>
  Object.keys(errors).length ? [`- ${what}: non-200 answers ${JSON.stringify(errors)}.`] : [];
