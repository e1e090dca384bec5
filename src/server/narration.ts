// A server's recent narration, kept in memory for GET /clusters/{c}/events and echoed to
// the console (so `wrangler dev` shows the cluster talking). Lost on a crash, like the
// rest of a server's memory; the coordinator's fault lines are copied to every server so
// a crash of one of them does not lose them.
//
// Every line is kept for /events (the dashboard, the timeline and the bench's anatomy read
// them all); the console gets the story by default and the replication traffic only when
// asked: printing a line costs wrangler dev's console proxy far more than making it, and
// the traffic is several lines per operation (issue 13: 2.5–3× the throughput).
import type { NarrationLevel, NodeId } from "../raft/types.ts";
import type { EventLine } from "./protocol.ts";

const KEEP = 1000;

/** What goes to the console: nothing, the decisions, or every line. */
export type Echo = "none" | "decisions" | "verbose";

/**
 * What narration goes to the console, from NARRATE:
 *   "0"        nothing;
 *   "1"        the decisions: elections, votes, term changes, leadership, faults,
 *              snapshots and compaction, sleep and wake (the default outside tests);
 *   "verbose"  every line, the replication traffic too (each AppendEntries and heartbeat
 *              sent, received and answered, submits, commit advances, election timers).
 * Unset: "1", except under vitest (Vite's MODE "test"), where it is "0": vitest would capture
 * thousands of lines per test at a cost that slows the real-time cluster under test; the
 * harness prints a failing test's narration from /events instead.
 */
export function narrationEcho(env: { NARRATE?: string }): Echo {
  switch (env.NARRATE) {
    case "0":
      return "none";
    case "1":
      return "decisions";
    case "verbose":
    case "2":
      return "verbose";
    default:
      return (import.meta as { env?: { MODE?: string } }).env?.MODE === "test" ? "none" : "decisions";
  }
}

/** Whether anything goes to the console (the coordinator's fault lines are decisions: they go unless NARRATE is "0"). */
export function echoNarration(env: { NARRATE?: string }): boolean {
  return narrationEcho(env) !== "none";
}

export class Narration {
  private lines: EventLine[] = [];

  constructor(private readonly echo: Echo) {}

  /** Keep `line` for /events; print it if the echo level asks for it (`echo` false: never). */
  add(server: NodeId | null, line: string, t = Date.now(), echo = true, level: NarrationLevel = "decision"): void {
    this.lines.push({ t, server, line });
    if (this.lines.length > KEEP * 1.25) this.lines = this.lines.slice(-KEEP);
    if (echo && (this.echo === "verbose" || (this.echo === "decisions" && level === "decision"))) console.log(`${clock(t)} ${line}`);
  }

  /** Lines newer than `since` (ms epoch), oldest first, at most the last KEEP. */
  since(since: number): EventLine[] {
    const recent = this.lines.length > KEEP ? this.lines.slice(-KEEP) : this.lines;
    return recent.filter((l) => l.t > since);
  }
}

/** "HH:MM:SS.mmm" (UTC), the time column of the reference's logs. */
export function clock(t: number): string {
  return new Date(t).toISOString().slice(11, 23);
}
