// `npm run bench`: every suite of bench/suites/index.ts in one run, then a JSON file and markdown on stdout
// (the headline first); progress on stderr. `npm run bench -- --help` lists the options.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Http } from "./lib/http.ts";
import { parseOptions, type Options } from "./lib/options.ts";
import { bundle, REPO, restart, runtimeOptions, start } from "./lib/runtime.ts";
import type { Ctx, Results, Section } from "./lib/suite.ts";
import { stopRunningEtcd } from "./suites/etcd.ts";
import { SUITES } from "./suites/index.ts";
import { head, tail } from "./suites/summary.ts";

const progress = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

// Ctrl-C or a kill while etcd runs: stop its members and delete its directory before leaving.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stopRunningEtcd().finally(() => process.exit(130)));

/** When, how, on what machine, under what load. */
export function runMeta(o: Options, began: number, loadavgBefore: number[]) {
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const load = (xs: number[]) => xs.map((x) => Math.round(x * 100) / 100);
  const seconds = Math.round((performance.now() - began) / 100) / 10;
  return { date: new Date().toISOString(), command, node: process.version, cpus: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`, loadavgBefore: load(loadavgBefore), loadavgAfter: load(loadavg()), options: o, seconds, ...(o.url ? { url: o.url } : {}) };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2), SUITES);
  const suites = SUITES.filter((s) => (o.only ? s.name === o.only : s.full) && (!o.url || s.url));
  if (suites.length === 0) throw new Error(`--only ${o.only} does not run against --url`);
  const [began, loadavgBefore] = [performance.now(), loadavg()];
  const dir = o.url ? null : mkdtempSync(join(tmpdir(), "raft-bench-"));
  if (dir) progress(`bundling bench/worker.ts (wrangler deploy --dry-run) into ${dir}`);
  const options = dir ? runtimeOptions(bundle(join(dir, "dist")), join(dir, "storage")) : null;
  const mf = options ? await start(options) : null;
  const http = new Http(mf ? (await mf.ready).origin : o.url!);
  try {
    const probe = o.url ? await http.call("GET", "/clusters/bench-probe", undefined, 5_000) : null;
    if (probe?.status === 0) throw new Error(`nothing answers at ${o.url}: start it with \`npm run dev\` (${JSON.stringify(probe.body)})`);
    const [ctx, results]: [Ctx, Record<string, unknown>] = [{ http, o, profiled: mf !== null, progress, restartWorkerd: mf && options ? () => restart(mf, options).then(() => http.reconnect()) : null }, {}];
    // Suites sampled in rounds (the floor) run at the start, in the middle and at the end.
    const samplers = suites.flatMap((s) => (s.sampler ? [[s.name, s.sampler(ctx)] as const] : []));
    const measured = suites.filter((s) => s.run);
    const rounds = [0, Math.ceil(measured.length / 2), measured.length];
    for (let i = 0; i <= measured.length; i++) {
      for (const [n, at] of rounds.entries()) if (at === i) for (const [, sampler] of samplers) await sampler.round(n + 1, rounds.length);
      if (i === measured.length) break;
      const { name, run } = measured[i]!;
      results[name] = await run!(ctx);
      const why = (results[name] as { unavailable?: unknown }).unavailable;
      if (typeof why === "string" && why) progress(`${name}: ${why}`);
    }
    for (const [name, sampler] of samplers) results[name] = sampler.result();
    const meta = runMeta(o, began, loadavgBefore);
    const all: Results = { meta, ...results };
    const sections: Section[] = [...head(all), ...suites.flatMap((s) => s.sections(results[s.name], all)), ...tail(all)];
    const out = resolve(REPO, o.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(all, null, 2) + "\n");
    const line = `Run ${meta.date} · \`${meta.command}\` · ${meta.seconds} s · Node ${meta.node} · ${meta.cpus} · load average before ${meta.loadavgBefore.join(" ")}, after ${meta.loadavgAfter.join(" ")} · ${o.url ? `against ${o.url}` : "RAFT_SERVER = ProfiledRaftServer (RaftServer with counted storage)"}`;
    process.stdout.write([line, ...sections.flatMap(([title, body]) => (body === null ? [] : [`### ${title}`, body]))].join("\n\n") + "\n");
    progress(`done in ${meta.seconds} s; JSON in ${out}`);
  } finally {
    await http.close();
    await mf?.dispose();
    if (dir && o.keep) progress(`kept ${dir}`);
    else if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
