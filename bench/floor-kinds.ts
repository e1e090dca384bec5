// What BenchFloor measures (plain data, for Node too). Caller A, callee B: rpc = B.noop(); rpcWrite = B.write() (a row);
// write = A writes a row, awaits sync(); writeAlarm = also moving A's alarm (as Raft re-arms its timer);
// commit = A writes, then B.write(): A's output gate holds the call until A's write is durable, the least a commit costs.
export const FLOOR_KINDS = ["rpc", "rpcWrite", "write", "writeAlarm", "commit"] as const;
export type FloorKind = (typeof FLOOR_KINDS)[number];

/** Calls per timed batch, calls timed (warm-up excluded), the per-call mean of each batch, total time / calls. */
export type FloorTiming = { readonly kind: FloorKind; readonly batch: number; readonly calls: number; readonly samplesMs: number[]; readonly meanMs: number };
