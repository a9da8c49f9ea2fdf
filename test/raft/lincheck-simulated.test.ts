/**
 * Histories of an ideal object under concurrent clients with lost operations (linearizable by
 * construction) must pass; the same histories with one read made impossible must fail, with the
 * explanation pointing at that read.
 */
import { describe, expect, it } from 'vitest';
import { checkHistory, kvModel, registerModel, setModel, type Model, type Operation } from '../../src/raft/lincheck/index.js';
import { simulateKv, simulateRegister, simulateSet, type SimulationOptions } from '../../src/raft/lincheck/simulate.js';

const SEEDS = [1, 2, 3, 4, 5];
const base = { clients: 5, operations: 300, lostRate: 0.05 };

function roundTrip<S, I, O>(
  model: Model<S, I, O>,
  simulate: (options: SimulationOptions) => Operation<I, O>[],
  isCompletedRead: (op: Operation<I, O>) => boolean,
  corrupt: (op: Operation<I, O>) => Operation<I, O>,
): void {
  for (const seed of SEEDS) {
    const ops = simulate({ ...base, seed });
    expect(ops.some((op) => op.return === Infinity), `seed ${seed} has lost operations`).toBe(true);
    expect(checkHistory(model, ops, { timeoutMs: 10_000 }).linearizable, `seed ${seed}`).toBe(true);

    const reads = ops.map((op, index) => [op, index] as const).filter(([op]) => isCompletedRead(op));
    const [victim, index] = reads[Math.floor(reads.length / 2)]!;
    const broken = ops.map((op, i) => (i === index ? corrupt(op) : op));
    const result = checkHistory(model, broken, { timeoutMs: 10_000 });
    expect(result.linearizable, `seed ${seed} corrupted`).toBe(false);
    expect(result.violation?.unplaced.map((u) => u.operation.call)).toContain(victim.call);
  }
}

describe('simulated histories', () => {
  it('register', () => {
    roundTrip(
      registerModel,
      simulateRegister,
      (op) => op.input.op === 'read' && op.return !== Infinity,
      (op) => ({ ...op, output: { value: 99 } }),
    );
  });

  it('kv', () => {
    roundTrip(
      kvModel,
      (options) => simulateKv({ ...options, keys: 3 }),
      (op) => op.input.op === 'get' && op.return !== Infinity,
      (op) => ({ ...op, output: { value: `${op.output.value}never-written` } }),
    );
  });

  it('set', () => {
    roundTrip(
      setModel,
      simulateSet,
      (op) => op.input.op === 'read' && op.return !== Infinity,
      (op) => ({ ...op, output: { values: [...(op.output.values ?? []), 'never-added'] } }),
    );
  });
});
