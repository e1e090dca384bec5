import type { AppendEntries, AppendEntriesReply, Entry, RequestVote, RequestVoteReply } from "./types.ts";

/**
 * The narration's vocabulary, formatted the way the reference Go series prints its structs
 * (`{Term:1 CandidateId:1 LastLogIndex:0 LastLogTerm:0}`), so its logs and ours read alike
 * and the timeline tool understands both.
 */

const SHOWN_ENTRIES = 6;

function command(c: unknown): string {
  const text = typeof c === "string" ? c : (JSON.stringify(c) ?? "null");
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * A log as Go's %v prints []LogEntry{Command, Term}: `[{5 1} {6 1}]`. Long logs show their
 * tail: pass the last entries and the log's full length.
 */
export function formatLog(entries: readonly Entry[], total = entries.length): string {
  const shown = entries.slice(-SHOWN_ENTRIES).map((e) => `{${command(e.command)} ${e.term}}`);
  const hidden = total - shown.length;
  return `[${hidden > 0 ? `...${hidden} more ` : ""}${shown.join(" ")}]`;
}

export function formatRequestVote(m: RequestVote): string {
  return `{Term:${m.term} CandidateId:${m.candidateId} LastLogIndex:${m.lastLogIndex} LastLogTerm:${m.lastLogTerm}}`;
}

export function formatVoteReply(m: RequestVoteReply): string {
  return `{Term:${m.term} VoteGranted:${m.voteGranted}}`;
}

export function formatAppendEntries(m: AppendEntries): string {
  return (
    `{Term:${m.term} LeaderId:${m.leaderId} PrevLogIndex:${m.prevLogIndex} PrevLogTerm:${m.prevLogTerm} ` +
    `Entries:${formatLog(m.entries)} LeaderCommit:${m.leaderCommit}}`
  );
}

export function formatAppendReply(m: AppendEntriesReply): string {
  const conflict = m.success ? "" : ` ConflictIndex:${m.conflictIndex} ConflictTerm:${m.conflictTerm}`;
  return `{Term:${m.term} Success:${m.success}${conflict}}`;
}

export function formatVotedFor(v: number | null): string {
  return v === null ? "-1" : String(v);
}
