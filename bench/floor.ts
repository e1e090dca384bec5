// BenchFloor: the platform's floor, measured inside workerd. What no commit can beat is the
// leader's own durable write plus one follower's RPC whose callee writes durably; this object
// times exactly those steps, from one object to another, with no HTTP and no Node in the way.
//
// Timing inside workerd: Date.now() and performance.now() have 1 ms resolution and only move
// on I/O (Spectre mitigation, local workerd too). A single RPC takes ~0.03 ms, so one call
// cannot be timed. Calls are therefore timed in batches of `batch` back-to-back calls, with
// the batch sized so that it lasts ≥ ~20 ms (≤ 5% resolution error); a sample is one batch's
// time divided by its size. The percentiles are over these per-batch means: p50 is close to
// a single call's median, p99 is flattened by the averaging (a rare slow call is diluted).
import { DurableObject } from "cloudflare:workers";
import type { FloorKind, FloorTiming } from "./floor-kinds.ts";

export { FLOOR_KINDS, type FloorKind, type FloorTiming } from "./floor-kinds.ts";

export interface FloorEnv {
  BENCH_FLOOR: DurableObjectNamespace<BenchFloor>;
}

/** One row of about the size of a small key/value log entry. */
const PAD = "x".repeat(64);

/** A batch should last at least this long for the 1 ms clock to be good to ~5%. */
const MIN_BATCH_MS = 20;

export class BenchFloor extends DurableObject<FloorEnv> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: FloorEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, pad TEXT NOT NULL)");
  }

  noop(): void {}

  /** writeAlarm sets alarms ten minutes ahead; one that fires anyway does nothing. */
  override async alarm(): Promise<void> {}

  /**
   * One row, written durably: the write is synchronous, and the output gate holds this RPC's
   * answer until it is on disk, so the caller's await covers the durable write.
   */
  write(): void {
    this.sql.exec("INSERT INTO rows (at, pad) VALUES (?, ?)", Date.now(), PAD);
  }

  /** Await one call to object `peer`, whose callee writes a row or does nothing. */
  async call(peer: string, write: boolean): Promise<void> {
    const stub = this.env.BENCH_FLOOR.getByName(peer);
    if (write) await stub.write();
    else await stub.noop();
  }

  /**
   * Time `kind` against object `peer` for about `durationMs`, or for at least `calls` calls
   * when given (after a warm-up), in batches sized from a first calibration run.
   */
  async measure(kind: FloorKind, peer: string, durationMs: number, calls?: number): Promise<FloorTiming> {
    const stub = this.env.BENCH_FLOOR.getByName(peer);
    const once = this.iteration(kind, stub);
    // Warm-up: the peer object is created, its table made, the stub connected.
    for (let i = 0; i < 50; i++) await once();
    // Calibrate: how many calls fill MIN_BATCH_MS.
    let n = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < MIN_BATCH_MS * 2) {
      await once();
      n++;
    }
    const perCall = (Date.now() - t0) / n;
    const batch = Math.max(1, Math.ceil(MIN_BATCH_MS / Math.max(perCall, 0.001)));

    const samplesMs: number[] = [];
    let done = 0;
    const start = Date.now();
    while (calls !== undefined ? done < calls : Date.now() - start < durationMs) {
      const b0 = Date.now();
      for (let i = 0; i < batch; i++) await once();
      samplesMs.push((Date.now() - b0) / batch);
      done += batch;
    }
    return { kind, batch, calls: done, samplesMs, meanMs: (Date.now() - start) / done };
  }

  private iteration(kind: FloorKind, peer: DurableObjectStub<BenchFloor>): () => Promise<unknown> {
    switch (kind) {
      case "rpc":
        return () => peer.noop();
      case "rpcWrite":
        return () => peer.write();
      case "write":
        return () => {
          this.write();
          return this.ctx.storage.sync();
        };
      case "writeAlarm":
        return () => {
          this.write();
          // Far enough ahead never to fire during the bench, different each time (as a Raft
          // deadline is), so every call really moves the alarm.
          void this.ctx.storage.setAlarm(Date.now() + 600_000 + Math.random() * 1000);
          return this.ctx.storage.sync();
        };
      case "commit":
        return () => {
          this.write();
          return peer.write();
        };
    }
  }
}
