/** Tempo v2 tag values of trace-level intrinsics come from what the store holds, not from every span. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { hexId, id, ingest, nsAgo, openStore, str, tempoApp, type TestStore } from './fixtures.js';

let ts: TestStore;
let app: FastifyInstance;

interface S { spanId: string; parent?: string; name: string; service: string; statusMessage?: string }

/** One trace: spans grouped into one resource per service. */
function trace(traceHex: string, spans: S[]): Record<string, unknown> {
  const services = [...new Set(spans.map((s) => s.service))];
  return {
    resourceSpans: services.map((service) => ({
      resource: { attributes: service === '' ? [] : [str('service.name', service)] },
      scopeSpans: [{
        spans: spans.filter((s) => s.service === service).map((s) => ({
          traceId: id(traceHex), spanId: id(s.spanId), ...(s.parent ? { parentSpanId: id(s.parent) } : {}),
          name: s.name, kind: 2, startTimeUnixNano: nsAgo(5_000), endTimeUnixNano: nsAgo(4_000),
          ...(s.statusMessage ? { status: { code: 2, message: s.statusMessage } } : {}),
        })),
      }],
    })),
  };
}

beforeAll(async () => {
  ts = await openStore();
  await ingest(ts.store, 'single-tenant', trace(hexId(16, 0x81), [
    { spanId: '00000000000000a1', name: 'GET /cart', service: 'frontend' },
    { spanId: '00000000000000a2', parent: '00000000000000a1', name: 'SELECT cart', service: 'db', statusMessage: 'deadline exceeded' },
  ]));
  await ingest(ts.store, 'single-tenant', trace(hexId(16, 0x82), [
    { spanId: '00000000000000b1', name: 'cron tick', service: 'scheduler' },
    { spanId: '00000000000000b2', parent: '00000000000000b1', name: 'publish', service: 'queue', statusMessage: 'broker gone' },
  ]));
  // Root not received yet: contributes no root name or root service.
  await ingest(ts.store, 'single-tenant', trace(hexId(16, 0x83), [
    { spanId: '00000000000000c2', parent: '00000000000000c1', name: 'orphan work', service: 'worker' },
  ]));
  app = await tempoApp(ts.store);
});

afterAll(async () => {
  await app?.close();
  await ts?.close();
});

const values = async (name: string) => {
  const res = await app.inject({ method: 'GET', url: `/api/v2/search/tag/${name}/values` });
  expect(res.statusCode).toBe(200);
  return res.json().tagValues as { type: string; value: string }[];
};

it('rootServiceName / trace:rootService list only services of root spans', async () => {
  for (const name of ['rootServiceName', 'trace:rootService']) {
    expect(await values(name)).toEqual([{ type: 'string', value: 'frontend' }, { type: 'string', value: 'scheduler' }]);
  }
});

it('rootName / trace:rootName list only root span names', async () => {
  for (const name of ['rootName', 'trace:rootName']) {
    expect(await values(name)).toEqual([{ type: 'string', value: 'GET /cart' }, { type: 'string', value: 'cron tick' }]);
  }
});

it('statusMessage / span:statusMessage list the stored status messages', async () => {
  for (const name of ['statusMessage', 'span:statusMessage']) {
    expect(await values(name)).toEqual([{ type: 'string', value: 'broker gone' }, { type: 'string', value: 'deadline exceeded' }]);
  }
});

it('span names still list every span name', async () => {
  expect((await values('name')).map((v) => v.value)).toEqual(['GET /cart', 'SELECT cart', 'cron tick', 'orphan work', 'publish']);
});
