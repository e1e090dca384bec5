// The follower's side of AppendEntries (Figure 2, receiver implementation, steps 2–4), as a
// question the core asks of its log: does the leader's log match ours at prevLogIndex, and
// which of the leader's entries are new to us? The core does the truncating and appending
// (a configuration entry among them changes the membership in force) and the commit.

import type { RaftLog } from "./log.ts";
import type { AppendEntries, Entry } from "./types.ts";

export type AppendCheck =
  /** No match at prevLogIndex: where the leader should try next (conflictTerm -1: our log is too short). */
  | { readonly ok: false; readonly conflictIndex: number; readonly conflictTerm: number }
  /**
   * A match: our log agrees with the leader's up to `matchIndex` once `fresh` is appended,
   * after truncating from `truncateFrom` (null: nothing of ours conflicts).
   */
  | { readonly ok: true; readonly matchIndex: number; readonly truncateFrom: number | null; readonly fresh: readonly Entry[] };

export function checkAppend(log: RaftLog, m: AppendEntries): AppendCheck {
  let { prevLogIndex, prevLogTerm, entries } = m;
  if (prevLogIndex < log.snapshotIndex) {
    // What our snapshot covers is committed, so it matches the leader's log: skip it.
    const skip = log.snapshotIndex - prevLogIndex;
    if (skip > entries.length && entries.length > 0) return { ok: true, matchIndex: log.snapshotIndex, truncateFrom: null, fresh: [] };
    [prevLogIndex, prevLogTerm, entries] = [log.snapshotIndex, log.snapshotTerm, entries.slice(skip)];
  }
  const prevTerm = log.term(prevLogIndex);
  // Our log is too short: the leader should continue right after our last entry.
  if (prevTerm === undefined) return { ok: false, conflictIndex: log.lastIndex + 1, conflictTerm: -1 };
  // Point the leader at the first entry of the conflicting term, so it skips the whole term.
  if (prevTerm !== prevLogTerm) return { ok: false, conflictIndex: log.firstIndexOfTerm(prevTerm, prevLogIndex), conflictTerm: prevTerm };
  // What is new starts at the first entry we lack or hold with another term. Truncate only at
  // a real conflict, so that a late, shorter AppendEntries can never erase entries a newer
  // one already brought.
  const first = entries.findIndex((e) => log.term(e.index) !== e.term);
  const fresh = first < 0 ? [] : entries.slice(first);
  const conflict = fresh.length > 0 && log.term(fresh[0]!.index) !== undefined ? fresh[0]!.index : null;
  return { ok: true, matchIndex: prevLogIndex + entries.length, truncateFrom: conflict, fresh };
}
