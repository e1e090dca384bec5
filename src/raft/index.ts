// The pure Raft core: no I/O, no clock, no randomness of its own. See types.ts for the contract.
export { Raft } from "./raft.ts";
export { RaftLog } from "./log.ts";
export { majority, quorumIndex } from "./quorum.ts";
export { formatLog } from "./narrate.ts";
export * from "./types.ts";
export {
  applyChange,
  describe as describeMembership,
  isMember,
  isVoter,
  members,
  membershipCommand,
  membershipOf,
  MAX_LEARNERS,
  MAX_VOTERS,
} from "./membership.ts";
export { compactionPoint, keptCap, KEPT_PER_THRESHOLD, type CompactionInput, type FollowerProgress } from "./compaction.ts";
