/**
 * A grow-only set with add and read (a read returns the whole set). Not partitioned by element: a
 * read observes every element at one instant, which per-element sub-histories cannot express.
 */
import type { Model } from '../types.js';

export type SetElement = number | string;

export type SetInput = { op: 'add'; value: SetElement } | { op: 'read' };

/** read: `values`, the whole set (order and duplicates do not matter). add: nothing. */
export interface SetOutput {
  values?: readonly SetElement[];
}

/** Elements as sorted canonical keys, plus the joined key (computed once per state). */
export interface SetState {
  readonly elements: readonly string[];
  readonly key: string;
}

/** JSON escapes control characters, so this separator never occurs inside an element key. */
const SEPARATOR = '\u0001';

const elementKey = (value: SetElement): string => JSON.stringify(value);

function makeState(elements: readonly string[]): SetState {
  return { elements, key: elements.join(SEPARATOR) };
}

/** First index whose element is >= `key` in a sorted array. */
function lowerBound(sorted: readonly string[], key: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < key) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Canonical key of a read's result, memoized per output object (step runs many times per op). */
const readKeys = new WeakMap<readonly SetElement[], string>();
function readKey(values: readonly SetElement[]): string {
  let key = readKeys.get(values);
  if (key === undefined) {
    key = [...new Set(values.map(elementKey))].sort().join(SEPARATOR);
    readKeys.set(values, key);
  }
  return key;
}

export const setModel: Model<SetState, SetInput, SetOutput> = {
  name: 'set',
  init: () => makeState([]),
  step(state, input, output, outputKnown) {
    if (input.op === 'read') {
      if (!outputKnown) return state;
      if (output.values === undefined) throw new Error('completed set read without values');
      return readKey(output.values) === state.key ? state : undefined;
    }
    const added = elementKey(input.value);
    const at = lowerBound(state.elements, added);
    if (state.elements[at] === added) return state;
    const elements = state.elements.slice();
    elements.splice(at, 0, added);
    return makeState(elements);
  },
  stateKey: (state) => state.key,
  isReadOnly: (input) => input.op === 'read',
  neverChangesState: (input, _output, outputKnown) => outputKnown && input.op === 'read',
  reduce(operations) {
    // An indeterminate add whose element no completed read contains was never observed (every
    // read after it would contain the element): leave it out. If it is the only add of an element
    // that some read saw, it took effect before the earliest such read returned: give it that
    // return time, so the search no longer treats it as concurrent with the whole future.
    const addsOf = new Map<string, number>();
    const firstSeen = new Map<string, number>();
    for (const op of operations) {
      if (op.input.op === 'add') addsOf.set(elementKey(op.input.value), (addsOf.get(elementKey(op.input.value)) ?? 0) + 1);
      else if (op.return !== Infinity && op.output.values !== undefined) {
        for (const value of op.output.values) {
          const key = elementKey(value);
          firstSeen.set(key, Math.min(firstSeen.get(key) ?? Infinity, op.return));
        }
      }
    }
    const reduced: typeof operations = [];
    for (const op of operations) {
      if (op.return !== Infinity || op.input.op !== 'add') {
        reduced.push(op);
        continue;
      }
      const key = elementKey(op.input.value);
      const seen = firstSeen.get(key);
      if (seen === undefined) continue;
      // An add's output is empty, so a finite return claims nothing about it.
      reduced.push(addsOf.get(key) === 1 && seen >= op.call ? { ...op, return: seen } : op);
    }
    return reduced;
  },
  describeOperation(input, output, outputKnown) {
    if (input.op === 'add') return `add(${elementKey(input.value)})`;
    if (!outputKnown || output.values === undefined) return 'read() -> ?';
    return `read() -> #{${output.values.map(elementKey).join(' ')}}`;
  },
  describeState: (state) => `#{${state.elements.join(' ')}}`,
};
