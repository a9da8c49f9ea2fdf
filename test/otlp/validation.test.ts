import { describe, expect, it } from 'vitest';
import { encodeSpanBatch } from '../../src/otlp/batch.js';
import { OtlpDecodeError } from '../../src/otlp/model.js';
import { MAX_DEPTH, MAX_REJECT_MESSAGES, rejectionSummary, scanExportTraceRequest } from '../../src/otlp/scan.js';
import { decodeToPlain } from './fixtures.js';
import { bytesOf, cat, fixed32, fixed64, len, request, span, SPAN, str, tag, TRACE, varint, vint } from './wire.js';

function decodeError(bytes: Uint8Array): string {
  try {
    scanExportTraceRequest(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(OtlpDecodeError);
    return (err as Error).message;
  }
  throw new Error('expected an OtlpDecodeError');
}

describe('per-span validation', () => {
  it('rejects invalid spans one by one and keeps the valid ones', () => {
    const req = request([
      span({ name: 'good-1' }),
      span({ traceId: TRACE.subarray(0, 8) }),
      span({ traceId: new Uint8Array(16) }),
      span({ spanId: [] }),
      span({ spanId: new Uint8Array(8) }),
      span({ parent: [1, 2, 3, 4] }),
      span({ name: 'good-2', parent: SPAN }),
    ]);
    const { batch, rejected } = scanExportTraceRequest(req);
    expect(batch.spans.map((s) => s.name)).toEqual(['good-1', 'good-2']);
    expect(rejected.count).toBe(5);
    expect(rejected.messages).toEqual([
      'span 1 of scope 0 of resource 0: trace_id must be 16 bytes, got 8',
      'span 2 of scope 0 of resource 0: trace_id must not be all zeros',
      'span 3 of scope 0 of resource 0: span_id must be 8 bytes, got 0',
      'span 4 of scope 0 of resource 0: span_id must not be all zeros',
      'span 5 of scope 0 of resource 0: parent_span_id must be empty or 8 bytes, got 4',
    ]);
    expect(rejectionSummary(rejected)).toMatch(/^rejected 5 invalid spans: span 1 of scope 0/);
  });

  it('accepts what the spec does not call invalid: empty name, end before start, unknown kind, zero parent', () => {
    const req = request([
      cat(len(1, TRACE), len(2, SPAN), len(4, new Uint8Array(8)), vint(6, 99), fixed64(7, 20n), fixed64(8, 10n)),
      cat(len(1, TRACE), len(2, SPAN), vint(6, -1)),
    ]);
    const { batch, rejected } = scanExportTraceRequest(req);
    expect(rejected.count).toBe(0);
    expect(batch.spans[0]).toMatchObject({ name: '', kind: 99, startTimeUnixNano: 20n, endTimeUnixNano: 10n });
    expect(batch.spans[0]!.parentSpanId.length).toBe(0); // all-zero parent reads as a root
    expect(batch.spans[1]!.kind).toBe(-1); // a negative int32 enum is a 10-byte varint
  });

  it('bounds the number of messages but counts every rejection', () => {
    const bad = Array.from({ length: 50 }, () => span({ spanId: [1] }));
    const { batch, rejected } = scanExportTraceRequest(request([...bad, span()]));
    expect(batch.spans).toHaveLength(1);
    expect(rejected.count).toBe(50);
    expect(rejected.messages).toHaveLength(MAX_REJECT_MESSAGES + 1);
    expect(rejected.messages.at(-1)).toBe(`... and ${50 - MAX_REJECT_MESSAGES} more rejected spans`);
  });

  it('skips unknown fields of every wire type and keeps them in the span bytes', () => {
    const unknown = cat(
      vint(100, 5),
      tag(101, 1), new Uint8Array(8),
      len(102, [1, 2, 3]),
      tag(103, 5), new Uint8Array(4),
      tag(104, 3), vint(1, 7), len(2, [9]), tag(104, 4), // a group
    );
    const s = span({ extra: [unknown] });
    const req = cat(request([s]), unknown);
    const { batch } = scanExportTraceRequest(req);
    expect(batch.spans).toHaveLength(1);
    expect(Buffer.from(batch.spans[0]!.bytes).equals(Buffer.from(s))).toBe(true);
  });

  it('merges a resource field that appears twice, as protobuf does', () => {
    const r1 = len(1, len(1, str(1, 'a'), len(2, str(1, 'x'))));
    const r2 = len(1, len(1, str(1, 'service.name'), len(2, str(1, 'merged'))));
    const req = len(1, r1, r2, len(2, len(2, span())));
    const { batch } = scanExportTraceRequest(req);
    expect(batch.resources[0]!.serviceName).toBe('merged');
    expect(batch.resources[0]!.attributes.map((a) => a.key)).toEqual(['a', 'service.name']);
    const plain = decodeToPlain(encodeSpanBatch(batch)) as any;
    expect(plain.resourceSpans[0].resource.attributes).toHaveLength(2);
  });

  it('an empty body is an empty request', () => {
    const { batch, rejected } = scanExportTraceRequest(new Uint8Array(0));
    expect(batch.spans).toHaveLength(0);
    expect(rejected.count).toBe(0);
  });
});

describe('undecodable input names the problem', () => {
  it('truncated varint', () => {
    expect(decodeError(Uint8Array.from([0x0a, 0x80]))).toMatch(/ExportTraceServiceRequest\.resource_spans: truncated varint at byte offset 1/);
  });

  it('length past the end', () => {
    expect(decodeError(Uint8Array.from([0x0a, 0x05, 0x01]))).toMatch(/resource_spans: length 5 runs past the end of its message \(1 bytes left\) at byte offset 1/);
  });

  it('wrong wire type for a known field', () => {
    expect(decodeError(cat(vint(1, 1)))).toMatch(/wrong wire type varint \(expected len\) for field 1/);
    const req = request([cat(len(1, TRACE), len(2, SPAN), vint(7, 5))]);
    expect(decodeError(req)).toMatch(
      /resource_spans\[0\]\.scope_spans\[0\]\.spans\[0\]\.start_time_unix_nano: wrong wire type varint \(expected i64\) for field 7/,
    );
  });

  it('invalid UTF-8 in a string, whether extracted or only checked', () => {
    expect(decodeError(request([span({ extra: [len(5, [0xc3, 0x28])] })]))).toMatch(/spans\[0\]\.name: invalid UTF-8 in string/);
    const event = len(11, len(2, [0xff, 0xfe]));
    expect(decodeError(request([span({ extra: [event] })]))).toMatch(/spans\[0\]\.events\.name: invalid UTF-8/);
    const attr = len(9, str(1, 'k'), len(2, len(1, [0xe2, 0x82])));
    expect(decodeError(request([span({ extra: [attr] })]))).toMatch(/spans\[0\]\.attributes\.string_value: invalid UTF-8/);
  });

  it('truncated fixed64 and malformed nested messages', () => {
    const truncated = cat(len(1, TRACE), len(2, SPAN), tag(8, 1), [1, 2, 3]);
    expect(decodeError(request([truncated]))).toMatch(/spans\[0\]\.end_time_unix_nano: truncated fixed64/);
    const badLink = len(13, len(4, [0x0a, 0x09]));
    expect(decodeError(request([span({ extra: [badLink] })]))).toMatch(/spans\[0\]\.links\.attributes.*runs past the end/);
  });

  it('nesting deeper than the bound', () => {
    let value: Uint8Array = cat(str(1, 'leaf'));
    for (let i = 0; i < MAX_DEPTH + 5; i++) value = cat(len(5, len(1, value))); // AnyValue{array_value{values: AnyValue}}
    const attr = len(9, str(1, 'deep'), len(2, value));
    expect(decodeError(request([span({ extra: [attr] })]))).toMatch(/nested deeper than 64/);
  });

  it('field number 0, wire types 6 and 7, a stray end-group, an unterminated group', () => {
    expect(decodeError(Uint8Array.from([0x00, 0x01]))).toMatch(/invalid field number 0 at byte offset 0/);
    expect(decodeError(Uint8Array.from([0x0e]))).toMatch(/resource_spans: wrong wire type invalid wire type 6 \(expected len\)/);
    expect(decodeError(Uint8Array.from([0xa6, 0x01]))).toMatch(/field 20: unexpected invalid wire type 6/);
    expect(decodeError(Uint8Array.from([0xa7, 0x01]))).toMatch(/unexpected invalid wire type 7/);
    expect(decodeError(Uint8Array.from([0xa4, 0x01]))).toMatch(/unexpected end-group/);
    expect(decodeError(cat(tag(9, 3), vint(1, 1)))).toMatch(/unterminated group/);
  });

  it('a varint longer than 10 bytes', () => {
    expect(decodeError(cat(tag(20, 0), new Array(11).fill(0xff), [0x01]))).toMatch(/varint longer than 10 bytes/);
  });
});

describe('scalar edge cases', () => {
  it('attributes in unusual layouts read the same as in the common one', () => {
    const long = 'x'.repeat(300);
    const attrs = [
      len(9, len(2, str(1, 'after')), str(1, 'value-first')), // value before key
      len(9, str(1, 'k'.repeat(200)), len(2, str(1, 'long key'))), // 2-byte length
      len(9, str(1, 'long.value'), len(2, str(1, long))),
      len(9, str(1, 'unknown.inside'), len(2, vint(3, 5)), vint(7, 1)),
      len(9, str(1, 'bool.multibyte'), len(2, vint(2, 256))),
      len(9, str(1, 'last.wins'), len(2, str(1, 's'), vint(3, 9))),
      len(9, str(1, 'int.padded'), len(2, vint(3, 7), len(99, []))),
      len(9, str(1, 'plain'), len(2, str(1, 'p'))),
    ];
    const { batch } = scanExportTraceRequest(request([span({ extra: attrs })]));
    expect(batch.spans[0]!.attributes).toEqual([
      { key: 'value-first', value: 'after' },
      { key: 'k'.repeat(200), value: 'long key' },
      { key: 'long.value', value: long },
      { key: 'unknown.inside', value: 5 },
      { key: 'bool.multibyte', value: true },
      { key: 'last.wins', value: 9 },
      { key: 'int.padded', value: 7 },
      { key: 'plain', value: 'p' },
    ]);
  });

  it('int64 attribute values around 2^53 and negative ones come back exact', () => {
    const values = [0n, 1n, -1n, 2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n) + 1n, -(2n ** 53n), -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n), 4294967296n, -4294967296n];
    const attrs = values.map((v, i) => len(9, str(1, `v${i}`), len(2, vint(3, v))));
    const { batch } = scanExportTraceRequest(request([span({ extra: attrs })]));
    const got = batch.spans[0]!.attributes.map((a) => BigInt(a.value as number | bigint));
    expect(got).toEqual(values);
    for (const a of batch.spans[0]!.attributes) {
      const v = BigInt(a.value as number | bigint);
      const safe = v >= -(2n ** 53n) + 1n && v <= 2n ** 53n - 1n;
      expect(typeof a.value).toBe(safe ? 'number' : 'bigint');
    }
  });

  it('flags and times as fixed-width fields', () => {
    const s = cat(len(1, TRACE), len(2, SPAN), fixed32(16, 0x301), fixed64(7, 2n ** 64n - 1n));
    const { batch } = scanExportTraceRequest(request([s]));
    expect(batch.spans[0]!.startTimeUnixNano).toBe(2n ** 64n - 1n);
    expect(bytesOf('00').length).toBe(1);
    expect(varint(300)).toEqual([0xac, 0x02]);
  });
});
