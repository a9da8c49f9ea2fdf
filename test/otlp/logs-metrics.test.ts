import { describe, expect, it } from 'vitest';
import { validateLogsRequest } from '../../src/otlp/logs.js';
import { validateMetricsRequest } from '../../src/otlp/metrics.js';
import { OtlpDecodeError } from '../../src/otlp/model.js';
import { otlpTypes } from '../../src/otlp/proto.js';

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

const logsObject = {
  resourceLogs: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
      scopeLogs: [
        {
          scope: { name: 's' },
          logRecords: [
            { timeUnixNano: '1700000000000000000', severityNumber: 9, severityText: 'INFO', body: { stringValue: 'hello' }, traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b173', eventName: 'e' },
            { observedTimeUnixNano: '1700000000000000001', body: { kvlistValue: { values: [{ key: 'k', value: { intValue: '1' } }] } } },
          ],
        },
      ],
    },
  ],
};

const metricsObject = {
  resourceMetrics: [
    {
      scopeMetrics: [
        {
          metrics: [
            { name: 'requests', sum: { dataPoints: [{ asInt: '5', timeUnixNano: '1' }, { asDouble: 1.5 }], aggregationTemporality: 2, isMonotonic: true } },
            { name: 'latency', histogram: { dataPoints: [{ count: '3', sum: 1.5, bucketCounts: ['1', '2'], explicitBounds: [0.5] }], aggregationTemporality: 1 } },
            { name: 'gauge', gauge: { dataPoints: [{ asDouble: 0.25, exemplars: [{ asInt: '1', traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b173' }] }] } },
            { name: 'exp', exponentialHistogram: { dataPoints: [{ count: '1', scale: -2, positive: { offset: -1, bucketCounts: ['1'] } }] } },
            { name: 'summary', summary: { dataPoints: [{ count: '1', sum: 2, quantileValues: [{ quantile: 0.5, value: 2 }] }] } },
          ],
        },
      ],
    },
  ],
};

describe('logs', () => {
  it('accepts valid JSON and protobuf and counts log records', () => {
    expect(validateLogsRequest(json(logsObject), 'json')).toEqual({ resources: 1, items: 2 });
    const T = otlpTypes().ExportLogsServiceRequest;
    const pb = T.encode(T.fromObject({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: 5 }] }] }] })).finish();
    expect(validateLogsRequest(pb, 'protobuf')).toEqual({ resources: 1, items: 1 });
  });

  it('rejects undecodable bodies and bad ids with a named problem', () => {
    expect(() => validateLogsRequest(Uint8Array.from([0x0a, 0x05, 0x01]), 'protobuf')).toThrow(OtlpDecodeError);
    const badId = structuredClone(logsObject);
    badId.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.traceId = 'abcd';
    expect(() => validateLogsRequest(json(badId), 'json')).toThrow(/log_records\[0\]\.trace_id: must be empty or 16 bytes, got 2/);
    expect(() => validateLogsRequest(json({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: 'LOUD' }] }] }] }), 'json')).toThrow(
      /resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.severityNumber/,
    );
  });
});

describe('metrics', () => {
  it('accepts every metric type and counts data points', () => {
    expect(validateMetricsRequest(json(metricsObject), 'json')).toEqual({ resources: 1, items: 6 });
  });

  it('rejects bad input with a named problem', () => {
    expect(() => validateMetricsRequest(Uint8Array.from([0x0a, 0x80]), 'protobuf')).toThrow(OtlpDecodeError);
    const two = { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'x', gauge: {}, sum: {} }] }] }] };
    expect(() => validateMetricsRequest(json(two), 'json')).toThrow(/metrics\[0\]\.sum: oneof data is already set by gauge/);
    expect(() => validateMetricsRequest(json({ resourceMetrics: {} }), 'json')).toThrow(/resourceMetrics: expected an array/);
  });
});

describe('undecodable logs / metrics protobuf bodies name the field that failed', () => {
  it('a length running past its message is reported with its path', () => {
    // resource_logs[0] { resource { attributes[0]: length 9 with 1 byte left } }
    expect(() => validateLogsRequest(Uint8Array.from([0x0a, 0x05, 0x0a, 0x03, 0x0a, 0x09, 0x01]), 'protobuf')).toThrow(
      /^ExportLogsServiceRequest\.resourceLogs\[0\]\.resource\.attributes\[0\]: length 9 runs past the end/,
    );
    // resource_metrics[0] { scope_metrics[0] { metrics[0] { name: truncated varint length } } }
    expect(() => validateMetricsRequest(Uint8Array.from([0x0a, 0x06, 0x12, 0x04, 0x12, 0x02, 0x0a, 0x80]), 'protobuf')).toThrow(
      /^ExportMetricsServiceRequest\.resourceMetrics\[0\]\.scopeMetrics\[0\]\.metrics\[0\]\.name: /,
    );
  });
});
