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
  /** Whether each placement was the configuration's only branch (see findFreeCandidate). */
  private readonly stackForced: boolean[] = [];
  private scanForFree = true;
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

  /** Advances the search by roughly `budget` steps (model steps and list moves). */
  run(budget: number): SearchStatus {
    const { model, operations, head } = this;
    let steps = 0;
    while (steps < budget && this.statusValue === 'running') {
      steps++;
      if (this.scanForFree) {
        this.scanForFree = false;
        const free = this.findFreeCandidate();
        steps += free.scanned;
        if (free.node !== null) {
          // The only branch worth taking here; if it was explored already, this configuration fails.
          if (this.place(free.node, this.state, true)) this.entry = head.next;
          else this.backtrack();
          continue;
        }
      }
      const entry = this.entry;
      // Unplaced determinate operations have finite returns, which precede every +Infinity one.
      if (entry === null) throw new Error('search ran off the event list with operations unplaced');
      if (entry.match === null) {
        // A return of an operation not yet placed: it had to take effect earlier. Backtrack.
        this.backtrack();
        continue;
      }
      const op = operations[entry.op]!;
      const next = model.step(this.state, op.input, op.output, op.return !== Infinity);
      if (next !== undefined && this.place(entry, next, false)) this.entry = head.next;
      else this.entry = entry.next;
    }
    return this.statusValue;
  }

  /**
   * A candidate (invoked before the first pending return) that the model says never changes any
   * state (a read, a failed cas) and whose result matches the current state. Placing it right now
   * loses nothing: every operation that had to precede it is placed already, and moving it earlier
   * changes no state any other operation sees. So it is the configuration's only branch worth
   * exploring, which spares the search from trying it at every later position.
   */
  private findFreeCandidate(): { node: EventNode | null; scanned: number } {
    const { model, state } = this;
    if (model.neverChangesState === undefined) return { node: null, scanned: 0 };
    let scanned = 0;
    for (let node = this.head.next; node !== null && node.match !== null; node = node.next) {
      scanned++;
      const op = this.operations[node.op]!;
      const known = op.return !== Infinity;
      if (!model.neverChangesState(op.input, op.output, known)) continue;
      const next = model.step(state, op.input, op.output, known);
      if (next === undefined) continue;
      if (next !== state && model.stateKey(next) !== model.stateKey(state)) {
        throw new Error(`model ${model.name}: ${model.describeOperation(op.input, op.output, known)} changed the state`);
      }
      return { node, scanned };
    }
    return { node: null, scanned };
  }

  /** Linearizes `call` next, moving to `next`, unless that configuration was seen before. */
  private place(call: EventNode, next: State, forced: boolean): boolean {
    const { linearized } = this;
    linearized.set(call.op);
    if (!this.memo.addIfAbsent(linearized, this.stateId(this.model.stateKey(next)))) {
      linearized.clear(call.op);
      return false;
    }
    this.stackCalls.push(call);
    this.stackStates.push(this.state);
    this.stackForced.push(forced);
    this.state = next;
    lift(call);
    this.scanForFree = true;
    if (this.operations[call.op]!.return !== Infinity && --this.unplacedDeterminate === 0) {
      this.statusValue = 'linearizable';
    }
    if (this.stackCalls.length > this.longest.length) this.longest = this.stackCalls.map((node) => node.op);
    return true;
  }

  /** Undoes placements until one that had alternatives, which the scan resumes after. */
  private backtrack(): void {
    for (;;) {
      const call = this.stackCalls.pop();
      if (call === undefined) {
        this.statusValue = 'illegal';
        return;
      }
      const forced = this.stackForced.pop()!;
      this.state = this.stackStates.pop()!;
      this.linearized.clear(call.op);
      unlift(call);
      if (this.operations[call.op]!.return !== Infinity) this.unplacedDeterminate++;
      if (!forced) {
        this.entry = call.next;
        return;
      }
    }
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
