// What BenchFloor measures, shared by the Worker side (bench/floor.ts) and the Node side
// (bench/suites/floor.ts); plain data, so Node can import it without cloudflare:workers.

/**
 * What one iteration does, seen from the calling object A with callee B:
 *  - rpc:         await B.noop()                  (object→object round trip)
 *  - rpcWrite:    await B.write()                 (the round trip whose callee writes one row)
 *  - write:       A writes one row, awaits sync()  (one local durable write)
 *  - writeAlarm:  A writes one row and moves its alarm, awaits sync() (a Raft event that
 *                 also re-arms the server's timer, as the shell's LazyAlarm does)
 *  - commit:      A writes one row, then await B.write(): A's output gate holds the call until
 *                 A's write is durable, so this is "leader's write, then one follower's
 *                 RPC+write", the least a Raft commit can cost.
 */
export type FloorKind = "rpc" | "rpcWrite" | "write" | "writeAlarm" | "commit";
export const FLOOR_KINDS: readonly FloorKind[] = ["rpc", "rpcWrite", "write", "writeAlarm", "commit"];

export interface FloorTiming {
  readonly kind: FloorKind;
  /** Calls per timed batch. */
  readonly batch: number;
  /** Total calls timed (warm-up excluded). */
  readonly calls: number;
  /** Per-call mean of each batch, ms. */
  readonly samplesMs: number[];
  /** Total time / calls, ms. */
  readonly meanMs: number;
}
