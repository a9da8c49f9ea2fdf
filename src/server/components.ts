/**
 * Binds the node to the real modules: otlp/ codecs, the store, and query/'s Tempo and Jaeger plugins.
 * The one place that knows their concrete exports.
 */
import { OtlpDecodeError } from '../otlp/model.js';
import { otlpTypes } from '../otlp/proto.js';
import { scanExportTraceRequest } from '../otlp/scan.js';
import { jaegerApi } from '../query/jaeger.js';
import { tempoApi } from '../query/tempo.js';
import { TieredStore } from '../store/index.js';
import type { BodyFormat, OtlpCodec } from './ingest.js';
import type { Signal } from './metrics.js';
import type { NodeComponents } from './node.js';

function notReady(what: string): never {
  throw new Error(`${what} is not wired yet`);
}

const codec: OtlpCodec = {
  decodeTraces(body: Uint8Array, format: BodyFormat) {
    if (format === 'json') throw new OtlpDecodeError('OTLP/JSON decoding is not wired yet');
    return scanExportTraceRequest(body);
  },
  validateLogs(body: Uint8Array, format: BodyFormat) {
    if (format === 'json') return notReady('OTLP/JSON logs validation');
    try {
      otlpTypes().ExportLogsServiceRequest.decode(body);
    } catch (err) {
      throw new OtlpDecodeError(`invalid ExportLogsServiceRequest: ${(err as Error).message}`);
    }
  },
  validateMetrics(body: Uint8Array, format: BodyFormat) {
    if (format === 'json') return notReady('OTLP/JSON metrics validation');
    try {
      otlpTypes().ExportMetricsServiceRequest.decode(body);
    } catch (err) {
      throw new OtlpDecodeError(`invalid ExportMetricsServiceRequest: ${(err as Error).message}`);
    }
  },
  encodeExportResponse(_signal: Signal, format: BodyFormat, rejected) {
    const t = otlpTypes().ExportTraceServiceResponse;
    const obj = rejected.count > 0 ? { partialSuccess: { rejectedSpans: rejected.count, errorMessage: rejected.messages.join('; ') } } : {};
    if (format === 'json') return JSON.stringify(obj);
    return t.encode(t.fromObject(obj)).finish();
  },
  encodeStatus(format: BodyFormat, code: number, message: string, retryAfterMs?: number) {
    const { RpcStatus, RetryInfo } = otlpTypes();
    const delay = retryAfterMs === undefined ? undefined : { seconds: Math.floor(retryAfterMs / 1000), nanos: (retryAfterMs % 1000) * 1e6 };
    if (format === 'json') {
      const details = delay ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterMs! / 1000}s` }] : [];
      return JSON.stringify({ code, message, details });
    }
    const details = delay ? [{ type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: RetryInfo.encode(RetryInfo.fromObject({ retryDelay: delay })).finish() }] : [];
    return RpcStatus.encode(RpcStatus.fromObject({ code, message, details })).finish();
  },
};

export function realComponents(): NodeComponents {
  return {
    createStore: (config) => new TieredStore(config),
    codec,
    tempoPlugin: tempoApi,
    jaegerPlugin: jaegerApi,
  };
}
