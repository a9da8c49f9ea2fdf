/**
 * Turns the deepest point of a failed search into something a person can act on: the longest
 * linearizable prefix, the operation whose completion could not be justified, and the other
 * candidates that were tried after that prefix.
 */
import type { Model, Operation, Partition, UnplacedOperation, Violation } from './types.js';

/** How many prefix operations the text shows (the tail, next to where it went wrong). */
const PREFIX_SHOWN = 12;
const CANDIDATES_SHOWN = 20;

export function explainViolation<State, Input, Output>(
  model: Model<State, Input, Output>,
  partition: Partition<Input, Output>,
  longestPrefix: readonly number[],
): Violation<Input, Output> {
  const ops = partition.operations;
  let state = model.init();
  const prefix = longestPrefix.map((index) => {
    const operation = ops[index]!;
    const next = model.step(state, operation.input, operation.output, operation.return !== Infinity);
    if (next === undefined) throw new Error(`longest prefix is not legal at operation ${index}`);
    state = next;
    return { operation, stateAfter: model.describeState(state) };
  });

  const placed = new Set(longestPrefix);
  const pending = ops.map((_, index) => index).filter((index) => !placed.has(index));
  // The search got stuck at the earliest return among unplaced operations (ties: lowest index,
  // matching the event order). Every unplaced operation invoked by then was a candidate.
  let blocker: number | undefined;
  for (const index of pending) {
    const ret = ops[index]!.return;
    if (ret === Infinity) continue;
    if (blocker === undefined || ret < ops[blocker]!.return) blocker = index;
  }
  if (blocker === undefined) throw new Error('no unplaced operation with a known outcome in a failed partition');
  const deadline = ops[blocker]!.return;
  const reasonFor = (index: number): string => {
    const operation = ops[index]!;
    const known = operation.return !== Infinity;
    const next = model.step(state, operation.input, operation.output, known);
    return next === undefined
      ? `its result is impossible in state ${model.describeState(state)}`
      : 'possible next, but no way to place the remaining operations after it';
  };
  const unplaced: UnplacedOperation<Input, Output>[] = [
    { operation: ops[blocker]!, reason: `completed before it could be placed; ${reasonFor(blocker)}` },
  ];
  for (const index of pending) {
    if (index !== blocker && ops[index]!.call <= deadline) {
      unplaced.push({ operation: ops[index]!, reason: reasonFor(index) });
    }
  }
  return {
    partition: partition.label,
    failingPartitions: [partition.label],
    longestPrefix: prefix,
    stateAfterPrefix: model.describeState(state),
    unplaced,
  };
}

export function describeOperation<State, Input, Output>(
  model: Model<State, Input, Output>,
  op: Operation<Input, Output>,
): string {
  const known = op.return !== Infinity;
  const where = op.label === undefined ? '' : ` (${op.label})`;
  const when = known ? `[${op.call}, ${op.return}]` : `[${op.call}, ∞) indeterminate`;
  return `client ${op.clientId}: ${model.describeOperation(op.input, op.output, known)} ${when}${where}`;
}

export function renderViolation<State, Input, Output>(
  model: Model<State, Input, Output>,
  violation: Violation<Input, Output>,
): string {
  const lines: string[] = [];
  const others = violation.failingPartitions.filter((p) => p !== violation.partition);
  if (violation.partition !== undefined) {
    lines.push(`not linearizable: ${violation.partition}`);
    if (others.length > 0) lines.push(`also not linearizable: ${others.join(', ')}`);
  }
  const prefix = violation.longestPrefix;
  lines.push(`longest linearizable prefix: ${prefix.length} operation(s)`);
  if (prefix.length > PREFIX_SHOWN) lines.push(`  ... ${prefix.length - PREFIX_SHOWN} earlier operation(s)`);
  for (const placed of prefix.slice(-PREFIX_SHOWN)) {
    lines.push(`  ${describeOperation(model, placed.operation)}  -> ${placed.stateAfter}`);
  }
  lines.push(`state after the prefix: ${violation.stateAfterPrefix}`);
  lines.push('operations that could not be placed next:');
  for (const { operation, reason } of violation.unplaced.slice(0, CANDIDATES_SHOWN)) {
    lines.push(`  ${describeOperation(model, operation)}: ${reason}`);
  }
  if (violation.unplaced.length > CANDIDATES_SHOWN) {
    lines.push(`  ... ${violation.unplaced.length - CANDIDATES_SHOWN} more`);
  }
  return lines.join('\n');
}
