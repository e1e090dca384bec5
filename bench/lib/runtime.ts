// The bench's workerd: bench/worker.ts bundled by wrangler (exactly as `npm run build` bundles
// the real Worker), then run by Miniflare driven from Node — no wrangler dev proxy, no vitest
// pool in the way (TOOLCHAIN.md: both cost more than the objects themselves).
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Readable } from "node:stream";
import { Miniflare } from "miniflare";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CONFIG = join(REPO, "bench", "wrangler.toml");

/** Bundle bench/worker.ts into `outdir`; returns the script's path. */
export function bundle(outdir: string): string {
  const scratch = join(REPO, "bench", ".wrangler");
  const hadScratch = existsSync(scratch);
  const wrangler = join(REPO, "node_modules", ".bin", "wrangler");
  const r = spawnSync(wrangler, ["deploy", "--dry-run", "--outdir", outdir, "--config", CONFIG], {
    cwd: REPO,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG_PATH: join(outdir, "wrangler-logs") },
  });
  // wrangler leaves its scratch directory next to the config; it is ours to remove.
  if (!hadScratch) rmSync(scratch, { recursive: true, force: true });
  const script = join(outdir, "worker.js");
  if (r.status !== 0 || !existsSync(script)) {
    throw new Error(`bundling bench/worker.ts failed (wrangler exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return script;
}

export interface Runtime {
  readonly mf: Miniflare;
  /** True when RAFT_SERVER runs as ProfiledRaftServer (storage counters available). */
  readonly profiled: boolean;
}

/** `inspectorPort`: open workerd's V8 inspector there (bench/cpu-profile.ts). */
export async function start(script: string, persistDir: string, profiled: boolean, inspectorPort?: number): Promise<Runtime> {
  const mf = new Miniflare({
    ...(inspectorPort === undefined ? {} : { inspectorPort }),
    modules: true,
    modulesRoot: dirname(script),
    scriptPath: script,
    compatibilityDate: "2026-04-20",
    durableObjects: {
      RAFT_SERVER: { className: profiled ? "ProfiledRaftServer" : "RaftServer", useSQLite: true },
      CLUSTER_REGISTRY: { className: "ClusterRegistry", useSQLite: true },
      BENCH_FLOOR: { className: "BenchFloor", useSQLite: true },
      SINGLE_KV: { className: "SingleKv", useSQLite: true },
    },
    durableObjectsPersist: persistDir,
    // NARRATE=0: narration is still kept for /events, but not printed (printing every Raft
    // event to the console would be the bench's biggest cost).
    bindings: { ADMIN_OPEN: "1", NARRATE: "0" },
    cf: false,
    // workerd's own output goes to stderr, so stdout carries only the table.
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.pipe(process.stderr);
      stderr.pipe(process.stderr);
    },
  });
  await mf.ready;
  return { mf, profiled };
}
