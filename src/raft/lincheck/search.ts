/**
 * The Wing & Gong backtracking search with Lowe's memoization over one partition, as a resumable
 * state machine: `run(budget)` does at most `budget` steps, so a driver can interleave partitions
 * (a failing key is usually found long before a hard, linearizable one is exhausted).
 *
 * Events live in a doubly linked list sorted by time. Linearizing an operation lifts its call and
 * return out of the list; backtracking puts them back. A return reached while its operation is
 * still unplaced means that operation had to take effect earlier: backtrack. The design follows
 * Porcupine (anishathalye/porcupine); the code is our own.
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

export class PartitionSearch<State, Input, Output> {
  private readonly head: EventNode;
  private readonly linearized: LinearizedSet;
  private readonly memo: MemoCache;
  private readonly stateIds = new Map<string, number>();
  /** Rough bytes held by the interned state keys (UTF-16 plus map entry overhead). */
  private stateKeyBytes = 0;
  private readonly stackCalls: EventNode[] = [];
  private readonly stackStates: State[] = [];
  private unplacedDeterminate: number;
  private state: State;
  private entry: EventNode | null;
  private statusValue: SearchStatus = 'running';
  /** Deepest sequence of placed operations seen (Porcupine's "longest linearizable prefix"). */
  private longest: number[] = [];

  constructor(
    private readonly model: Model<State, Input, Output>,
    private readonly operations: readonly Operation<Input, Output>[],
  ) {
    this.unplacedDeterminate = operations.reduce((n, op) => (op.return === Infinity ? n : n + 1), 0);
    this.head = buildEventList(operations);
    this.linearized = new LinearizedSet(operations.length, new ZobristKeys(operations.length));
    this.memo = new MemoCache(this.linearized.words.length);
    this.state = model.init();
    this.entry = this.head.next;
    if (this.unplacedDeterminate === 0) this.statusValue = 'linearizable';
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

  /** Advances the search by at most `budget` steps. */
  run(budget: number): SearchStatus {
    const { model, operations, head, linearized, stackCalls, stackStates } = this;
    let { state, entry } = this;
    for (let steps = 0; steps < budget && this.statusValue === 'running'; steps++) {
      // Unplaced determinate operations have finite returns, which precede every +Infinity one.
      if (entry === null) throw new Error('search ran off the event list with operations unplaced');
      if (entry.match !== null) {
        const op = operations[entry.op]!;
        const known = op.return !== Infinity;
        const nextState = model.step(state, op.input, op.output, known);
        let fresh = false;
        if (nextState !== undefined) {
          linearized.set(entry.op);
          fresh = this.memo.addIfAbsent(linearized, this.stateId(model.stateKey(nextState)));
          if (!fresh) linearized.clear(entry.op);
        }
        if (fresh) {
          stackCalls.push(entry);
          stackStates.push(state);
          state = nextState!;
          lift(entry);
          if (known && --this.unplacedDeterminate === 0) this.statusValue = 'linearizable';
          if (stackCalls.length > this.longest.length) this.longest = stackCalls.map((node) => node.op);
          entry = head.next;
        } else {
          entry = entry.next;
        }
      } else {
        const call = stackCalls.pop();
        if (call === undefined) {
          this.statusValue = 'illegal';
          break;
        }
        state = stackStates.pop()!;
        linearized.clear(call.op);
        unlift(call);
        if (operations[call.op]!.return !== Infinity) this.unplacedDeterminate++;
        entry = call.next;
      }
    }
    this.state = state;
    this.entry = entry;
    return this.statusValue;
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
