/** Jaeger v1 carries array / kvlist attributes as JSON strings; int64 inside them must keep every digit. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { hexId, ingest, jaegerApp, kv, NOW_MS, openStore, simpleTrace, type TestStore } from './fixtures.js';

const T = hexId(16, 0x71);
let ts: TestStore;
let app: FastifyInstance;

beforeAll(async () => {
  ts = await openStore();
  await ingest(ts.store, 'single-tenant', simpleTrace(T, {
    svc: [{
      spanId: '00000000000000a1', name: 'op', startMsAgo: 5_000, durationMs: 1,
      attributes: [
        kv('ints', { arrayValue: { values: [{ intValue: '9007199254740993' }, { intValue: '-9223372036854775808' }, { stringValue: 'x"y' }, { doubleValue: 1.5 }, { boolValue: true }] } }),
        kv('map', { kvlistValue: { values: [kv('big', { intValue: '9223372036854775807' }), kv('nested', { arrayValue: { values: [{ intValue: '12345678901234567' }] } })] } }),
      ],
    }],
  }));
  app = await jaegerApp(ts.store, () => NOW_MS);
});

afterAll(async () => {
  await app?.close();
  await ts?.close();
});

it('array and kvlist tags render int64 values exactly, unquoted, inside their JSON strings', async () => {
  const res = await app.inject({ method: 'GET', url: `/api/traces/${T}` });
  expect(res.statusCode).toBe(200);
  const tags: { key: string; type: string; value: string }[] = res.json().data[0].spans[0].tags;
  const ints = tags.find((t) => t.key === 'ints')!;
  expect(ints.type).toBe('string');
  expect(ints.value).toBe('[9007199254740993,-9223372036854775808,"x\\"y",1.5,true]');
  const map = tags.find((t) => t.key === 'map')!;
  expect(map.value).toBe('{"big":9223372036854775807,"nested":[12345678901234567]}');
});
