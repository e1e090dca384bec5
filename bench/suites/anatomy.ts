// Where a sequential put's time goes: narrated lines (GET /events), the Worker's stamps (Bench-Trace: 1)
// and Node share one wall clock, so a put is cut into stages (1 ms resolution, medians); a stage whose
// marks are missing is left out, never guessed.
import { sleep, type Http } from "../lib/http.ts";
import { median } from "../lib/stats.ts";

export const STAGES = [
  ["nodeToWorker", "Node → Worker"],
  ["workerToPropose", "Worker → leader proposes (open cluster + call leader)"],
  ["proposeToFollower", "leader's log write + AppendEntries travels"],
  ["followerToCommit", "follower's log write + reply travels"],
  ["commitToReleased", "leader's apply write durable"],
  ["releasedToWorker", "answer travels to the Worker"],
  ["workerToNode", "Worker → Node"],
  ["inWorker", "Worker has the request → Worker has the answer (all of the above inside workerd)"],
] as const;
type Stage = (typeof STAGES)[number][0] | "total";

/** traced: puts whose marks were all found; medianMs: per stage (NaN when never found) and the whole put from Node. */
export type Anatomy = ReturnType<typeof medians>;
const medians = (puts: number, traced: number, samples: Partial<Record<Stage, number[]>>) => ({ puts, traced, medianMs: Object.fromEntries([...STAGES.map(([k]) => k), "total" as const].map((k) => [k, median(samples[k] ?? [])])) as Record<Stage, number> });

/** One traced put: Node's clock around it, the Worker's stamps, the entry's index and who served it. */
async function traced(http: Http, path: string) {
  const send = Date.now();
  const a = await http.call("PUT", path, { value: "x" }, undefined, { "Bench-Trace": "1" });
  const answer = Date.now();
  const [arrived, answered] = ["Bench-Worker-In", "Bench-Worker-Out"].map((h) => Number(a.headers.get(h)));
  const marks = a.status === 200 && arrived! > 0 && answered! > 0;
  return { ok: a.status === 200, marks, send, arrived: arrived!, answered: answered!, answer, index: Number(a.headers.get("Raft-Index")), server: a.headers.get("Raft-Server") };
}

type EventLine = { t: number; server: number | null; line: string };
/** The number `re` captures in `line`, NaN when absent (so every comparison with it fails). */
const number = (re: RegExp, line: string): number => Number(re.exec(line)?.[1] ?? NaN);

export async function putAnatomy(http: Http, cluster: string, size: number, leader: number, puts: number): Promise<Anatomy | null> {
  const quorumFollowers = Math.floor(size / 2); // followers a commit needs besides the leader
  const since = Date.now() - 1;
  const sent = [];
  for (let i = 0; i < puts; i++) {
    const p = await traced(http, `/clusters/${cluster}/kv/anatomy${i}`);
    if (p.ok && Number.isInteger(p.index) && p.index > 0 && p.server === String(leader)) sent.push({ ...p, key: `anatomy${i}` });
  }
  await sleep(20);
  const r = await http.call("GET", `/clusters/${cluster}/events?since=${since}`);
  if (r.status !== 200 || !Array.isArray(r.body?.events)) return null;
  const events = r.body.events as EventLine[];
  const followers = events.filter((e) => e.server !== leader && e.server !== null && e.line.includes("AppendEntries: {"));
  const samples: Partial<Record<Stage, number[]>> = {};
  let found = 0;
  for (const p of sent) {
    const submit = events.find((e) => e.server === leader && e.line.includes("Submit received by Leader") && e.line.includes(`"key":"${p.key}"`))?.t;
    // One sequential put at a time: the entry is the first (usually only) one of its batch.
    const carries = followers.filter((e) => !e.line.includes("Entries:[]") && number(/PrevLogIndex:(\d+)/, e.line) === p.index - 1);
    const follower = carries.map((e) => e.t).sort((a, b) => a - b)[quorumFollowers - 1];
    const commit = events.find((e) => e.server === leader && number(/leader sets commitIndex := (\d+)/, e.line) >= p.index)?.t;
    if (submit === undefined || follower === undefined || commit === undefined) continue;
    found++;
    const released = followers.find((e) => e.t >= commit && e.t <= p.answer && number(/LeaderCommit:(\d+)/, e.line) >= p.index)?.t;
    // Each stage from one mark to the next; those with the Worker's stamps only when it stamped.
    const spans: Array<[Stage, number | undefined, number | undefined, boolean]> = [
      ["nodeToWorker", p.send, p.arrived, p.marks], ["workerToPropose", p.arrived, submit, p.marks], ["proposeToFollower", submit, follower, true], ["followerToCommit", follower, commit, true],
      ["commitToReleased", commit, released, true], ["releasedToWorker", released, p.answered, p.marks], ["workerToNode", p.answered, p.answer, p.marks], ["inWorker", p.arrived, p.answered, p.marks], ["total", p.send, p.answer, true],
    ];
    for (const [k, from, to, ok] of spans) if (ok && from !== undefined && to !== undefined) (samples[k] ??= []).push(to - from);
  }
  return medians(puts, found, samples);
}

/** The single object's put cut the same way: its whole inside-workerd part is one RPC + one write. */
export async function singleAnatomy(http: Http, name: string, puts: number): Promise<Anatomy> {
  const samples = { nodeToWorker: [] as number[], inWorker: [] as number[], workerToNode: [] as number[], total: [] as number[] };
  for (let i = 0; i < puts; i++) {
    const p = await traced(http, `/single/${name}/kv/anatomy${i}`);
    if (p.marks) for (const [k, v] of [["nodeToWorker", p.arrived - p.send], ["inWorker", p.answered - p.arrived], ["workerToNode", p.answer - p.answered], ["total", p.answer - p.send]] as const) samples[k].push(v);
  }
  return medians(puts, samples.total.length, samples);
}
