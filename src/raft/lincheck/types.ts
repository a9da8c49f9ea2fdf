/**
 * Types of the linearizability checker.
 *
 * A history is a list of operations, each with the time its client invoked it (`call`) and the
 * time the client saw it complete (`return`). Times only need to be comparable (monotonic clock
 * readings, event indexes, ...). An operation whose outcome is unknown (the client crashed, timed
 * out, got an `:info`) has `return: Infinity`: it may have taken effect at any point after `call`,
 * or never, and its `output` is ignored.
 */

export interface Operation<Input, Output> {
  /** Who issued the operation; only used in explanations. */
  clientId: number | string;
  input: Input;
  /** Ignored when `return` is Infinity (indeterminate). */
  output: Output;
  /** Invocation time. */
  call: number;
  /** Completion time, `Infinity` if the outcome is unknown. Must be >= call. */
  return: number;
  /** Where the operation came from (e.g. "lines 3-7"), shown in explanations. */
  label?: string;
}

/** A sub-history the model says can be checked on its own (P-compositionality). */
export interface Partition<Input, Output> {
  /** Shown in explanations, e.g. `key "x"`; undefined when the model does not partition. */
  label: string | undefined;
  operations: Operation<Input, Output>[];
}

/**
 * A sequential specification. States are immutable values; `step` never mutates its argument.
 * State types must not include `undefined`: it is the "illegal step" answer.
 */
export interface Model<State, Input, Output> {
  readonly name: string;
  init(): State;
  /**
   * The state after applying `input` to `state` if the operation's result is consistent with
   * `output`, or `undefined` if it is not. With `outputKnown` false (indeterminate operation) the
   * output must not constrain anything: return the state the operation would produce.
   */
  step(state: State, input: Input, output: Output, outputKnown: boolean): State | undefined;
  /** Equal states have equal keys and different states different keys (used by the memo cache). */
  stateKey(state: State): string;
  /** Split a history into independent sub-histories; absent = check the history as a whole. */
  partition?(operations: Operation<Input, Output>[]): Partition<Input, Output>[];
  /** True if the operation never changes the state: indeterminate ones can then be dropped. */
  isReadOnly?(input: Input): boolean;
  /**
   * True if this operation, with this result, leaves every state it is legal in unchanged (a
   * read; a cas known to have failed). Such operations are placed as soon as they fit, with no
   * backtracking over where else they could go. Must not hold for an operation that changes some
   * state, even if it changes none in the state at hand (a write of the current value).
   */
  neverChangesState?(input: Input, output: Output, outputKnown: boolean): boolean;
  /**
   * Optional sound simplification, applied before partitioning: drop indeterminate operations
   * whose effect no completed operation observed (leaving them out is then always consistent),
   * or bound their return by the first completion that observed them. Without it, every
   * indeterminate operation stays concurrent with the rest of the history, which the search pays
   * for at every step.
   */
  reduce?(operations: Operation<Input, Output>[]): Operation<Input, Output>[];
  describeOperation(input: Input, output: Output, outputKnown: boolean): string;
  describeState(state: State): string;
}

export interface CheckOptions {
  /** Give up and answer 'unknown' after this long (whole history, all partitions). Default: none. */
  timeoutMs?: number;
  /** Give up and answer 'unknown' once the memo caches hold this many bytes. Default: 1 GiB. */
  maxMemoBytes?: number;
  /**
   * Plain Wing & Gong / Lowe search as Porcupine does it: no model `reduce`, candidates in call
   * order, no eager placement or pruning of lost operations. Same verdicts, usually slower; for
   * benchmarks and cross-checks.
   */
  plainSearch?: boolean;
}

/** One linearized operation of the longest prefix, with the model state right after it. */
export interface PlacedOperation<Input, Output> {
  operation: Operation<Input, Output>;
  stateAfter: string;
}

export interface UnplacedOperation<Input, Output> {
  operation: Operation<Input, Output>;
  /** Why it could not come next after the longest prefix. */
  reason: string;
}

/** Why a history is not linearizable, for the first failing partition. */
export interface Violation<Input, Output> {
  /** The failing partition's label (e.g. `key "3"`), undefined if the model does not partition. */
  partition: string | undefined;
  /**
   * Labels of the partitions found not linearizable. The check stops at the first failing round of
   * the interleaved search, so other partitions may fail too without being listed.
   */
  failingPartitions: (string | undefined)[];
  /** The longest sequence of operations the search managed to linearize, in order. */
  longestPrefix: PlacedOperation<Input, Output>[];
  /** State after the longest prefix. */
  stateAfterPrefix: string;
  /**
   * The operation whose completion was reached while it was still unplaced (it had to be
   * linearized before that point), followed by the other operations that were candidates.
   */
  unplaced: UnplacedOperation<Input, Output>[];
}

export interface CheckResult<Input, Output> {
  linearizable: boolean | 'unknown';
  /** Human-readable; present when `linearizable` is false or 'unknown'. */
  explanation?: string;
  /** Structured form of the explanation when `linearizable` is false. */
  violation?: Violation<Input, Output>;
}
