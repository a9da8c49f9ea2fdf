/**
 * Linearizability checking of a whole history: validate, drop what constrains nothing, split into
 * the model's independent partitions (P-compositionality), and search them interleaved so that one
 * failing partition is found without first exhausting a hard linearizable one (Porcupine gets the
 * same effect by checking partitions in parallel and stopping at the first failure).
 */
import { explainViolation, renderViolation } from './explain.js';
import { PartitionSearch } from './search.js';
import type { CheckOptions, CheckResult, Model, Operation, Partition, Violation } from './types.js';

/** Search steps a partition gets per turn; also how often the deadline and memory are checked. */
const STEPS_PER_TURN = 4096;
const DEFAULT_MAX_MEMO_BYTES = 1 << 30;

export function checkHistory<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): CheckResult<Input, Output> {
  const deadline = options.timeoutMs === undefined ? Infinity : performance.now() + options.timeoutMs;
  const maxMemoBytes = options.maxMemoBytes ?? DEFAULT_MAX_MEMO_BYTES;
  operations.forEach(validateOperation);
  // An indeterminate read returns nothing we know of and changes nothing: it constrains nothing.
  const constraining = operations.filter((op) => !(op.return === Infinity && (model.isReadOnly?.(op.input) ?? false)));
  const relevant = model.reduce && !options.plainSearch ? model.reduce(constraining) : constraining;
  const partitions: Partition<Input, Output>[] = model.partition
    ? model.partition(relevant)
    : [{ label: undefined, operations: relevant }];

  const shortcuts = !(options.plainSearch ?? false);
  const searches = partitions.map((partition) => ({
    partition,
    search: new PartitionSearch(model, partition.operations, shortcuts),
  }));
  let running = searches.filter(({ search }) => search.status === 'running');
  const failed: typeof searches = [];
  let outOfTime = false;
  while (running.length > 0 && failed.length === 0) {
    for (const item of running) {
      if (item.search.run(STEPS_PER_TURN) === 'illegal') failed.push(item);
      // Checked per turn, not per round: with thousands of keys a round can be long.
      if (performance.now() > deadline) {
        outOfTime = true;
        break;
      }
    }
    running = running.filter(({ search }) => search.status === 'running');
    if (failed.length > 0 || running.length === 0) break;
    if (outOfTime) {
      return { linearizable: 'unknown', explanation: `search did not finish within ${options.timeoutMs} ms${unfinished(running)}` };
    }
    const memoBytes = running.reduce((sum, { search }) => sum + search.memoBytes, 0);
    if (memoBytes > maxMemoBytes) {
      return { linearizable: 'unknown', explanation: `search memo grew past ${maxMemoBytes} bytes${unfinished(running)}` };
    }
  }

  if (failed.length === 0) return { linearizable: true };
  const first = failed[0]!;
  const violation: Violation<Input, Output> = explainViolation(model, first.partition, first.search.longestPrefix);
  violation.failingPartitions = failed.map(({ partition }) => partition.label);
  return { linearizable: false, violation, explanation: renderViolation(model, violation) };
}

function unfinished(running: { partition: { label: string | undefined } }[]): string {
  const labels = running.map(({ partition }) => partition.label).filter((label) => label !== undefined);
  if (labels.length === 0) return '';
  const shown = labels.slice(0, 10).join(', ');
  return `; unfinished: ${shown}${labels.length > 10 ? ` and ${labels.length - 10} more` : ''}`;
}

function validateOperation<Input, Output>(op: Operation<Input, Output>, index: number): void {
  if (!Number.isFinite(op.call)) throw new Error(`operation ${index}: call time ${op.call} is not finite`);
  if (Number.isNaN(op.return) || op.return < op.call) {
    throw new Error(`operation ${index}: return time ${op.return} is before call time ${op.call}`);
  }
}
