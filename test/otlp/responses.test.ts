import { describe, expect, it } from 'vitest';
import { otlpTypes } from '../../src/otlp/proto.js';
import {
  decodeRpcStatus,
  encodeExportResponse,
  encodeRpcStatus,
  exportResponseJson,
  GrpcCode,
  MAX_ERROR_MESSAGE_CHARS,
  partialSuccessOf,
  RETRY_INFO_TYPE_URL,
  rpcStatusJson,
} from '../../src/otlp/responses.js';

describe('export responses', () => {
  it('full success is an empty message', () => {
    expect(encodeExportResponse('traces').length).toBe(0);
    expect(exportResponseJson('traces')).toEqual({});
    expect(partialSuccessOf({ count: 0, messages: [] })).toBeUndefined();
  });

  it('partial success carries the count and message, in protobuf and JSON', () => {
    const partial = partialSuccessOf({ count: 2, messages: ['span 1 ...: bad', 'span 2 ...: bad'] })!;
    expect(partial.errorMessage).toBe('rejected 2 invalid spans: span 1 ...: bad; span 2 ...: bad');
    const T = otlpTypes().ExportTraceServiceResponse;
    const decoded = T.toObject(T.decode(encodeExportResponse('traces', partial)), { longs: Number });
    expect(decoded).toEqual({ partialSuccess: { rejectedSpans: 2, errorMessage: partial.errorMessage } });
    expect(exportResponseJson('traces', partial)).toEqual({ partialSuccess: { rejectedSpans: '2', errorMessage: partial.errorMessage } });
  });

  it('logs and metrics name their counters as their protos do', () => {
    const L = otlpTypes().ExportLogsServiceResponse;
    const M = otlpTypes().ExportMetricsServiceResponse;
    const p = { rejected: 3, errorMessage: 'x' };
    expect(L.toObject(L.decode(encodeExportResponse('logs', p)), { longs: Number })).toEqual({ partialSuccess: { rejectedLogRecords: 3, errorMessage: 'x' } });
    expect(M.toObject(M.decode(encodeExportResponse('metrics', p)), { longs: Number })).toEqual({ partialSuccess: { rejectedDataPoints: 3, errorMessage: 'x' } });
    expect(exportResponseJson('metrics', p)).toEqual({ partialSuccess: { rejectedDataPoints: '3', errorMessage: 'x' } });
  });

  it('bounds the error message', () => {
    const long = { rejected: 1, errorMessage: 'x'.repeat(100_000) };
    const json = exportResponseJson('traces', long) as { partialSuccess: { errorMessage: string } };
    expect(json.partialSuccess.errorMessage.length).toBe(MAX_ERROR_MESSAGE_CHARS);
  });
});

describe('google.rpc.Status', () => {
  it('round-trips code and message', () => {
    expect(decodeRpcStatus(encodeRpcStatus(GrpcCode.INVALID_ARGUMENT, 'resource_spans: truncated varint'))).toEqual({
      code: 3,
      message: 'resource_spans: truncated varint',
    });
    expect(rpcStatusJson(GrpcCode.UNIMPLEMENTED, 'logs are not stored yet')).toEqual({ code: 12, message: 'logs are not stored yet', details: [] });
  });

  it('carries RetryInfo when asked', () => {
    const bytes = encodeRpcStatus(GrpcCode.UNAVAILABLE, 'busy', 2500);
    const t = otlpTypes();
    const status = t.RpcStatus.decode(bytes) as unknown as { details: { type_url?: string; typeUrl?: string; value: Uint8Array }[] };
    const detail = status.details[0]!;
    expect(detail.type_url ?? detail.typeUrl).toBe(RETRY_INFO_TYPE_URL);
    const retry = t.RetryInfo.toObject(t.RetryInfo.decode(detail.value), { longs: Number });
    expect(retry).toEqual({ retryDelay: { seconds: 2, nanos: 500_000_000 } });
    expect(rpcStatusJson(GrpcCode.UNAVAILABLE, 'busy', 2500).details).toEqual([{ '@type': RETRY_INFO_TYPE_URL, retryDelay: '2.5s' }]);
  });
});
