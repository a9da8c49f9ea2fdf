import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { hexId, ingest, jaegerApp, kv, NOW_MS, openStore, richTrace, RICH_TRACE_ID, simpleTrace, str, type TestStore } from './fixtures.js';

const A = hexId(16, 0xa);
const B = hexId(16, 0xb);
const SHORT = '0000000000000000000000000000abcd'; // a 64-bit Jaeger-style id
const OTHER = hexId(16, 0xd);

let ts: TestStore;
let app: FastifyInstance;

beforeAll(async () => {
  ts = await openStore();
  await ingest(ts.store, 'single-tenant', simpleTrace(A, {
    frontend: [{ spanId: '00000000000000a1', name: 'GET /a', kind: 2, startMsAgo: 30_000, durationMs: 300, attributes: [str('http.method', 'GET'), kv('http.status_code', { intValue: '200' })] }],
    db: [{ spanId: '00000000000000a2', parentSpanId: '00000000000000a1', name: 'SELECT', kind: 3, startMsAgo: 29_900, durationMs: 100, status: 2 }],
  }));
  await ingest(ts.store, 'single-tenant', simpleTrace(B, {
    frontend: [{ spanId: '00000000000000b1', name: 'GET /b', kind: 2, startMsAgo: 20_000, durationMs: 2_000, attributes: [str('http.method', 'POST')] }],
    db: [{ spanId: '00000000000000b2', parentSpanId: '00000000000000b1', name: 'INSERT', kind: 3, startMsAgo: 19_500, durationMs: 10 }],
  }));
  await ingest(ts.store, 'single-tenant', simpleTrace(SHORT, {
    worker: [{ spanId: '00000000000000c1', name: 'job', kind: 1, startMsAgo: 15_000, durationMs: 5 }],
  }));
  await ingest(ts.store, 'single-tenant', richTrace());
  await ingest(ts.store, 'tenant-2', simpleTrace(OTHER, { secret: [{ spanId: '00000000000000d1', name: 'hidden', startMsAgo: 1_000, durationMs: 1 }] }));
  app = await jaegerApp(ts.store, () => NOW_MS);
});

afterAll(async () => {
  await app?.close();
  await ts?.close();
});

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
const rfc3339 = (ms: number) => new Date(ms).toISOString();

describe('Jaeger api_v3', () => {
  it('GET /api/v3/traces/{id} answers {"result":{"resourceSpans":[…]}} with hex ids and integer enums', async () => {
    const res = await get(`/api/v3/traces/${RICH_TRACE_ID}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['result']);
    const spans = body.result.resourceSpans.flatMap((rs: { scopeSpans: { spans: unknown[] }[] }) => rs.scopeSpans.flatMap((ss) => ss.spans));
    const root = spans.find((s: { name: string }) => s.name === 'POST /checkout');
    expect(root.traceId).toBe(RICH_TRACE_ID);
    expect(root.spanId).toBe('eee19b7ec3c1b174');
    expect(root.kind).toBe(2);
    expect(root.status).toEqual({ message: 'payment declined', code: 2 });
    expect(root.links[0]).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceState: 'l=1', flags: 1 });
    const child = spans.find((s: { name: string }) => s.name === 'charge card');
    expect(child.parentSpanId).toBe('eee19b7ec3c1b174');
  });

  it('404 and 400 in the grpc-gateway error shape; tenants isolated', async () => {
    const missing = await get('/api/v3/traces/1234');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { httpCode: 404, message: 'No traces found' } });
    const bad = await get('/api/v3/traces/nothex');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.httpCode).toBe(400);
    expect((await get(`/api/v3/traces/${OTHER}`)).statusCode).toBe(404);
    expect((await get(`/api/v3/traces/${OTHER}`, { 'x-scope-orgid': 'tenant-2' })).statusCode).toBe(200);
  });

  it('GET /api/v3/traces searches by service, operation, time and duration', async () => {
    const window = `query.start_time_min=${rfc3339(NOW_MS - 3600_000)}&query.start_time_max=${rfc3339(NOW_MS)}`;
    const byService = (await get(`/api/v3/traces?query.service_name=db&${window}`)).json();
    const traceIds = (b: { result: { resourceSpans: { scopeSpans: { spans: { traceId: string }[] }[] }[] } }) =>
      [...new Set(b.result.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.traceId))))];
    expect(traceIds(byService)).toEqual([B, A]);
    const camel = (await get(`/api/v3/traces?query.serviceName=db&query.operationName=SELECT&query.startTimeMin=${rfc3339(NOW_MS - 3600_000)}&query.startTimeMax=${rfc3339(NOW_MS)}`)).json();
    expect(traceIds(camel)).toEqual([A]);
    const slow = (await get(`/api/v3/traces?query.service_name=frontend&query.duration_min=1s&${window}`)).json();
    expect(traceIds(slow)).toEqual([B]);
    const depth = (await get(`/api/v3/traces?query.num_traces=1&${window}`)).json();
    expect(traceIds(depth)).toEqual([RICH_TRACE_ID]);
    const nothing = await get(`/api/v3/traces?query.service_name=nobody&${window}`);
    expect(nothing.statusCode).toBe(404);
    expect(nothing.json()).toEqual({ error: { httpCode: 404, message: 'No traces found' } });
    const none = await get('/api/v3/traces?query.service_name=db');
    expect(none.statusCode).toBe(400);
    expect(none.json().error.message).toMatch(/required/);
    expect((await get(`/api/v3/traces?query.start_time_min=yesterday&query.start_time_max=${rfc3339(NOW_MS)}`)).statusCode).toBe(400);
  });

  it('services, operations and trace summaries', async () => {
    expect((await get('/api/v3/services')).json()).toEqual({ services: ['checkout', 'db', 'frontend', 'payments', 'worker'] });
    expect((await get('/api/v3/operations?service=db')).json()).toEqual({ operations: [{ name: 'INSERT', spanKind: 'client' }, { name: 'SELECT', spanKind: 'client' }] });
    expect((await get('/api/v3/operations?service=frontend&spanKind=server')).json().operations.map((o: { name: string }) => o.name)).toEqual(['GET /a', 'GET /b']);
    expect((await get('/api/v3/operations?service=frontend&span_kind=client')).json()).toEqual({ operations: [] });
    const sums = (await get(`/api/v3/trace-summaries?query.service_name=db&query.start_time_min=${rfc3339(NOW_MS - 3600_000)}&query.start_time_max=${rfc3339(NOW_MS)}`)).json();
    expect(sums.summaries[1]).toEqual({
      traceId: A,
      rootServiceName: 'frontend',
      rootOperationName: 'GET /a',
      minStartTimeUnixNano: (BigInt(NOW_MS - 30_000) * 1_000_000n).toString(),
      maxEndTimeUnixNano: (BigInt(NOW_MS - 29_700) * 1_000_000n).toString(),
      spanCount: 2,
      errorSpanCount: 1,
      orphanSpanCount: 0,
      services: [{ name: 'db', spanCount: 1, errorSpanCount: 1 }, { name: 'frontend', spanCount: 1, errorSpanCount: 0 }],
    });
  });
});

describe('Jaeger legacy v1', () => {
  it('services and operations in the {data,total,limit,offset,errors} envelope', async () => {
    expect((await get('/api/services')).json()).toEqual({ data: ['checkout', 'db', 'frontend', 'payments', 'worker'], total: 5, limit: 0, offset: 0, errors: null });
    expect((await get('/api/services/db/operations')).json()).toEqual({ data: ['INSERT', 'SELECT'], total: 2, limit: 0, offset: 0, errors: null });
    expect((await get('/api/operations?service=frontend')).json()).toEqual({
      data: [{ name: 'GET /a', spanKind: 'server' }, { name: 'GET /b', spanKind: 'server' }], total: 2, limit: 0, offset: 0, errors: null,
    });
    const missing = await get('/api/operations');
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({ data: null, total: 0, limit: 0, offset: 0, errors: [{ code: 400, msg: "parameter 'service' is required" }] });
  });

  it('GET /api/traces/{id} renders the Jaeger UI model', async () => {
    const res = await get(`/api/traces/${RICH_TRACE_ID}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ total: 0, limit: 0, offset: 0, errors: null });
    const [trace] = body.data;
    expect(trace.traceID).toBe(RICH_TRACE_ID);
    expect(trace.warnings).toBeNull();
    // The store may group resources in any order; processes are numbered in the order they appear.
    expect(Object.keys(trace.processes).sort()).toEqual(['p1', 'p2']);
    const processes = Object.values(trace.processes) as { serviceName: string }[];
    expect(processes.sort((a, b) => (a.serviceName < b.serviceName ? -1 : 1))).toEqual([
      { serviceName: 'checkout', tags: [{ key: 'host.cpu', type: 'int64', value: 8 }, { key: 'deployment.environment', type: 'string', value: 'prod' }] },
      { serviceName: 'payments', tags: [] },
    ]);
    const root = trace.spans.find((s: { operationName: string }) => s.operationName === 'POST /checkout');
    const startUs = (BigInt(NOW_MS - 5000) * 1_000_000n + 123n) / 1000n;
    expect(root).toMatchObject({
      traceID: RICH_TRACE_ID,
      spanID: 'eee19b7ec3c1b174',
      flags: 1,
      references: [{ refType: 'FOLLOWS_FROM', traceID: '0af7651916cd43dd8448eb211c80319c', spanID: 'b7ad6b7169203331' }],
      startTime: Number(startUs),
      duration: 1_000_000,
      warnings: null,
    });
    expect(trace.processes[root.processID].serviceName).toBe('checkout');
    expect(root.tags).toEqual(expect.arrayContaining([
      { key: 'http.method', type: 'string', value: 'POST' },
      { key: 'http.status_code', type: 'int64', value: 500 },
      { key: 'ratio', type: 'float64', value: 0.25 },
      { key: 'retry', type: 'bool', value: true },
      { key: 'payload', type: 'binary', value: Buffer.from([0, 1, 2, 255]).toString('base64') },
      { key: 'tags', type: 'string', value: '["a",2]' },
      { key: 'span.kind', type: 'string', value: 'server' },
      { key: 'otel.status_code', type: 'string', value: 'ERROR' },
      { key: 'error', type: 'bool', value: true },
      { key: 'otel.status_description', type: 'string', value: 'payment declined' },
      { key: 'otel.scope.name', type: 'string', value: 'io.checkout' },
      { key: 'w3c.tracestate', type: 'string', value: 'vendor=abc' },
    ]));
    // int64 beyond 2^53 is written as an exact JSON number.
    expect(res.body).toContain('"key":"big","type":"int64","value":9223372036854775807');
    expect(root.logs).toEqual([{ timestamp: Number((BigInt(NOW_MS - 4500) * 1_000_000n + 7n) / 1000n), fields: [{ key: 'event', type: 'string', value: 'exception' }, { key: 'exception.message', type: 'string', value: 'boom' }] }]);
    const child = trace.spans.find((s: { operationName: string }) => s.operationName === 'charge card');
    expect(child.references).toEqual([{ refType: 'CHILD_OF', traceID: RICH_TRACE_ID, spanID: 'eee19b7ec3c1b174' }]);
  });

  it('renders 64-bit ids as 16 hex digits; 404 and 400 in the envelope', async () => {
    const short = (await get('/api/traces/abcd')).json();
    expect(short.data[0].traceID).toBe('000000000000abcd');
    const missing = await get('/api/traces/1234');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ data: null, total: 0, limit: 0, offset: 0, errors: [{ code: 404, msg: 'trace not found' }] });
    expect((await get('/api/traces/zz')).statusCode).toBe(400);
  });

  it('GET /api/traces searches by service, operation, tags, duration and µs time range', async () => {
    const ids = async (qs: string) => ((await get(`/api/traces?${qs}`)).json().data as { traceID: string }[]).map((t) => t.traceID);
    const start = (NOW_MS - 3600_000) * 1000;
    const end = NOW_MS * 1000;
    expect(await ids(`service=db&start=${start}&end=${end}`)).toEqual([B, A]);
    expect(await ids(`service=db&operation=SELECT&start=${start}&end=${end}`)).toEqual([A]);
    expect(await ids(`service=frontend&tags=${encodeURIComponent('{"http.method":"POST"}')}&start=${start}&end=${end}`)).toEqual([B]);
    expect(await ids(`service=db&tags=${encodeURIComponent('{"error":"true"}')}&lookback=1h`)).toEqual([A]);
    expect(await ids(`service=frontend&minDuration=1s&start=${start}&end=${end}`)).toEqual([B]);
    expect(await ids(`service=db&limit=1&start=${start}&end=${end}`)).toEqual([B]);
    expect(await ids(`service=db&start=${(NOW_MS - 25_000) * 1000}&end=${end}`)).toEqual([B]);
    expect(await ids(`traceID=${A}&traceID=${B}`)).toEqual([A, B]);
    const noService = await get('/api/traces');
    expect(noService.statusCode).toBe(400);
    expect(noService.json().errors[0].msg).toBe("parameter 'service' is required");
    expect((await get('/api/traces?service=db&tags=notjson')).statusCode).toBe(400);
    expect((await get('/api/traces?service=secret', { 'x-scope-orgid': 'tenant-2' })).json().data).toHaveLength(1);
    expect((await get('/api/traces?service=secret')).json().data).toHaveLength(0);
  });

  it('GET /api/dependencies counts parent→child service calls', async () => {
    const deps = (await get(`/api/dependencies?endTs=${NOW_MS}&lookback=3600000`)).json();
    expect(deps).toEqual({
      data: [
        { parent: 'checkout', child: 'payments', callCount: 1 },
        { parent: 'frontend', child: 'db', callCount: 2 },
      ],
      total: 0, limit: 0, offset: 0, errors: null,
    });
    const old = (await get(`/api/dependencies?endTs=${NOW_MS - 3600_000}&lookback=60000`)).json();
    expect(old.data).toEqual([]);
  });
});
