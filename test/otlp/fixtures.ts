/**
 * A "kitchen sink" ExportTraceServiceRequest that sets every field OTLP 1.x defines for traces,
 * as a protobufjs plain object (camelCase, bytes as Uint8Array, 64-bit values as decimal strings).
 */
import { otlpTypes } from '../../src/otlp/proto.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

export const IDS = {
  trace1: hex('5b8efff798038103d269b633813fc60c'),
  trace2: hex('0000000000000000d269b633813fc60c'),
  span1: hex('eee19b7ec3c1b173'),
  span2: hex('eee19b7ec3c1b174'),
  span3: hex('0102030405060708'),
  linkTrace: hex('11112222333344445555666677778888'),
  linkSpan: hex('9999aaaabbbbcccc'),
};

const everyValue = [
  { key: 'str', value: { stringValue: 'héllo ✓ 日本語 🚀' } },
  { key: 'empty.str', value: { stringValue: '' } },
  { key: 'bool.true', value: { boolValue: true } },
  { key: 'bool.false', value: { boolValue: false } },
  { key: 'int.zero', value: { intValue: '0' } },
  { key: 'int.small', value: { intValue: '42' } },
  { key: 'int.negative', value: { intValue: '-7' } },
  { key: 'int.beyond.2^53', value: { intValue: '9007199254740993' } },
  { key: 'int.min', value: { intValue: '-9223372036854775808' } },
  { key: 'int.max', value: { intValue: '9223372036854775807' } },
  { key: 'double', value: { doubleValue: 3.25 } },
  { key: 'double.integral', value: { doubleValue: 3 } },
  { key: 'double.negative.zero', value: { doubleValue: -0.5 } },
  { key: 'bytes', value: { bytesValue: new Uint8Array([0, 1, 2, 250, 255]) } },
  {
    key: 'array',
    value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }, { doubleValue: 1.5 }, { boolValue: true }, {}] } },
  },
  {
    key: 'kvlist',
    value: {
      kvlistValue: {
        values: [
          { key: 'inner', value: { stringValue: 'x' } },
          { key: 'nested', value: { kvlistValue: { values: [{ key: 'deep', value: { arrayValue: { values: [{ intValue: '-1' }] } } }] } } },
        ],
      },
    },
  },
  { key: 'empty.value', value: {} },
];

export function kitchenSinkObject(): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, ...everyValue],
          droppedAttributesCount: 3,
          entityRefs: [{ schemaUrl: 'https://opentelemetry.io/schemas/1.30.0', type: 'service', idKeys: ['service.name'], descriptionKeys: ['str'] }],
        },
        scopeSpans: [
          {
            scope: {
              name: 'io.example.tracer',
              version: '2.1.0',
              attributes: [{ key: 'scope.attr', value: { stringValue: 's' } }],
              droppedAttributesCount: 1,
            },
            spans: [
              {
                traceId: IDS.trace1,
                spanId: IDS.span1,
                traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
                parentSpanId: IDS.span3,
                flags: 0x301,
                name: 'GET /api/ünïcode',
                kind: 3,
                startTimeUnixNano: '1700000000123456789',
                endTimeUnixNano: '1700000000987654321',
                attributes: everyValue,
                droppedAttributesCount: 2,
                events: [
                  {
                    timeUnixNano: '1700000000500000000',
                    name: 'exception',
                    attributes: [{ key: 'exception.message', value: { stringValue: 'boom' } }],
                    droppedAttributesCount: 4,
                  },
                  { timeUnixNano: '1700000000600000000', name: 'no-attrs' },
                ],
                droppedEventsCount: 5,
                links: [
                  {
                    traceId: IDS.linkTrace,
                    spanId: IDS.linkSpan,
                    traceState: 'vendor=1',
                    attributes: [{ key: 'link.kind', value: { stringValue: 'follows' } }, { key: 'link.n', value: { intValue: '12345678901234567' } }],
                    droppedAttributesCount: 6,
                    flags: 0x101,
                  },
                ],
                droppedLinksCount: 7,
                status: { code: 2, message: 'upstream failed' },
              },
              {
                traceId: IDS.trace1,
                spanId: IDS.span3,
                name: 'root',
                kind: 2,
                startTimeUnixNano: '1700000000000000000',
                endTimeUnixNano: '1700000001000000000',
                status: { code: 1 },
              },
            ],
            schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
          },
        ],
        schemaUrl: 'https://opentelemetry.io/schemas/1.25.0',
      },
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'legacy-64bit' } }] },
        scopeSpans: [
          {
            scope: { name: 'jaeger-converter' },
            spans: [
              {
                traceId: IDS.trace2,
                spanId: IDS.span2,
                name: '',
                kind: 0,
                // end before start is "expected" not to happen, but it is not invalid
                startTimeUnixNano: '1700000002000000000',
                endTimeUnixNano: '1700000001000000000',
              },
            ],
          },
        ],
      },
    ],
  };
}

export function encodeObject(obj: Record<string, unknown>): Uint8Array {
  const T = otlpTypes().ExportTraceServiceRequest;
  const message = T.fromObject(obj);
  const err = T.verify(message);
  if (err) throw new Error('fixture is not a valid ExportTraceServiceRequest: ' + err);
  return T.encode(message).finish();
}

/** protobufjs's reading of an encoded TracesData, as comparable plain data. */
export function decodeToPlain(bytes: Uint8Array): unknown {
  const T = otlpTypes().TracesData;
  return T.toObject(T.decode(bytes), { longs: String, bytes: String, enums: Number, defaults: false, json: true });
}
