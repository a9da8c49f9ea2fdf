import { describe, expect, it } from 'vitest';
import {
  checkHistory,
  kvModel,
  registerModel,
  setModel,
  type KvInput,
  type KvOutput,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
  type SetInput,
  type SetOutput,
} from '../../src/raft/lincheck/index.js';

type RegisterOp = Operation<RegisterInput, RegisterOutput>;
type KvOp = Operation<KvInput, KvOutput>;
type SetOp = Operation<SetInput, SetOutput>;
const LOST = Infinity; // return time of an indeterminate operation

const write = (clientId: number, value: number, call: number, ret: number): RegisterOp => ({
  clientId, input: { op: 'write', value }, output: {}, call, return: ret,
});
const read = (clientId: number, value: number | null, call: number, ret: number): RegisterOp => ({
  clientId, input: { op: 'read' }, output: { value }, call, return: ret,
});
const cas = (clientId: number, from: number | null, to: number, ok: boolean, call: number, ret: number): RegisterOp => ({
  clientId, input: { op: 'cas', from, to }, output: { ok }, call, return: ret,
});

describe('register model', () => {
  it('accepts a sequential history and an initial nil read', () => {
    const ops = [read(0, null, 0, 1), write(0, 1, 2, 3), read(1, 1, 4, 5)];
    expect(checkHistory(registerModel, ops).linearizable).toBe(true);
  });

  it('rejects a read of an overwritten value', () => {
    const ops = [write(0, 1, 0, 1), write(0, 2, 2, 3), read(1, 1, 4, 5)];
    const result = checkHistory(registerModel, ops);
    expect(result.linearizable).toBe(false);
    expect(result.violation?.unplaced[0]?.operation).toBe(ops[2]);
    expect(result.violation?.stateAfterPrefix).toBe('2');
  });

  it('lets a read concurrent with a write see either value', () => {
    for (const seen of [0, 1]) {
      const ops = [write(0, 0, 0, 1), write(0, 1, 2, 10), read(1, seen, 3, 4)];
      expect(checkHistory(registerModel, ops).linearizable).toBe(true);
    }
  });

  it('rejects two sequential reads that go back in time across a concurrent write', () => {
    const ops = [write(0, 0, 0, 1), write(0, 1, 2, 10), read(1, 1, 3, 4), read(2, 0, 5, 6)];
    expect(checkHistory(registerModel, ops).linearizable).toBe(false);
  });

  it('treats a failed cas as an outcome: the value was not FROM', () => {
    expect(checkHistory(registerModel, [write(0, 1, 0, 1), cas(1, 1, 2, false, 2, 3)]).linearizable).toBe(false);
    expect(checkHistory(registerModel, [write(0, 0, 0, 1), cas(1, 1, 2, false, 2, 3), read(1, 0, 4, 5)]).linearizable).toBe(true);
    expect(checkHistory(registerModel, [write(0, 1, 0, 1), cas(1, 1, 2, true, 2, 3), read(1, 2, 4, 5)]).linearizable).toBe(true);
    expect(checkHistory(registerModel, [write(0, 1, 0, 1), cas(1, 1, 2, true, 2, 3), read(1, 1, 4, 5)]).linearizable).toBe(false);
  });

  it('lets an indeterminate write take effect late, or never', () => {
    const observedLate = [write(0, 0, 0, 1), write(1, 7, 2, LOST), read(2, 0, 3, 4), read(2, 7, 50, 51)];
    expect(checkHistory(registerModel, observedLate).linearizable).toBe(true);
    const neverObserved = [write(0, 0, 0, 1), write(1, 7, 2, LOST), read(2, 0, 3, 4), read(2, 0, 50, 51)];
    expect(checkHistory(registerModel, neverObserved).linearizable).toBe(true);
  });

  it('does not let an indeterminate write take effect before it was invoked, or twice', () => {
    const beforeInvoke = [write(0, 0, 0, 1), read(2, 7, 2, 3), write(1, 7, 4, LOST)];
    expect(checkHistory(registerModel, beforeInvoke).linearizable).toBe(false);
    const flickers = [write(0, 0, 0, 1), write(1, 7, 2, LOST), read(2, 7, 3, 4), read(2, 0, 5, 6), read(2, 7, 7, 8)];
    expect(checkHistory(registerModel, flickers).linearizable).toBe(false);
  });

  it('applies an indeterminate cas only if FROM matched when it took effect', () => {
    const ops = [write(0, 1, 0, 1), cas(1, 1, 5, true, 2, LOST), read(2, 5, 3, 4)];
    expect(checkHistory(registerModel, ops).linearizable).toBe(true);
    const wrongFrom = [write(0, 1, 0, 1), cas(1, 2, 5, true, 2, LOST), read(2, 5, 3, 4)];
    expect(checkHistory(registerModel, wrongFrom).linearizable).toBe(false);
  });

  it('drops indeterminate reads, whose outputs are unconstrained', () => {
    const ops = [write(0, 1, 0, 1), read(1, 99, 2, LOST), read(2, 1, 3, 4)];
    expect(checkHistory(registerModel, ops).linearizable).toBe(true);
  });

  it('rejects operations whose return precedes their call', () => {
    expect(() => checkHistory(registerModel, [write(0, 1, 5, 4)])).toThrow(/before call/);
  });
});

const put = (clientId: number, key: string, value: string, call: number, ret: number): KvOp => ({
  clientId, input: { op: 'put', key, value }, output: {}, call, return: ret,
});
const append = (clientId: number, key: string, value: string, call: number, ret: number): KvOp => ({
  clientId, input: { op: 'append', key, value }, output: {}, call, return: ret,
});
const get = (clientId: number, key: string, value: string, call: number, ret: number): KvOp => ({
  clientId, input: { op: 'get', key }, output: { value }, call, return: ret,
});

describe('kv model', () => {
  it('reads an absent key as the empty string', () => {
    expect(checkHistory(kvModel, [get(0, 'a', '', 0, 1)]).linearizable).toBe(true);
    expect(checkHistory(kvModel, [get(0, 'a', 'x', 0, 1)]).linearizable).toBe(false);
  });

  it('orders concurrent appends consistently for all readers', () => {
    const both = [append(0, 'k', 'a', 0, 10), append(1, 'k', 'b', 0, 10)];
    expect(checkHistory(kvModel, [...both, get(2, 'k', 'ba', 11, 12), get(3, 'k', 'ba', 13, 14)]).linearizable).toBe(true);
    expect(checkHistory(kvModel, [...both, get(2, 'k', 'ab', 11, 12), get(3, 'k', 'ba', 13, 14)]).linearizable).toBe(false);
  });

  it('lets put overwrite and append extend', () => {
    const ops = [append(0, 'k', 'a', 0, 1), put(0, 'k', 'z', 2, 3), append(1, 'k', 'q', 4, 5), get(2, 'k', 'zq', 6, 7)];
    expect(checkHistory(kvModel, ops).linearizable).toBe(true);
  });

  it('checks keys independently and names the failing key', () => {
    const ops = [
      put(0, 'good', 'x', 0, 1), get(1, 'good', 'x', 2, 3),
      put(0, 'bad', 'x', 4, 5), put(0, 'bad', 'y', 6, 7), get(1, 'bad', 'x', 8, 9),
    ];
    const result = checkHistory(kvModel, ops);
    expect(result.linearizable).toBe(false);
    expect(result.violation?.partition).toBe('key "bad"');
    expect(result.explanation).toContain('key "bad"');
    expect(result.explanation).toContain('get("bad") -> "x"');
  });

  it('handles indeterminate appends: visible later, or never', () => {
    const lost = append(1, 'k', 'b', 2, LOST);
    const base = [append(0, 'k', 'a', 0, 1), lost];
    expect(checkHistory(kvModel, [...base, get(2, 'k', 'a', 3, 4), get(2, 'k', 'ab', 5, 6)]).linearizable).toBe(true);
    expect(checkHistory(kvModel, [...base, get(2, 'k', 'a', 3, 4), get(2, 'k', 'a', 5, 6)]).linearizable).toBe(true);
    expect(checkHistory(kvModel, [...base, get(2, 'k', 'ab', 3, 4), get(2, 'k', 'a', 5, 6)]).linearizable).toBe(false);
  });

  it("answers 'unknown' when the search runs out of time", () => {
    // Many concurrent appends and an impossible final read: every order must be tried.
    const ops: KvOp[] = [];
    for (let i = 0; i < 16; i++) ops.push(append(i, 'k', String.fromCharCode(97 + i), 0, 100));
    ops.push(get(99, 'k', 'impossible', 101, 102));
    const result = checkHistory(kvModel, ops, { timeoutMs: 20 });
    expect(result.linearizable).toBe('unknown');
    expect(result.explanation).toMatch(/within 20 ms; unfinished: key "k"/);
    expect(checkHistory(kvModel, ops, { maxMemoBytes: 1 << 16 }).linearizable).toBe('unknown');
  });
});

const add = (clientId: number, value: number, call: number, ret: number): SetOp => ({
  clientId, input: { op: 'add', value }, output: {}, call, return: ret,
});
const readSet = (clientId: number, values: number[], call: number, ret: number): SetOp => ({
  clientId, input: { op: 'read' }, output: { values }, call, return: ret,
});

describe('grow-only set model', () => {
  it('reads the whole set, ignoring order and duplicates', () => {
    const ops = [add(0, 1, 0, 1), add(0, 2, 2, 3), readSet(1, [2, 1, 2], 4, 5)];
    expect(checkHistory(setModel, ops).linearizable).toBe(true);
  });

  it('rejects a read that misses a completed add', () => {
    const ops = [add(0, 1, 0, 1), add(0, 2, 2, 3), readSet(1, [2], 4, 5)];
    const result = checkHistory(setModel, ops);
    expect(result.linearizable).toBe(false);
    expect(result.explanation).toContain('read() -> #{2}');
  });

  it('rejects two reads that disagree on the order of two concurrent adds', () => {
    const ops = [add(0, 1, 0, 10), add(1, 2, 0, 10), readSet(2, [1], 1, 9), readSet(3, [2], 1, 9)];
    expect(checkHistory(setModel, ops).linearizable).toBe(false);
    const agree = [add(0, 1, 0, 10), add(1, 2, 0, 10), readSet(2, [1], 1, 9), readSet(3, [1, 2], 1, 9)];
    expect(checkHistory(setModel, agree).linearizable).toBe(true);
  });

  it('lets an indeterminate add appear later but never disappear', () => {
    const base = [add(0, 1, 0, 1), add(1, 2, 2, LOST)];
    expect(checkHistory(setModel, [...base, readSet(2, [1], 3, 4), readSet(2, [1, 2], 5, 6)]).linearizable).toBe(true);
    expect(checkHistory(setModel, [...base, readSet(2, [1, 2], 3, 4), readSet(2, [1], 5, 6)]).linearizable).toBe(false);
  });
});

describe('model reductions of indeterminate operations', () => {
  it('kv drops lost writes no get observed, and keeps observed ones', () => {
    const unseen = append(1, 'k', 'zz', 2, LOST);
    const seen = append(2, 'k', 'b', 3, LOST);
    const ops = [append(0, 'k', 'a', 0, 1), unseen, seen, get(3, 'k', 'ab', 10, 11), append(4, 'k', '', 12, LOST)];
    const reduced = kvModel.reduce!(ops);
    expect(reduced).toEqual([ops[0], seen, ops[3]]);
    expect(checkHistory(kvModel, ops).linearizable).toBe(true);
  });

  it('set drops unobserved lost adds and bounds an observed one by the first read that saw it', () => {
    const unseen = add(1, 7, 2, LOST);
    const seen = add(2, 8, 3, LOST);
    const ops = [add(0, 1, 0, 1), unseen, seen, readSet(3, [1], 4, 5), readSet(3, [1, 8], 20, 21), readSet(4, [1, 8], 30, 31)];
    const reduced = setModel.reduce!(ops);
    expect(reduced.map((op) => [op.input, op.return])).toEqual([
      [{ op: 'add', value: 1 }, 1],
      [{ op: 'add', value: 8 }, 21],
      [{ op: 'read' }, 5],
      [{ op: 'read' }, 21],
      [{ op: 'read' }, 31],
    ]);
    expect(checkHistory(setModel, ops).linearizable).toBe(true);
    // Seen, then unseen: still caught after the reduction.
    const flicker = [...ops, readSet(5, [1], 40, 41)];
    expect(checkHistory(setModel, flicker).linearizable).toBe(false);
  });

  it('set keeps an observed lost add unbounded when another add of the element exists', () => {
    const lost = add(1, 8, 2, LOST);
    const ops = [lost, readSet(3, [8], 4, 5), add(2, 8, 10, 11)];
    expect(setModel.reduce!(ops)).toContain(lost);
    expect(checkHistory(setModel, ops).linearizable).toBe(true);
  });
});
