// BenchFloor: what no commit can beat, timed object to object inside workerd (floor-kinds.ts). workerd's
// clock has 1 ms resolution, so calls are timed in batches of ≥ 20 ms (≤ 5% error); a sample is a batch's mean.
import { DurableObject } from "cloudflare:workers";
import type { FloorKind, FloorTiming } from "./floor-kinds.ts";

export { FLOOR_KINDS, type FloorKind, type FloorTiming } from "./floor-kinds.ts";

const PAD = "x".repeat(64); // a row of about a small log entry's size
const MIN_BATCH_MS = 20;

export class BenchFloor extends DurableObject<{ BENCH_FLOOR: DurableObjectNamespace<BenchFloor> }> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: { BENCH_FLOOR: DurableObjectNamespace<BenchFloor> }) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, pad TEXT NOT NULL)");
  }

  noop(): void {}

  /** writeAlarm sets alarms ten minutes ahead; one that fires anyway does nothing. */
  override async alarm(): Promise<void> {}

  /** One row, written durably: the output gate holds this RPC's answer until it is on disk. */
  write(): void {
    this.sql.exec("INSERT INTO rows (at, pad) VALUES (?, ?)", Date.now(), PAD);
  }

  /** Times `kind` against object `peer` for about `durationMs`, in batches sized by a first calibration. */
  async measure(kind: FloorKind, peer: string, durationMs: number): Promise<FloorTiming> {
    const once = this.iteration(kind, this.env.BENCH_FLOOR.getByName(peer));
    for (let i = 0; i < 50; i++) await once(); // warm-up: the peer created, its table made, the stub connected
    let n = 0;
    const t0 = Date.now();
    for (; Date.now() - t0 < MIN_BATCH_MS * 2; n++) await once();
    const batch = Math.max(1, Math.ceil(MIN_BATCH_MS / Math.max((Date.now() - t0) / n, 0.001)));
    const samplesMs: number[] = [];
    let done = 0;
    const start = Date.now();
    while (Date.now() - start < durationMs) {
      const b0 = Date.now();
      for (let i = 0; i < batch; i++) await once();
      samplesMs.push((Date.now() - b0) / batch);
      done += batch;
    }
    return { kind, batch, calls: done, samplesMs, meanMs: (Date.now() - start) / done };
  }

  private iteration(kind: FloorKind, peer: DurableObjectStub<BenchFloor>): () => Promise<unknown> {
    const local = (alarm: boolean) => () => {
      this.write();
      // Far enough ahead never to fire during the bench, different each time (as a Raft deadline is), so every call moves it.
      if (alarm) void this.ctx.storage.setAlarm(Date.now() + 600_000 + Math.random() * 1000);
      return this.ctx.storage.sync();
    };
    const calls = {
      rpc: () => peer.noop(),
      rpcWrite: () => peer.write(),
      write: local(false),
      writeAlarm: local(true),
      commit: () => (this.write(), peer.write()),
    };
    return calls[kind];
  }
}
