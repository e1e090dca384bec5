import type { AppendEntries, AppendEntriesReply, Entry, InstallSnapshot, Message, NarrationLevel, PreVote, RequestVote, RequestVoteReply } from "./types.ts";

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

export function formatPreVote(m: PreVote): string {
  return `{Term:${m.term} LastLogIndex:${m.lastLogIndex} LastLogTerm:${m.lastLogTerm}}`;
}

export function formatVoteReply(m: RequestVoteReply): string {
  return `{Term:${m.term} VoteGranted:${m.voteGranted}}`;
}

export function formatInstallSnapshot(m: InstallSnapshot): string {
  return `{Term:${m.term} LeaderId:${m.leaderId} LastIncludedIndex:${m.lastIncludedIndex} LastIncludedTerm:${m.lastIncludedTerm}}`;
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

/**
 * The line a server narrates on receiving `m` (its term and vote as they were), or null for
 * messages narrated by what they cause rather than on receipt.
 */
export function receiptLine(m: Message, term: number, votedFor: number | null): { line: string; level: NarrationLevel } | null {
  const decision = (line: string) => ({ line, level: "decision" as const });
  switch (m.type) {
    case "RequestVote":
      return decision(`RequestVote: ${formatRequestVote(m)} [currentTerm=${term}, votedFor=${formatVotedFor(votedFor)}]`);
    case "RequestVoteReply":
      return decision(`received RequestVoteReply ${formatVoteReply(m)}`);
    case "AppendEntries":
      return { line: `AppendEntries: ${formatAppendEntries(m)}`, level: "detail" };
    case "PreVote":
      return decision(`PreVote: {Term:${m.term} CandidateId:${m.from} LastLogIndex:${m.lastLogIndex} LastLogTerm:${m.lastLogTerm}} [currentTerm=${term}]`);
    case "PreVoteReply":
      return decision(`received PreVoteReply {Term:${m.term} Granted:${m.granted}}`);
    case "InstallSnapshot":
      return decision(
        `InstallSnapshot: {Term:${m.term} LeaderId:${m.leaderId} LastIncludedIndex:${m.lastIncludedIndex} LastIncludedTerm:${m.lastIncludedTerm}}`,
      );
    case "TimeoutNow":
    case "AppendEntriesReply":
    case "InstallSnapshotReply":
      return null; // narrated by what they cause, not on receipt
  }
}

/** Why a message's higher term makes the receiver step down, as the reference says it. */
export function staleTermReason(m: Message): string {
  switch (m.type) {
    case "RequestVote":
      return "term out of date in RequestVote";
    case "AppendEntries":
      return "term out of date in AppendEntries";
    case "RequestVoteReply":
      return "term out of date in RequestVoteReply";
    case "AppendEntriesReply":
      return "term out of date in heartbeat reply";
    case "PreVote":
      return "term out of date in PreVote";
    case "PreVoteReply":
      return "term out of date in PreVoteReply";
    case "TimeoutNow":
      return "term out of date in TimeoutNow";
    case "InstallSnapshot":
      return "term out of date in InstallSnapshot";
    case "InstallSnapshotReply":
      return "term out of date in InstallSnapshot reply";
  }
}
