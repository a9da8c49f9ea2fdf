/**
 * Records a concurrent history as clients run it, for the linearizability checker:
 *
 *   const history = new HistoryRecorder<KvInput, KvOutput>();
 *   const op = history.invoke(client, { op: 'append', key: 'k', value: 'x1' });
 *   try { await kv.append('k', 'x1'); history.ok(op, {}); }
 *   catch (e) { if (definitelyRejected(e)) history.fail(op); else history.info(op); }
 *   ...
 *   fs.writeFileSync(path, toKvEdn(history));         // for `npm run lincheck -- --model kv`
 *   checkHistory(kvModel, history.operations(), { timeoutMs: 60_000 });
 *
 * Times come from a monotonic clock (performance.now); the EDN form keeps the recorded event
 * order instead, which is all the checker needs.
 */
import { checkHistory } from './checker.js';
import { kvModel, type KvInput, type KvOutput } from './models/kv.js';
import { ednString } from './parse/edn.js';
import type { CheckOptions, CheckResult, Model, Operation } from './types.js';

export type OperationHandle = number;

type EventType = 'invoke' | 'ok' | 'fail' | 'info';

export interface HistoryEvent<Input, Output> {
  type: EventType;
  /** The process number written to EDN: a client gets a fresh one after an indeterminate result. */
  process: number;
  clientId: number;
  input: Input;
  /** Only on `ok`. */
  output?: Output;
  time: number;
}

interface RecordedOperation<Input, Output> {
  clientId: number;
  input: Input;
  /** Undefined for indeterminate operations. */
  output: Output | undefined;
  call: number;
  return: number;
}

interface OpenOperation<Input> {
  clientId: number;
  process: number;
  input: Input;
  call: number;
}

export interface RecorderOptions {
  /** Monotonic clock in ms. Default: performance.now. */
  now?: () => number;
  /** Refuse to record more operations than this (bounds memory). Default 1,000,000. */
  maxOperations?: number;
}

export class HistoryRecorder<Input, Output> {
  private readonly now: () => number;
  private readonly maxOperations: number;
  private readonly eventLog: HistoryEvent<Input, Output>[] = [];
  private readonly settled: RecordedOperation<Input, Output>[] = [];
  private readonly open = new Map<OperationHandle, OpenOperation<Input>>();
  private readonly openByClient = new Set<number>();
  private readonly processOf = new Map<number, number>();
  private nextHandle = 0;
  private nextProcess = 0;
  private lastTime = -Infinity;

  constructor(options: RecorderOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.maxOperations = options.maxOperations ?? 1_000_000;
  }

  /** Records that `clientId` starts an operation; a client runs one operation at a time. */
  invoke(clientId: number, input: Input): OperationHandle {
    if (this.openByClient.has(clientId)) throw new Error(`client ${clientId} already has an operation in flight`);
    if (this.nextHandle >= this.maxOperations) throw new Error(`history is full (${this.maxOperations} operations)`);
    let process = this.processOf.get(clientId);
    if (process === undefined) {
      process = this.nextProcess++;
      this.processOf.set(clientId, process);
    }
    const call = this.tick();
    const handle = this.nextHandle++;
    this.open.set(handle, { clientId, process, input, call });
    this.openByClient.add(clientId);
    this.eventLog.push({ type: 'invoke', process, clientId, input, time: call });
    return handle;
  }

  /** The operation completed and the client saw `output`. */
  ok(handle: OperationHandle, output: Output): void {
    const [op, time] = this.close(handle, 'ok', output);
    this.settled.push({ clientId: op.clientId, input: op.input, output, call: op.call, return: time });
  }

  /** The operation certainly did not take effect (e.g. rejected before being proposed). */
  fail(handle: OperationHandle): void {
    this.close(handle, 'fail', undefined);
  }

  /** The outcome is unknown (timeout, connection lost, server crashed): it may apply later or never. */
  info(handle: OperationHandle): void {
    const [op] = this.close(handle, 'info', undefined);
    this.settled.push({ clientId: op.clientId, input: op.input, output: undefined, call: op.call, return: Infinity });
    // Like Jepsen, later operations of this client are written under a new process number.
    this.processOf.set(op.clientId, this.nextProcess++);
  }

  /**
   * Every recorded operation except those that certainly failed; ones still in flight count as
   * indeterminate. `unknownOutput` fills the (ignored) output of indeterminate ones.
   */
  operations(unknownOutput: Output): Operation<Input, Output>[] {
    const settled = this.settled.map((op) => ({ ...op, output: op.output ?? unknownOutput }));
    const inFlight = [...this.open.values()].map((op) => ({
      clientId: op.clientId,
      input: op.input,
      output: unknownOutput,
      call: op.call,
      return: Infinity,
    }));
    return [...settled, ...inFlight];
  }

  /** Events in the order they were recorded (operations in flight have only their invoke). */
  events(): readonly HistoryEvent<Input, Output>[] {
    return this.eventLog;
  }

  check<State>(model: Model<State, Input, Output>, unknownOutput: Output, options?: CheckOptions): CheckResult<Input, Output> {
    return checkHistory(model, this.operations(unknownOutput), options);
  }

  private close(handle: OperationHandle, type: EventType, output: Output | undefined): [OpenOperation<Input>, number] {
    const op = this.open.get(handle);
    if (op === undefined) throw new Error(`operation ${handle} is not in flight`);
    const time = this.tick();
    this.open.delete(handle);
    this.openByClient.delete(op.clientId);
    const event: HistoryEvent<Input, Output> = { type, process: op.process, clientId: op.clientId, input: op.input, time };
    if (type === 'ok') event.output = output;
    this.eventLog.push(event);
    return [op, time];
  }

  /** Monotonic even if the clock is coarse: equal readings keep their recording order anyway. */
  private tick(): number {
    const time = this.now();
    if (time < this.lastTime) throw new Error(`clock went backwards: ${time} < ${this.lastTime}`);
    this.lastTime = time;
    return time;
  }
}

/** A KV recorder, with the helpers that fill in the KV model's "unknown" output. */
export class KvHistoryRecorder extends HistoryRecorder<KvInput, KvOutput> {
  kvOperations(): Operation<KvInput, KvOutput>[] {
    return this.operations({});
  }

  checkKv(options?: CheckOptions): CheckResult<KvInput, KvOutput> {
    return this.check(kvModel, {}, options);
  }

  /** The history in the corpus's EDN-like KV format (what `npm run lincheck -- --model kv` reads). */
  toEdn(): string {
    return toKvEdn(this);
  }
}

/**
 * One line per event: `{:process P, :type :invoke|:ok|:fail|:info, :f F, :key "K", :value V}`.
 * Invocations of put/append carry the value written, completions of get the value read.
 */
export function toKvEdn(recorder: HistoryRecorder<KvInput, KvOutput>): string {
  const lines = recorder.events().map((event) => {
    const { op, key } = event.input;
    let value: string | undefined;
    if (op === 'get') value = event.type === 'ok' ? event.output?.value : undefined;
    else value = event.input.value;
    const rendered = value === undefined ? 'nil' : ednString(value);
    return `{:process ${event.process}, :type :${event.type}, :f :${op}, :key ${ednString(key)}, :value ${rendered}}`;
  });
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
