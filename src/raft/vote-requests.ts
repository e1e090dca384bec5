// What a server standing for election sends (§5.2; PreVote, thesis §9.6), kept apart from
// raft.ts as the replication messages are (replication.ts): raft.ts decides when to stand.

import { otherVoters } from "./membership-rules.ts";
import type { Membership, NodeId, PreVote, RequestVote } from "./types.ts";

/** The candidate's log end, which every request carries for the §5.4.1 up-to-date check. */
export interface Candidacy {
  readonly self: NodeId;
  readonly term: number;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
}

/**
 * One request to each other voter of `conf`: a RequestVote (marked `transfer` when a leader
 * handed over, so a lease does not stop it), or a pre-candidate's PreVote, which carries its
 * term unchanged.
 */
export function voteRequests(pre: boolean, transfer: boolean, conf: Membership, c: Candidacy): (PreVote | RequestVote)[] {
  const { self, term, lastLogIndex, lastLogTerm } = c;
  return otherVoters(conf, self).map((to): PreVote | RequestVote =>
    pre
      ? { type: "PreVote", from: self, to, term, lastLogIndex, lastLogTerm }
      : { type: "RequestVote", from: self, to, term, candidateId: self, lastLogIndex, lastLogTerm, ...(transfer ? { transfer: true } : {}) },
  );
}
