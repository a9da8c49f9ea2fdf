/**
 * A multi-key string store with get / put / append; an absent key reads as "". Keys are
 * independent, so the history is checked one key at a time (P-compositionality): the state of each
 * sub-check is just that key's string.
 */
import type { Model, Operation, Partition } from '../types.js';

/**
 * `get` reads `key`; `put` sets it to `value`; `append` appends `value` to it.
 * `value` is required for put and append and ignored for get.
 */
export interface KvInput {
  op: 'get' | 'put' | 'append';
  key: string;
  value?: string;
}

/** get: `value` is the string read ("" for an absent key). put / append: nothing (`{}`). */
export interface KvOutput {
  value?: string;
}

export type KvOperation = Operation<KvInput, KvOutput>;

export const kvModel: Model<string, KvInput, KvOutput> = {
  name: 'kv',
  init: () => '',
  step(state, input, output, outputKnown) {
    switch (input.op) {
      case 'get':
        if (!outputKnown) return state;
        if (output.value === undefined) throw new Error(`completed get of ${input.key} without a value`);
        return output.value === state ? state : undefined;
      case 'put':
        return requireValue(input);
      case 'append':
        return state + requireValue(input);
    }
  },
  stateKey: (state) => state,
  isReadOnly: (input) => input.op === 'get',
  neverChangesState: (input, _output, outputKnown) => outputKnown && input.op === 'get',
  partition(operations) {
    const byKey = new Map<string, KvOperation[]>();
    for (const op of operations) {
      let list = byKey.get(op.input.key);
      if (list === undefined) byKey.set(op.input.key, (list = []));
      list.push(op);
    }
    const keys = [...byKey.keys()].sort();
    return keys.map((key): Partition<KvInput, KvOutput> => ({
      label: `key ${JSON.stringify(key)}`,
      operations: byKey.get(key)!,
    }));
  },
  reduce(operations) {
    // An indeterminate put/append whose value no completed get of its key contains was never
    // observed: wherever it might have landed, no get followed it before a put replaced it (a get
    // after it would contain its value), so leaving it out is equally consistent. Values are
    // matched as substrings, which only ever keeps more than necessary.
    const readsByKey = new Map<string, string[]>();
    for (const op of operations) {
      if (op.input.op !== 'get' || op.return === Infinity || op.output.value === undefined) continue;
      let reads = readsByKey.get(op.input.key);
      if (reads === undefined) readsByKey.set(op.input.key, (reads = []));
      reads.push(op.output.value);
    }
    return operations.filter((op) => {
      if (op.return !== Infinity || op.input.op === 'get') return true;
      const value = requireValue(op.input);
      if (value === '') return op.input.op === 'put'; // appending "" changes nothing
      return (readsByKey.get(op.input.key) ?? []).some((read) => read.includes(value));
    });
  },
  describeOperation(input, output, outputKnown) {
    const key = JSON.stringify(input.key);
    if (input.op === 'get') return `get(${key}) -> ${outputKnown ? JSON.stringify(output.value) : '?'}`;
    return `${input.op}(${key}, ${JSON.stringify(input.value)})`;
  },
  describeState: (state) => JSON.stringify(state),
};

function requireValue(input: KvInput): string {
  if (input.value === undefined) throw new Error(`${input.op} of ${input.key} without a value`);
  return input.value;
}
