// What BenchFloor measures (plain data: Node imports it without cloudflare:workers). One
// iteration, caller A, callee B: rpc = await B.noop(); rpcWrite = await B.write() (one row);
// write = A writes a row and awaits sync(); writeAlarm = the same, also moving A's alarm (as a
// Raft event re-arms its timer); commit = A writes, then await B.write(): A's output gate holds
// the call until A's write is durable, the least a Raft commit can cost.
export const FLOOR_KINDS = ["rpc", "rpcWrite", "write", "writeAlarm", "commit"] as const;
export type FloorKind = (typeof FLOOR_KINDS)[number];

/** Calls per timed batch, calls timed (warm-up excluded), the per-call mean of each batch, total time / calls. */
export type FloorTiming = { readonly kind: FloorKind; readonly batch: number; readonly calls: number; readonly samplesMs: number[]; readonly meanMs: number };
