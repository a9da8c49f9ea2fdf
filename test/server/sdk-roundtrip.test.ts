/**
 * The real OpenTelemetry JS SDK exports spans over OTLP/gRPC, OTLP/HTTP protobuf and OTLP/HTTP JSON
 * to a node running as a child process; every field comes back equal through Jaeger api_v3,
 * Tempo v2 protobuf and (what its model holds) Jaeger v1. A hand-built request adds what the JS
 * SDK cannot produce (bytes, kvlists, int64 beyond 2^53, schema URLs, scope attributes).
 */
import { createTraceState, context, trace, SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlpTypes } from '../../src/otlp/proto.js';
import { startNode, tempDir, type NodeProcess } from './harness.js';
import { expectedJaegerV1, normalizeOtlp, normalizeSdk, type NormSpan } from './otlp-normalize.js';

let node: NodeProcess;
const dir = tempDir();

beforeAll(async () => {
  node = await startNode(dir.path);
});
afterAll(async () => {
  await node?.stop();
  dir.remove();
});

const nowSec = Math.floor(Date.now() / 1000);

/** Records one trace with every attribute type the JS SDK supports, events, links, status and dropped counts. */
/** The SDK sends the spans through `exporter` (batch processor); an in-memory copy is the expectation. */
async function recordTrace(label: string, exporter: SpanExporter): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': `roundtrip-${label}`, 'service.version': '1.0.0', 'host.cores': 2, 'deployment.canary': false }),
    spanProcessors: [new SimpleSpanProcessor(memory), new BatchSpanProcessor(exporter, { scheduledDelayMillis: 60_000 })],
    spanLimits: { eventCountLimit: 2, linkCountLimit: 1 },
  });
  const tracer = provider.getTracer(`roundtrip-scope-${label}`, '1.2.3');
  const remoteParent = trace.setSpanContext(context.active(), {
    traceId: randomHex(16), spanId: randomHex(8), traceFlags: 1, isRemote: true, traceState: createTraceState('vendor=abc,other=x-1'),
  });
  const attributes: Attributes = {
    'str': 'hello ✓', 'empty.str': '', 'bool.t': true, 'bool.f': false, 'int.pos': 42, 'int.neg': -7, 'int.max.safe': Number.MAX_SAFE_INTEGER,
    'double': 3.25, 'double.neg': -0.5, 'str.array': ['a', 'b', ''], 'int.array': [1, 2, 3], 'double.array': [1.5, 2.5], 'bool.array': [true, false],
  };
  const root = tracer.startSpan(`root ${label}`, { kind: SpanKind.SERVER, attributes, startTime: [nowSec - 5, 123_456_789] }, remoteParent);
  const rootContext = trace.setSpan(context.active(), root);
  const child = tracer.startSpan(`child ${label}`, {
    kind: SpanKind.CLIENT,
    startTime: [nowSec - 5, 200_000_001],
    links: [
      { context: { traceId: randomHex(16), spanId: randomHex(8), traceFlags: 1, traceState: createTraceState('link=1') }, attributes: { 'link.attr': 'L', 'link.n': 5 } },
      { context: { traceId: randomHex(16), spanId: randomHex(8), traceFlags: 0 } },
    ],
  }, rootContext);
  child.addEvent('first', { 'event.key': 'v', 'event.n': 1 }, [nowSec - 5, 300_000_000]);
  child.addEvent('second', {}, [nowSec - 5, 300_000_500]);
  child.addEvent('third', { 'event.d': 0.25 }, [nowSec - 5, 300_001_000]);
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'downstream failed: 503' });
  child.end([nowSec - 5, 900_000_999]);
  const producer = tracer.startSpan(`producer ${label}`, { kind: SpanKind.PRODUCER, startTime: [nowSec - 4, 1] }, rootContext);
  producer.setStatus({ code: SpanStatusCode.OK });
  producer.end([nowSec - 4, 2]);
  root.end([nowSec - 4, 999_999_999]);
  const spans = memory.getFinishedSpans().slice();
  // forceFlush resolves after the exporter reported; a failed export surfaces as missing spans below.
  await provider.forceFlush();
  await provider.shutdown();
  return spans;
}

function randomHex(bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i++) out += Math.floor(Math.random() * 256).toString(16).padStart(2, '0');
  return /^0+$/.test(out) ? randomHex(bytes) : out;
}

async function readApiV3(traceId: string): Promise<NormSpan[]> {
  const res = await fetch(node.jaeger(`/api/v3/traces/${traceId}`));
  expect(res.status).toBe(200);
  const body = (await res.json()) as { result: unknown };
  return normalizeOtlp(body.result, true);
}

async function readTempoV2(traceId: string): Promise<NormSpan[]> {
  const res = await fetch(node.query(`/api/v2/traces/${traceId}`), { headers: { accept: 'application/protobuf' } });
  expect(res.status).toBe(200);
  const { TempoTraceByIDResponse } = otlpTypes();
  const decoded = TempoTraceByIDResponse.toObject(TempoTraceByIDResponse.decode(new Uint8Array(await res.arrayBuffer())), { longs: String, enums: Number }) as { trace?: unknown };
  return normalizeOtlp(decoded.trace, false);
}

interface V1Trace {
  traceID: string;
  spans: { traceID: string; spanID: string; operationName: string; startTime: number; duration: number; processID: string;
    references?: { refType: string; spanID: string }[]; tags: { key: string; type: string; value: unknown }[]; logs: { timestamp: number; fields: { key: string }[] }[] }[];
  processes: Record<string, { serviceName: string }>;
}

async function readJaegerV1(traceId: string): Promise<V1Trace> {
  const res = await fetch(node.jaeger(`/api/traces/${traceId}`));
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: V1Trace[] };
  expect(body.data).toHaveLength(1);
  return body.data[0]!;
}

async function expectEverywhere(expected: NormSpan[]): Promise<void> {
  const traceId = expected[0]!.traceId;
  expect(await readApiV3(traceId)).toEqual(expected);
  expect(await readTempoV2(traceId)).toEqual(expected);
  const v1 = await readJaegerV1(traceId);
  expect(v1.spans).toHaveLength(expected.length);
  for (const want of expected.map(expectedJaegerV1)) {
    const got = v1.spans.find((s) => s.spanID === want.spanID)!;
    expect(got).toBeDefined();
    expect(got.traceID.padStart(32, '0')).toBe(want.traceID);
    expect(got.operationName).toBe(want.operationName);
    expect(got.startTime).toBe(want.startTime);
    expect(Math.abs(got.duration - want.duration)).toBeLessThanOrEqual(1);
    expect(v1.processes[got.processID]!.serviceName).toBe(want.service);
    const tags = Object.fromEntries(got.tags.map((t) => [t.key, String(t.value)]));
    for (const [k, v] of Object.entries(want.scalarTags)) expect(tags[k], `tag ${k}`).toBe(v);
    expect(got.logs.length).toBe(want.eventNames.length);
  }
  const sent = expected.find((s) => s.parentSpanId && expected.some((p) => p.spanId === s.parentSpanId))!;
  const child = v1.spans.find((s) => s.spanID === sent.spanId)!;
  expect(child.references?.some((r) => r.refType === 'CHILD_OF' && r.spanID === sent.parentSpanId)).toBe(true);
}

describe('OpenTelemetry SDK round trip', () => {
  it('OTLP/gRPC exporter: every field comes back', async () => {
    const spans = await recordTrace('grpc', new GrpcExporter({ url: `http://127.0.0.1:${node.ports.grpc}` }));
    const expected = normalizeSdk(spans);
    expect(expected[0]!.droppedEventsCount + expected[1]!.droppedEventsCount + expected[2]!.droppedEventsCount).toBe(1);
    await expectEverywhere(expected);
  });

  it('OTLP/HTTP protobuf exporter: every field comes back', async () => {
    const spans = await recordTrace('proto', new ProtoExporter({ url: node.http('/v1/traces') }));
    await expectEverywhere(normalizeSdk(spans));
  });

  it('OTLP/HTTP JSON exporter: every field comes back', async () => {
    const spans = await recordTrace('json', new JsonExporter({ url: node.http('/v1/traces') }));
    await expectEverywhere(normalizeSdk(spans));
  });

  it('a hand-built request with bytes, kvlists, big int64, schema URLs and scope attributes round-trips over protobuf and JSON', async () => {
    for (const format of ['protobuf', 'json'] as const) {
      const request = fullRequest(format);
      const { ExportTraceServiceRequest } = otlpTypes();
      const message = ExportTraceServiceRequest.fromObject(request);
      const body = format === 'protobuf' ? Buffer.from(ExportTraceServiceRequest.encode(message).finish()) : JSON.stringify(toOtlpJson(request));
      const res = await fetch(node.http('/v1/traces'), { method: 'POST', headers: { 'content-type': format === 'protobuf' ? 'application/x-protobuf' : 'application/json' }, body });
      expect(res.status, await res.clone().text()).toBe(200);
      const expected = normalizeOtlp(ExportTraceServiceRequest.toObject(message, { longs: String, enums: Number }), false);
      expect(expected.length).toBe(2);
      await expectEverywhere(expected);
    }
  });
});

/** An ExportTraceServiceRequest (protobufjs object form) using every AnyValue type. */
function fullRequest(label: string): Record<string, unknown> {
  const traceId = Buffer.from(randomHex(16), 'hex');
  const rootId = Buffer.from(randomHex(8), 'hex');
  const kv = (key: string, value: Record<string, unknown>) => ({ key, value });
  return {
    resourceSpans: [{
      resource: { attributes: [kv('service.name', { stringValue: `full-${label}` }), kv('res.bytes', { bytesValue: Buffer.from([0, 1, 254, 255]) })], droppedAttributesCount: 2 },
      schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
      scopeSpans: [{
        scope: { name: 'full-scope', version: '9.9', attributes: [kv('scope.attr', { intValue: '-9007199254740993' })], droppedAttributesCount: 1 },
        schemaUrl: 'https://opentelemetry.io/schemas/1.20.0',
        spans: [
          {
            traceId, spanId: rootId, traceState: 'a=b', flags: 0x301, name: 'full root', kind: 2,
            startTimeUnixNano: String(BigInt(nowSec - 3) * 1_000_000_000n + 1n), endTimeUnixNano: String(BigInt(nowSec - 2) * 1_000_000_000n + 999n),
            attributes: [
              kv('big.int', { intValue: '9223372036854775807' }), kv('big.neg', { intValue: '-9223372036854775808' }), kv('beyond.2^53', { intValue: '9007199254740993' }),
              kv('double.whole', { doubleValue: 3 }), kv('double.tiny', { doubleValue: 5e-324 }), kv('bytes', { bytesValue: Buffer.from('hi\u0000there') }),
              kv('array.mixed', { arrayValue: { values: [{ stringValue: 'x' }, { intValue: '1' }, { boolValue: true }, { doubleValue: 1.5 }, { arrayValue: { values: [{ stringValue: 'nested' }] } }] } }),
              kv('kvlist', { kvlistValue: { values: [kv('inner.s', { stringValue: 'v' }), kv('inner.kv', { kvlistValue: { values: [kv('deep', { boolValue: false })] } })] } }),
              kv('empty.value', {}),
            ],
            droppedAttributesCount: 3,
            events: [{ timeUnixNano: String(BigInt(nowSec - 3) * 1_000_000_000n + 5n), name: 'evt', attributes: [kv('e.bytes', { bytesValue: Buffer.from([7]) })], droppedAttributesCount: 4 }],
            droppedEventsCount: 5,
            links: [{ traceId: Buffer.from(randomHex(16), 'hex'), spanId: Buffer.from(randomHex(8), 'hex'), traceState: 'l=1', attributes: [kv('l.kv', { kvlistValue: { values: [] } })], droppedAttributesCount: 6, flags: 0x100 }],
            droppedLinksCount: 7,
            status: { code: 2, message: 'bad things' },
          },
          {
            traceId, spanId: Buffer.from(randomHex(8), 'hex'), parentSpanId: rootId, name: '', kind: 0,
            startTimeUnixNano: String(BigInt(nowSec - 3) * 1_000_000_000n + 10n), endTimeUnixNano: String(BigInt(nowSec - 3) * 1_000_000_000n + 10n),
            status: {},
          },
        ],
      }],
    }],
  };
}

/** protobufjs object form → OTLP/JSON (hex ids, base64 bytes, int64 as strings), as the spec writes it. */
function toOtlpJson(value: unknown, key = ''): unknown {
  if (value instanceof Uint8Array) return ['traceId', 'spanId', 'parentSpanId'].includes(key) ? Buffer.from(value).toString('hex') : Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((v) => toOtlpJson(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toOtlpJson(v, k)]));
  return value;
}
