// Where a sequential put's time goes. Every narrated line (GET /events) carries the Date.now()
// of the object that wrote it, the bench Worker stamps its own clock on a traced request
// (Bench-Trace: 1), and Node's clock is the same wall clock; so one put can be cut into
// consecutive stages (1 ms resolution each; medians over many puts):
//
//   send      Node sends the PUT
//   arrived   the Worker has the request                        (Bench-Worker-In header)
//   submit    the leader narrates "Submit received by Leader"   (the Worker opened the cluster
//             — one RPC to server 0 — and called the leader, which proposed the entry)
//   follower  the quorum-th follower narrates the AppendEntries carrying the entry
//             (the leader's log write was durable, so its output gate let the call out)
//   commit    the leader narrates "leader sets commitIndex := ≥ index"
//             (the followers' writes were durable, their replies came back)
//   released  the first follower narrates an AppendEntries with LeaderCommit ≥ index: the
//             leader's output gate let it out, so the apply write made in the commit's turn
//             was durable — and the kv answer was free to leave too
//   answered  the Worker has the leader's answer                (Bench-Worker-Out header)
//   answer    Node has the 200
//
// The entry's index comes from the route's Raft-Index header; the narration format is the
// reference's (shared/seed). A stage whose marks cannot be found is left out, never guessed.
import type { Http } from "../lib/http.ts";
import { sleep } from "../lib/http.ts";
import { round, summarize } from "../lib/stats.ts";

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
export type Stage = (typeof STAGES)[number][0];

export interface Anatomy {
  readonly puts: number;
  /** Puts whose submit, follower and commit marks were all found. */
  readonly traced: number;
  /** Median ms of each stage (NaN → null when never found), and of the whole put from Node. */
  readonly medianMs: Record<Stage, number> & { readonly total: number };
}

interface EventLine {
  t: number;
  server: number | null;
  line: string;
}

interface Sent {
  key: string;
  index: number;
  send: number;
  arrived: number;
  answered: number;
  answer: number;
}

export async function putAnatomy(http: Http, cluster: string, size: number, leader: number, puts: number): Promise<Anatomy | null> {
  const quorumFollowers = Math.floor(size / 2); // followers a commit needs besides the leader
  const since = Date.now() - 1;
  const sent: Sent[] = [];
  for (let i = 0; i < puts; i++) {
    const key = `anatomy${i}`;
    const send = Date.now();
    const a = await http.call("PUT", `/clusters/${cluster}/kv/${key}`, { value: "x" }, undefined, { "Bench-Trace": "1" });
    const answer = Date.now();
    const index = Number(a.headers.get("Raft-Index"));
    if (a.status === 200 && Number.isInteger(index) && index > 0 && a.headers.get("Raft-Server") === String(leader)) {
      sent.push({ key, index, send, arrived: Number(a.headers.get("Bench-Worker-In")), answered: Number(a.headers.get("Bench-Worker-Out")), answer });
    }
  }
  await sleep(20);
  const r = await http.call("GET", `/clusters/${cluster}/events?since=${since}`);
  if (r.status !== 200 || !Array.isArray(r.body?.events)) return null;
  const events = r.body.events as EventLine[];

  const samples = Object.fromEntries([...STAGES.map(([k]) => k), "total"].map((k) => [k, [] as number[]])) as Record<Stage | "total", number[]>;
  let traced = 0;
  for (const p of sent) {
    const submit = events.find((e) => e.server === leader && e.line.includes("Submit received by Leader") && e.line.includes(`"key":"${p.key}"`));
    const follower = events
      .filter((e) => e.server !== leader && e.server !== null && carriesEntry(e.line, p.index))
      .map((e) => e.t)
      .sort((a, b) => a - b)[quorumFollowers - 1];
    const commit = events.find((e) => e.server === leader && commitsAtLeast(e.line, p.index));
    if (!submit || follower === undefined || !commit) continue;
    traced++;
    const released = events.find(
      (e) => e.server !== leader && e.server !== null && e.t >= commit.t && e.t <= p.answer && announcesCommit(e.line, p.index),
    )?.t;
    const workerMarks = Number.isFinite(p.arrived) && p.arrived > 0 && Number.isFinite(p.answered) && p.answered > 0;
    const add = (k: Stage | "total", from: number | undefined, to: number | undefined, ok = true) => {
      if (ok && from !== undefined && to !== undefined) samples[k].push(to - from);
    };
    add("nodeToWorker", p.send, p.arrived, workerMarks);
    add("workerToPropose", p.arrived, submit.t, workerMarks);
    add("proposeToFollower", submit.t, follower);
    add("followerToCommit", follower, commit.t);
    add("commitToReleased", commit.t, released);
    add("releasedToWorker", released, p.answered, workerMarks);
    add("workerToNode", p.answered, p.answer, workerMarks);
    add("inWorker", p.arrived, p.answered, workerMarks);
    add("total", p.send, p.answer);
  }
  const median = (xs: number[]) => round(summarize(xs).p50);
  return {
    puts,
    traced,
    medianMs: Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)])) as Anatomy["medianMs"],
  };
}

/** A follower's "AppendEntries: {... PrevLogIndex:index-1 ... Entries:[<non-empty>]": it carries the entry. */
function carriesEntry(line: string, index: number): boolean {
  if (!line.includes("AppendEntries: {") || line.includes("Entries:[]")) return false;
  const prev = /PrevLogIndex:(\d+)/.exec(line);
  // One sequential put at a time: the entry is the first (usually only) one of the batch.
  return prev !== null && Number(prev[1]) === index - 1;
}

function commitsAtLeast(line: string, index: number): boolean {
  const m = /leader sets commitIndex := (\d+)/.exec(line);
  return m !== null && Number(m[1]) >= index;
}

/** A follower's "AppendEntries: {... LeaderCommit:c}" with c ≥ index. */
function announcesCommit(line: string, index: number): boolean {
  if (!line.includes("AppendEntries: {")) return false;
  const m = /LeaderCommit:(\d+)/.exec(line);
  return m !== null && Number(m[1]) >= index;
}

/** The single object's put cut the same way: its whole inside-workerd part is one RPC + one write. */
export async function singleAnatomy(http: Http, name: string, puts: number): Promise<Anatomy> {
  const samples = { nodeToWorker: [] as number[], inWorker: [] as number[], workerToNode: [] as number[], total: [] as number[] };
  for (let i = 0; i < puts; i++) {
    const send = Date.now();
    const a = await http.call("PUT", `/single/${name}/kv/anatomy${i}`, { value: "x" }, undefined, { "Bench-Trace": "1" });
    const answer = Date.now();
    const arrived = Number(a.headers.get("Bench-Worker-In"));
    const answered = Number(a.headers.get("Bench-Worker-Out"));
    if (a.status !== 200 || !(arrived > 0 && answered > 0)) continue;
    samples.nodeToWorker.push(arrived - send);
    samples.inWorker.push(answered - arrived);
    samples.workerToNode.push(answer - answered);
    samples.total.push(answer - send);
  }
  const median = (xs: number[]) => round(summarize(xs).p50);
  const medianMs = Object.fromEntries([...STAGES.map(([k]) => k), "total"].map((k) => [k, NaN])) as Record<string, number>;
  for (const [k, xs] of Object.entries(samples)) medianMs[k] = median(xs);
  return { puts, traced: samples.total.length, medianMs: medianMs as Anatomy["medianMs"] };
}
