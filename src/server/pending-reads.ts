// ReadIndex reads a leader is answering, from the moment the core accepts one until it
// can be answered.
//
// A read is answered with what it reads from the state machine once two things hold: the
// core has confirmed it (a majority answered a heartbeat round that started after the read
// arrived, so no newer leader can have committed anything this leader does not know of),
// and this server has applied up to the read's index (the commit index when the read
// arrived). The core reports the first through Ready.reads; the shell applies before it
// settles reads, so the second normally holds at once, but a read is kept until it does
// rather than assumed.
//
// What a read reads is the caller's: a key (`GET /kv/{key}`), a listing (`GET /kv?prefix=`),
// an etcd range. It runs only at that moment, against the state as applied then.
import type { ReadState } from "../raft/types.ts";
import type { KvAnswer } from "./protocol.ts";

interface Waiting {
  /** Reads the state machine; called once, when the read may be answered. */
  readonly read: () => unknown;
  readonly resolve: (answer: KvAnswer<unknown>) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  /** Set once the core confirmed the read: answer when applied reaches it. */
  index: number | null;
}

export class PendingReads {
  private readonly waiting = new Map<string, Waiting>();
  private seq = 0;

  /** A fresh context for the core's readIndex(), unique within this object's life. */
  nextContext(): string {
    return `r${++this.seq}`;
  }

  /** Wait for read `ctx`, answered with `read()`; after `timeoutMs` it ends "unknown" (a read is safe to retry). */
  wait<R>(ctx: string, read: () => R, timeoutMs: number): Promise<KvAnswer<R>> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.end(ctx, { kind: "unknown" }), timeoutMs);
      this.waiting.set(ctx, { read, resolve: resolve as (answer: KvAnswer<unknown>) => void, timer, index: null });
    });
  }

  /** One Ready's worth of read outcomes, after its committed entries were applied up to `applied`. */
  settle(confirmed: readonly ReadState[], failed: readonly string[], applied: number): void {
    if (this.waiting.size === 0) return;
    for (const ctx of failed) this.end(ctx, { kind: "not_leader", leader: null });
    for (const rs of confirmed) {
      const w = this.waiting.get(rs.ctx);
      if (w) w.index = rs.index;
    }
    for (const [ctx, w] of this.waiting) {
      if (w.index !== null && w.index <= applied) {
        this.end(ctx, { kind: "ok", index: w.index, result: w.read(), duplicate: false });
      }
    }
  }

  /** The core these reads were asked of is gone (restart, deletion): none will be answered. */
  failAll(): void {
    for (const ctx of [...this.waiting.keys()]) this.end(ctx, { kind: "not_leader", leader: null });
  }

  private end(ctx: string, answer: KvAnswer<unknown>): void {
    const w = this.waiting.get(ctx);
    if (!w) return;
    this.waiting.delete(ctx);
    clearTimeout(w.timer);
    w.resolve(answer);
  }
}
