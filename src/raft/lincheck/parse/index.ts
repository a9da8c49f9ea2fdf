/** Reads a history file for one of the built-in models, detecting the format from its content. */
import { kvModel, type KvInput, type KvOutput } from '../models/kv.js';
import { registerModel, type RegisterInput, type RegisterOutput, type RegisterState } from '../models/register.js';
import { setModel, type SetInput, type SetOutput, type SetState } from '../models/set.js';
import type { Model, Operation } from '../types.js';
import { parseKvEdn, parseRegisterEdn, parseSetEdn } from './edn-history.js';
import { HistoryParseError } from './errors.js';
import { isJepsenLog, parseJepsenRegisterLog } from './jepsen.js';

export type ModelName = 'register' | 'kv' | 'set';
export const MODEL_NAMES: readonly ModelName[] = ['register', 'kv', 'set'];

/** A parsed history together with the model that judges it (kept together so types line up). */
export type ParsedHistory =
  | { name: 'register'; model: Model<RegisterState, RegisterInput, RegisterOutput>; operations: Operation<RegisterInput, RegisterOutput>[] }
  | { name: 'kv'; model: Model<string, KvInput, KvOutput>; operations: Operation<KvInput, KvOutput>[] }
  | { name: 'set'; model: Model<SetState, SetInput, SetOutput>; operations: Operation<SetInput, SetOutput>[] };

/** Throws HistoryParseError (with a 1-based line) on bad input. */
export function parseHistory(name: ModelName, text: string): ParsedHistory {
  const jepsen = isJepsenLog(text);
  if (jepsen && name !== 'register') {
    throw new HistoryParseError(firstContentLine(text), `Jepsen log lines only describe a register, not model ${name}`);
  }
  switch (name) {
    case 'register':
      return { name, model: registerModel, operations: jepsen ? parseJepsenRegisterLog(text) : parseRegisterEdn(text) };
    case 'kv':
      return { name, model: kvModel, operations: parseKvEdn(text) };
    case 'set':
      return { name, model: setModel, operations: parseSetEdn(text) };
  }
}

function firstContentLine(text: string): number {
  const index = text.split('\n').findIndex((line) => line.trim() !== '');
  return index < 0 ? 1 : index + 1;
}

export { HistoryParseError } from './errors.js';
