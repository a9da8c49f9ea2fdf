/**
 * The recorder over a real (in-process) concurrent workload: async clients interleave through
 * the event loop against an in-memory store, some calls are lost. The recorded history, and its
 * EDN form read back by the parser, get the checker's verdict: true for an atomic store, false
 * for one that serves reads from a stale copy.
 */
import { describe, expect, it } from 'vitest';
import { KvHistoryRecorder, kvModel, checkHistory, parseKvEdn, type KvInput } from '../../src/raft/lincheck/index.js';
import { mulberry32 } from '../../src/util/prng.js';

const yieldToOthers = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Store {
  apply(input: KvInput): string | undefined;
}

/** Applies each operation atomically at some point while it is in flight. */
class AtomicStore implements Store {
  private readonly data = new Map<string, string>();
  apply(input: KvInput): string | undefined {
    const current = this.data.get(input.key) ?? '';
    if (input.op === 'get') return current;
    this.data.set(input.key, input.op === 'put' ? input.value! : current + input.value!);
    return undefined;
  }
}

/** Writes are atomic, but reads come from a copy refreshed only every few writes. */
class StaleReadStore implements Store {
  private readonly data = new Map<string, string>();
  private snapshot = new Map<string, string>();
  private writes = 0;
  apply(input: KvInput): string | undefined {
    if (input.op === 'get') return this.snapshot.get(input.key) ?? '';
    const current = this.data.get(input.key) ?? '';
    this.data.set(input.key, input.op === 'put' ? input.value! : current + input.value!);
    if (++this.writes % 5 === 0) this.snapshot = new Map(this.data);
    return undefined;
  }
}

async function runWorkload(store: Store, seed: number): Promise<KvHistoryRecorder> {
  const random = mulberry32(seed);
  let clock = 0;
  const history = new KvHistoryRecorder({ now: () => clock++ });
  let unique = 0;
  const client = async (clientId: number): Promise<void> => {
    for (let i = 0; i < 40; i++) {
      const key = random() < 0.5 ? 'a' : 'b';
      const kind = random();
      const input: KvInput = kind < 0.5 ? { op: 'get', key } : { op: kind < 0.6 ? 'put' : 'append', key, value: `v${unique++};` };
      const handle = history.invoke(clientId, input);
      for (let n = Math.floor(random() * 3); n > 0; n--) await yieldToOthers();
      const lost = random() < 0.08;
      // A lost call may or may not reach the store; the client never hears back either way.
      const result = !lost || random() < 0.5 ? store.apply(input) : undefined;
      for (let n = Math.floor(random() * 3); n > 0; n--) await yieldToOthers();
      if (lost) history.info(handle);
      else history.ok(handle, input.op === 'get' ? { value: result! } : {});
    }
  };
  await Promise.all([0, 1, 2, 3].map(client));
  return history;
}

describe('history recorder', () => {
  it('records a linearizable history that checks true, directly and via its EDN form', async () => {
    for (const seed of [1, 2, 3]) {
      const history = await runWorkload(new AtomicStore(), seed);
      const ops = history.kvOperations();
      expect(ops).toHaveLength(160);
      expect(ops.some((op) => op.return === Infinity)).toBe(true);
      expect(history.checkKv({ timeoutMs: 10_000 }).linearizable).toBe(true);
      const parsed = parseKvEdn(history.toEdn());
      expect(parsed).toHaveLength(160);
      expect(checkHistory(kvModel, parsed, { timeoutMs: 10_000 }).linearizable).toBe(true);
    }
  });

  it('catches stale reads, directly and via its EDN form', async () => {
    const history = await runWorkload(new StaleReadStore(), 7);
    const direct = history.checkKv({ timeoutMs: 10_000 });
    expect(direct.linearizable).toBe(false);
    expect(direct.explanation).toMatch(/not linearizable: key "[ab]"/);
    expect(checkHistory(kvModel, parseKvEdn(history.toEdn()), { timeoutMs: 10_000 }).linearizable).toBe(false);
  });

  it('writes EDN lines, renumbering a client after an indeterminate result, and drops failures', () => {
    let clock = 0;
    const history = new KvHistoryRecorder({ now: () => clock++ });
    const put = history.invoke(5, { op: 'put', key: 'k', value: 'say "hi"' });
    history.info(put);
    const get = history.invoke(5, { op: 'get', key: 'k' });
    history.ok(get, { value: 'say "hi"' });
    const rejected = history.invoke(6, { op: 'append', key: 'k', value: 'x' });
    history.fail(rejected);
    history.invoke(6, { op: 'append', key: 'k', value: 'y' }); // still in flight at the end
    expect(history.toEdn().split('\n')).toEqual([
      '{:process 0, :type :invoke, :f :put, :key "k", :value "say \\"hi\\""}',
      '{:process 0, :type :info, :f :put, :key "k", :value "say \\"hi\\""}',
      '{:process 1, :type :invoke, :f :get, :key "k", :value nil}',
      '{:process 1, :type :ok, :f :get, :key "k", :value "say \\"hi\\""}',
      '{:process 2, :type :invoke, :f :append, :key "k", :value "x"}',
      '{:process 2, :type :fail, :f :append, :key "k", :value "x"}',
      '{:process 2, :type :invoke, :f :append, :key "k", :value "y"}',
      '',
    ]);
    expect(history.kvOperations().map((op) => [op.clientId, op.input.op, op.call, op.return])).toEqual([
      [5, 'put', 0, Infinity],
      [5, 'get', 2, 3],
      [6, 'append', 6, Infinity],
    ]);
  });

  it('refuses misuse', () => {
    let clock = 10;
    const history = new KvHistoryRecorder({ now: () => clock--, maxOperations: 2 });
    const first = history.invoke(1, { op: 'get', key: 'k' });
    expect(() => history.invoke(1, { op: 'get', key: 'k' })).toThrow(/already has an operation/);
    expect(() => history.ok(first, { value: '' })).toThrow(/clock went backwards/);
    const bounded = new KvHistoryRecorder({ maxOperations: 1 });
    bounded.ok(bounded.invoke(1, { op: 'get', key: 'k' }), { value: '' });
    expect(() => bounded.invoke(1, { op: 'get', key: 'k' })).toThrow(/history is full/);
    expect(() => bounded.ok(99, { value: '' })).toThrow(/not in flight/);
  });
});
