// The run history as data, bench/results/runs.jsonl (a line per run) and outputs.jsonl (a line per table printed), printed back:
//   npx tsx bench/history.ts                 the runs recorded, one line each
//   npx tsx bench/history.ts 16 17 18        those runs' figures side by side
//   npx tsx bench/history.ts --output 16     the tables run 16 printed
import { readFileSync } from "node:fs";
import { table } from "./lib/render.ts";

type Run = { run: string; commit?: string; date?: string; time?: string; loadavg?: string; client?: string; note?: string; figures: Record<string, string | number> };
type Output = { run: string; section: string; printed?: string; header: string[]; rows: Array<Array<string | number>> };

const read = <T>(file: string): T[] => readFileSync(new URL(`./results/${file}`, import.meta.url), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as T);
const when = (r: Run) => [r.commit, r.date, r.time, r.loadavg && `load ${r.loadavg}`, r.client].filter(Boolean).join(", ");
const args = process.argv.slice(2);

if (args[0] === "--output") {
  for (const t of read<Output>("outputs.jsonl").filter((t) => args.slice(1).includes(t.run))) {
    console.log([`### ${t.section} (run ${t.run})`, t.printed, table(t.header, t.rows.map((row) => row.map(String)))].filter(Boolean).join("\n\n") + "\n");
  }
} else if (args.length === 0) {
  console.log(table(["run", "when", "figures", "note"], read<Run>("runs.jsonl").map((r) => [r.run, when(r), String(Object.keys(r.figures).length), r.note ?? ""])));
} else {
  const runs = read<Run>("runs.jsonl").filter((r) => args.includes(r.run));
  const figures = [...new Set(runs.flatMap((r) => Object.keys(r.figures)))];
  console.log(table(["", ...runs.map((r) => `run ${r.run} (${when(r)})`)], figures.map((f) => [f, ...runs.map((r) => String(r.figures[f] ?? "—"))])));
}
