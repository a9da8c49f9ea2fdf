/**
 * Resources without service.name: every query API shows and matches one name for them, the one
 * Jaeger's OTLP translator uses (OTLPResourceNoServiceName), never "".
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { hexId, id, ingest, jaegerApp, NOW_MS, nsAgo, openStore, str, tempoApp, type TestStore } from './fixtures.js';

const NO_SERVICE = 'OTLPResourceNoServiceName';
const T = hexId(16, 0x91);
let ts: TestStore;
let jaeger: FastifyInstance;
let tempo: FastifyInstance;

beforeAll(async () => {
  ts = await openStore();
  const span = (spanId: string, name: string, parent?: string) => ({
    traceId: id(T), spanId: id(spanId), ...(parent ? { parentSpanId: id(parent) } : {}),
    name, kind: 2, startTimeUnixNano: nsAgo(5_000), endTimeUnixNano: nsAgo(4_000),
  });
  await ingest(ts.store, 'single-tenant', {
    resourceSpans: [
      { resource: { attributes: [str('host.name', 'h1')] }, scopeSpans: [{ spans: [span('00000000000000a1', 'anonymous root')] }] },
      { resource: { attributes: [str('service.name', 'api')] }, scopeSpans: [{ spans: [span('00000000000000a2', 'named child', '00000000000000a1')] }] },
    ],
  });
  jaeger = await jaegerApp(ts.store, () => NOW_MS);
  tempo = await tempoApp(ts.store);
});

afterAll(async () => {
  await jaeger?.close();
  await tempo?.close();
  await ts?.close();
});

const get = async (app: FastifyInstance, url: string) => {
  const res = await app.inject({ method: 'GET', url });
  expect(res.statusCode, url).toBe(200);
  return res.json();
};
const window = `query.start_time_min=${new Date(NOW_MS - 3600_000).toISOString()}&query.start_time_max=${new Date(NOW_MS).toISOString()}`;

it('Jaeger service lists show the name, never ""', async () => {
  expect((await get(jaeger, '/api/services')).data).toEqual(['api', NO_SERVICE].sort());
  expect((await get(jaeger, '/api/v3/services')).services).toEqual(['api', NO_SERVICE].sort());
});

it('Jaeger operations of that service', async () => {
  expect((await get(jaeger, `/api/services/${NO_SERVICE}/operations`)).data).toEqual(['anonymous root']);
  expect((await get(jaeger, `/api/v3/operations?service=${NO_SERVICE}`)).operations).toEqual([{ name: 'anonymous root', spanKind: 'server' }]);
  expect((await get(jaeger, `/api/operations?service=${NO_SERVICE}`)).data).toEqual([{ name: 'anonymous root', spanKind: 'server' }]);
});

it('Jaeger trace rendering and search by service use the same name', async () => {
  const trace = (await get(jaeger, `/api/traces/${T}`)).data[0];
  expect(Object.values(trace.processes).map((p) => (p as { serviceName: string }).serviceName).sort()).toEqual(['api', NO_SERVICE].sort());
  const v1 = await get(jaeger, `/api/traces?service=${NO_SERVICE}&lookback=1h`);
  expect(v1.data.map((t: { traceID: string }) => t.traceID)).toEqual([T]);
  const v3 = await get(jaeger, `/api/v3/traces?query.service_name=${NO_SERVICE}&${window}`);
  expect(v3.result.resourceSpans.length).toBeGreaterThan(0);
  const summaries = await get(jaeger, `/api/v3/trace-summaries?query.service_name=${NO_SERVICE}&${window}`);
  expect(summaries.summaries[0].rootServiceName).toBe(NO_SERVICE);
  expect(summaries.summaries[0].services.map((s: { name: string }) => s.name)).toEqual(['api', NO_SERVICE].sort());
});

it('Tempo search shows the same root service name, not "<root span not yet received>"', async () => {
  const body = await get(tempo, '/api/search?limit=5');
  const t = body.traces.find((x: { traceID: string }) => x.traceID.padStart(32, '0') === T);
  expect(t.rootServiceName).toBe(NO_SERVICE);
  expect(t.rootTraceName).toBe('anonymous root');
  expect(Object.keys(t.serviceStats).sort()).toEqual(['api', NO_SERVICE].sort());
  const byTag = await get(tempo, `/api/search?tags=${encodeURIComponent(`service.name=${NO_SERVICE}`)}&limit=5`);
  expect(byTag.traces.map((x: { traceID: string }) => x.traceID.padStart(32, '0'))).toEqual([T]);
  expect((await get(tempo, '/api/v2/search/tag/rootServiceName/values')).tagValues).toEqual([{ type: 'string', value: NO_SERVICE }]);
});
