import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeTracesData } from '../../src/otlp/assemble.js';
import { Bloom } from '../../src/store/bloom.js';
import { WalCorruptionError, frameRecord, parseFrames } from '../../src/store/wal.js';
import { groupParts, encodeTrace, partsOfBatch } from '../../src/store/trace-merge.js';
import { canonicalValue } from '../../src/store/terms.js';
import { batchOf, hex, makeResource, makeScope, makeSpan, openStore, randomTrace, Rng, tempDir } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('store units', () => {
  it('encodes traces exactly like otlp/assemble encodeTracesData', () => {
    const rng = new Rng(50);
    const batch = batchOf([randomTrace(rng), randomTrace(rng)]);
    batch.resources.push(makeResource('with-url', [], 'https://opentelemetry.io/schemas/1.21.0'));
    batch.scopes.push(makeScope('s2', '0.1', 'https://scope/url'));
    batch.spans.push(makeSpan({ traceId: rng.bytes(16), spanId: rng.bytes(8), name: 'x', start: 1n, end: 2n }, batch.resources.length - 1, 1));
    const parts = partsOfBatch(batch);
    expect(hex(encodeTrace(parts))).toBe(hex(encodeTracesData(groupParts(parts))));
  });

  it('frames records with checksums and stops at the first bad one', () => {
    const a = frameRecord(Buffer.from('first'));
    const b = frameRecord(Buffer.from('second'));
    const both = Buffer.concat([a, b]);
    expect(parseFrames(both).records.map(String)).toEqual(['first', 'second']);
    const torn = both.subarray(0, both.length - 1);
    expect(parseFrames(torn)).toMatchObject({ validLength: a.length });
    const flipped = Buffer.from(both);
    flipped[a.length + 9] ^= 1;
    expect(parseFrames(flipped).records.map(String)).toEqual(['first']);
  });

  it('refuses to open over corruption in a WAL segment that is not the last', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const rng = new Rng(51);
    let store = await openStore(t.dir);
    await store.write('t', batchOf([randomTrace(rng)]));
    await store.close();
    store = await openStore(t.dir); // replays segment 1, appends to segment 2
    await store.write('t', batchOf([randomTrace(rng)]));
    await store.close();
    const wal = path.join(t.dir, 'wal');
    const segs = readdirSync(wal).sort();
    expect(segs.length).toBeGreaterThanOrEqual(2);
    const first = path.join(wal, segs[0]!);
    const buf = readFileSync(first);
    buf[20] ^= 0xff;
    writeFileSync(first, buf);
    await expect(openStore(t.dir)).rejects.toBeInstanceOf(WalCorruptionError);
  });

  it('refuses a data directory created with another shard count', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const store = await openStore(t.dir, { shards: 4 });
    await store.close();
    await expect(openStore(t.dir, { shards: 8 })).rejects.toThrow(/created with 4 shards/);
  });

  it('deduplicates spans of large traces too (past the linear check)', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const store = await openStore(t.dir);
    cleanups.push(() => store.close());
    const rng = new Rng(53);
    const traceId = rng.bytes(16);
    const spans = Array.from({ length: 50 }, (_, i) => makeSpan({ traceId, spanId: rng.bytes(8), name: `s${i}`, start: BigInt(i + 1), end: BigInt(i + 2) }));
    const batch = { resources: [makeResource('svc')], scopes: [makeScope('lib')], spans };
    await store.write('t', { ...batch, spans: spans.slice(0, 40) });
    await store.write('t', batch);
    await store.write('t', { ...batch, spans: spans.slice(20) });
    const bytes = await store.getTrace('t', traceId);
    const { spanSet } = await import('./helpers.js');
    expect(spanSet(bytes)).toHaveLength(50);
    expect(store.stats().spans).toBe(50);
  });

  it('bloom filters never miss an added id', () => {
    const rng = new Rng(52);
    const ids = Array.from({ length: 2000 }, () => rng.bytes(16));
    const bloom = Bloom.forKeys(ids.length);
    for (const id of ids) bloom.add(id);
    expect(ids.every((id) => bloom.mayHave(id))).toBe(true);
    const others = Array.from({ length: 2000 }, () => rng.bytes(16));
    expect(others.filter((id) => bloom.mayHave(id)).length).toBeLessThan(20);
  });

  it('compares numbers by value whatever their encoding', () => {
    expect(canonicalValue(200)).toBe(canonicalValue(200n));
    expect(canonicalValue(3.0)).toBe(canonicalValue(3));
    expect(canonicalValue('200')).not.toBe(canonicalValue(200));
    expect(canonicalValue(true)).not.toBe(canonicalValue('true'));
  });
});
