// A leader's side of InstallSnapshot: which peers a snapshot is on its way to, and up to
// which index.
//
// One transfer per peer at a time: the core asks again every election timeout for a follower
// that is behind, and a second transfer of the same state would only double the traffic.
// Each transfer gets a token, and only its holder may end it: a transfer that was given up
// (its peer refused a piece, a call failed) ends asynchronously, after a new transfer to the
// same peer may have started, and its cleanup must not clear the new one's mark.
//
// The index matters to compaction (src/raft/compaction.ts): the follower will need the
// entries after it once installed, so the leader keeps them while the transfer lasts.
//
// Release before hand-over (issue 23.2): the last piece's reply must find the mark gone when
// it reaches the core. The core may answer it with the next InstallSnapshot at once (the
// follower still lags); a mark still set would drop that request, and the core would wait
// out its "presumed lost" timer (an election timeout) before asking again.
import type { Raft } from "../raft/raft.ts";
import type { InstallSnapshot, NodeId } from "../raft/types.ts";

export class SnapshotTransfers {
  private readonly inFlight = new Map<NodeId, { readonly token: number; readonly index: number }>();
  private lastToken = 0;

  /** Start a transfer to `peer` of the snapshot up to `index`: its token, or null if one is under way. */
  start(peer: NodeId, index: number): number | null {
    if (this.inFlight.has(peer)) return null;
    const token = ++this.lastToken;
    this.inFlight.set(peer, { token, index });
    return token;
  }

  /** Is transfer `token` to `peer` still the current one? */
  current(peer: NodeId, token: number): boolean {
    return this.inFlight.get(peer)?.token === token;
  }

  /** End transfer `token` to `peer`; a later transfer's mark stays. Idempotent. */
  release(peer: NodeId, token: number): void {
    if (this.current(peer, token)) this.inFlight.delete(peer);
  }

  /** The last index of every snapshot under way (what compaction must keep after). */
  indexes(): number[] {
    return [...this.inFlight.values()].map((t) => t.index);
  }

  /** Forget every transfer (the server resets, the cluster is deleted). */
  clear(): void {
    this.inFlight.clear();
  }
}

/**
 * Why a transfer under way is no longer wanted, or null; asked before each piece. This server
 * no longer leads in the term `m` was sent in (the follower refuses a deposed leader's pieces
 * anyway), or the follower already holds the snapshot's entries (an earlier transfer's reply
 * got there first: streaming the whole state again would only be refused at its end).
 */
export function staleTransfer(core: Raft, m: InstallSnapshot): string | null {
  const { term, state } = core.status();
  if (state !== "Leader" || term !== m.term) return `no longer the leader of term ${m.term}`;
  const match = core.followerProgress().find((f) => f.id === m.to)?.match ?? 0;
  return match >= m.lastIncludedIndex ? `it already holds index ${match}` : null;
}
