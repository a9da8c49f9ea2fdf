/**
 * One asserting test per ingest error case, against a node running as a child process. After each
 * case the node must still be ready and still accept a valid export.
 */
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, tempDir, waitFor, type NodeProcess } from './harness.js';
import {
  decodeStatus, decodeTraceResponse, logsRequest, metricsRequest, newTraceId, postOtlp, RawGrpcClient, retryDelaySeconds, traceRequest,
} from './otlp-client.js';

const MiB = 1024 * 1024;
let node: NodeProcess; // max-inflight-requests 1, max-body-bytes 1MiB
let tinyQueue: NodeProcess; // max-queued-spans 2
let grpc: RawGrpcClient;
const dirs = [tempDir(), tempDir()];

beforeAll(async () => {
  [node, tinyQueue] = await Promise.all([
    startNode(dirs[0]!.path, ['--max-body-bytes', '1MiB', '--max-inflight-requests', '1']),
    startNode(dirs[1]!.path, ['--max-queued-spans', '2']),
  ]);
  grpc = new RawGrpcClient(node.ports.grpc);
});
afterAll(async () => {
  grpc?.close();
  await Promise.all([node?.stop(), tinyQueue?.stop()]);
  for (const d of dirs) d.remove();
});

/** The node is ready and stores a valid export, over HTTP and gRPC. */
async function expectStillServing(target: NodeProcess = node): Promise<void> {
  expect((await fetch(target.query('/ready'))).status).toBe(200);
  const traceId = newTraceId();
  const res = await postOtlp(target.http('/v1/traces'), traceRequest([{ traceId }]).body);
  expect(res.status).toBe(200);
  expect((await fetch(target.jaeger(`/api/v3/traces/${traceId.toString('hex')}`))).status).toBe(200);
  const client = target === node ? grpc : new RawGrpcClient(target.ports.grpc);
  expect((await client.export('trace', traceRequest([{}]).body)).code).toBe(0);
  if (client !== grpc) client.close();
}

async function protobufStatus(res: Response): Promise<ReturnType<typeof decodeStatus>> {
  expect(res.headers.get('content-type')).toMatch(/application\/x-protobuf/);
  return decodeStatus(new Uint8Array(await res.arrayBuffer()));
}

describe('ingest errors', () => {
  it('undecodable protobuf → 400 with a google.rpc.Status naming the problem', async () => {
    const res = await postOtlp(node.http('/v1/traces'), Buffer.from([0x0a, 0xff, 0xff, 0x03, 0x01]));
    expect(res.status).toBe(400);
    const status = await protobufStatus(res);
    expect(status.code).toBe(3);
    expect(status.message.length).toBeGreaterThan(5);
    await expectStillServing();
  });

  it('undecodable JSON → 400 with a JSON Status', async () => {
    const res = await postOtlp(node.http('/v1/traces'), '{"resourceSpans": [ {');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const status = (await res.json()) as { code: number; message: string };
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/json/i);
    await expectStillServing();
  });

  it('gRPC undecodable → INVALID_ARGUMENT with status details', async () => {
    const outcome = await grpc.export('trace', Buffer.from([0x0a, 0x05, 0x01]));
    expect(outcome.code).toBe(3);
    expect(outcome.details.length).toBeGreaterThan(5);
    expect(decodeStatus(outcome.statusDetails!).code).toBe(3);
    await expectStillServing();
  });

  it('unsupported content type → 415', async () => {
    const res = await postOtlp(node.http('/v1/traces'), traceRequest([{}]).body, { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    expect(await res.text()).toMatch(/Content-Type/);
    await expectStillServing();
  });

  it('unsupported content encoding → 415', async () => {
    const res = await postOtlp(node.http('/v1/traces'), traceRequest([{}]).body, { 'content-encoding': 'br' });
    expect(res.status).toBe(415);
    await expectStillServing();
  });

  it('plain body over the limit → 413', async () => {
    const res = await postOtlp(node.http('/v1/traces'), Buffer.alloc(MiB + 1, 0));
    expect(res.status).toBe(413);
    expect((await protobufStatus(res)).message).toMatch(/limit/);
    await expectStillServing();
  });

  it('gzip bomb → 413, refused while inflating', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MiB, 0), { level: 9 });
    expect(bomb.length).toBeLessThan(MiB);
    const res = await postOtlp(node.http('/v1/traces'), bomb, { 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect((await protobufStatus(res)).message).toMatch(/after decompression/);
    await expectStillServing();
  });

  it('valid gzip bodies are accepted over HTTP and gRPC', async () => {
    const traceId = newTraceId();
    const res = await postOtlp(node.http('/v1/traces'), gzipSync(traceRequest([{ traceId }, { traceId }]).body), { 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    const trace = (await (await fetch(node.jaeger(`/api/v3/traces/${traceId.toString('hex')}`))).json()) as { result: { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] } };
    expect(trace.result.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))).toHaveLength(2);

    const compressing = new RawGrpcClient(node.ports.grpc, { 'grpc.default_compression_algorithm': 2 });
    const grpcTrace = newTraceId();
    expect((await compressing.export('trace', traceRequest([{ traceId: grpcTrace }]).body)).code).toBe(0);
    compressing.close();
    expect((await fetch(node.jaeger(`/api/v3/traces/${grpcTrace.toString('hex')}`))).status).toBe(200);
  });

  it('gRPC message over the limit (also gzip-compressed) → RESOURCE_EXHAUSTED', async () => {
    const big = traceRequest([{ name: 'x'.repeat(MiB + 10) }]).body;
    expect((await grpc.export('trace', big)).code).toBe(8);
    const compressing = new RawGrpcClient(node.ports.grpc, { 'grpc.default_compression_algorithm': 2 });
    expect((await compressing.export('trace', big)).code).toBe(8);
    compressing.close();
    await expectStillServing();
  });

  it('invalid spans → 200 with partial_success naming them; the valid span is stored', async () => {
    const good = newTraceId();
    const { body } = traceRequest([{ traceId: good }, { traceId: Buffer.alloc(8, 1) }, { traceId: newTraceId(), spanId: Buffer.alloc(8, 0) }]);
    const res = await postOtlp(node.http('/v1/traces'), body);
    expect(res.status).toBe(200);
    const partial = decodeTraceResponse(new Uint8Array(await res.arrayBuffer()));
    expect(partial.rejectedSpans).toBe(2);
    expect(partial.errorMessage).toMatch(/trace_id/);
    expect(partial.errorMessage).toMatch(/span_id/);
    expect((await fetch(node.jaeger(`/api/v3/traces/${good.toString('hex')}`))).status).toBe(200);

    const viaGrpc = await grpc.export('trace', body);
    expect(viaGrpc.code).toBe(0);
    expect(decodeTraceResponse(viaGrpc.response!).rejectedSpans).toBe(2);
    await expectStillServing();
  });

  it('a full success answers an empty response (no partial_success)', async () => {
    const res = await postOtlp(node.http('/v1/traces'), traceRequest([{}]).body);
    expect(res.status).toBe(200);
    expect(decodeTraceResponse(new Uint8Array(await res.arrayBuffer()))).toEqual({ rejectedSpans: 0, errorMessage: '' });
  });

  it('in-flight bound reached → 429 with Retry-After, gRPC UNAVAILABLE with RetryInfo; the held request still succeeds', async () => {
    const { body } = traceRequest([{}, {}, {}]);
    // A slow upload holds the only in-flight slot: headers and half of the body, then nothing.
    const held = httpRequest(node.http('/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } });
    const heldResponse = new Promise<number>((resolve, reject) => {
      held.on('response', (r) => {
        r.resume();
        resolve(r.statusCode!);
      });
      held.on('error', reject);
    });
    held.write(body.subarray(0, 10));
    try {
      await waitFor('the slow upload to hold the slot', async () => {
      const text = await (await fetch(node.query('/metrics'))).text();
      return /^otlp_store_inflight_requests 1$/m.test(text) ? true : undefined;
    });

    const res = await postOtlp(node.http('/v1/traces'), traceRequest([{}]).body);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await protobufStatus(res)).code).toBe(14);

    const outcome = await grpc.export('trace', traceRequest([{}]).body);
    expect(outcome.code).toBe(14);
    expect(retryDelaySeconds(decodeStatus(outcome.statusDetails!))).toBeGreaterThan(0);
    } finally {
      held.end(body.subarray(10));
    }
    expect(await heldResponse).toBe(200);
    await expectStillServing();
  });

  it('a client that disconnects mid-upload frees its in-flight slot', async () => {
    const { body } = traceRequest([{}, {}]);
    const aborted = httpRequest(node.http('/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } });
    aborted.on('error', () => undefined);
    aborted.write(body.subarray(0, 5));
    const inflight = async (): Promise<string | undefined> => /^otlp_store_inflight_requests (\d+)$/m.exec(await (await fetch(node.query('/metrics'))).text())?.[1];
    await waitFor('the upload to be in flight', async () => ((await inflight()) === '1' ? true : undefined));
    aborted.destroy();
    await waitFor('the slot to be released', async () => ((await inflight()) === '0' ? true : undefined));
    await expectStillServing();
  });

  it('store write queue full → 429 with Retry-After, gRPC UNAVAILABLE with RetryInfo', async () => {
    const res = await postOtlp(tinyQueue.http('/v1/traces'), traceRequest([{}, {}, {}, {}, {}]).body);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await protobufStatus(res)).message).toMatch(/queue/);
    const client = new RawGrpcClient(tinyQueue.ports.grpc);
    const outcome = await client.export('trace', traceRequest([{}, {}, {}]).body);
    client.close();
    expect(outcome.code).toBe(14);
    expect(retryDelaySeconds(decodeStatus(outcome.statusDetails!))).toBeGreaterThan(0);
    const metrics = await (await fetch(tinyQueue.query('/metrics'))).text();
    expect(metrics).toMatch(/otlp_store_spans_rejected_total\{transport="http",reason="overloaded"\} 5/);
    await expectStillServing(tinyQueue);
  });

  it('logs and metrics: valid → 501 / UNIMPLEMENTED, invalid → 400 / INVALID_ARGUMENT', async () => {
    for (const [path, signal, valid] of [['/v1/logs', 'logs', logsRequest()], ['/v1/metrics', 'metrics', metricsRequest()]] as const) {
      const ok = await postOtlp(node.http(path), valid);
      expect(ok.status).toBe(501);
      expect((await protobufStatus(ok)).message).toMatch(new RegExp(signal));
      const bad = await postOtlp(node.http(path), Buffer.from([0x0a, 0x7f, 0x00]));
      expect(bad.status).toBe(400);
      expect((await grpc.export(signal, valid)).code).toBe(12);
      expect((await grpc.export(signal, Buffer.from([0x0a, 0x7f, 0x00]))).code).toBe(3);
    }
    await expectStillServing();
  });

  it('a bad tenant → 400 / INVALID_ARGUMENT, on ingest and on queries', async () => {
    for (const tenant of ['has space', 'a|b', '..', 'x'.repeat(151)]) {
      const res = await postOtlp(node.http('/v1/traces'), traceRequest([{}]).body, { 'x-scope-orgid': tenant });
      expect(res.status, tenant).toBe(400);
      expect((await protobufStatus(res)).message).toMatch(/X-Scope-OrgID/);
      expect((await grpc.export('trace', traceRequest([{}]).body, { 'x-scope-orgid': tenant })).code).toBe(3);
    }
    expect((await fetch(node.query('/api/search'), { headers: { 'x-scope-orgid': 'a|b' } })).status).toBe(400);
    expect((await fetch(node.jaeger('/api/services'), { headers: { 'x-scope-orgid': 'a|b' } })).status).toBe(400);
    await expectStillServing();
  });

  it('a bad X-Consistency → 400', async () => {
    const res = await postOtlp(node.http('/v1/traces'), traceRequest([{}]).body, { 'x-consistency': 'eventually' });
    expect(res.status).toBe(400);
    const ok = await postOtlp(node.http('/v1/traces'), traceRequest([{}]).body, { 'x-consistency': 'quorum' });
    expect(ok.status).toBe(200);
    expect((await grpc.export('trace', traceRequest([{}]).body, { 'x-consistency': 'sometimes' })).code).toBe(3);
    expect((await grpc.export('trace', traceRequest([{}]).body, { 'x-consistency': 'one' })).code).toBe(0);
    expect((await fetch(node.query('/api/search'), { headers: { 'x-consistency': 'any' } })).status).toBe(400);
    expect((await fetch(node.jaeger('/api/services'), { headers: { 'x-consistency': 'bogus' } })).status).toBe(400);
    expect((await fetch(node.jaeger('/api/services'), { headers: { 'x-consistency': 'one' } })).status).toBe(200);
    await expectStillServing();
  });

  it('unknown paths and methods are 404/405-style errors, not crashes', async () => {
    expect((await fetch(node.http('/v1/nothing'), { method: 'POST' })).status).toBe(404);
    expect((await fetch(node.http('/v1/traces'))).status).toBe(404);
    await expectStillServing();
  });
});
