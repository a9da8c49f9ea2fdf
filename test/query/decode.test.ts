import { describe, expect, it } from 'vitest';
import { otlpTypes } from '../../src/otlp/index.js';
import { decodeTracesData, wrapAsField1 } from '../../src/otlp/decode.js';
import { resourceSpansJson, JAEGER_OTLP_JSON, TEMPO_OTLP_JSON } from '../../src/otlp/render.js';
import { encodeRequest, richTrace } from './fixtures.js';

/** protobufjs' own rendering of the same bytes, as the reference. */
function reference(bytes: Uint8Array, enums: typeof String | typeof Number): Record<string, unknown> {
  const t = otlpTypes().TracesData;
  return t.toObject(t.decode(bytes), { longs: String, bytes: String, enums, defaults: false }) as Record<string, unknown>;
}

/** protobufjs renders doubles as numbers and leaves out our always-present empty `status`. */
function normaliseStatus(rs: unknown): unknown {
  return JSON.parse(JSON.stringify(rs), (key, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value) && 'startTimeUnixNano' in value && !('status' in value)) {
      return { ...(value as object), status: {} };
    }
    return value;
  });
}

function base64ToHex(obj: unknown): unknown {
  return JSON.parse(JSON.stringify(obj), (key, value: unknown) =>
    ['traceId', 'spanId', 'parentSpanId'].includes(key) && typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : value,
  );
}

describe('TracesData decoder and OTLP JSON', () => {
  const bytes = encodeRequest(richTrace()); // ExportTraceServiceRequest is wire-identical to TracesData

  it('renders Tempo-style JSON equal to protobufjs (base64 ids, enum names, int64 strings)', () => {
    const ours = resourceSpansJson(decodeTracesData(bytes), TEMPO_OTLP_JSON);
    expect(ours).toEqual(normaliseStatus(reference(bytes, String).resourceSpans));
  });

  it('renders OTLP/JSON for Jaeger equal to protobufjs with hex ids and integer enums', () => {
    const ours = resourceSpansJson(decodeTracesData(bytes), JAEGER_OTLP_JSON);
    expect(ours).toEqual(base64ToHex(normaliseStatus(reference(bytes, Number).resourceSpans)));
  });

  it('keeps int64 beyond 2^53 and negative values exact', () => {
    const span = decodeTracesData(bytes)[0]!.scopeSpans[0]!.spans[0]!;
    expect(span.attributes.find((a) => a.key === 'big')!.value).toEqual({ kind: 'int', value: 9223372036854775807n });
    expect(span.attributes.find((a) => a.key === 'neg')!.value).toEqual({ kind: 'int', value: -42n });
    expect(span.flags).toBe(0x301);
  });

  it('wraps a Trace as field 1 of TraceByIDResponse', () => {
    const wrapped = wrapAsField1(bytes);
    const t = otlpTypes().TempoTraceByIDResponse;
    const decoded = t.toObject(t.decode(wrapped), { longs: String, bytes: String, defaults: false }) as { trace: { resourceSpans: unknown[] } };
    expect(decoded.trace.resourceSpans).toEqual(reference(bytes, Number).resourceSpans);
  });

  it('rejects truncated bytes instead of misreading them', () => {
    expect(() => decodeTracesData(bytes.subarray(0, bytes.length - 3))).toThrow(/truncated/);
  });
});
