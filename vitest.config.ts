import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";

// Two worlds: the pure core and its simulator run in plain Node (virtual time, fast);
// the Durable Object cluster runs inside real workerd through the workers pool.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "sim",
          environment: "node",
          include: ["test/sim/**/*.test.ts", "test/unit/**/*.test.ts", "test/lin/**/*.test.ts", "test/etcd/**/*.test.ts"],
          testTimeout: 120_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            main: "./src/coordinator/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            // NEMESIS_SEED: replays one run of test/workerd/kv-nemesis.test.ts (empty: a fresh seed).
            miniflare: { bindings: { ADMIN_OPEN: "1", NEMESIS_SEED: process.env.NEMESIS_SEED ?? "" } },
          }),
        ],
        test: {
          name: "workerd",
          include: ["test/workerd/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // A real browser against `wrangler dev`: slow to start, so it runs on its own.
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
