/**
 * Binds the node to the real modules: otlp/ codecs, the store, and query/'s Tempo and Jaeger plugins.
 * The one place that knows their concrete exports.
 */
import {
  decodeTraceExport,
  encodeExportResponse,
  encodeRpcStatus,
  exportResponseJson,
  partialSuccessOf,
  rpcStatusJson,
  validateLogsRequest,
  validateMetricsRequest,
} from '../otlp/index.js';
import { jaegerApi } from '../query/jaeger.js';
import { tempoApi } from '../query/tempo.js';
import { TieredStore } from '../store/index.js';
import type { OtlpCodec } from './ingest.js';
import type { NodeComponents } from './node.js';

export const otlpCodec: OtlpCodec = {
  decodeTraces: (body, format) => decodeTraceExport(body, format),
  validateLogs: (body, format) => void validateLogsRequest(body, format),
  validateMetrics: (body, format) => void validateMetricsRequest(body, format),
  encodeExportResponse(signal, format, rejected) {
    const partial = partialSuccessOf(rejected);
    return format === 'json' ? JSON.stringify(exportResponseJson(signal, partial)) : encodeExportResponse(signal, partial);
  },
  encodeStatus(format, code, message, retryAfterMs) {
    return format === 'json' ? JSON.stringify(rpcStatusJson(code, message, retryAfterMs)) : encodeRpcStatus(code, message, retryAfterMs);
  },
};

export function realComponents(): NodeComponents {
  return {
    createStore: (config) => new TieredStore(config),
    codec: otlpCodec,
    tempoPlugin: tempoApi,
    jaegerPlugin: jaegerApi,
  };
}
