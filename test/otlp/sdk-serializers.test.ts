/**
 * Compatibility with what real clients send: spans recorded by the OpenTelemetry JS SDK,
 * serialized by its own OTLP serializers (the ones its protobuf and JSON exporters use), must scan
 * to the same spans in both formats, with every field as recorded.
 */
import { describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { encodeSpanBatch } from '../../src/otlp/batch.js';
import { toHex } from '../../src/otlp/ids.js';
import { otlpJsonToProtobuf } from '../../src/otlp/json.js';
import { scanExportTraceRequest } from '../../src/otlp/scan.js';
import { decodeToPlain } from './fixtures.js';

function recordSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'sdk-test', 'service.version': '9.9.9', 'host.cores': 2 }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('compat-tracer', '1.2.3');
  tracer.startActiveSpan('parent', { kind: SpanKind.SERVER, attributes: { 'http.route': '/x', big: 2 ** 40, ratio: 0.5, ok: true, list: ['a', 'b'] } }, (parent) => {
    const link: Link = { context: parent.spanContext(), attributes: { 'link.attr': 'l' } };
    const child = tracer.startSpan('child ✓', { kind: SpanKind.CLIENT, links: [link] }, trace.setSpan(ROOT_CONTEXT, parent));
    child.addEvent('retry', { attempt: 2 });
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'timeout' });
    child.end();
    parent.end();
  });
  return exporter.getFinishedSpans();
}

describe('OpenTelemetry JS SDK serializers', () => {
  const spans = recordSpans();
  const protobufBody = ProtobufTraceSerializer.serializeRequest(spans)!;
  const jsonBody = JsonTraceSerializer.serializeRequest(spans)!;

  it('protobuf and JSON bodies scan to the same spans', () => {
    const fromPb = scanExportTraceRequest(protobufBody);
    const fromJson = scanExportTraceRequest(otlpJsonToProtobuf(jsonBody));
    expect(fromPb.rejected.count).toBe(0);
    expect(fromJson.rejected.count).toBe(0);
    expect(fromPb.batch.spans).toHaveLength(2);
    expect(decodeToPlain(encodeSpanBatch(fromJson.batch))).toEqual(decodeToPlain(encodeSpanBatch(fromPb.batch)));
  });

  it('every recorded field comes through', () => {
    const { batch } = scanExportTraceRequest(protobufBody);
    const byName = Object.fromEntries(batch.spans.map((s) => [s.name, s]));
    for (const recorded of spans) {
      const scanned = byName[recorded.name]!;
      expect(toHex(scanned.traceId)).toBe(recorded.spanContext().traceId);
      expect(toHex(scanned.spanId)).toBe(recorded.spanContext().spanId);
      expect(toHex(scanned.parentSpanId)).toBe(recorded.parentSpanContext?.spanId ?? '');
      expect(scanned.kind).toBe(recorded.kind + 1); // API SpanKind.INTERNAL = 0 ↔ OTLP SPAN_KIND_INTERNAL = 1
      const [s, ns] = recorded.startTime;
      expect(scanned.startTimeUnixNano).toBe(BigInt(s) * 1_000_000_000n + BigInt(ns));
    }
    const parent = byName['parent']!;
    const attrs = Object.fromEntries(parent.attributes.map((a) => [a.key, a]));
    expect(attrs['http.route']!.value).toBe('/x');
    expect(attrs['big']!.value).toBe(2 ** 40);
    expect(attrs['ratio']).toEqual({ key: 'ratio', value: 0.5, isDouble: true });
    expect(attrs['ok']!.value).toBe(true);
    const child = byName['child ✓']!;
    expect(child.statusCode).toBe(2);
    expect(child.statusMessage).toBe('timeout');
    expect(batch.resources[child.resource]!.serviceName).toBe('sdk-test');
    expect(batch.scopes[child.scope]).toMatchObject({ name: 'compat-tracer', version: '1.2.3' });
    const plain = decodeToPlain(encodeSpanBatch({ ...batch, spans: [child] })) as any;
    const span = plain.resourceSpans[0].scopeSpans[0].spans[0];
    expect(span.events[0].name).toBe('retry');
    expect(span.links[0].attributes[0].key).toBe('link.attr');
  });
});
