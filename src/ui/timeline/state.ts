// Which state each server is in, replayed from the narration.
//
// A server's own "becomes X" lines move it (the core narrates every role change that way; the
// reference's servers say "becomes Dead" when they stop). A crashed server cannot narrate its
// own crash, so the harness lines "[TEST] Crash 2" and "[TEST] Restart 2" (the reference
// harness's words, and the coordinator's) move server 2 to Dead and back to Follower — a
// restarted Raft server starts as a Follower. A reported "state=Dead" inside another sentence
// is an observation, not a change. Before its first change a server is a Follower, as every
// Raft server starts, unless the caller knows better (the dashboard starts from the status).

import type { LogEntry, ServerState, TimelineRow } from "./types.ts";

const BECOMES = /\bbecomes (Follower|Candidate|Leader|Dead)\b/;
// "becomes Candidate (currentTerm=2)", "becomes Follower with term=4", "becomes Leader; term=5"
const TERM = /\b(?:currentTerm|term)=(\d+)/;
const HARNESS = /^(Crash|Restart) (\d+)\b/;

/** The state a line moves its server to, or null if it moves nothing. */
export function stateChangeIn(text: string): ServerState | null {
  const m = BECOMES.exec(text);
  return m ? (m[1] as ServerState) : null;
}

/** The server a "[TEST] Crash N" / "[TEST] Restart N" line moves, and where to. */
export function harnessChangeIn(text: string): { server: number; state: ServerState } | null {
  const m = HARNESS.exec(text);
  if (!m) return null;
  return { server: Number(m[2]), state: m[1] === "Crash" ? "Dead" : "Follower" };
}

/** The term a "becomes ..." line announces, or null. */
export function termChangeIn(text: string): number | null {
  if (!BECOMES.test(text)) return null;
  const m = TERM.exec(text);
  return m ? Number(m[1]) : null;
}

/** Incremental replay: feed entries in time order, read every column's state after each. */
export class StateTracker {
  private readonly states = new Map<number, ServerState>();
  private readonly terms = new Map<number, number>();

  constructor(
    readonly servers: readonly number[],
    initial: ReadonlyMap<number, { state: ServerState; term?: number | null }> = new Map(),
  ) {
    for (const id of servers) {
      const known = initial.get(id);
      this.states.set(id, known?.state ?? "Follower");
      if (known?.term != null) this.terms.set(id, known.term);
    }
  }

  stateOf(id: number): ServerState {
    return this.states.get(id) ?? "Follower";
  }

  termOf(id: number): number | null {
    return this.terms.get(id) ?? null;
  }

  /** Applies one entry and returns its row (states as they are right after it). */
  apply(entry: LogEntry): TimelineRow {
    let transition = false;
    if (entry.server !== null) {
      const next = stateChangeIn(entry.text);
      if (next !== null) {
        transition = true;
        this.states.set(entry.server, next);
      }
      const term = termChangeIn(entry.text);
      if (term !== null) this.terms.set(entry.server, term);
    } else {
      const change = harnessChangeIn(entry.text);
      if (change !== null && this.states.has(change.server)) this.states.set(change.server, change.state);
    }
    return {
      entry,
      states: this.servers.map((id) => this.stateOf(id)),
      terms: this.servers.map((id) => this.termOf(id)),
      transition,
    };
  }
}

/** Replays a whole (ordered) list of entries into rows. */
export function trackStates(
  entries: readonly LogEntry[],
  servers: readonly number[],
  initial?: ReadonlyMap<number, { state: ServerState; term?: number | null }>,
): TimelineRow[] {
  const tracker = new StateTracker(servers, initial);
  return entries.map((e) => tracker.apply(e));
}
