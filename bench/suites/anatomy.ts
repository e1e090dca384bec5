// Where a sequential put's time goes. Every narrated line (GET /events) carries the Date.now()
// of the object that wrote it, the bench Worker stamps its clock on a traced request
// (Bench-Trace: 1), and Node's clock is the same wall clock, so one put is cut into stages
// (1 ms resolution; medians over many puts): Node sends → the Worker has it → the leader
// narrates "Submit received" → the quorum-th follower narrates the AppendEntries carrying the
// entry (the leader's write was durable) → "leader sets commitIndex" → a follower hears
// LeaderCommit ≥ index (the apply write was durable) → the Worker has the answer → Node has
// it. A stage whose marks cannot be found is left out, never guessed.
import type { Http } from "../lib/http.ts";
import { sleep } from "../lib/http.ts";
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

export interface Anatomy {
  readonly puts: number;
  /** Puts whose marks were all found. */
  readonly traced: number;
  /** Median ms of each stage (NaN when never found), and of the whole put from Node. */
  readonly medianMs: Record<Stage, number>;
}

/** Per stage, the medians of `samples`. */
function medians(puts: number, traced: number, samples: Partial<Record<Stage, number[]>>): Anatomy {
  const medianMs = Object.fromEntries([...STAGES.map(([k]) => k), "total" as const].map((k) => [k, median(samples[k] ?? [])])) as Record<Stage, number>;
  return { puts, traced, medianMs };
}

/** One traced put: Node's clock around it, the Worker's stamps, the entry's index and who served it. */
async function traced(http: Http, path: string) {
  const send = Date.now();
  const a = await http.call("PUT", path, { value: "x" }, undefined, { "Bench-Trace": "1" });
  const answer = Date.now();
  const [arrived, answered] = ["Bench-Worker-In", "Bench-Worker-Out"].map((h) => Number(a.headers.get(h)));
  const marks = a.status === 200 && arrived! > 0 && answered! > 0;
  return { ok: a.status === 200, marks, send, arrived: arrived!, answered: answered!, answer, index: Number(a.headers.get("Raft-Index")), server: a.headers.get("Raft-Server") };
}

interface EventLine {
  t: number;
  server: number | null;
  line: string;
}

const number = (re: RegExp, line: string): number | null => {
  const m = re.exec(line);
  return m ? Number(m[1]) : null;
};

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
    const commit = events.find((e) => e.server === leader && (number(/leader sets commitIndex := (\d+)/, e.line) ?? -1) >= p.index)?.t;
    if (submit === undefined || follower === undefined || commit === undefined) continue;
    found++;
    const released = followers.find((e) => e.t >= commit && e.t <= p.answer && (number(/LeaderCommit:(\d+)/, e.line) ?? -1) >= p.index)?.t;
    const add = (k: Stage, from: number | undefined, to: number | undefined, ok = true) => {
      if (ok && from !== undefined && to !== undefined) (samples[k] ??= []).push(to - from);
    };
    add("nodeToWorker", p.send, p.arrived, p.marks);
    add("workerToPropose", p.arrived, submit, p.marks);
    add("proposeToFollower", submit, follower);
    add("followerToCommit", follower, commit);
    add("commitToReleased", commit, released);
    add("releasedToWorker", released, p.answered, p.marks);
    add("workerToNode", p.answered, p.answer, p.marks);
    add("inWorker", p.arrived, p.answered, p.marks);
    add("total", p.send, p.answer);
  }
  return medians(puts, found, samples);
}

/** The single object's put cut the same way: its whole inside-workerd part is one RPC + one write. */
export async function singleAnatomy(http: Http, name: string, puts: number): Promise<Anatomy> {
  const samples = { nodeToWorker: [] as number[], inWorker: [] as number[], workerToNode: [] as number[], total: [] as number[] };
  for (let i = 0; i < puts; i++) {
    const p = await traced(http, `/single/${name}/kv/anatomy${i}`);
    if (!p.marks) continue;
    samples.nodeToWorker.push(p.arrived - p.send);
    samples.inWorker.push(p.answered - p.arrived);
    samples.workerToNode.push(p.answer - p.answered);
    samples.total.push(p.answer - p.send);
  }
  return medians(puts, samples.total.length, samples);
}
