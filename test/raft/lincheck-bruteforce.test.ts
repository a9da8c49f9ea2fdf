/**
 * Cross-checks the search against a brute-force oracle on small random histories: try every
 * subset of indeterminate operations to leave out and every order of the rest, keep the orders
 * that respect real time, and replay them on the model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkHistory,
  kvModel,
  registerModel,
  setModel,
  type KvInput,
  type KvOutput,
  type Model,
  type Operation,
} from '../../src/raft/lincheck/index.js';
import { mulberry32 } from '../../src/util/prng.js';

function bruteForce<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[]): boolean {
  const used = new Array<boolean>(ops.length).fill(false);
  const search = (state: S, placed: number): boolean => {
    // Done when every determinate op is placed (indeterminate ones left out never happened).
    if (ops.every((op, i) => used[i] || op.return === Infinity)) return true;
    for (let i = 0; i < ops.length; i++) {
      if (used[i]) continue;
      // i may come next only if no other unplaced op finished strictly before i started.
      const blocked = ops.some((other, j) => !used[j] && j !== i && other.return < ops[i]!.call);
      if (blocked) continue;
      const op = ops[i]!;
      const next = model.step(state, op.input, op.output, op.return !== Infinity);
      if (next === undefined) continue;
      used[i] = true;
      const ok = search(next, placed + 1);
      used[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return search(model.init(), 0);
}

/**
 * The oracle's own multi-key KV model (the library's kv model keeps one key's string and relies on
 * partitioning), so the comparison also checks that splitting by key changes no verdict.
 */
const wholeStoreKvModel: Model<ReadonlyMap<string, string>, KvInput, KvOutput> = {
  name: 'kv-whole-store',
  init: () => new Map(),
  step(state, input, output, outputKnown) {
    const current = state.get(input.key) ?? '';
    if (input.op === 'get') return !outputKnown || output.value === current ? state : undefined;
    const next = new Map(state);
    next.set(input.key, input.op === 'put' ? input.value! : current + input.value!);
    return next;
  },
  stateKey: (state) => JSON.stringify([...state].sort()),
  describeOperation: (input) => JSON.stringify(input),
  describeState: (state) => JSON.stringify([...state]),
};

/** Share of lost operations; some runs use many, to exercise the pruning of lost operations. */
let lostRate = 0.15;

function interval(random: () => number): [number, number] {
  const call = Math.floor(random() * 12);
  const ret = random() < lostRate ? Infinity : call + Math.floor(random() * 6);
  return [call, ret];
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

function compare<S, I, O, OracleState>(
  model: Model<S, I, O>,
  generate: (random: () => number) => Operation<I, O>[],
  seeds: number,
  oracleModel: Model<OracleState, I, O>,
) {
  let linearizable = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const ops = generate(mulberry32(seed));
    const expected = bruteForce(oracleModel, ops);
    const actual = checkHistory(model, ops).linearizable;
    if (actual !== expected) throw new Error(`seed ${seed}: checker says ${actual}, brute force ${expected}: ${JSON.stringify(ops)}`);
    const plain = checkHistory(model, ops, { plainSearch: true }).linearizable;
    if (plain !== expected) throw new Error(`seed ${seed}: plain search says ${plain}, brute force ${expected}: ${JSON.stringify(ops)}`);
    if (expected) linearizable++;
  }
  return linearizable;
}

describe.each([0.15, 0.45])('checker agrees with brute force on random small histories (%s lost)', (rate) => {
  const SEEDS = 1000;
  beforeAll(() => {
    lostRate = rate;
  });

  it('register', () => {
    const values = [null, 1, 2] as const;
    const count = compare(registerModel, (random) => {
      const n = 2 + Math.floor(random() * 6);
      return Array.from({ length: n }, (_, clientId) => {
        const [call, ret] = interval(random);
        const kind = random();
        if (kind < 0.35) return { clientId, input: { op: 'read' as const }, output: { value: pick(random, values) }, call, return: ret };
        if (kind < 0.7) return { clientId, input: { op: 'write' as const, value: pick(random, [1, 2]) }, output: {}, call, return: ret };
        const input = { op: 'cas' as const, from: pick(random, values), to: pick(random, [1, 2]) };
        return { clientId, input, output: { ok: random() < 0.5 }, call, return: ret };
      });
    }, SEEDS, registerModel);
    // Both verdicts must be well represented, or the comparison proves little.
    expect(count).toBeGreaterThan(SEEDS / 10);
    expect(count).toBeLessThan(SEEDS * 0.9);
  });

  it('kv (several keys, so partitioning is exercised)', () => {
    const count = compare(kvModel, (random) => {
      const n = 2 + Math.floor(random() * 6);
      return Array.from({ length: n }, (_, clientId) => {
        const [call, ret] = interval(random);
        const key = pick(random, ['x', 'y']);
        const kind = random();
        if (kind < 0.4) return { clientId, input: { op: 'get' as const, key }, output: { value: pick(random, ['', 'a', 'b', 'ab', 'ba']) }, call, return: ret };
        const op = kind < 0.6 ? ('put' as const) : ('append' as const);
        return { clientId, input: { op, key, value: pick(random, ['a', 'b']) }, output: {}, call, return: ret };
      });
    }, SEEDS, wholeStoreKvModel);
    expect(count).toBeGreaterThan(SEEDS / 10);
    expect(count).toBeLessThan(SEEDS * 0.9);
  });

  it('set', () => {
    const count = compare(setModel, (random) => {
      const n = 2 + Math.floor(random() * 6);
      return Array.from({ length: n }, (_, clientId) => {
        const [call, ret] = interval(random);
        if (random() < 0.5) return { clientId, input: { op: 'add' as const, value: pick(random, [1, 2, 3]) }, output: {}, call, return: ret };
        const values = [1, 2, 3].filter(() => random() < 0.5);
        return { clientId, input: { op: 'read' as const }, output: { values }, call, return: ret };
      });
    }, SEEDS, setModel);
    expect(count).toBeGreaterThan(SEEDS / 10);
    expect(count).toBeLessThan(SEEDS * 0.9);
  });
});
