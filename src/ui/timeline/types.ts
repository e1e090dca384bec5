// The timeline's vocabulary. Plain data only: these modules are bundled into the dashboard's
// inline script AND run in Node (the CLI, the tests), so nothing here touches the DOM or fs.

/** What a server is doing, as the narration says it ("[1] becomes Leader; ..."). */
export type ServerState = "Follower" | "Candidate" | "Leader" | "Dead";

export const SERVER_STATES: readonly ServerState[] = ["Follower", "Candidate", "Leader", "Dead"];

/** One narrated line: a server's (`server` = its id) or the test harness's (`server` = null). */
export interface LogEntry {
  /** Sort key in microseconds: since midnight for a text log, since the epoch for live events. */
  readonly at: number;
  /** The clock as shown in the time column, e.g. "11:04:37.545384". */
  readonly time: string;
  /** Server id, or null for a "[TEST] ..." line (a fault injected by the harness). */
  readonly server: number | null;
  /** The narration without its "[id] " prefix. */
  readonly text: string;
}

/** The lines of one `=== RUN Name` ... `--- PASS: Name` block of a test log. */
export interface TestLog {
  /** The Go/vitest test name, or null for lines outside any RUN marker. */
  readonly name: string | null;
  /** From the `--- PASS:` / `--- FAIL:` / `--- SKIP:` marker, null if the log was cut short. */
  readonly result: "PASS" | "FAIL" | "SKIP" | null;
  /** Deduplicated and in time order. */
  readonly entries: readonly LogEntry[];
}

/** One timeline row: an entry and every column's state right after it happened. */
export interface TimelineRow {
  readonly entry: LogEntry;
  /**
   * states[k] is the state of servers[k] (the columns), in column order; null when that server
   * was not a member yet (a column the dashboard added when a server joined: see remapRow).
   */
  readonly states: readonly (ServerState | null)[];
  /** Terms as far as the narration told them (null: not said yet), in column order. */
  readonly terms: readonly (number | null)[];
  /** Whether each column's server sleeps with its idle cluster ("sleeps", until "wakes"), in column order. */
  readonly asleep: readonly boolean[];
  /** True when this entry is one of its server's "becomes X" lines (drawn in bold). */
  readonly transition: boolean;
}
