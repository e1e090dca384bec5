// Records a concurrent history for the linearizability checker, as clients run.
//
// Each client operation is `invoke`d before the request leaves and completed with `ok`
// (an answer arrived), `unknown` (a timeout or lost connection: it may or may not have
// taken effect) or `fail` (it certainly did not take effect, e.g. a 503 or a 4xx: it is
// dropped from the history). Operations never completed count as unknown.

import type { Operation } from "./model.ts";

interface Pending<I> {
  readonly clientId: string | number;
  readonly input: I;
  readonly call: number;
}

export class HistoryRecorder<I, O> {
  private readonly pending = new Map<number, Pending<I>>();
  private readonly done: Array<Operation<I, O>> = [];
  private nextHandle = 0;

  /** `now` must be one monotonic clock shared by all clients (default: performance.now). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  invoke(clientId: string | number, input: I): number {
    const handle = this.nextHandle++;
    this.pending.set(handle, { clientId, input, call: this.now() });
    return handle;
  }

  ok(handle: number, output: O): void {
    const p = this.take(handle);
    this.done.push({ clientId: p.clientId, input: p.input, output, call: p.call, ret: this.now() });
  }

  unknown(handle: number): void {
    const p = this.take(handle);
    this.done.push({ clientId: p.clientId, input: p.input, output: undefined, call: p.call, ret: Infinity });
  }

  fail(handle: number): void {
    this.take(handle);
  }

  /** The history so far; operations still pending are included as unknown. */
  history(): Array<Operation<I, O>> {
    const open = [...this.pending.values()].map((p) => ({ ...p, output: undefined, ret: Infinity }));
    return [...this.done, ...open];
  }

  private take(handle: number): Pending<I> {
    const p = this.pending.get(handle);
    if (p === undefined) throw new Error(`operation ${handle} is not pending`);
    this.pending.delete(handle);
    return p;
  }
}
