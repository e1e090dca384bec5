// What BenchFloor measures, shared by the Worker side (bench/floor.ts) and the Node side
// (bench/suites/floor.ts); plain data, so Node can import it without cloudflare:workers.
// One iteration, seen from the calling object A with callee B:
//  - rpc:        await B.noop()                   (object→object round trip)
//  - rpcWrite:   await B.write()                  (the round trip whose callee writes one row)
//  - write:      A writes one row, awaits sync()  (one local durable write)
//  - writeAlarm: the same, also moving A's alarm (as a Raft event re-arms the server's timer)
//  - commit:     A writes one row, then await B.write(): A's output gate holds the call until
//                A's write is durable: "leader's write, then one follower's RPC+write", the
//                least a Raft commit can cost.
export const FLOOR_KINDS = ["rpc", "rpcWrite", "write", "writeAlarm", "commit"] as const;
export type FloorKind = (typeof FLOOR_KINDS)[number];

export interface FloorTiming {
  readonly kind: FloorKind;
  /** Calls per timed batch, calls timed (warm-up excluded), the per-call mean of each batch, total time / calls. */
  readonly batch: number;
  readonly calls: number;
  readonly samplesMs: number[];
  readonly meanMs: number;
}
