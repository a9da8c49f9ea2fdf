import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/store/sharding.js';
import type { TieredStore } from '../../src/store/tiered-store.js';
import { batchOf, collect, hex, openStore, randomTrace, Rng, spanSet, tempDir, type RandomTrace } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const HOUR = 3_600_000;

describe('retention', () => {
  it('drops whole blocks past each tenant retention, from queries and from disk', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    let now = 1_000_000_000_000;
    const store = await openStore(t.dir, { now: () => now, retention: { defaultMs: 24 * HOUR, perTenantMs: { short: HOUR } } });
    cleanups.push(() => store.close());
    const rng = new Rng(20);
    const shortTraces = Array.from({ length: 5 }, () => randomTrace(rng));
    const longTraces = Array.from({ length: 5 }, () => randomTrace(rng));
    await store.write('short', batchOf(shortTraces));
    await store.write('long', batchOf(longTraces));
    expect(await store.runRetention()).toBe(0);
    now += 2 * HOUR;
    const fresh = randomTrace(rng);
    const spansShort = shortTraces.reduce((n, x) => n + x.spans.length, 0);
    expect(await store.runRetention()).toBe(spansShort);
    await store.write('short', batchOf([fresh])); // written after the cut: stays
    for (const x of shortTraces) expect(await store.getTrace('short', x.traceId)).toBeNull();
    expect((await collect(store.searchTraces({ tenant: 'short' }))).map((v) => hex(v.summary.traceId))).toEqual([hex(fresh.traceId)]);
    for (const x of longTraces) expect(spanSet(await store.getTrace('long', x.traceId))).toHaveLength(x.spans.length);
    // Disk: one block (tenant "long") is left.
    expect(store.blockCount()).toBe(1);
    expect(readdirSync(path.join(t.dir, 'blocks')).filter((n) => n.endsWith('.dat'))).toHaveLength(1);
    now += 24 * HOUR;
    await store.runRetention();
    expect(store.blockCount()).toBe(0);
    expect(readdirSync(path.join(t.dir, 'blocks'))).toEqual([]);
    expect(store.stats().spans).toBe(0);
  });
});

describe('snapshot and restore', () => {
  async function build(seed: number): Promise<{ store: TieredStore; traces: RandomTrace[] }> {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const store = await openStore(t.dir, { shards: 4 });
    cleanups.push(() => store.close());
    const rng = new Rng(seed);
    const traces = Array.from({ length: 80 }, () => randomTrace(rng));
    await store.write('a', batchOf(traces.slice(0, 30)));
    await store.write('b', batchOf(traces.slice(30, 40)));
    await store.flush();
    await store.write('a', batchOf(traces.slice(40)));
    // A trace split between the block and the head.
    await store.write('a', batchOf([{ traceId: traces[0]!.traceId, spans: traces[0]!.spans }]));
    return { store, traces };
  }

  async function shardView(store: TieredStore, tenant: string, shard: number): Promise<string[]> {
    const views = await collect(store.searchTraces({ tenant }));
    const out: string[] = [];
    for (const v of views) {
      if (shardOf(v.summary.traceId, 4) !== shard) continue;
      const bytes = await store.getTrace(tenant, v.summary.traceId);
      out.push(JSON.stringify(v.summary, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? hex(x) : x)) + hex(bytes!));
    }
    return out;
  }

  it('restores a shard into a fresh store with identical query results', async () => {
    const { store: source } = await build(30);
    const t = tempDir();
    cleanups.push(t.cleanup);
    const target = await openStore(t.dir, { shards: 4 });
    cleanups.push(() => target.close());
    const shard = 2;
    await target.restore(shard, source.snapshot(shard));
    for (const tenant of ['a', 'b']) {
      const expected = await shardView(source, tenant, shard);
      expect(expected.length).toBeGreaterThan(0);
      expect(await shardView(target, tenant, shard)).toEqual(expected);
      // Nothing of other shards came along.
      const all = await collect(target.searchTraces({ tenant }));
      expect(all.every((v) => shardOf(v.summary.traceId, 4) === shard)).toBe(true);
    }
  });

  it('replaces the shard state of a store that already has data, durably', async () => {
    const { store: source } = await build(31);
    const t = tempDir();
    cleanups.push(t.cleanup);
    let target = await openStore(t.dir, { shards: 4 });
    const rng = new Rng(32);
    const own = Array.from({ length: 40 }, () => randomTrace(rng));
    await target.write('a', batchOf(own.slice(0, 20)));
    await target.flush();
    await target.write('a', batchOf(own.slice(20)));
    const shard = 1;
    const ownOther = own.filter((x) => shardOf(x.traceId, 4) !== shard);
    const ownSame = own.filter((x) => shardOf(x.traceId, 4) === shard);
    expect(ownSame.length).toBeGreaterThan(0);
    const chunks: Uint8Array[] = [];
    for await (const c of source.snapshot(shard)) chunks.push(c);
    // Re-chunk arbitrarily (a network stream does not respect record boundaries).
    const whole = Buffer.concat(chunks);
    async function* rechunk(): AsyncIterable<Uint8Array> {
      for (let i = 0; i < whole.length; i += 777) yield whole.subarray(i, i + 777);
    }
    await target.restore(shard, rechunk());
    const check = async (s: TieredStore): Promise<void> => {
      for (const x of ownSame) expect(await s.getTrace('a', x.traceId)).toBeNull();
      for (const x of ownOther) expect(spanSet(await s.getTrace('a', x.traceId))).toHaveLength(x.spans.length);
      expect(await shardView(s, 'a', shard)).toEqual(await shardView(source, 'a', shard));
    };
    await check(target);
    await target.close();
    target = await openStore(t.dir, { shards: 4 });
    cleanups.push(() => target.close());
    await check(target);
  });

  it('rejects a truncated snapshot stream and a snapshot of another shard', async () => {
    const { store: source } = await build(33);
    const t = tempDir();
    cleanups.push(t.cleanup);
    const target = await openStore(t.dir, { shards: 4 });
    cleanups.push(() => target.close());
    const whole = Buffer.concat(await collect(source.snapshot(0)));
    async function* truncated(): AsyncIterable<Uint8Array> { yield whole.subarray(0, whole.length - 5); }
    await expect(target.restore(0, truncated())).rejects.toThrow(/ends inside a record/);
    async function* once(): AsyncIterable<Uint8Array> { yield whole; }
    await expect(target.restore(1, once())).rejects.toThrow(/shard 0 offered to shard 1/);
  });
});
