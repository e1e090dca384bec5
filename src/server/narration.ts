// A server's recent narration, kept in memory for GET /clusters/{c}/events and echoed to
// the console (so `wrangler dev` shows the cluster talking). Lost on a crash, like the
// rest of a server's memory; the coordinator's fault lines are copied to every server so
// a crash of one of them does not lose them.
import type { NodeId } from "../raft/types.ts";
import type { EventLine } from "./protocol.ts";

const KEEP = 1000;

/**
 * Whether narration goes to the console (`wrangler dev` shows it): yes, unless NARRATE is
 * "0". Under vitest (Vite's MODE "test") the default is no: vitest would capture thousands
 * of lines per test at a cost that slows the real-time cluster under test; the harness
 * prints a failing test's narration from /events instead. NARRATE="1" forces it on.
 */
export function echoNarration(env: { NARRATE?: string }): boolean {
  if (env.NARRATE === "0" || env.NARRATE === "1") return env.NARRATE === "1";
  return (import.meta as { env?: { MODE?: string } }).env?.MODE !== "test";
}

export class Narration {
  private lines: EventLine[] = [];

  constructor(private readonly echo: boolean) {}

  add(server: NodeId | null, line: string, t = Date.now(), echo = this.echo): void {
    this.lines.push({ t, server, line });
    if (this.lines.length > KEEP * 1.25) this.lines = this.lines.slice(-KEEP);
    if (echo) console.log(`${clock(t)} ${line}`);
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
