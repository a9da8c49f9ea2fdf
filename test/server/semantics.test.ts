/** Tenants are isolated, and a retried request never duplicates spans. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, tempDir, type NodeProcess } from './harness.js';
import { newTraceId, postOtlp, RawGrpcClient, traceRequest } from './otlp-client.js';

let node: NodeProcess;
const dir = tempDir();
beforeAll(async () => {
  node = await startNode(dir.path);
});
afterAll(async () => {
  await node?.stop();
  dir.remove();
});

async function spansOf(traceId: string, tenant?: string): Promise<{ status: number; spanIds: string[] }> {
  const res = await fetch(node.jaeger(`/api/v3/traces/${traceId}`), { headers: tenant ? { 'x-scope-orgid': tenant } : {} });
  if (res.status !== 200) return { status: res.status, spanIds: [] };
  const body = (await res.json()) as { result: { resourceSpans: { scopeSpans: { spans: { spanId: string }[] }[] }[] } };
  return { status: 200, spanIds: body.result.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.spanId))) };
}

describe('ingest semantics', () => {
  it('a retried request (same body, HTTP and gRPC) never duplicates spans', async () => {
    const traceId = newTraceId();
    const { body } = traceRequest([{ traceId, service: 'a' }, { traceId, service: 'b' }, { traceId, service: 'a' }]);
    for (let i = 0; i < 3; i++) expect((await postOtlp(node.http('/v1/traces'), body)).status).toBe(200);
    const grpc = new RawGrpcClient(node.ports.grpc);
    expect((await grpc.export('trace', body)).code).toBe(0);
    grpc.close();
    const { status, spanIds } = await spansOf(traceId.toString('hex'));
    expect(status).toBe(200);
    expect(spanIds).toHaveLength(3);
    expect(new Set(spanIds).size).toBe(3);

    const search = (await (await fetch(node.query(`/api/search?tags=${encodeURIComponent('service.name=b')}&limit=100`))).json()) as { traces: { traceID: string }[] };
    expect(search.traces.filter((t) => t.traceID.padStart(32, '0') === traceId.toString('hex'))).toHaveLength(1);
  });

  it('tenants never see each other’s data', async () => {
    const traceA = newTraceId();
    const traceB = newTraceId();
    expect((await postOtlp(node.http('/v1/traces'), traceRequest([{ traceId: traceA, service: 'only-in-a', name: 'op-a' }]).body, { 'x-scope-orgid': 'tenant-a' })).status).toBe(200);
    const grpc = new RawGrpcClient(node.ports.grpc);
    expect((await grpc.export('trace', traceRequest([{ traceId: traceB, service: 'only-in-b' }]).body, { 'x-scope-orgid': 'tenant-b' })).code).toBe(0);
    grpc.close();

    expect((await spansOf(traceA.toString('hex'), 'tenant-a')).status).toBe(200);
    expect((await spansOf(traceA.toString('hex'), 'tenant-b')).status).toBe(404);
    expect((await spansOf(traceA.toString('hex'))).status).toBe(404);
    expect((await spansOf(traceB.toString('hex'), 'tenant-b')).status).toBe(200);
    expect((await spansOf(traceB.toString('hex'), 'tenant-a')).status).toBe(404);

    const services = async (tenant: string): Promise<string[]> =>
      ((await (await fetch(node.jaeger('/api/v3/services'), { headers: { 'x-scope-orgid': tenant } })).json()) as { services: string[] }).services;
    expect(await services('tenant-a')).toEqual(['only-in-a']);
    expect(await services('tenant-b')).toEqual(['only-in-b']);

    const tempo = await fetch(node.query(`/api/v2/traces/${traceA.toString('hex')}`), { headers: { 'x-scope-orgid': 'tenant-b' } });
    expect(tempo.status).toBe(404);
    const search = (await (await fetch(node.query('/api/search?limit=100'), { headers: { 'x-scope-orgid': 'tenant-b' } })).json()) as { traces: { traceID: string }[] };
    expect(search.traces.map((t) => t.traceID.padStart(32, '0'))).toEqual([traceB.toString('hex')]);
  });

  it('exposes the ops endpoints on the query port', async () => {
    expect(await (await fetch(node.query('/ready'))).text()).toMatch(/ready/);
    expect((await fetch(node.query('/healthz'))).status).toBe(200);
    const metrics = await (await fetch(node.query('/metrics'))).text();
    for (const name of ['otlp_store_spans_received_total', 'otlp_store_spans_accepted_total', 'otlp_store_ingest_request_duration_seconds_bucket',
      'otlp_store_http_request_duration_seconds_bucket', 'otlp_store_stored_spans', 'otlp_store_cache_hit_ratio', 'otlp_store_disk_bytes']) {
      expect(metrics, name).toContain(name);
    }
    expect(metrics).toMatch(/otlp_store_spans_accepted_total\{transport="grpc"\} [1-9]/);
  });
});
