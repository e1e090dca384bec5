// Which state each server is in, replayed from the narration.
//
// A server's own "becomes X" lines move it (the core narrates every role change that way; the
// reference's servers say "becomes Dead" when they stop). A crashed server cannot narrate its
// own crash, so the harness lines "[TEST] Crash 2" and "[TEST] Restart 2" (the reference
// harness's words, and the coordinator's) move server 2 to Dead and back to Follower — a
// restarted Raft server starts as a Follower. A reported "state=Dead" inside another sentence
// is an observation, not a change. Before its first change a server is a Follower, as every
// Raft server starts, unless the caller knows better (the dashboard starts from the status).
//
// Evictions are not crashes: "[TEST] Evict 2" (one object reset as the platform resets
// objects) and "[TEST] Evict all (a deploy)" lose the servers' memory but not their storage,
// and nothing keeps them down. An evicted server loads again as a Follower (a reloaded leader
// of the current term says "becomes Leader again after a reload" right after); a Dead server
// stays Dead.
//
// Sleep is tracked beside the state: "sleeps ..." (a follower told to, or the leader once its
// followers are asleep) and "reloads asleep" put a server to sleep, "wakes (...)" wakes it; a
// crash, a restart or an eviction clears it (a sleeping object reloads saying so).

import type { LogEntry, ServerState, TimelineRow } from "./types.ts";

const BECOMES = /\bbecomes (Follower|Candidate|Leader|Dead)\b/;
// "becomes Candidate (currentTerm=2)", "becomes Follower with term=4", "becomes Leader; term=5"
const TERM = /\b(?:currentTerm|term)=(\d+)/;
const HARNESS = /^(Crash|Restart) (\d+)\b/;
const EVICT = /^Evict (\d+|all)\b/;
const SLEEPS = /^(?:sleeps\b|reloads asleep\b)/;
const WAKES = /^wakes\b/;

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

/** Who a "[TEST] Evict N" / "[TEST] Evict all (a deploy)" line resets: one server, all, or none. */
export function evictionIn(text: string): number | "all" | null {
  const m = EVICT.exec(text);
  if (!m) return null;
  return m[1] === "all" ? "all" : Number(m[1]);
}

/** Whether a server's own line puts it to sleep (true), wakes it (false), or neither (null). */
export function sleepChangeIn(text: string): boolean | null {
  if (SLEEPS.test(text)) return true;
  if (WAKES.test(text)) return false;
  return null;
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
  private readonly sleeping = new Set<number>();

  constructor(
    readonly servers: readonly number[],
    initial: ReadonlyMap<number, { state: ServerState; term?: number | null; asleep?: boolean }> = new Map(),
  ) {
    for (const id of servers) {
      const known = initial.get(id);
      this.states.set(id, known?.state ?? "Follower");
      if (known?.term != null) this.terms.set(id, known.term);
      if (known?.asleep === true) this.sleeping.add(id);
    }
  }

  /**
   * The same replay over other columns (the cluster's members changed): servers already
   * tracked keep their state, term and sleep; new ones start from `initial`.
   */
  withServers(
    servers: readonly number[],
    initial: ReadonlyMap<number, { state: ServerState; term?: number | null; asleep?: boolean }> = new Map(),
  ): StateTracker {
    const known = new Map(initial);
    for (const id of servers) {
      if (!this.states.has(id)) continue;
      known.set(id, { state: this.stateOf(id), term: this.termOf(id), asleep: this.asleep(id) });
    }
    return new StateTracker(servers, known);
  }

  stateOf(id: number): ServerState {
    return this.states.get(id) ?? "Follower";
  }

  termOf(id: number): number | null {
    return this.terms.get(id) ?? null;
  }

  asleep(id: number): boolean {
    return this.sleeping.has(id);
  }

  /** Applies one entry and returns its row (states as they are right after it). */
  apply(entry: LogEntry): TimelineRow {
    let transition = false;
    if (entry.server !== null) {
      const next = stateChangeIn(entry.text);
      if (next !== null) {
        transition = true;
        this.states.set(entry.server, next);
        if (next === "Dead") this.sleeping.delete(entry.server);
      }
      const term = termChangeIn(entry.text);
      if (term !== null) this.terms.set(entry.server, term);
      const sleep = sleepChangeIn(entry.text);
      if (sleep === true && this.states.has(entry.server)) this.sleeping.add(entry.server);
      if (sleep === false) this.sleeping.delete(entry.server);
    } else {
      const change = harnessChangeIn(entry.text);
      if (change !== null && this.states.has(change.server)) {
        this.states.set(change.server, change.state);
        this.sleeping.delete(change.server);
      }
      const evicted = evictionIn(entry.text);
      for (const id of evicted === "all" ? this.servers : evicted === null ? [] : [evicted]) {
        if (!this.states.has(id)) continue;
        // Memory lost, storage kept, not kept down: it loads again as a Follower.
        if (this.stateOf(id) !== "Dead") this.states.set(id, "Follower");
        this.sleeping.delete(id);
      }
    }
    return {
      entry,
      states: this.servers.map((id) => this.stateOf(id)),
      terms: this.servers.map((id) => this.termOf(id)),
      asleep: this.servers.map((id) => this.asleep(id)),
      transition,
    };
  }
}

/** Replays a whole (ordered) list of entries into rows. */
export function trackStates(
  entries: readonly LogEntry[],
  servers: readonly number[],
  initial?: ReadonlyMap<number, { state: ServerState; term?: number | null; asleep?: boolean }>,
): TimelineRow[] {
  const tracker = new StateTracker(servers, initial);
  return entries.map((e) => tracker.apply(e));
}

/**
 * A row drawn for other columns: the dashboard's columns follow the cluster's members, so when
 * a server joins or leaves, the rows it keeps are re-aligned to the new columns. A server that
 * was not a column before has no state in them (null: drawn blank); a removed server's column
 * goes, and its lines then span the row like any server without a column.
 */
export function remapRow(row: TimelineRow, from: readonly number[], to: readonly number[]): TimelineRow {
  const at = to.map((id) => from.indexOf(id));
  return {
    ...row,
    states: at.map((k) => (k < 0 ? null : (row.states[k] ?? null))),
    terms: at.map((k) => (k < 0 ? null : (row.terms[k] ?? null))),
    asleep: at.map((k) => (k < 0 ? false : (row.asleep[k] ?? false))),
  };
}
