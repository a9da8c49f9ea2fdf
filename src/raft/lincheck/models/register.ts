/**
 * A single read/write/compare-and-set register; initially absent (null), as in Jepsen's etcd tests.
 * Not partitionable: the whole history is one object.
 */
import type { Model } from '../types.js';

export type RegisterValue = number | string;

export type RegisterInput =
  | { op: 'read' }
  | { op: 'write'; value: RegisterValue }
  | { op: 'cas'; from: RegisterValue | null; to: RegisterValue };

/** read: `value` (null = absent); cas: `ok` (whether the swap happened); write: nothing. */
export interface RegisterOutput {
  value?: RegisterValue | null;
  ok?: boolean;
}

export type RegisterState = RegisterValue | null;

export function formatRegisterValue(value: RegisterValue | null | undefined): string {
  if (value === null || value === undefined) return 'nil';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

export const registerModel: Model<RegisterState, RegisterInput, RegisterOutput> = {
  name: 'register',
  init: () => null,
  step(state, input, output, outputKnown) {
    switch (input.op) {
      case 'read': {
        if (!outputKnown) return state;
        if (output.value === undefined) throw new Error('completed read without an output value');
        return output.value === state ? state : undefined;
      }
      case 'write':
        return input.value;
      case 'cas': {
        const swaps = state === input.from;
        if (!outputKnown) return swaps ? input.to : state;
        if (output.ok === undefined) throw new Error('completed cas without an ok flag');
        if (output.ok !== swaps) return undefined;
        return swaps ? input.to : state;
      }
    }
  },
  stateKey: (state) => (state === null ? 'nil' : typeof state === 'number' ? `n${state}` : `s${state}`),
  isReadOnly: (input) => input.op === 'read',
  neverChangesState: (input, output, outputKnown) =>
    outputKnown && (input.op === 'read' || (input.op === 'cas' && output.ok === false)),
  describeOperation(input, output, outputKnown) {
    switch (input.op) {
      case 'read':
        return `read() -> ${outputKnown ? formatRegisterValue(output.value) : '?'}`;
      case 'write':
        return `write(${formatRegisterValue(input.value)})`;
      case 'cas': {
        const result = outputKnown ? (output.ok ? 'ok' : 'failed') : '?';
        return `cas(${formatRegisterValue(input.from)} -> ${formatRegisterValue(input.to)}) -> ${result}`;
      }
    }
  },
  describeState: (state) => formatRegisterValue(state),
};
