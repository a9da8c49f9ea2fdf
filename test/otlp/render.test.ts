/**
 * protobuf → JSON (src/otlp/render.ts over src/otlp/decode.ts) against protobufjs' own reading of
 * the same bytes, the reference: OTLP/JSON (hex ids, integer enums) and Tempo's JSON (base64 ids,
 * enum names), on the kitchen-sink request and on generated realistic ones.
 */
import { describe, expect, it } from 'vitest';
import { WireError } from '../../src/otlp/decode.js';
import { OtlpDecodeError } from '../../src/otlp/model.js';
import { otlpTypes } from '../../src/otlp/proto.js';
import { tracesDataToOtlpJson, tracesDataToTempoJson } from '../../src/otlp/render.js';
import { encodeObject, kitchenSinkObject } from './fixtures.js';
import { realisticRequest } from './generate.js';

/** protobufjs' rendering: int64 as strings, bytes base64, NaN/Infinity as strings, no defaults. */
function reference(bytes: Uint8Array, enums: typeof String | typeof Number): unknown[] {
  const t = otlpTypes().TracesData;
  const obj = t.toObject(t.decode(bytes), { longs: String, bytes: String, enums, defaults: false, json: true }) as { resourceSpans?: unknown[] };
  return obj.resourceSpans ?? [];
}

/** Our renderer writes `status: {}` on every span (as Tempo's non-nullable Status does); protobufjs leaves an unset one out. */
function withStatus(resourceSpans: unknown[]): unknown[] {
  return JSON.parse(JSON.stringify(resourceSpans), (_key, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value) && 'spanId' in value && 'startTimeUnixNano' in value && !('status' in value)) {
      return { ...(value as object), status: {} };
    }
    return value;
  }) as unknown[];
}

/** Span and link ids in hex, as OTLP/JSON writes them (protobufjs writes every bytes field base64). */
function idsToHex(resourceSpans: unknown[]): unknown[] {
  return JSON.parse(JSON.stringify(resourceSpans), (key, value: unknown) =>
    ['traceId', 'spanId', 'parentSpanId'].includes(key) && typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : value,
  ) as unknown[];
}

describe('TracesData → JSON equals protobufjs decoding', () => {
  const inputs: [string, Uint8Array][] = [
    ['kitchen sink', encodeObject(kitchenSinkObject())],
    ['realistic 1', realisticRequest(1, 20)],
    ['realistic 2', realisticRequest(2, 5)],
  ];

  for (const [name, bytes] of inputs) {
    it(`OTLP/JSON (hex ids, integer enums): ${name}`, () => {
      expect(tracesDataToOtlpJson(bytes).resourceSpans).toEqual(idsToHex(withStatus(reference(bytes, Number))));
    });

    it(`Tempo JSON (batches, base64 ids, enum names): ${name}`, () => {
      expect(tracesDataToTempoJson(bytes).batches).toEqual(withStatus(reference(bytes, String)));
      expect(tracesDataToTempoJson(bytes, 'resourceSpans').resourceSpans).toEqual(tracesDataToTempoJson(bytes).batches);
    });
  }

  it('renders empty bytes as no resource spans', () => {
    expect(tracesDataToOtlpJson(new Uint8Array(0))).toEqual({ resourceSpans: [] });
  });

  it('throws WireError, an OtlpDecodeError, on truncated bytes', () => {
    const bytes = encodeObject(kitchenSinkObject());
    const render = () => tracesDataToOtlpJson(bytes.subarray(0, bytes.length - 3));
    expect(render).toThrow(WireError);
    expect(render).toThrow(OtlpDecodeError);
  });
});
