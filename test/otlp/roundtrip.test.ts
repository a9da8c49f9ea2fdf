import { describe, expect, it } from 'vitest';
import { decodeSpanBatch, encodeSpanBatch } from '../../src/otlp/batch.js';
import { toHex } from '../../src/otlp/ids.js';
import { otlpJsonToProtobuf } from '../../src/otlp/json.js';
import { tracesDataToOtlpJson, tracesDataToTempoJson } from '../../src/otlp/render.js';
import { scanExportTraceRequest } from '../../src/otlp/scan.js';
import { decodeToPlain, encodeObject, IDS, kitchenSinkObject } from './fixtures.js';
import { realisticRequest } from './generate.js';

describe('protobuf → scan → encodeSpanBatch', () => {
  const original = encodeObject(kitchenSinkObject());

  it('gives back every field exactly (protobufjs reads both the same)', () => {
    const { batch, rejected } = scanExportTraceRequest(original);
    expect(rejected.count).toBe(0);
    expect(batch.spans).toHaveLength(3);
    const reencoded = encodeSpanBatch(batch);
    expect(decodeToPlain(reencoded)).toEqual(decodeToPlain(original));
    // Same fields in the same order: the bytes are identical too.
    expect(Buffer.from(reencoded).equals(Buffer.from(original))).toBe(true);
  });

  it('extracts ids, name, kind, times, status, scalar attributes, service and scope', () => {
    const { batch } = scanExportTraceRequest(original);
    const [s0, s1, s2] = batch.spans;
    expect(toHex(s0!.traceId)).toBe(toHex(IDS.trace1));
    expect(toHex(s0!.spanId)).toBe(toHex(IDS.span1));
    expect(toHex(s0!.parentSpanId)).toBe(toHex(IDS.span3));
    expect(s0!.name).toBe('GET /api/ünïcode');
    expect(s0!.kind).toBe(3);
    expect(s0!.startTimeUnixNano).toBe(1700000000123456789n);
    expect(s0!.endTimeUnixNano).toBe(1700000000987654321n);
    expect(s0!.statusCode).toBe(2);
    expect(s0!.statusMessage).toBe('upstream failed');
    const attrs = Object.fromEntries(s0!.attributes.map((a) => [a.key, a]));
    expect(attrs['str']!.value).toBe('héllo ✓ 日本語 🚀');
    expect(attrs['empty.str']!.value).toBe('');
    expect(attrs['bool.true']!.value).toBe(true);
    expect(attrs['bool.false']!.value).toBe(false);
    expect(attrs['int.zero']!.value).toBe(0);
    expect(attrs['int.small']!.value).toBe(42);
    expect(attrs['int.negative']!.value).toBe(-7);
    expect(attrs['int.beyond.2^53']!.value).toBe(9007199254740993n);
    expect(attrs['int.min']!.value).toBe(-9223372036854775808n);
    expect(attrs['int.max']!.value).toBe(9223372036854775807n);
    expect(attrs['double']).toEqual({ key: 'double', value: 3.25, isDouble: true });
    expect(attrs['double.integral']).toEqual({ key: 'double.integral', value: 3, isDouble: true });
    // Only scalars are indexed.
    expect(attrs['bytes']).toBeUndefined();
    expect(attrs['array']).toBeUndefined();
    expect(attrs['kvlist']).toBeUndefined();
    expect(attrs['empty.value']).toBeUndefined();
    expect(s1!.parentSpanId.length).toBe(0);
    expect(s1!.statusCode).toBe(1);
    expect(s2!.name).toBe('');
    expect(s2!.endTimeUnixNano < s2!.startTimeUnixNano).toBe(true);

    expect(batch.resources.map((r) => r.serviceName)).toEqual(['checkout', 'legacy-64bit']);
    expect(batch.resources[0]!.schemaUrl).toBe('https://opentelemetry.io/schemas/1.25.0');
    expect(batch.resources[0]!.attributes.find((a) => a.key === 'int.beyond.2^53')!.value).toBe(9007199254740993n);
    expect(batch.scopes[0]).toMatchObject({ name: 'io.example.tracer', version: '2.1.0', schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' });
    expect(batch.scopes[1]).toMatchObject({ name: 'jaeger-converter', version: '', schemaUrl: '' });
    expect(s0!.resource).toBe(0);
    expect(s2!.resource).toBe(1);
    expect(s2!.scope).toBe(1);
  });

  it('decodeSpanBatch(encodeSpanBatch(b)) is b', () => {
    const { batch } = scanExportTraceRequest(original);
    const again = decodeSpanBatch(encodeSpanBatch(batch));
    const strip = (b: typeof batch) => ({
      resources: b.resources.map((r) => ({ ...r, bytes: toHex(r.bytes) })),
      scopes: b.scopes.map((s) => ({ ...s, bytes: toHex(s.bytes) })),
      spans: b.spans.map((s) => ({ ...s, traceId: toHex(s.traceId), spanId: toHex(s.spanId), parentSpanId: toHex(s.parentSpanId), bytes: toHex(s.bytes) })),
    });
    expect(strip(again)).toEqual(strip(batch));
  });

  it('slices point into the input without copying', () => {
    const { batch } = scanExportTraceRequest(original);
    expect(batch.spans[0]!.bytes.buffer).toBe(original.buffer);
    expect(batch.resources[0]!.bytes.buffer).toBe(original.buffer);
  });

  it('round-trips realistic generated requests', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const req = realisticRequest(seed);
      const { batch, rejected } = scanExportTraceRequest(req);
      expect(rejected.count).toBe(0);
      expect(batch.spans).toHaveLength(100);
      expect(decodeToPlain(encodeSpanBatch(batch))).toEqual(decodeToPlain(req));
    }
  });
});

describe('OTLP/JSON', () => {
  const original = encodeObject(kitchenSinkObject());

  it('JSON → protobuf → JSON is equal, and equals the protobuf original byte for byte', () => {
    const json = tracesDataToOtlpJson(original, { ids: 'hex' });
    const text = JSON.stringify(json);
    const pb = otlpJsonToProtobuf(text);
    expect(tracesDataToOtlpJson(pb, { ids: 'hex' })).toEqual(json);
    // Byte equality needs JSON in field-number order without the `status: {}` our renderer writes
    // on every span (as Tempo does): protobufjs' reading of the original, ids in hex, is exactly that.
    const reference = JSON.stringify(decodeToPlain(original), (key, value: unknown) =>
      ['traceId', 'spanId', 'parentSpanId'].includes(key) && typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : value,
    );
    expect(Buffer.from(otlpJsonToProtobuf(reference)).equals(Buffer.from(original))).toBe(true);
  });

  it('writes OTLP/JSON as the spec says: hex ids, int64 strings, integer enums, base64 bytes', () => {
    const json = tracesDataToOtlpJson(original, { ids: 'hex' }) as any;
    const span = json.resourceSpans[0].scopeSpans[0].spans[0];
    expect(span.traceId).toBe('5b8efff798038103d269b633813fc60c');
    expect(span.spanId).toBe('eee19b7ec3c1b173');
    expect(span.parentSpanId).toBe('0102030405060708');
    expect(span.kind).toBe(3);
    expect(span.flags).toBe(0x301);
    expect(span.startTimeUnixNano).toBe('1700000000123456789');
    expect(span.status).toEqual({ code: 2, message: 'upstream failed' });
    expect(span.links[0].traceId).toBe('11112222333344445555666677778888');
    expect(span.links[0].spanId).toBe('9999aaaabbbbcccc');
    const attr = (k: string) => span.attributes.find((a: any) => a.key === k).value;
    expect(attr('int.beyond.2^53')).toEqual({ intValue: '9007199254740993' });
    expect(attr('bytes')).toEqual({ bytesValue: 'AAEC+v8=' });
    expect(attr('bool.false')).toEqual({ boolValue: false });
    expect(attr('int.zero')).toEqual({ intValue: '0' });
    expect(attr('empty.str')).toEqual({ stringValue: '' });
    expect(json.resourceSpans[1].scopeSpans[0].spans[0].kind).toBeUndefined();
  });

  it('accepts snake_case names, enum names, numbers beyond 2^53, upper-case hex, nulls and unknown fields', () => {
    const text = `{"resource_spans":[{"resource":{"attributes":[{"key":"service.name","value":{"string_value":"svc"}}],"future_field":{"x":[1,{"y":null}]}},
      "scope_spans":[{"scope":{"name":"s"},"spans":[{"trace_id":"5B8EFFF798038103D269B633813FC60C","span_id":"EEE19B7EC3C1B173",
      "parent_span_id":"","name":"n","kind":"SPAN_KIND_CLIENT","start_time_unix_nano":1700000000123456789,
      "end_time_unix_nano":"1700000000987654321","attributes":[{"key":"big","value":{"int_value":9223372036854775807}},
      {"key":"neg","value":{"intValue":"-9223372036854775808"}},{"key":"b64","value":{"bytes_value":"-_8"}},
      {"key":"nan","value":{"doubleValue":"NaN"}},{"key":"exp","value":{"intValue":1.5e3}}],
      "status":{"code":"STATUS_CODE_ERROR","message":null},"unknownEverywhere":{"deep":[[[]]]}}]}]}],"extra":true}`;
    const { batch, rejected } = scanExportTraceRequest(otlpJsonToProtobuf(text));
    expect(rejected.count).toBe(0);
    const span = batch.spans[0]!;
    expect(toHex(span.traceId)).toBe('5b8efff798038103d269b633813fc60c');
    expect(span.kind).toBe(3);
    expect(span.statusCode).toBe(2);
    expect(span.startTimeUnixNano).toBe(1700000000123456789n);
    const attrs = Object.fromEntries(span.attributes.map((a) => [a.key, a.value]));
    expect(attrs['big']).toBe(9223372036854775807n);
    expect(attrs['neg']).toBe(-9223372036854775808n);
    expect(attrs['exp']).toBe(1500);
    expect(Number.isNaN(attrs['nan'])).toBe(true);
    expect(batch.resources[0]!.serviceName).toBe('svc');
    const json = tracesDataToOtlpJson(encodeSpanBatch(batch)) as any;
    const b64 = json.resourceSpans[0].scopeSpans[0].spans[0].attributes.find((a: any) => a.key === 'b64');
    expect(b64.value.bytesValue).toBe('+/8=');
  });

  it('names the JSON path of a problem', () => {
    const bad = (spanJson: string) => () =>
      otlpJsonToProtobuf(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",${spanJson}}]}]}]}`);
    expect(bad('"startTimeUnixNano":"1.5"')).toThrow(/resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.startTimeUnixNano: not an integer/);
    expect(bad('"spanId":"xyz"')).toThrow(/spans\[0\]\.spanId: not a hex id/);
    expect(bad('"kind":"SPAN_KIND_NOPE"')).toThrow(/spans\[0\]\.kind: expected an enum integer/);
    expect(bad('"attributes":{}')).toThrow(/spans\[0\]\.attributes: expected an array/);
    expect(bad('"attributes":[{"key":"k","value":{"stringValue":"a","intValue":"1"}}]')).toThrow(/attributes\[0\]\.value\.intValue: oneof value is already set/);
    expect(bad('"droppedAttributesCount":-1')).toThrow(/droppedAttributesCount: -1 is out of range for uint32/);
    expect(bad('"endTimeUnixNano":"18446744073709551616"')).toThrow(/out of range for fixed64/);
    expect(bad('"name":5')).toThrow(/spans\[0\]\.name: expected a string/);
    expect(() => otlpJsonToProtobuf('{"resourceSpans":[')).toThrow(/invalid JSON/);
    expect(() => otlpJsonToProtobuf('[1]')).toThrow(/expected an object/);
    expect(() => otlpJsonToProtobuf(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(/not valid UTF-8/);
  });

  it('refuses absurd nesting with an OtlpDecodeError, never a stack overflow', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(() => otlpJsonToProtobuf(`{"resourceSpans":[${deep}]}`)).toThrow(/resourceSpans\[0\]: expected an object \(ResourceSpans\), got an array of 1/);
    expect(() => otlpJsonToProtobuf(`{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":{"intValue":123456789012345678901234}}]}}],"x":${deep}}`)).toThrow(
      /invalid JSON: nesting deeper than 512/,
    );
    let value = '{"stringValue":"leaf"}';
    for (let i = 0; i < 200; i++) value = `{"kvlistValue":{"values":[{"key":"k","value":${value}}]}}`;
    expect(() => otlpJsonToProtobuf(`{"resourceSpans":[{"resource":{"attributes":[{"key":"deep","value":${value}}]}}]}`)).toThrow(
      /messages nested deeper than 128/,
    );
    // unknown fields are not walked, however deep
    expect(otlpJsonToProtobuf(`{"unknown":${deep}}`).length).toBe(0);
  });

  it("writes Tempo's v1 JSON: batches, base64 ids, enum names, int64 strings", () => {
    const json = tracesDataToTempoJson(original) as any;
    const span = json.batches[0].scopeSpans[0].spans[0];
    expect(span.traceId).toBe(Buffer.from(IDS.trace1).toString('base64'));
    expect(span.spanId).toBe(Buffer.from(IDS.span1).toString('base64'));
    expect(span.kind).toBe('SPAN_KIND_CLIENT');
    expect(span.status).toEqual({ code: 'STATUS_CODE_ERROR', message: 'upstream failed' });
    expect(span.startTimeUnixNano).toBe('1700000000123456789');
    expect(json.batches[0].resource.attributes[0]).toEqual({ key: 'service.name', value: { stringValue: 'checkout' } });
  });
});
