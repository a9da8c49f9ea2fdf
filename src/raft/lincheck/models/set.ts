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
    if (state.elements.includes(added)) return state;
    return makeState([...state.elements, added].sort());
  },
  stateKey: (state) => state.key,
  isReadOnly: (input) => input.op === 'read',
  describeOperation(input, output, outputKnown) {
    if (input.op === 'add') return `add(${elementKey(input.value)})`;
    if (!outputKnown || output.values === undefined) return 'read() -> ?';
    return `read() -> #{${output.values.map(elementKey).join(' ')}}`;
  },
  describeState: (state) => `#{${state.elements.join(' ')}}`,
};
