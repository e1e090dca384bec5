// bench/worker.ts bundled by wrangler as `npm run build` bundles the real Worker, run by Miniflare from
// Node: no wrangler dev proxy nor vitest pool in the way (both cost more than the objects themselves).
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { Miniflare, type MiniflareOptions } from "miniflare";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Bundles bench/worker.ts into `outdir`; the script's path. */
export function bundle(outdir: string): string {
  const scratch = join(REPO, "bench", ".wrangler");
  const hadScratch = existsSync(scratch);
  const args = ["deploy", "--dry-run", "--outdir", outdir, "--config", join(REPO, "bench", "wrangler.toml")];
  const r = spawnSync(join(REPO, "node_modules", ".bin", "wrangler"), args, { cwd: REPO, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG_PATH: join(outdir, "wrangler-logs") } });
  if (!hadScratch) rmSync(scratch, { recursive: true, force: true }); // wrangler's scratch directory next to the config is ours to remove
  const script = join(outdir, "worker.js");
  if (r.status !== 0 || !existsSync(script)) throw new Error(`bundling bench/worker.ts failed (wrangler exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return script;
}

/** Miniflare's options for `script`, RAFT_SERVER bound to ProfiledRaftServer (storage counters), the objects' storage in `persistDir`. */
export function runtimeOptions(script: string, persistDir: string): MiniflareOptions {
  const sqlite = (className: string) => ({ className, useSQLite: true });
  return {
    modules: true,
    modulesRoot: dirname(script),
    scriptPath: script,
    compatibilityDate: "2026-04-20",
    durableObjects: { RAFT_SERVER: sqlite("ProfiledRaftServer"), CLUSTER_REGISTRY: sqlite("ClusterRegistry"), BENCH_FLOOR: sqlite("BenchFloor"), SINGLE_KV: sqlite("SingleKv") },
    durableObjectsPersist: persistDir,
    // Port 0 chosen once: a restart (setOptions again) keeps the port, so the bench's client keeps its origin.
    port: 0,
    // NARRATE=0: narration kept for /events, not printed (printing every event would be the bench's biggest cost).
    bindings: { ADMIN_OPEN: "1", NARRATE: "0" },
    cf: false,
    // workerd's own output goes to stderr, so stdout carries only the tables.
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => [stdout, stderr].forEach((s) => s.pipe(process.stderr)),
  };
}

/** Miniflare running with `options`. */
export async function start(options: MiniflareOptions): Promise<Miniflare> {
  const mf = new Miniflare(options);
  await mf.ready;
  return mf;
}

/** A new workerd process in place of the running one, same port, same storage: every object unloaded, as after a deploy of the whole machine. */
export async function restart(mf: Miniflare, options: MiniflareOptions): Promise<void> {
  await mf.setOptions(options);
  await mf.ready;
}
