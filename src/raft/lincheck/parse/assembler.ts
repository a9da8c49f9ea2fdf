/**
 * Pairs invoke / completion events of a line-oriented history into operations. Times are line
 * numbers, which preserves the real-time order the log recorded.
 */
import type { Operation } from '../types.js';
import { HistoryParseError } from './errors.js';

interface Pending<Input> {
  line: number;
  f: string;
  input: Input;
}

export class OperationAssembler<Input, Output> {
  private readonly pending = new Map<string, Pending<Input>>();
  private readonly operations: Operation<Input, Output>[] = [];

  /** `unknownOutput` stands in for the output of indeterminate operations (never read). */
  constructor(private readonly unknownOutput: Output) {}

  invoke(line: number, process: string, f: string, input: Input): void {
    const open = this.pending.get(process);
    if (open !== undefined) {
      throw new HistoryParseError(line, `process ${process} invokes again while its :${open.f} from line ${open.line} is open`);
    }
    this.pending.set(process, { line, f, input });
  }

  /** The operation completed with a known result. */
  complete(line: number, process: string, f: string, output: Output): void {
    const open = this.take(line, process, f);
    this.operations.push(this.make(process, open, output, line, `lines ${open.line}-${line}`));
  }

  /** The operation certainly did not take effect (and its result constrains nothing). */
  drop(line: number, process: string, f: string): void {
    this.take(line, process, f);
  }

  /** The operation's outcome is unknown: it may take effect after its invocation, or never. */
  indeterminate(line: number, process: string, f: string): void {
    const open = this.take(line, process, f);
    this.operations.push(this.make(process, open, undefined, Infinity, `line ${open.line}, :info at ${line}`));
  }

  /** Every operation; invocations never completed are indeterminate. */
  finish(): Operation<Input, Output>[] {
    for (const [process, open] of this.pending) {
      this.operations.push(this.make(process, open, undefined, Infinity, `line ${open.line}, never completed`));
    }
    this.pending.clear();
    return this.operations;
  }

  private take(line: number, process: string, f: string): Pending<Input> {
    const open = this.pending.get(process);
    if (open === undefined) throw new HistoryParseError(line, `process ${process} completes :${f} it never invoked`);
    if (open.f !== f) {
      throw new HistoryParseError(line, `process ${process} completes :${f} but invoked :${open.f} at line ${open.line}`);
    }
    this.pending.delete(process);
    return open;
  }

  private make(
    process: string,
    open: Pending<Input>,
    output: Output | undefined,
    returnTime: number,
    label: string,
  ): Operation<Input, Output> {
    const clientId = /^\d+$/.test(process) ? Number(process) : process;
    return { clientId, input: open.input, output: output ?? this.unknownOutput, call: open.line, return: returnTime, label };
  }
}
