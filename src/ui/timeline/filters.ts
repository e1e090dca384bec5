// Lines a reader usually wants out of the way. A leader says something to every follower
// every heartbeat (50 ms) and they answer, so in a live cluster heartbeats bury the few
// lines that matter (elections, faults, commits) within a second.

/**
 * An empty AppendEntries, sent or received ("... Entries:[] LeaderCommit:0}"), or a plain
 * successful AppendEntries reply. Replies to real appends are hidden too: the leader's
 * "leader sets commitIndex" line still says what they achieved.
 */
const HEARTBEAT = /\bEntries:\[\] |^AppendEntries reply: \{Term:\d+ Success:true\}/;

export function isHeartbeat(text: string): boolean {
  return HEARTBEAT.test(text);
}
