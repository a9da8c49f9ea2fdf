import { afterEach, describe, expect, it } from 'vitest';
import type { TieredStore } from '../../src/store/tiered-store.js';
import { StoreOverloadedError } from '../../src/store/types.js';
import {
  BASE_NS, batchOf, collect, hex, makeResource, makeScope, makeSpan, openStore, parseTracesData, randomTrace, Rng,
  spanSet, tempDir,
} from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function fresh(over = {}): Promise<{ store: TieredStore; dir: string }> {
  const t = tempDir();
  const store = await openStore(t.dir, over);
  cleanups.push(t.cleanup, () => store.close());
  return { store, dir: t.dir };
}

describe('TieredStore', () => {
  it('returns a written trace byte-exact, grouped by resource and scope, from the head and from a block', async () => {
    const { store } = await fresh();
    const traceId = new Rng(1).bytes(16);
    const resA = makeResource('svc-a', [{ key: 'big', value: 2n ** 60n + 1n }], 'https://schema/a');
    const resB = makeResource('svc-b');
    const scope = makeScope('lib', '2.0', 'https://schema/scope');
    const spans = [0, 1, 2].map((i) =>
      makeSpan({ traceId, spanId: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, i + 1), name: `op${i}`, start: BASE_NS + BigInt(i), end: BASE_NS + 10n }, i === 2 ? 1 : 0, 0));
    await store.write('t1', { resources: [resA, resB], scopes: [scope], spans });
    const check = (bytes: Uint8Array | null): void => {
      expect(bytes).not.toBeNull();
      const groups = parseTracesData(bytes!);
      expect(groups).toHaveLength(2);
      const a = groups.find((g) => hex(g.resource) === hex(resA.bytes))!;
      const b = groups.find((g) => hex(g.resource) === hex(resB.bytes))!;
      expect(a.scopes).toHaveLength(1);
      expect(hex(a.scopes[0]!.scope)).toBe(hex(scope.bytes));
      expect(a.scopes[0]!.spans.map(hex)).toEqual([hex(spans[0]!.bytes), hex(spans[1]!.bytes)]);
      expect(b.scopes[0]!.spans.map(hex)).toEqual([hex(spans[2]!.bytes)]);
      // Schema URLs travel with their resource and scope.
      expect(Buffer.from(bytes!).includes(Buffer.from('https://schema/a'))).toBe(true);
      expect(Buffer.from(bytes!).includes(Buffer.from('https://schema/scope'))).toBe(true);
    };
    const fromHead = await store.getTrace('t1', traceId);
    check(fromHead);
    await store.flush();
    expect(store.blockCount()).toBe(1);
    const fromBlock = await store.getTrace('t1', traceId);
    check(fromBlock);
    expect(hex(fromBlock!)).toBe(hex(fromHead!));
    expect(await store.getTrace('t1', new Rng(2).bytes(16))).toBeNull();
  });

  it('is idempotent: re-applying batches never duplicates a span, in head, blocks or both', async () => {
    const { store } = await fresh({ shards: 1 });
    const rng = new Rng(3);
    const traces = [randomTrace(rng), randomTrace(rng)];
    const batch = batchOf(traces);
    await store.apply(0, 't', batch);
    await store.apply(0, 't', batch);
    const once = spanSet(await store.getTrace('t', traces[0]!.traceId));
    expect(once).toHaveLength(traces[0]!.spans.length);
    await store.flush();
    await store.apply(0, 't', batch); // now in a block and again in the head
    expect(spanSet(await store.getTrace('t', traces[0]!.traceId))).toEqual(once);
    const views = await collect(store.searchTraces({ tenant: 't' }));
    expect(views).toHaveLength(2);
    for (const v of views) {
      const t = traces.find((x) => hex(x.traceId) === hex(v.summary.traceId))!;
      expect(v.summary.spanCount).toBe(t.spans.length);
      expect(v.spans).toHaveLength(t.spans.length);
    }
  });

  it('apply rejects spans of another shard', async () => {
    const { store } = await fresh({ shards: 4 });
    const rng = new Rng(4);
    const batch = batchOf([randomTrace(rng)]);
    const { shardOf } = await import('../../src/store/sharding.js');
    const right = shardOf(batch.spans[0]!.traceId, 4);
    await expect(store.apply((right + 1) % 4, 't', batch)).rejects.toThrow(/belongs to shard/);
    await store.apply(right, 't', batch);
  });

  it('searches most recent first, deterministically, across head and blocks', async () => {
    const { store } = await fresh();
    const rng = new Rng(5);
    const traces = Array.from({ length: 60 }, () => randomTrace(rng));
    await store.write('t', batchOf(traces.slice(0, 20)));
    await store.flush();
    await store.write('t', batchOf(traces.slice(20, 40)));
    await store.flush();
    await store.write('t', batchOf(traces.slice(40)));
    const a = await collect(store.searchTraces({ tenant: 't' }));
    const b = await collect(store.searchTraces({ tenant: 't' }));
    expect(a).toHaveLength(60);
    expect(a.map((v) => hex(v.summary.traceId))).toEqual(b.map((v) => hex(v.summary.traceId)));
    for (let i = 1; i < a.length; i++) {
      const p = a[i - 1]!.summary;
      const c = a[i]!.summary;
      expect(p.startTimeUnixNano > c.startTimeUnixNano || (p.startTimeUnixNano === c.startTimeUnixNano && hex(p.traceId) < hex(c.traceId))).toBe(true);
    }
    // Lazy: stopping early is fine.
    expect(await collect(store.searchTraces({ tenant: 't' }), 5)).toHaveLength(5);
  });

  it('keeps tenants apart', async () => {
    const { store } = await fresh();
    const rng = new Rng(6);
    const t = randomTrace(rng);
    await store.write('alice', batchOf([t]));
    expect(await store.getTrace('bob', t.traceId)).toBeNull();
    expect(await collect(store.searchTraces({ tenant: 'bob' }))).toHaveLength(0);
    expect(await store.services('bob')).toEqual([]);
    await store.flush();
    expect(await store.getTrace('bob', t.traceId)).toBeNull();
    expect(await collect(store.searchTraces({ tenant: 'bob' }))).toHaveLength(0);
    expect((await store.tagNames('bob')).span).toEqual([]);
    expect(await store.getTrace('alice', t.traceId)).not.toBeNull();
  });

  it('merges a trace split across blocks and head into one summary', async () => {
    const { store } = await fresh();
    const rng = new Rng(7);
    const t = randomTrace(rng, 6);
    while (t.spans.length < 3) t.spans.push({ ...t.spans[0]!, spec: { ...t.spans[0]!.spec, spanId: rng.bytes(8), parentSpanId: t.spans[0]!.spec.spanId } });
    const first = { traceId: t.traceId, spans: t.spans.slice(1, 2) };
    const second = { traceId: t.traceId, spans: t.spans.slice(2) };
    const root = { traceId: t.traceId, spans: t.spans.slice(0, 1) };
    await store.write('t', batchOf([first]));
    await store.flush();
    await store.write('t', batchOf([second]));
    await store.flush();
    await store.write('t', batchOf([root]));
    const [v] = await collect(store.searchTraces({ tenant: 't' }));
    expect(v!.summary.spanCount).toBe(t.spans.length);
    expect(v!.summary.rootSpanName).toBe(t.spans[0]!.spec.name);
    expect(spanSet(await store.getTrace('t', t.traceId))).toHaveLength(t.spans.length);
  });

  it('reports tags, values, services and operations from head and blocks', async () => {
    const { store } = await fresh();
    const rng = new Rng(8);
    await store.write('t', batchOf([randomTrace(rng), randomTrace(rng)]));
    await store.flush();
    await store.write('t', batchOf([randomTrace(rng)]));
    const names = await store.tagNames('t');
    expect(names.span).toEqual(['http.status_code', 'ratio', 'region', 'retry']);
    expect(names.resource).toEqual(['deployment.environment', 'service.name']);
    const values = await store.tagValues('t', 'span', 'region');
    expect(values.every((v) => v.type === 'string' && ['eu', 'us'].includes(v.value))).toBe(true);
    expect((await store.tagValues('t', 'span', 'ratio')).every((v) => v.type === 'double')).toBe(true);
    expect((await store.tagValues('t', 'span', 'http.status_code')).every((v) => v.type === 'int')).toBe(true);
    const services = await store.services('t');
    expect(services.length).toBeGreaterThan(0);
    const ops = await store.operations('t', services[0]);
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.every((o) => o.service === services[0])).toBe(true);
  });

  it('throws StoreOverloadedError beyond maxQueuedSpans', async () => {
    const { store } = await fresh({ maxQueuedSpans: 10 });
    const rng = new Rng(9);
    const big = batchOf(Array.from({ length: 5 }, () => randomTrace(rng, 6)).filter(() => true));
    while (big.spans.length <= 10) big.spans.push(...batchOf([randomTrace(rng)]).spans.map((s) => ({ ...s, resource: 0 })));
    const err = await store.write('t', big).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreOverloadedError);
    expect((err as StoreOverloadedError).retryAfterMs).toBeGreaterThan(0);
    // Smaller writes still go through.
    await store.write('t', batchOf([randomTrace(new Rng(10), 1)]));
  });

  it('seals the head on its own once its oldest span is blockDurationMs old', async () => {
    let now = 1_000_000;
    const { store } = await fresh({ now: () => now, blockDurationMs: 200 });
    const t = randomTrace(new Rng(14));
    await store.write('t', batchOf([t]));
    expect(store.blockCount()).toBe(0);
    now += 201;
    const deadline = Date.now() + 10_000;
    while (store.blockCount() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(store.blockCount()).toBe(1);
    expect(store.stats().memoryHeadBytes).toBe(0);
    expect(spanSet(await store.getTrace('t', t.traceId))).toHaveLength(t.spans.length);
  });

  it('keeps everything across close and reopen (head via WAL replay, blocks via the index)', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const rng = new Rng(11);
    const traces = Array.from({ length: 30 }, () => randomTrace(rng));
    let store = await openStore(t.dir);
    await store.write('t', batchOf(traces.slice(0, 15)));
    await store.flush();
    await store.write('t', batchOf(traces.slice(15)));
    const before = await collect(store.searchTraces({ tenant: 't' }));
    const bytesBefore = await Promise.all(traces.map((x) => store.getTrace('t', x.traceId)));
    await store.close();
    store = await openStore(t.dir);
    cleanups.push(() => store.close());
    const after = await collect(store.searchTraces({ tenant: 't' }));
    expect(after.map((v) => hex(v.summary.traceId))).toEqual(before.map((v) => hex(v.summary.traceId)));
    const bytesAfter = await Promise.all(traces.map((x) => store.getTrace('t', x.traceId)));
    expect(bytesAfter.map((b) => hex(b!))).toEqual(bytesBefore.map((b) => hex(b!)));
    expect(store.stats().spans).toBe(traces.reduce((n, x) => n + x.spans.length, 0));
  });
});
