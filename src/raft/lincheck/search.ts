/**
 * The Wing & Gong backtracking search with Lowe's memoization over one partition, as a resumable
 * state machine: `run(budget)` does about `budget` steps, so a driver can interleave partitions
 * (a failing key is usually found long before a hard, linearizable one is exhausted).
 *
 * Events live in a doubly linked list sorted by time. Linearizing an operation lifts its call and
 * return out of the list; backtracking puts them back. The candidates to linearize next are the
 * calls before the first remaining return: that return's operation must take effect before it.
 * The design follows Porcupine (anishathalye/porcupine); the code is our own. Two changes to
 * the order in which candidates are tried (the verdict does not depend on it):
 * - an operation that cannot change any state and fits now is the only branch tried (see
 *   `freeCandidate`);
 * - otherwise operations with a known outcome go first (in call order, as in Porcupine) and
 *   indeterminate ones last, so a lost operation is only placed when something needs it.
 * And two prunings that cannot lose a linearization: of several indeterminate candidates with
 * equal inputs only the first is tried (they are interchangeable), and an indeterminate operation
 * that would leave the state unchanged is not placed (leaving it out does as well).
 *
 * Indeterminate operations (return = Infinity) have their returns after every finite one, and the
 * search succeeds as soon as every operation with a known outcome is placed: indeterminate ones
 * still unplaced are those that never took effect.
 */
import { LinearizedSet, ZobristKeys } from './bitset.js';
import { MemoCache } from './memo.js';
import type { Model, Operation } from './types.js';

/** One event of the history: a call (with a link to its return) or a return. */
interface EventNode {
  /** Index of the operation in its partition; -1 for the list head. */
  readonly op: number;
  /** For a call: its return event. For a return (and the head): null. */
  readonly match: EventNode | null;
  prev: EventNode | null;
  next: EventNode | null;
}

export type SearchStatus = 'running' | 'linearizable' | 'illegal';

/** A configuration being explored: the candidates to place next, in the order to try them. */
interface Frame {
  readonly candidates: EventNode[];
  next: number;
}

export class PartitionSearch<State, Input, Output> {
  private readonly head: EventNode;
  private readonly linearized: LinearizedSet;
  private readonly memo: MemoCache;
  private readonly stateIds = new Map<string, number>();
  /** Rough bytes held by the interned state keys (UTF-16 plus map entry overhead). */
  private stateKeyBytes = 0;
  /** Placed operations (call events) in order, and the state before each. */
  private readonly placedCalls: EventNode[] = [];
  private readonly statesBefore: State[] = [];
  /** One frame per configuration on the current path: the root, then one per placement. */
  private readonly frames: Frame[] = [];
  private unplacedDeterminate: number;
  /** Operations with equal inputs share a class number (used for indeterminate operations). */
  private readonly inputClass: Int32Array;
  private state: State;
  private statusValue: SearchStatus = 'running';
  /** Deepest sequence of placed operations seen (Porcupine's "longest linearizable prefix"). */
  private longest: number[] = [];

  /**
   * `shortcuts: false` gives the plain search (candidates in call order, no pruning beyond the
   * memo), as a baseline for benchmarks and tests.
   */
  constructor(
    private readonly model: Model<State, Input, Output>,
    private readonly operations: readonly Operation<Input, Output>[],
    private readonly shortcuts = true,
  ) {
    this.unplacedDeterminate = operations.reduce((n, op) => (op.return === Infinity ? n : n + 1), 0);
    this.head = buildEventList(operations);
    this.inputClass = classifyInputs(operations);
    this.linearized = new LinearizedSet(operations.length, new ZobristKeys(operations.length));
    this.memo = new MemoCache(this.linearized.words.length);
    this.state = model.init();
    if (this.unplacedDeterminate === 0) this.statusValue = 'linearizable';
    else this.frames.push(this.frameHere());
  }

  get status(): SearchStatus {
    return this.statusValue;
  }

  get longestPrefix(): readonly number[] {
    return this.longest;
  }

  /** Approximate memory held by the memoization (cache arrays and interned states). */
  get memoBytes(): number {
    return this.memo.bytes + this.stateKeyBytes;
  }

  /** Advances the search by roughly `budget` steps (model steps). */
  run(budget: number): SearchStatus {
    const { model, operations } = this;
    let steps = 0;
    while (steps < budget && this.statusValue === 'running') {
      const frame = this.frames[this.frames.length - 1]!;
      if (frame.next >= frame.candidates.length) {
        // Every way on from this configuration failed.
        this.backtrack();
        continue;
      }
      const call = frame.candidates[frame.next++]!;
      const op = operations[call.op]!;
      steps++;
      const known = op.return !== Infinity;
      const next = model.step(this.state, op.input, op.output, known);
      if (next === undefined) continue;
      // An indeterminate operation that changes nothing here is as good as one that never
      // happened: any way on from placing it also works without it (and stays available).
      if (this.shortcuts && !known && (next === this.state || model.stateKey(next) === model.stateKey(this.state))) continue;
      if (!this.place(call, next)) continue;
      const child = this.frameHere();
      steps += child.candidates.length;
      this.frames.push(child);
    }
    return this.statusValue;
  }

  /** The candidates of the current configuration, in the order to try them. */
  private frameHere(): Frame {
    const determinate: EventNode[] = [];
    const indeterminate: EventNode[] = [];
    const indeterminateInputs = new Set<number>();
    if (!this.shortcuts) {
      for (let node = this.head.next; node !== null && node.match !== null; node = node.next) determinate.push(node);
      return { candidates: determinate, next: 0 };
    }
    for (let node = this.head.next; node !== null && node.match !== null; node = node.next) {
      const op = this.operations[node.op]!;
      if (op.return === Infinity) {
        // Interchangeable with an earlier candidate (same input, both pending forever): whatever
        // one of them can do later, the other can too, so trying both explores mirror images.
        const inputClass = this.inputClass[node.op]!;
        if (indeterminateInputs.has(inputClass)) continue;
        indeterminateInputs.add(inputClass);
        indeterminate.push(node);
        continue;
      }
      if (this.isFree(op)) return { candidates: [node], next: 0 };
      determinate.push(node);
    }
    return { candidates: determinate.concat(indeterminate), next: 0 };
  }

  /**
   * An operation the model says never changes any state (a read, a failed cas) whose result fits
   * the current state. Placing it right now loses nothing: every operation that had to precede
   * it is placed already (it is a candidate), and moving it earlier changes no state any other
   * operation sees. So it is the configuration's only branch worth exploring, which spares the
   * search from trying it at every later position.
   */
  private isFree(op: Operation<Input, Output>): boolean {
    const { model, state } = this;
    if (model.neverChangesState === undefined || !model.neverChangesState(op.input, op.output, true)) return false;
    const next = model.step(state, op.input, op.output, true);
    if (next === undefined) return false;
    if (next !== state && model.stateKey(next) !== model.stateKey(state)) {
      throw new Error(`model ${model.name}: ${model.describeOperation(op.input, op.output, true)} changed the state`);
    }
    return true;
  }

  /** Linearizes `call` next, moving to `next`, unless that configuration was seen before. */
  private place(call: EventNode, next: State): boolean {
    const { linearized } = this;
    linearized.set(call.op);
    if (!this.memo.addIfAbsent(linearized, this.stateId(this.model.stateKey(next)))) {
      linearized.clear(call.op);
      return false;
    }
    this.placedCalls.push(call);
    this.statesBefore.push(this.state);
    this.state = next;
    lift(call);
    if (this.operations[call.op]!.return !== Infinity && --this.unplacedDeterminate === 0) {
      this.statusValue = 'linearizable';
    }
    if (this.placedCalls.length > this.longest.length) this.longest = this.placedCalls.map((node) => node.op);
    return true;
  }

  /** Leaves the current configuration: undoes the placement that led to it. */
  private backtrack(): void {
    this.frames.pop();
    const call = this.placedCalls.pop();
    if (call === undefined) {
      this.statusValue = 'illegal';
      return;
    }
    this.state = this.statesBefore.pop()!;
    this.linearized.clear(call.op);
    unlift(call);
    if (this.operations[call.op]!.return !== Infinity) this.unplacedDeterminate++;
  }

  private stateId(key: string): number {
    let id = this.stateIds.get(key);
    if (id === undefined) {
      id = this.stateIds.size;
      this.stateIds.set(key, id);
      this.stateKeyBytes += 2 * key.length + 64;
    }
    return id;
  }
}

/** Numbers operations so that equal inputs (compared as JSON) get equal numbers. */
function classifyInputs<Input, Output>(operations: readonly Operation<Input, Output>[]): Int32Array {
  const classes = new Map<string, number>();
  const result = new Int32Array(operations.length);
  operations.forEach((op, index) => {
    const key = JSON.stringify(op.input);
    let id = classes.get(key);
    if (id === undefined) classes.set(key, (id = classes.size));
    result[index] = id;
  });
  return result;
}

/** Events sorted by time; at equal times calls come first, so touching operations overlap. */
function buildEventList<Input, Output>(operations: readonly Operation<Input, Output>[]): EventNode {
  const events: { time: number; isCall: boolean; op: number }[] = [];
  operations.forEach((op, index) => {
    events.push({ time: op.call, isCall: true, op: index });
    events.push({ time: op.return, isCall: false, op: index });
  });
  events.sort((a, b) => {
    if (a.time !== b.time) return a.time < b.time ? -1 : 1;
    if (a.isCall !== b.isCall) return a.isCall ? -1 : 1;
    return a.op - b.op;
  });
  const head: EventNode = { op: -1, match: null, prev: null, next: null };
  const returns = new Map<number, EventNode>();
  // Build back to front so each call can link to its (later) return.
  let following: EventNode | null = null;
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    const match = event.isCall ? returns.get(event.op) : null;
    if (match === undefined) throw new Error(`operation ${event.op}: return sorted before call`);
    const node: EventNode = { op: event.op, match, prev: null, next: following };
    if (!event.isCall) returns.set(event.op, node);
    if (following !== null) following.prev = node;
    following = node;
  }
  head.next = following;
  if (following !== null) following.prev = head;
  return head;
}

/** Takes a call and its return out of the list (the operation is now linearized). */
function lift(call: EventNode): void {
  const ret = call.match!;
  call.prev!.next = call.next;
  call.next!.prev = call.prev; // a call is always followed at least by its own return
  ret.prev!.next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

/** Undoes `lift`, in reverse order. */
function unlift(call: EventNode): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next !== null) ret.next.prev = ret;
  call.prev!.next = call;
  call.next!.prev = call;
}
