/**
 * Linearizability checker (Porcupine-style). Typical use from a test that recorded a history:
 *
 *   import { checkHistory, kvModel, type KvOperation } from '../raft/lincheck/index.js';
 *   const ops: KvOperation[] = [
 *     { clientId: 1, input: { op: 'put', key: 'x', value: 'a' }, output: {}, call: 0, return: 5 },
 *     { clientId: 2, input: { op: 'get', key: 'x' }, output: { value: 'a' }, call: 6, return: 9 },
 *     // crashed or timed out: return = Infinity, output ignored
 *     { clientId: 3, input: { op: 'append', key: 'x', value: 'b' }, output: {}, call: 7, return: Infinity },
 *   ];
 *   const result = checkHistory(kvModel, ops, { timeoutMs: 10_000 });
 *   // result.linearizable: true | false | 'unknown'; result.explanation when not true
 */
export { checkHistory } from './checker.js';
export type {
  CheckOptions,
  CheckResult,
  Model,
  Operation,
  Partition,
  PlacedOperation,
  UnplacedOperation,
  Violation,
} from './types.js';
export { kvModel, type KvInput, type KvOperation, type KvOutput } from './models/kv.js';
export {
  registerModel,
  type RegisterInput,
  type RegisterOutput,
  type RegisterState,
  type RegisterValue,
} from './models/register.js';
export { setModel, type SetElement, type SetInput, type SetOutput, type SetState } from './models/set.js';
export { HistoryParseError, MODEL_NAMES, parseHistory, type ModelName, type ParsedHistory } from './parse/index.js';
export { parseKvEdn, parseRegisterEdn, parseSetEdn } from './parse/edn-history.js';
export { parseJepsenRegisterLog } from './parse/jepsen.js';
export {
  HistoryRecorder,
  KvHistoryRecorder,
  toKvEdn,
  type HistoryEvent,
  type OperationHandle,
  type RecorderOptions,
} from './history.js';
