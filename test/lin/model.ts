// What the linearizability checker checks against: a sequential specification.
//
// The shape follows Porcupine's Model (github.com/anishathalye/porcupine): an initial
// state, a step function that says whether an operation with a given output is legal in a
// state (and the state after it), a partition function (linearizability is compositional:
// each key can be checked on its own), and a hash so the search can memoize states.

/** One client operation as observed from outside: what was asked, what came back, when. */
export interface Operation<I, O> {
  /** Who issued it (for reports only; the checker does not need it). */
  readonly clientId?: string | number;
  readonly input: I;
  /** The answer; `undefined` when the outcome is unknown (a timeout): any output is accepted. Ignored when `ret` is Infinity. */
  readonly output: O | undefined;
  /** When the call was issued (any monotonic clock, the same for all clients). */
  readonly call: number;
  /**
   * When the answer arrived. `Infinity` for an operation whose outcome is unknown: it may
   * take effect at any time after its call, or never (taking effect after every other
   * operation is indistinguishable from never, so the two are one case).
   */
  readonly ret: number;
}

export interface StepResult<S> {
  readonly ok: boolean;
  readonly state: S;
}

export interface Partition {
  /** A name for reports (for the kv model: the key). */
  readonly label: string;
  /** Indices into the history. */
  readonly indices: readonly number[];
}

export interface Model<S, I, O> {
  /** Splits a history into independent parts (default: one part). */
  partition?(history: ReadonlyArray<Operation<I, O>>): Partition[];
  init(): S;
  /**
   * Applies `input` in `state`. `ok` is false when `output` cannot be its answer there.
   * With `output === undefined` (unknown outcome) it must accept, in every state.
   */
  step(state: S, input: I, output: O | undefined): StepResult<S>;
  /**
   * True when `input` never changes the state (a read). Reads whose outcome is unknown
   * constrain nothing, so the checker leaves them out of the search altogether.
   */
  isReadOnly?(input: I): boolean;
  /** Equal states must hash equal; unequal states must hash unequal (used as a memo key). */
  hash(state: S): string;
  describeOperation?(input: I, output: O | undefined): string;
  describeState?(state: S): string;
}
