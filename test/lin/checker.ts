// A linearizability checker: the Wing–Gong–Lowe search with memoization, as Porcupine
// implements it (github.com/anishathalye/porcupine, checker.go).
//
// A history is linearizable when every operation can be given a single instant between
// its call and its return such that, in that order, each output is what the sequential
// model answers. The search walks a doubly linked list of call/return events in time
// order; it tries to linearize the earliest pending calls first, one at a time ("lift" a
// call and its return out of the list), and backtracks when it meets a return whose call
// it could not linearize. A memo of (set of linearized operations, model state) prunes
// every configuration already explored — the key to making it usable (Lowe, 2017).
// The model's partition function splits the history (by key for the kv model) and each
// part is searched on its own: linearizability is compositional.
//
// Events at the same instant are ordered calls first, so operations that merely touch
// are concurrent (the lenient reading). An operation with an unknown outcome has
// `ret = Infinity` and `output = undefined`: it may be linearized anywhere after its call.

import { type KvHistoryOperation, kvModel, type KvState, type KvInput, type KvOutput } from "./kv-model.ts";
import type { Model, Operation } from "./model.ts";

export type Verdict = "ok" | "illegal" | "unknown";

export interface PartitionReport {
  readonly label: string;
  /** "unknown": the time budget ran out (or an earlier part was illegal) before a verdict. */
  readonly verdict: Verdict;
  /** The part's operations, as indices into the history. */
  readonly operations: readonly number[];
  /**
   * History indices in linearization order. For "ok": a full linearization (a witness,
   * operations with unknown outcome that were never needed are left out). For "illegal":
   * the longest linearizable prefix the search found.
   */
  readonly linearization: readonly number[];
  /** Search steps spent on this part. */
  readonly steps: number;
}

export interface CheckReport {
  readonly verdict: Verdict;
  readonly partitions: readonly PartitionReport[];
  readonly elapsedMs: number;
}

export interface CheckOptions {
  /** Give up with "unknown" after this long (default: 10 s). */
  readonly timeoutMs?: number;
  /** Keep checking the other parts after one is illegal (default: stop at the first). */
  readonly checkAllPartitions?: boolean;
}

/** Checks `history` against `model`. */
export function checkHistory<S, I, O>(
  model: Model<S, I, O>,
  history: ReadonlyArray<Operation<I, O>>,
  options: CheckOptions = {},
): CheckReport {
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 10_000);
  for (const [i, op] of history.entries()) {
    if (!(op.call <= op.ret) || Number.isNaN(op.call) || op.call === Infinity) {
      throw new RangeError(`operation ${i}: call ${op.call} and return ${op.ret} are not an interval`);
    }
  }
  const parts = model.partition?.(history) ?? [{ label: "", indices: history.map((_, i) => i) }];
  const reports: PartitionReport[] = [];
  let stop = false;
  for (const part of parts) {
    if (stop) {
      reports.push({ label: part.label, verdict: "unknown", operations: part.indices, linearization: [], steps: 0 });
      continue;
    }
    // A read whose outcome is unknown changes nothing and promises nothing: leave it out.
    const searched = part.indices.filter((i) => history[i]!.ret !== Infinity || model.isReadOnly?.(history[i]!.input) !== true);
    const ops = searched.map((i) => history[i]!);
    const search = searchPartition(model, ops, deadline);
    reports.push({
      label: part.label,
      verdict: search.verdict,
      operations: part.indices,
      linearization: search.order.map((j) => searched[j]!),
      steps: search.steps,
    });
    if (search.verdict === "illegal" && options.checkAllPartitions !== true) stop = true;
    if (search.verdict === "unknown") stop = true; // the budget is spent
  }
  const verdict: Verdict = reports.some((r) => r.verdict === "illegal")
    ? "illegal"
    : reports.some((r) => r.verdict === "unknown")
      ? "unknown"
      : "ok";
  return { verdict, partitions: reports, elapsedMs: Date.now() - started };
}

/** The kv model's checker: the entry point for nemesis tests. */
export function checkKvHistory(history: readonly KvHistoryOperation[], options?: CheckOptions): CheckReport {
  return checkHistory<KvState, KvInput, KvOutput>(kvModel, history, options);
}

// --- the search ---------------------------------------------------------------------

interface Event {
  /** Operation index within the partition. */
  readonly id: number;
  readonly time: number;
  /** For a call: its return event; for a return: null. */
  match: Event | null;
  prev: Event | null;
  next: Event | null;
}

interface SearchResult {
  readonly verdict: Verdict;
  /** Partition-local indices: the linearization (ok) or the longest prefix (illegal). */
  readonly order: number[];
  readonly steps: number;
}

function searchPartition<S, I, O>(model: Model<S, I, O>, ops: ReadonlyArray<Operation<I, O>>, deadline: number): SearchResult {
  const head = buildEventList(ops);
  const linearized = new Uint16Array(Math.ceil(ops.length / 16) + 1); // bitset, 16 bits a word
  const seen = new Set<string>();
  const stack: Array<{ event: Event; state: S }> = [];
  let longest: number[] = [];
  let state = model.init();
  let event: Event | null = head.next;
  let steps = 0;

  while (head.next !== null) {
    if (++steps % 4096 === 0 && Date.now() > deadline) return { verdict: "unknown", order: longest, steps };
    if (event === null) throw new Error("linearizability search ran off the event list"); // cannot happen: a return always follows
    if (event.match !== null) {
      // A call: try to linearize it now.
      const op = ops[event.id]!;
      // An operation that never returned has no trustworthy output: any answer is accepted.
      const unknown = op.ret === Infinity;
      const next = model.step(state, op.input, unknown ? undefined : op.output);
      // Pruning (exact): an unknown-outcome operation that would not change the state here
      // is never worth linearizing here. Leaving it pending is at least as good, since it
      // blocks nothing (its return is at ∞) and can still take effect later or never.
      // This keeps lost reads and non-matching lost CAS out of the search altogether.
      const nextHash = next.ok ? model.hash(next.state) : "";
      if (next.ok && !(unknown && nextHash === model.hash(state))) {
        setBit(linearized, event.id);
        const key = memoKey(linearized, nextHash);
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ event, state });
          if (stack.length > longest.length) longest = stack.map((s) => s.event.id);
          state = next.state;
          lift(event);
          event = head.next;
          continue;
        }
        clearBit(linearized, event.id);
      }
      event = event.next;
    } else {
      // A return whose call is not linearized yet: nothing before it can be tried any more.
      if (event.time === Infinity) {
        // Only operations with unknown outcomes are left: they take effect after all the
        // others (or never), where any output is accepted. Linearizable.
        return { verdict: "ok", order: stack.map((s) => s.event.id), steps };
      }
      const top = stack.pop();
      if (top === undefined) return { verdict: "illegal", order: longest, steps };
      state = top.state;
      clearBit(linearized, top.event.id);
      unlift(top.event);
      event = top.event.next;
    }
  }
  return { verdict: "ok", order: stack.map((s) => s.event.id), steps };
}

/** Call and return events in time order (calls before returns at equal times), linked after a sentinel. */
function buildEventList<I, O>(ops: ReadonlyArray<Operation<I, O>>): Event {
  const events: Array<{ event: Event; isCall: boolean }> = [];
  ops.forEach((op, id) => {
    const ret: Event = { id, time: op.ret, match: null, prev: null, next: null };
    const call: Event = { id, time: op.call, match: ret, prev: null, next: null };
    events.push({ event: call, isCall: true }, { event: ret, isCall: false });
  });
  events.sort((a, b) => a.event.time - b.event.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const head: Event = { id: -1, time: -Infinity, match: null, prev: null, next: null };
  let last = head;
  for (const { event } of events) {
    last.next = event;
    event.prev = last;
    last = event;
  }
  return head;
}

/** Takes a call and its return out of the list (the call is linearized). */
function lift(call: Event): void {
  const ret = call.match!;
  call.prev!.next = call.next;
  call.next!.prev = call.prev; // a call is always followed by at least its return
  ret.prev!.next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

/** Puts them back, exactly where they were (undoes the matching lift). */
function unlift(call: Event): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next !== null) ret.next.prev = ret;
  call.prev!.next = call;
  call.next!.prev = call;
}

function setBit(bits: Uint16Array, i: number): void {
  bits[i >> 4]! |= 1 << (i & 15);
}

function clearBit(bits: Uint16Array, i: number): void {
  bits[i >> 4]! &= ~(1 << (i & 15));
}

/** The bitset as a compact string (16 bits a character), then the state's hash. */
function memoKey(bits: Uint16Array, stateHash: string): string {
  let key = "";
  for (let i = 0; i < bits.length; i++) key += String.fromCharCode(bits[i]!);
  return `${key}\u0000${stateHash}`;
}

// --- reports ------------------------------------------------------------------------

/**
 * A human account of a report: for an illegal part, its operations in call order and the
 * longest linearizable prefix with the state after each step — where the story breaks.
 */
export function explainReport<S, I, O>(
  model: Model<S, I, O>,
  history: ReadonlyArray<Operation<I, O>>,
  report: CheckReport,
): string {
  const lines = [`verdict: ${report.verdict} (${report.elapsedMs} ms, ${report.partitions.length} parts)`];
  const describe = (i: number): string => {
    const op = history[i]!;
    const text = model.describeOperation?.(op.input, op.output) ?? JSON.stringify({ input: op.input, output: op.output });
    const ret = op.ret === Infinity ? "∞" : String(op.ret);
    return `#${i} client ${op.clientId ?? "?"} [${op.call}, ${ret}] ${text}`;
  };
  for (const part of report.partitions) {
    if (part.verdict !== "illegal") continue;
    lines.push(`part ${JSON.stringify(part.label)} is not linearizable; its operations by call time:`);
    const byCall = [...part.operations].sort((a, b) => history[a]!.call - history[b]!.call);
    for (const i of byCall) lines.push(`  ${describe(i)}`);
    lines.push(`longest linearizable prefix (${part.linearization.length} of ${part.operations.length}):`);
    let state = model.init();
    for (const i of part.linearization) {
      const op = history[i]!;
      state = model.step(state, op.input, op.ret === Infinity ? undefined : op.output).state;
      lines.push(`  ${describe(i)}   => ${model.describeState?.(state) ?? model.hash(state)}`);
    }
    const done = new Set(part.linearization);
    const stuck = byCall.filter((i) => !done.has(i));
    lines.push(`none of the remaining ${stuck.length} can come next with its output.`);
  }
  return lines.join("\n");
}
