import { describe, expect, it } from 'vitest';
import { decodeSpanBatch, encodeSpanBatch, splitBatch } from '../../src/otlp/batch.js';
import { toHex } from '../../src/otlp/ids.js';
import { OtlpDecodeError } from '../../src/otlp/model.js';
import { scanExportTraceRequest } from '../../src/otlp/scan.js';
import { shardOf } from '../../src/store/sharding.js';
import { decodeToPlain } from './fixtures.js';
import { realisticRequest } from './generate.js';
import { request, span } from './wire.js';

describe('splitBatch', () => {
  const { batch } = scanExportTraceRequest(realisticRequest(7));

  it('partitions spans by key, keeping order and only the resources and scopes each part uses', () => {
    const parts = splitBatch(batch, (s) => shardOf(s.traceId, 4));
    let total = 0;
    for (const [shard, part] of parts) {
      total += part.spans.length;
      for (const s of part.spans) {
        expect(shardOf(s.traceId, 4)).toBe(shard);
        expect(part.resources[s.resource]).toBeDefined();
        expect(part.scopes[s.scope]).toBeDefined();
      }
      // every resource and scope kept is used by some span of the part
      expect(new Set(part.spans.map((s) => s.resource)).size).toBe(part.resources.length);
      expect(new Set(part.spans.map((s) => s.scope)).size).toBe(part.scopes.length);
      // relative order is kept
      const order = part.spans.map((s) => batch.spans.indexOf(batch.spans.find((o) => o.bytes === s.bytes)!));
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      // each part encodes to a valid TracesData whose spans carry their own resource
      const decoded = decodeToPlain(encodeSpanBatch(part)) as any;
      for (const rs of decoded.resourceSpans) {
        const service = rs.resource.attributes.find((a: any) => a.key === 'service.name').value.stringValue;
        for (const ss of rs.scopeSpans) {
          for (const sp of ss.spans) {
            const original = batch.spans.find((o) => toHex(o.spanId) === Buffer.from(sp.spanId, 'base64').toString('hex'))!;
            expect(batch.resources[original.resource]!.serviceName).toBe(service);
          }
        }
      }
    }
    expect(total).toBe(batch.spans.length);
    expect(parts.size).toBeGreaterThan(1);
  });

  it('a single key gives the batch back with the same grouping', () => {
    const parts = splitBatch(batch, () => 0);
    expect(parts.size).toBe(1);
    expect(decodeToPlain(encodeSpanBatch(parts.get(0)!))).toEqual(decodeToPlain(encodeSpanBatch(batch)));
  });

  it('an empty batch splits into nothing and encodes to an empty TracesData', () => {
    const empty = { resources: [], scopes: [], spans: [] };
    expect(splitBatch(empty, () => 1).size).toBe(0);
    expect(encodeSpanBatch(empty).length).toBe(0);
  });
});

describe('encodeSpanBatch / decodeSpanBatch', () => {
  it('groups spans of a batch built by hand by resource then scope', () => {
    const a = scanExportTraceRequest(realisticRequest(1, 6)).batch;
    // interleave resources: spans 0..5 alternate between 3 services already
    const decoded = decodeSpanBatch(encodeSpanBatch(a));
    expect(decoded.resources.map((r) => r.serviceName)).toEqual(['frontend', 'checkout', 'payment']);
    expect(decoded.spans).toHaveLength(6);
    expect(decoded.spans.map((s) => decoded.resources[s.resource]!.serviceName)).toEqual([
      'frontend', 'frontend', 'checkout', 'checkout', 'payment', 'payment',
    ]);
  });

  it('refuses a batch holding an invalid span', () => {
    expect(() => decodeSpanBatch(request([span({ spanId: [1, 2] })]))).toThrow(OtlpDecodeError);
  });

  it('throws on a span that points at a missing resource (an invariant, not input)', () => {
    const { batch } = scanExportTraceRequest(realisticRequest(2, 3));
    const broken = { ...batch, spans: [{ ...batch.spans[0]!, resource: 9 }] };
    expect(() => encodeSpanBatch(broken)).toThrow(/invariant/);
  });
});
