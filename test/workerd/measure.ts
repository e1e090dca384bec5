// Measures a running coordinator (by default `npm run dev` on 127.0.0.1:8787), over HTTP:
//   1. alarm invocations and Raft RPCs per second of an idle 3-server cluster;
//   2. the time from crashing the leader to a new leader being seen, over several trials.
//
//   npx tsx test/workerd/measure.ts [baseUrl] [trials]
//
// Not a test (nothing here asserts): figures for docs and reports.
export {};

const base = process.argv[2] ?? "http://127.0.0.1:8787";
const trials = Number(process.argv[3] ?? 12);

interface Status {
  id: number;
  state: string;
  term: number;
  stats: { alarms: number; rpcsSent: number };
}
interface View {
  leader: number | null;
  servers: Status[];
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function stableLeader(c: string): Promise<{ leader: number; term: number }> {
  for (;;) {
    const v = await call<View>("GET", `/clusters/${c}`);
    const leaders = v.servers.filter((s) => s.state === "Leader");
    if (leaders.length === 1 && v.servers.every((s) => s.state !== "Candidate" && s.term === leaders[0]!.term)) {
      return { leader: leaders[0]!.id, term: leaders[0]!.term };
    }
    await sleep(20);
  }
}

async function idle(c: string, seconds: number): Promise<void> {
  await stableLeader(c);
  const a = await call<View>("GET", `/clusters/${c}`);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const b = await call<View>("GET", `/clusters/${c}`);
  const dt = (performance.now() - t0) / 1000;
  const rows = b.servers.map((s, i) => {
    const before = a.servers[i]!;
    return { id: s.id, state: s.state, alarms: (s.stats.alarms - before.stats.alarms) / dt, rpcs: (s.stats.rpcsSent - before.stats.rpcsSent) / dt };
  });
  for (const r of rows) console.log(`  server ${r.id} (${r.state}): ${r.alarms.toFixed(1)} alarms/s, ${r.rpcs.toFixed(1)} RPCs sent/s`);
  const sum = (k: "alarms" | "rpcs") => rows.reduce((n, r) => n + r[k], 0);
  console.log(`  cluster: ${sum("alarms").toFixed(1)} alarms/s, ${sum("rpcs").toFixed(1)} RPCs/s (over ${dt.toFixed(1)} s)`);
}

async function failover(c: string): Promise<number> {
  const { leader, term } = await stableLeader(c);
  const t0 = performance.now();
  await call("POST", `/clusters/${c}/servers/${leader}/crash`);
  for (;;) {
    const v = await call<View>("GET", `/clusters/${c}`);
    const next = v.servers.find((s) => s.state === "Leader" && s.id !== leader && s.term > term);
    if (next) {
      const ms = performance.now() - t0;
      await call("POST", `/clusters/${c}/servers/${leader}/restart`);
      return ms;
    }
    await sleep(5);
  }
}

const c = `measure-${Date.now().toString(36)}`;
await call("POST", `/clusters/${c}`, { size: 3, electionTimeoutMs: [150, 300], heartbeatMs: 50 });
try {
  console.log(`idle 3-server cluster ${c} at ${base}:`);
  await idle(c, 10);
  const times: number[] = [];
  for (let k = 0; k < trials; k++) {
    times.push(await failover(c));
    await sleep(500);
  }
  console.log(`leader crash -> new leader, ${trials} trials (ms): ${times.map((t) => t.toFixed(0)).join(" ")}`);
  console.log(`  median ${median(times).toFixed(0)} ms, min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}`);
} finally {
  await call("DELETE", `/clusters/${c}`);
}
