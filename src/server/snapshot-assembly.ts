// A follower's side of a chunked InstallSnapshot: the pieces of one snapshot, in order.
//
// The leader sends a snapshot's JSON text in pieces (one RPC each: an RPC's size is
// limited, and a snapshot is as large as the whole key/value state). Pieces arrive in
// order, one at a time, because the leader sends the next only after this one was taken.
// A piece at offset 0 starts a new snapshot (a leader that gave up on an earlier transfer
// starts over); a piece that does not continue the snapshot being assembled is refused,
// which ends that transfer on the leader's side. Nothing here is durable: a server reset
// mid-transfer simply receives the snapshot again.
import type { InstallSnapshot, NodeId } from "../raft/types.ts";
import type { SnapshotChunk } from "./protocol.ts";

export type ChunkOutcome =
  | { readonly kind: "refused" }
  | { readonly kind: "more" }
  | { readonly kind: "complete"; readonly text: string };

export class SnapshotAssembly {
  private current: { key: string; from: NodeId; parts: string[]; received: number } | null = null;

  add(chunk: SnapshotChunk): ChunkOutcome {
    const key = `${chunk.from}/${chunk.term}/${chunk.lastIncludedIndex}/${chunk.lastIncludedTerm}/${chunk.total}`;
    if (chunk.offset === 0) this.current = { key, from: chunk.from, parts: [], received: 0 };
    const c = this.current;
    if (!c || c.key !== key || c.received !== chunk.offset || chunk.offset + chunk.text.length > chunk.total) {
      return { kind: "refused" };
    }
    c.parts.push(chunk.text);
    c.received += chunk.text.length;
    if (c.received < chunk.total) return { kind: "more" };
    this.current = null;
    return { kind: "complete", text: c.parts.join("") };
  }

  /** Forget a half-assembled snapshot (the server restarts, the cluster is deleted). */
  clear(): void {
    this.current = null;
  }
}

/** The piece of `text` from `offset` (at most `size` characters) that travels as one chunk of `m`. */
export function chunkOf(m: InstallSnapshot, text: string, offset: number, size: number): SnapshotChunk {
  return {
    from: m.from,
    to: m.to,
    term: m.term,
    lastIncludedIndex: m.lastIncludedIndex,
    lastIncludedTerm: m.lastIncludedTerm,
    offset,
    total: text.length,
    text: text.slice(offset, offset + size),
    ...(m.membership ? { membership: m.membership } : {}),
  };
}
