// A snapshot's pieces when no real state machine stands behind the simulated servers (no
// kv-replicas.ts: the applied commands as JSON text stand in for the state): the text cut
// into pieces of at most the chunk size, and joined again on the follower. The wire side
// (SnapshotAssembly, one transfer per follower, tokens) is the shell's own, as with the
// real state machine's stream.
import type { ChunkSink, ChunkSource } from "../../src/server/snapshot-assembly.ts";

export function textSource(text: string): ChunkSource {
  let offset = 0;
  return {
    next(maxChars: number) {
      const size = Number.isFinite(maxChars) ? Math.max(1, maxChars) : Math.max(1, text.length);
      const piece = text.slice(offset, offset + size);
      offset += piece.length;
      return { text: piece, last: offset >= text.length, rows: 0 };
    },
    close: () => {},
  };
}

export function textSink(): ChunkSink<string> {
  const parts: string[] = [];
  return {
    add: (text) => void parts.push(text),
    finish: () => parts.join(""),
    discard: () => void parts.splice(0),
  };
}
