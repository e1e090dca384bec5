// Where workerd's thread spends a sequential put: V8's sampling profiler, attached through
// workerd's inspector, while Node sends N puts one after another to the single object and to
// a Raft cluster. Prints each one's top functions by self time per put, grouped totals, and
// writes the .cpuprofile files (open them in Chrome DevTools → Performance).
//
//   npx tsx bench/cpu-profile.ts [--puts 300] [--sizes 3] [--out-dir /tmp/raft-cpu]
//
// The profiler samples the isolate's thread by wall clock: on a busy machine a sample also
// lands while the thread waits for a core, so read the shares, not the absolute times. RPC
// serialization is native and shows up as self time of the JS frame that made the call
// (e.g. RaftServer.call, the route handler). WebSocket comes from undici, which Miniflare
// itself depends on (pinned with it).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { WebSocket } from "undici";
import { Http, sleep } from "./lib/http.ts";
import { bundle, start } from "./lib/runtime.ts";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface Profile {
  nodes: Array<{ id: number; callFrame: CallFrame }>;
  samples: number[];
  /** µs between consecutive samples. */
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Native functions by what they do; everything else is reported by name. */
const GROUPS: Record<string, readonly string[]> = {
  "SQLite (exec, transactionSync, cursors)": ["exec", "transactionSync", "toArray", "one", "raw", "next"],
  "alarms (setAlarm, getAlarm, deleteAlarm)": ["setAlarm", "getAlarm", "deleteAlarm"],
  "garbage collector": ["(garbage collector)"],
  "idle (waiting for I/O)": ["(idle)"],
};

class Inspector {
  private id = 0;
  private readonly waiting = new Map<number, (result: unknown) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => {
      const m = JSON.parse(String(e.data)) as { id?: number; result?: unknown };
      if (m.id !== undefined) {
        this.waiting.get(m.id)?.(m.result);
        this.waiting.delete(m.id);
      }
    });
  }

  /** The user Worker's isolate ("core:user:…" among Miniflare's own workers). */
  static async attach(port: number): Promise<Inspector> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as Array<{ title: string; webSocketDebuggerUrl: string }>;
    const user = targets.find((t) => t.title.includes("core:user"));
    if (!user) throw new Error(`no user worker among inspector targets: ${targets.map((t) => t.title).join(", ")}`);
    const ws = new WebSocket(user.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error("inspector connection failed")));
    });
    return new Inspector(ws);
  }

  send<T = unknown>(method: string, params: object = {}): Promise<T> {
    const id = ++this.id;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve as (r: unknown) => void);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** Self time per put of each function, busiest first, and the grouped totals. */
function summarize(profile: Profile, puts: number): { perPutMs: number; top: Array<[string, number]>; groups: Array<[string, number]> } {
  // A sample stands for the time until the next one (as DevTools counts it).
  const hits = new Map<number, number>();
  profile.samples.forEach((s, i) => hits.set(s, (hits.get(s) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000));
  const byFunction = new Map<string, number>();
  for (const n of profile.nodes) {
    const h = hits.get(n.id);
    if (!h) continue;
    const f = n.callFrame;
    const name = f.url ? `${f.functionName || "(anonymous)"} (${f.url.split("/").pop()}:${f.lineNumber + 1})` : f.functionName || "(native)";
    byFunction.set(name, (byFunction.get(name) ?? 0) + h / puts);
  }
  const groups: Array<[string, number]> = Object.entries(GROUPS).map(([group, names]) => [
    group,
    [...byFunction.entries()].filter(([k]) => names.includes(k)).reduce((a, [, ms]) => a + ms, 0),
  ]);
  return {
    perPutMs: (profile.endTime - profile.startTime) / 1000 / puts,
    top: [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25),
    groups,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { puts: { type: "string", default: "300" }, sizes: { type: "string", default: "3" }, "out-dir": { type: "string" } },
  });
  const puts = Number(values.puts);
  const sizes = values.sizes.split(",").map(Number);
  const dir = mkdtempSync(join(tmpdir(), "raft-cpu-"));
  const outDir = values["out-dir"] ?? join(tmpdir(), "raft-cpu-profiles");
  mkdirSync(outDir, { recursive: true });
  const port = 9300 + Math.floor(Math.random() * 500);
  const rt = await start(bundle(join(dir, "dist")), join(dir, "storage"), false, port);
  const http = await Http.open(rt.mf, "undici");
  const inspector = await Inspector.attach(port);
  try {
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: 250 });
    // One subject at a time: a cluster exists only while it is being profiled (an idle
    // cluster's heartbeats would land in another subject's profile).
    const subjects: Array<[string, number | null]> = [["single", null], ...sizes.map((n): [string, number] => [`raft-${n}`, n])];
    for (const [name, size] of subjects) {
      const path = (i: number) => (size === null ? `/single/cpu/kv/k${i % 16}` : `/clusters/cpu${size}/kv/k${i % 16}`);
      if (size !== null) {
        await http.ok("POST", `/clusters/cpu${size}`, { size }, [201]);
        await sleep(1500); // the first election
      }
      for (let i = 0; i < 30; i++) await http.call("PUT", path(i), { value: "w" }); // warm-up
      await inspector.send("Profiler.start");
      for (let i = 0; i < puts; i++) await http.call("PUT", path(i), { value: `v${i}`.padEnd(32, ".") });
      const { profile } = await inspector.send<{ profile: Profile }>("Profiler.stop");
      const file = join(outDir, `${name}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      const s = summarize(profile, puts);
      console.log(`\n## ${name}: ${puts} sequential puts, ${s.perPutMs.toFixed(2)} ms of wall time per put (${file})\n`);
      console.log("| group | ms per put |\n| --- | ---: |");
      for (const [g, ms] of s.groups) console.log(`| ${g} | ${ms.toFixed(3)} |`);
      console.log("\n| function (self time) | ms per put |\n| --- | ---: |");
      for (const [f, ms] of s.top) console.log(`| ${f} | ${ms.toFixed(3)} |`);
      if (size !== null) await http.call("DELETE", `/clusters/cpu${size}`);
    }
  } finally {
    inspector.close();
    await http.close();
    await rt.mf.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
