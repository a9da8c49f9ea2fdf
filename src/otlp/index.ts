/** Public API of otlp/: OTLP wire formats (protobuf and JSON), validation, ids. */
export * from './model.js';
export { encodeTracesData, type ResourceGroup, type ScopeGroup } from './assemble.js';
export { scanExportTraceRequest, rejectionSummary, MAX_DEPTH, MAX_REJECT_MESSAGES } from './scan.js';
export { encodeSpanBatch, decodeSpanBatch, splitBatch, groupSpanBatch } from './batch.js';
export {
  otlpJsonToProtobuf,
  parseOtlpJsonBody,
  jsonValueToProtobuf,
  MAX_JSON_MESSAGE_DEPTH,
  type OtlpSignal,
} from './json.js';
export {
  decodeTracesData,
  wrapAsField1,
  WireError,
  type AnyValue,
  type KeyValue,
  type DecodedResource,
  type DecodedEntityRef,
  type DecodedScope,
  type DecodedEvent,
  type DecodedLink,
  type DecodedSpan,
  type DecodedScopeSpans,
  type DecodedResourceSpans,
} from './decode.js';
export {
  tracesDataToOtlpJson,
  tracesDataToTempoJson,
  resourceSpansJson,
  anyValueJson,
  keyValueJson,
  JAEGER_OTLP_JSON,
  TEMPO_OTLP_JSON,
  type OtlpJsonOptions,
} from './render.js';
export { JsonNumberText, parseJsonExact, MAX_JSON_DEPTH } from './json-parse.js';
export {
  GrpcCode,
  partialSuccessOf,
  exportResponseJson,
  encodeExportResponse,
  encodeRpcStatus,
  encodeRetryInfo,
  rpcStatusJson,
  decodeRpcStatus,
  RETRY_INFO_TYPE_URL,
  MAX_ERROR_MESSAGE_CHARS,
  type PartialSuccess,
} from './responses.js';
export { validateLogsRequest } from './logs.js';
export { validateMetricsRequest } from './metrics.js';
export type { ExportSummary } from './validate.js';
export * from './ids.js';
export { otlpTypes, protoDirectory, type OtlpTypes } from './proto.js';

import { otlpJsonToProtobuf as jsonToPb } from './json.js';
import type { DecodedTraceRequest } from './model.js';
import { scanExportTraceRequest as scan } from './scan.js';

/** An OTLP/HTTP or gRPC trace export body → valid spans + rejections (throws OtlpDecodeError). */
export function decodeTraceExport(body: Uint8Array, format: 'protobuf' | 'json'): DecodedTraceRequest {
  return scan(format === 'json' ? jsonToPb(body, 'traces') : body);
}
