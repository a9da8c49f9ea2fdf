/**
 * Unknown protobuf group fields (wire types 3/4) are valid proto2 and accepted at ingest by
 * otlp/scan.ts; every read path must skip them the same way, never answer 500, and never show them.
 * Bytes are hand-assembled (no encoder writes groups) and fed through the real scanner into a real store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { scanExportTraceRequest } from '../../src/otlp/index.js';
import { decodeTracesData, WireError } from '../../src/otlp/decode.js';
import { jaegerApi } from '../../src/query/jaeger.js';
import type { Store } from '../../src/store/types.js';
import { cat, fixed64, len, str, tag, vint, type Bytes } from '../otlp/wire.js';
import { hexId, id, jaegerApp, NOW_MS, openStore, tempoApp, tenantOf, type TestStore } from './fixtures.js';

/** An unknown group field 90, holding scalars, a length-delimited field and a nested group. */
function group(field = 90): Uint8Array {
  const nested = cat(tag(91, 3), vint(1, 7), str(2, 'inner'), tag(91, 4));
  return cat(tag(field, 3), vint(1, 5), fixed64(2, 9n), str(3, 'hidden-in-group'), nested, tag(field, 4));
}

const G = group();
const anyString = (s: string): Uint8Array => cat(str(1, s), G);
const keyValue = (key: string, value: Bytes): Uint8Array => cat(str(1, key), len(2, value), G);

const GROUPED = hexId(16, 0x61);
const PLAIN = hexId(16, 0x62);
const CORRUPT = hexId(16, 0x63);
const startNs = BigInt(NOW_MS - 10_000) * 1_000_000n;

/** A TracesData with an unknown group at every nesting level. */
function groupedRequest(traceHex: string, service: string): Uint8Array {
  const resource = cat(len(1, keyValue('service.name', anyString(service))), G);
  const scope = cat(str(1, 'lib'), len(3, keyValue('scope.attr', anyString('s'))), G);
  const arrayValue = len(5, len(1, anyString('a0')), G); // AnyValue.array_value { values; group }
  const span = cat(
    len(1, id(traceHex)),
    len(2, id('00000000000000e1')),
    str(5, 'grouped-op'),
    fixed64(7, startNs),
    fixed64(8, startNs + 5_000_000n),
    len(9, keyValue('attr', anyString('v'))),
    len(9, keyValue('list', cat(arrayValue, G))),
    len(11, cat(fixed64(1, startNs + 1_000n), str(2, 'ev'), len(3, keyValue('ev.attr', anyString('e'))), G)),
    len(13, cat(len(1, id(PLAIN)), len(2, id('00000000000000f1')), len(4, keyValue('link.attr', anyString('l'))), G)),
    len(15, cat(str(2, 'boom'), vint(3, 2), G)),
    G,
  );
  const scopeSpans = cat(len(1, scope), len(2, span), G);
  return cat(len(1, cat(len(1, resource), len(2, scopeSpans), G)), G);
}

function plainRequest(traceHex: string, spanHex: string, service: string): Uint8Array {
  const resource = len(1, len(1, str(1, 'service.name'), len(2, str(1, service))));
  const span = cat(len(1, id(traceHex)), len(2, id(spanHex)), str(5, 'plain-op'), fixed64(7, startNs), fixed64(8, startNs + 1_000_000n));
  return len(1, resource, len(2, len(2, span)));
}

async function ingestRaw(store: TestStore['store'], bytes: Uint8Array): Promise<void> {
  const scanned = scanExportTraceRequest(bytes);
  if (scanned.rejected.count) throw new Error(`rejected: ${scanned.rejected.messages.join('; ')}`);
  await store.write('single-tenant', scanned.batch);
}

let ts: TestStore;
let jaeger: FastifyInstance;
let tempo: FastifyInstance;

beforeAll(async () => {
  ts = await openStore();
  await ingestRaw(ts.store, groupedRequest(GROUPED, 'grouped-svc'));
  await ingestRaw(ts.store, plainRequest(PLAIN, '00000000000000f1', 'grouped-svc'));
  await ingestRaw(ts.store, plainRequest(CORRUPT, '00000000000000c1', 'grouped-svc'));
  jaeger = await jaegerApp(ts.store, () => NOW_MS);
  tempo = await tempoApp(ts.store);
});

afterAll(async () => {
  await jaeger?.close();
  await tempo?.close();
  await ts?.close();
});

const rfc3339 = (ms: number) => new Date(ms).toISOString();

describe('decodeTracesData skips groups as the ingest scanner does', () => {
  it('decodes a TracesData with groups at every level, keeping every known field', () => {
    const [rs] = decodeTracesData(groupedRequest(GROUPED, 'svc'));
    expect(rs!.resource!.attributes).toEqual([{ key: 'service.name', value: { kind: 'string', value: 'svc' } }]);
    const ss = rs!.scopeSpans[0]!;
    expect(ss.scope!.name).toBe('lib');
    expect(ss.scope!.attributes[0]!.key).toBe('scope.attr');
    const span = ss.spans[0]!;
    expect(span.name).toBe('grouped-op');
    expect(span.attributes.map((a) => a.key)).toEqual(['attr', 'list']);
    expect(span.attributes[1]!.value).toEqual({ kind: 'array', values: [{ kind: 'string', value: 'a0' }] });
    expect(span.events[0]!.attributes[0]!.value).toEqual({ kind: 'string', value: 'e' });
    expect(span.links[0]!.attributes[0]!.key).toBe('link.attr');
    expect(span.status).toEqual({ message: 'boom', code: 2 });
  });

  it('rejects a mismatched end-group, an unterminated group, a stray end-group and too-deep nesting', () => {
    const wrap = (inner: Bytes) => len(1, len(2, len(2, cat(str(5, 'x'), inner))));
    expect(() => decodeTracesData(wrap(cat(tag(90, 3), tag(91, 4))))).toThrow(WireError);
    expect(() => decodeTracesData(wrap(cat(tag(90, 3), vint(1, 1))))).toThrow(WireError);
    expect(() => decodeTracesData(wrap(tag(90, 4)))).toThrow(WireError);
    let deep: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < 70; i++) deep = cat(tag(90, 3), deep, tag(90, 4));
    expect(() => decodeTracesData(wrap(deep))).toThrow(/nested deeper/);
  });
});

describe('read paths over a stored trace with groups', () => {
  const groupFree = (text: string) => {
    expect(text).not.toContain('hidden-in-group');
    expect(text).not.toContain('inner');
  };

  it('Jaeger api_v3 and v1 trace by id answer 200 without the unknown fields', async () => {
    const v3 = await jaeger.inject({ method: 'GET', url: `/api/v3/traces/${GROUPED}` });
    expect(v3.statusCode).toBe(200);
    groupFree(v3.body);
    expect(v3.json().result.resourceSpans[0].scopeSpans[0].spans[0].status).toEqual({ message: 'boom', code: 2 });
    const v1 = await jaeger.inject({ method: 'GET', url: `/api/traces/${GROUPED}` });
    expect(v1.statusCode).toBe(200);
    groupFree(v1.body);
    expect(v1.json().data[0].spans[0].operationName).toBe('grouped-op');
  });

  it('Tempo v2 and v1 JSON trace by id answer 200 without the unknown fields', async () => {
    for (const url of [`/api/v2/traces/${GROUPED}`, `/api/traces/${GROUPED}`]) {
      const res = await tempo.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      groupFree(res.body);
      expect(res.body).toContain('grouped-op');
    }
  });

  it('Jaeger searches by service find the grouped trace', async () => {
    const v1 = await jaeger.inject({ method: 'GET', url: '/api/traces?service=grouped-svc&lookback=1h' });
    expect(v1.statusCode).toBe(200);
    expect(v1.json().data.map((t: { traceID: string }) => t.traceID).sort()).toEqual([GROUPED, PLAIN, CORRUPT].sort());
    const window = `query.start_time_min=${rfc3339(NOW_MS - 3600_000)}&query.start_time_max=${rfc3339(NOW_MS)}`;
    const v3 = await jaeger.inject({ method: 'GET', url: `/api/v3/traces?query.service_name=grouped-svc&${window}` });
    expect(v3.statusCode).toBe(200);
    groupFree(v3.body);
  });

  it('a trace whose stored bytes cannot be decoded is left out of Jaeger searches, counted, not a 500', async () => {
    // Stands in for damaged bytes on disk: the real store answers, except one trace's bytes are cut short.
    const real = ts.store;
    const damaged = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'getTrace') {
          return async (tenant: string, traceId: Uint8Array) => {
            const bytes = await target.getTrace(tenant, traceId);
            return bytes && Buffer.from(traceId).toString('hex') === CORRUPT ? bytes.subarray(0, bytes.length - 3) : bytes;
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as Store;
    let skipped = 0;
    const app = Fastify();
    await app.register(jaegerApi, { store: damaged, tenantOf, now: () => NOW_MS, onUndecodableTrace: () => skipped++ });
    await app.ready();
    try {
      const v1 = await app.inject({ method: 'GET', url: '/api/traces?service=grouped-svc&lookback=1h' });
      expect(v1.statusCode).toBe(200);
      expect(v1.json().data.map((t: { traceID: string }) => t.traceID).sort()).toEqual([GROUPED, PLAIN].sort());
      const window = `query.start_time_min=${rfc3339(NOW_MS - 3600_000)}&query.start_time_max=${rfc3339(NOW_MS)}`;
      const v3 = await app.inject({ method: 'GET', url: `/api/v3/traces?query.service_name=grouped-svc&${window}` });
      expect(v3.statusCode).toBe(200);
      expect(v3.body).not.toContain(CORRUPT);
      const byIds = await app.inject({ method: 'GET', url: `/api/traces?traceID=${CORRUPT}&traceID=${PLAIN}` });
      expect(byIds.statusCode).toBe(200);
      expect(byIds.json().data).toHaveLength(1);
      expect(byIds.json().errors[0].traceID).toBe(CORRUPT);
      expect(skipped).toBe(3);
    } finally {
      await app.close();
    }
  });
});
