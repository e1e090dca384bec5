// The wire side of a chunked InstallSnapshot: which piece comes next, on both ends.
//
// The leader streams a snapshot in pieces (one RPC each: an RPC's size is limited, and a
// snapshot is as large as the whole key/value state), the next only after this one was taken,
// so pieces arrive in order, one at a time. What a piece holds is not this file's business:
// a source makes the pieces (src/kv/snapshot-stream.ts reads them from the store), a sink
// takes them (it checks and stages their rows as they arrive).
//
// On the follower, piece 0 starts a new transfer (a leader that gave up on an earlier one
// starts over); a piece that does not continue the transfer being assembled, or that its sink
// refuses, is refused, which ends that transfer on the leader's side; either way what was
// staged is discarded. A reset loses the assembly (memory), and the host discards what its
// staging held at boot.
import type { InstallSnapshot } from "../raft/types.ts";
import type { SnapshotChunk } from "./protocol.ts";

/** Where a transfer's pieces go as they arrive: `add` throws on a piece it refuses. */
export interface ChunkSink<T> {
  add(text: string): void;
  /** The whole snapshot, after the last piece; throws if it is not whole. */
  finish(): T;
  /** Forget what was taken (the transfer was refused, replaced or cut). */
  discard(): void;
}

/** Where a transfer's pieces come from: the next piece for `maxChars`, or why the transfer stops. */
export interface ChunkSource {
  next(maxChars: number): { readonly text: string; readonly last: boolean; readonly rows: number } | { readonly aborted: string };
  /** The transfer ended (however): what the source held is let go. Idempotent. */
  close(): void;
}

export type ChunkOutcome<T> =
  | { readonly kind: "refused" }
  | { readonly kind: "more" }
  /** The last piece is in: the snapshot is the caller's now (to install, or to discard). */
  | { readonly kind: "complete"; readonly value: T };

export class SnapshotAssembly<T> {
  private current: { key: string; term: number; next: number; sink: ChunkSink<T> } | null = null;

  constructor(private readonly open: () => ChunkSink<T>) {}

  /** A transfer is being assembled. */
  get active(): boolean {
    return this.current !== null;
  }

  /** Discard a transfer of a leader older than `term`: its pieces will be refused, it can never end. */
  dropOlderThan(term: number): void {
    if (this.current !== null && this.current.term < term) this.clear();
  }

  add(chunk: SnapshotChunk): ChunkOutcome<T> {
    const key = `${chunk.from}/${chunk.term}/${chunk.lastIncludedIndex}/${chunk.lastIncludedTerm}/${chunk.transfer}`;
    if (chunk.seq === 0) {
      this.clear();
      this.current = { key, term: chunk.term, next: 0, sink: this.open() };
    }
    const c = this.current;
    if (!c || c.key !== key || c.next !== chunk.seq) return this.refuse();
    try {
      c.sink.add(chunk.text);
    } catch {
      return this.refuse();
    }
    c.next++;
    if (!chunk.last) return { kind: "more" };
    let value: T;
    try {
      value = c.sink.finish();
    } catch {
      return this.refuse();
    }
    this.current = null;
    return { kind: "complete", value };
  }

  /** Forget a half-assembled snapshot and what its sink took (a reset, a new transfer, the cluster is deleted). */
  clear(): void {
    const c = this.current;
    this.current = null;
    c?.sink.discard();
  }

  private refuse(): ChunkOutcome<T> {
    this.clear();
    return { kind: "refused" };
  }
}

/** Piece `seq` of transfer `transfer` of `m`, carrying `text`. */
export function chunkOf(m: InstallSnapshot, transfer: number, seq: number, piece: { text: string; last: boolean }): SnapshotChunk {
  return {
    from: m.from,
    to: m.to,
    term: m.term,
    lastIncludedIndex: m.lastIncludedIndex,
    lastIncludedTerm: m.lastIncludedTerm,
    transfer,
    seq,
    last: piece.last,
    text: piece.text,
    ...(m.membership ? { membership: m.membership } : {}),
  };
}
