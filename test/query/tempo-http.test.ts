import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { otlpTypes } from '../../src/otlp/index.js';
import { encodeRequest, hexId, ingest, openStore, richTrace, RICH_TRACE_ID, simpleTrace, str, tempoApp, type TestStore, NOW_MS, kv } from './fixtures.js';

// Four traces at distinct times (newest first: rich 5 s ago, C 10 s, B 20 s, A 30 s), plus one in another tenant.
const A = hexId(16, 0xa);
const B = hexId(16, 0xb);
const C = '00000000000000000000000000c0ffee'; // leading zeros: Tempo trims them in search results
const OTHER = hexId(16, 0xd);

let ts: TestStore;
let app: FastifyInstance;

beforeAll(async () => {
  ts = await openStore();
  await ingest(ts.store, 'single-tenant', simpleTrace(A, {
    frontend: [{ spanId: '00000000000000a1', name: 'GET /a', startMsAgo: 30_000, durationMs: 300, attributes: [str('http.method', 'GET'), kv('http.status_code', { intValue: '200' })] }],
    db: [
      { spanId: '00000000000000a2', parentSpanId: '00000000000000a1', name: 'SELECT', kind: 3, startMsAgo: 29_900, durationMs: 100, status: 2 },
      { spanId: '00000000000000a3', parentSpanId: '00000000000000a1', name: 'SELECT', kind: 3, startMsAgo: 29_800, durationMs: 50, status: 2 },
    ],
  }));
  await ingest(ts.store, 'single-tenant', simpleTrace(B, {
    frontend: [{ spanId: '00000000000000b1', name: 'GET /b', startMsAgo: 20_000, durationMs: 2_000, attributes: [str('http.method', 'POST')] }],
  }));
  await ingest(ts.store, 'single-tenant', simpleTrace(C, {
    backend: [{ spanId: '00000000000000c1', name: 'GET /c', startMsAgo: 10_000, durationMs: 10, attributes: [str('http.method', 'GET')] }],
  }));
  await ingest(ts.store, 'single-tenant', richTrace());
  await ingest(ts.store, 'tenant-2', simpleTrace(OTHER, {
    secret: [{ spanId: '00000000000000d1', name: 'hidden', startMsAgo: 1_000, durationMs: 1 }],
  }));
  app = await tempoApp(ts.store);
});

afterAll(async () => {
  await app?.close();
  await ts?.close();
});

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

describe('Tempo trace by id', () => {
  it('v2 with Accept: application/protobuf answers a TraceByIDResponse wrapping the stored trace', async () => {
    const res = await get(`/api/v2/traces/${RICH_TRACE_ID}`, { accept: 'application/protobuf' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/protobuf');
    const t = otlpTypes().TempoTraceByIDResponse;
    const decoded = t.toObject(t.decode(res.rawPayload), { longs: String, bytes: String, defaults: false }) as { trace: { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] } };
    const names = decoded.trace.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name))).sort();
    expect(names).toEqual(['POST /checkout', 'authorize', 'charge card']);
    // Every field survives: the spans equal what was sent (grouping may differ, so compare per span).
    const sent = otlpTypes().TracesData.toObject(otlpTypes().TracesData.decode(encodeRequest(richTrace())), { longs: String, bytes: String, defaults: false }) as typeof decoded.trace;
    const byName = (tr: typeof decoded.trace) => Object.fromEntries(tr.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => [s.name, s]))));
    expect(byName(decoded.trace)).toEqual(byName(sent));
  });

  it('v2 JSON is {trace:{resourceSpans}, metrics} with base64 ids and enum names', async () => {
    const res = await get(`/api/v2/traces/${RICH_TRACE_ID}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['metrics', 'trace']);
    expect(body.metrics.inspectedBytes).toMatch(/^\d+$/);
    const spans = body.trace.resourceSpans.flatMap((rs: { scopeSpans: { spans: unknown[] }[] }) => rs.scopeSpans.flatMap((ss) => ss.spans));
    const root = spans.find((s: { name: string }) => s.name === 'POST /checkout');
    expect(root.traceId).toBe(Buffer.from(RICH_TRACE_ID, 'hex').toString('base64'));
    expect(root.kind).toBe('SPAN_KIND_SERVER');
    expect(root.status).toEqual({ message: 'payment declined', code: 'STATUS_CODE_ERROR' });
    expect(root.attributes).toContainEqual({ key: 'big', value: { intValue: '9223372036854775807' } });
  });

  it('v1 protobuf is the bare Trace; v1 JSON uses "batches"', async () => {
    const pb = await get(`/api/traces/${RICH_TRACE_ID}`, { accept: 'application/protobuf' });
    expect(pb.statusCode).toBe(200);
    const t = otlpTypes().TempoTrace;
    const trace = t.toObject(t.decode(pb.rawPayload), { defaults: false }) as { resourceSpans: unknown[] };
    expect(trace.resourceSpans.length).toBeGreaterThan(0);
    const json = await get(`/api/traces/${RICH_TRACE_ID}`);
    expect(Object.keys(json.json())).toEqual(['batches']);
    expect(json.json().batches[0].scopeSpans[0].spans[0].spanId).toMatch(/=$|^[A-Za-z0-9+/]+$/);
  });

  it('accepts short hex ids (left-padded) and answers 404 for unknown ids', async () => {
    expect((await get('/api/traces/c0ffee')).statusCode).toBe(200);
    const missing = await get('/api/v2/traces/123456789abcdef', { accept: 'application/protobuf' });
    expect(missing.statusCode).toBe(404);
    expect((await get('/api/traces/123456789abcdef')).statusCode).toBe(404);
  });

  it('answers 400 for malformed ids and bad time ranges', async () => {
    for (const bad of ['xyz', '1'.repeat(33), '0000']) {
      const res = await get(`/api/v2/traces/${bad}`);
      expect(res.statusCode).toBe(400);
      expect(res.body).toMatch(/invalid trace id/);
    }
    expect((await get(`/api/traces/${A}?start=20&end=10`)).statusCode).toBe(400);
  });

  it('isolates tenants', async () => {
    expect((await get(`/api/traces/${OTHER}`)).statusCode).toBe(404);
    expect((await get(`/api/traces/${OTHER}`, { 'x-scope-orgid': 'tenant-2' })).statusCode).toBe(200);
    expect((await get(`/api/traces/${A}`, { 'x-scope-orgid': 'tenant-2' })).statusCode).toBe(404);
  });
});

describe('Tempo search', () => {
  it('returns every trace most recent first with Tempo metadata', async () => {
    const res = await get('/api/search');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.traces.map((t: { traceID: string }) => t.traceID)).toEqual([RICH_TRACE_ID, 'c0ffee', B.replace(/^0+/, ''), A.replace(/^0+/, '')]);
    const a = body.traces[3];
    expect(a).toEqual({
      traceID: A.replace(/^0+/, ''),
      rootServiceName: 'frontend',
      rootTraceName: 'GET /a',
      startTimeUnixNano: (BigInt(NOW_MS - 30_000) * 1_000_000n).toString(),
      durationMs: 300,
      serviceStats: { db: { spanCount: 2, errorCount: 2 }, frontend: { spanCount: 1 } },
    });
    expect(body.metrics).toMatchObject({ inspectedTraces: 4, completedJobs: 1, totalJobs: 1 });
  });

  it('evaluates TraceQL and reports the matched spanset (spss bounds the spans, matched counts all)', async () => {
    const res = await get(`/api/search?q=${encodeURIComponent('{ resource.service.name = "db" && status = error }')}&spss=1`);
    expect(res.statusCode).toBe(200);
    const [t, ...rest] = res.json().traces;
    expect(rest).toEqual([]);
    expect(t.traceID).toBe(A.replace(/^0+/, ''));
    const expectedSet = {
      spans: [
        {
          spanID: '00000000000000a2',
          name: 'SELECT',
          startTimeUnixNano: (BigInt(NOW_MS - 29_900) * 1_000_000n).toString(),
          durationNanos: '100000000',
          attributes: [
            { key: 'service.name', value: { stringValue: 'db' } },
            { key: 'status', value: { stringValue: 'error' } },
          ],
        },
      ],
      matched: 2,
    };
    expect(t.spanSets).toEqual([expectedSet]);
    expect(t.spanSet).toEqual(expectedSet);
  });

  it('applies limit, duration and time filters', async () => {
    const limited = (await get('/api/search?q=%7B%7D&limit=2')).json();
    expect(limited.traces.map((t: { traceID: string }) => t.traceID)).toEqual([RICH_TRACE_ID, 'c0ffee']);
    const slow = (await get('/api/search?minDuration=1500ms')).json();
    expect(slow.traces.map((t: { traceID: string }) => t.traceID)).toEqual([B.replace(/^0+/, '')]);
    const q = (await get(`/api/search?q=${encodeURIComponent('{ span.http.method = "GET" && duration < 100ms }')}`)).json();
    expect(q.traces.map((t: { traceID: string }) => t.traceID)).toEqual(['c0ffee']);
    const startS = Math.floor((NOW_MS - 25_000) / 1000);
    const recent = (await get(`/api/search?start=${startS}&end=${startS + 3600}`)).json();
    expect(recent.traces.map((t: { traceID: string }) => t.traceID)).toEqual([RICH_TRACE_ID, 'c0ffee', B.replace(/^0+/, '')]);
  });

  it('index pruning never drops a true match (every term kind the planner emits)', async () => {
    const cases: [string, string[]][] = [
      ['{ .service.name = "frontend" }', [B, A]],
      ['{ resource.service.name = "frontend" && name = "GET /a" }', [A]],
      ['{ span.http.status_code = 200 }', [A]],
      ['{ .http.method = "GET" }', ['c0ffee', A]],
      ['{ span.retry = true }', [RICH_TRACE_ID]],
      ['{ status = error && span.big = 9223372036854775807 }', [RICH_TRACE_ID]],
      ['{ resource.deployment.environment = "prod" && kind = server }', [RICH_TRACE_ID]],
      ['{ name = "nope" || span.http.method = "POST" }', [RICH_TRACE_ID, B]],
    ];
    for (const [q, expected] of cases) {
      const res = (await get(`/api/search?q=${encodeURIComponent(q)}`)).json();
      expect(res.traces.map((t: { traceID: string }) => t.traceID), q).toEqual(expected.map((x) => x.replace(/^0+/, '')));
    }
  });

  it('supports legacy logfmt tags', async () => {
    const res = (await get(`/api/search?tags=${encodeURIComponent('service.name=frontend http.method=POST')}`)).json();
    expect(res.traces.map((t: { traceID: string }) => t.traceID)).toEqual([B.replace(/^0+/, '')]);
    expect(res.traces[0].spanSets).toBeUndefined();
  });

  it('answers 400 with a message for unsupported TraceQL and bad parameters', async () => {
    const res = await get(`/api/search?q=${encodeURIComponent('{ name = "a" } | count() > 1')}`);
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/pipelines .* not supported/);
    expect((await get('/api/search?limit=0')).statusCode).toBe(400);
    expect((await get('/api/search?q=%7B%7D&tags=a%3Db')).statusCode).toBe(400);
  });

  it('never shows another tenant', async () => {
    const mine = (await get('/api/search', { 'x-scope-orgid': 'tenant-2' })).json();
    expect(mine.traces.map((t: { rootServiceName: string }) => t.rootServiceName)).toEqual(['secret']);
  });
});

describe('Tempo tags', () => {
  it('v1 tag names and values', async () => {
    const names = (await get('/api/search/tags')).json();
    expect(names.tagNames).toEqual(expect.arrayContaining(['service.name', 'http.method', 'http.status_code', 'deployment.environment']));
    expect(names.tagNames).not.toContain('name');
    const values = (await get('/api/search/tag/service.name/values')).json();
    expect(values).toEqual({ tagValues: ['backend', 'checkout', 'db', 'frontend', 'payments'] });
    expect((await get('/api/search/tags?scope=bogus')).statusCode).toBe(400);
  });

  it('v2 tags by scope', async () => {
    const body = (await get('/api/v2/search/tags')).json();
    expect(body.scopes.map((s: { name: string }) => s.name)).toEqual(['resource', 'span', 'intrinsic']);
    const resource = body.scopes.find((s: { name: string }) => s.name === 'resource').tags;
    const span = body.scopes.find((s: { name: string }) => s.name === 'span').tags;
    expect(resource).toEqual(expect.arrayContaining(['service.name', 'deployment.environment']));
    expect(span).toEqual(expect.arrayContaining(['http.method', 'http.status_code']));
    expect(span).not.toContain('deployment.environment');
    expect(body.scopes[2].tags).toEqual(expect.arrayContaining(['name', 'status', 'duration', 'kind', 'rootServiceName']));
    const onlySpan = (await get('/api/v2/search/tags?scope=span')).json();
    expect(onlySpan.scopes.map((s: { name: string }) => s.name)).toEqual(['span']);
  });

  it('v2 tag values are typed', async () => {
    const svc = (await get('/api/v2/search/tag/resource.service.name/values')).json();
    expect(svc.tagValues).toContainEqual({ type: 'string', value: 'frontend' });
    const code = (await get('/api/v2/search/tag/span.http.status_code/values')).json();
    expect(code.tagValues).toContainEqual({ type: 'int', value: '200' });
    const status = (await get('/api/v2/search/tag/status/values')).json();
    expect(status.tagValues.map((v: { value: string }) => v.value)).toEqual(['unset', 'ok', 'error']);
    const names = (await get('/api/v2/search/tag/name/values')).json();
    expect(names.tagValues).toContainEqual({ type: 'string', value: 'GET /a' });
    expect((await get('/api/v2/search/tag/not%20an%20attribute/values')).statusCode).toBe(400);
  });

  it('v2 tag values narrow to spans matching q; an incomplete q degrades to all values', async () => {
    const url = (name: string, q: string) => `/api/v2/search/tag/${name}/values?q=${encodeURIComponent(q)}`;
    const methods = (await get(url('span.http.method', '{ resource.service.name = "backend" }'))).json();
    expect(methods).toEqual({ tagValues: [{ type: 'string', value: 'GET' }] });
    const services = (await get(url('resource.service.name', '{ span.http.method = "POST" }'))).json();
    expect(services).toEqual({ tagValues: [{ type: 'string', value: 'checkout' }, { type: 'string', value: 'frontend' }] });
    const names = (await get(url('name', '{ status = error }'))).json();
    expect(names).toEqual({ tagValues: [{ type: 'string', value: 'POST /checkout' }, { type: 'string', value: 'SELECT' }] });
    const incomplete = (await get(url('resource.service.name', '{ span.http.method = '))).json();
    expect(incomplete.tagValues.map((v: { value: string }) => v.value)).toEqual(['backend', 'checkout', 'db', 'frontend', 'payments']);
  });
});

describe('Tempo tenant errors', () => {
  it('answers the status of an error thrown by tenantOf (the server rejects bad X-Scope-OrgID)', async () => {
    const { default: Fastify } = await import('fastify');
    const { tempoApi } = await import('../../src/query/tempo.js');
    const strict = Fastify();
    await strict.register(tempoApi, {
      store: ts.store,
      tenantOf: () => {
        throw Object.assign(new Error('X-Scope-OrgID is empty'), { statusCode: 400 });
      },
    });
    const res = await strict.inject({ method: 'GET', url: '/api/search' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/X-Scope-OrgID is empty/);
    await strict.close();
  });
});

describe('Tempo misc', () => {
  it('echo and buildinfo', async () => {
    const echo = await get('/api/echo');
    expect(echo.statusCode).toBe(200);
    expect(echo.body).toBe('echo');
    const info = (await get('/api/status/buildinfo')).json();
    expect(Object.keys(info).sort()).toEqual(['branch', 'buildDate', 'buildUser', 'goVersion', 'revision', 'version']);
  });
});
