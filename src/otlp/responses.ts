/**
 * Export responses and errors, in the protobuf and JSON forms OTLP/HTTP and OTLP/gRPC use.
 *
 * Success: Export{Trace,Logs,Metrics}ServiceResponse, with partial_success only when something
 * was rejected (an empty response means full success; the spec says not to set partial_success
 * otherwise). Failure: google.rpc.Status {code, message, details} — the body of a 4xx/5xx OTLP/HTTP
 * response, and the status of a failed gRPC call. JSON forms follow proto3 JSON (int64 as a
 * string, lowerCamelCase).
 */
import type protobuf from 'protobufjs';
import type { RejectedSpans } from './model.js';
import { otlpTypes } from './proto.js';
import { rejectionSummary } from './scan.js';
import type { OtlpSignal } from './json.js';

/** gRPC status codes used by the receivers (google.rpc.Code). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** Upper bound on error_message length, so a response stays small whatever was rejected. */
export const MAX_ERROR_MESSAGE_CHARS = 4096;

export interface PartialSuccess {
  /** Spans, log records or data points rejected. */
  rejected: number;
  errorMessage: string;
}

const REJECTED_FIELD: Record<OtlpSignal, string> = {
  traces: 'rejectedSpans',
  logs: 'rejectedLogRecords',
  metrics: 'rejectedDataPoints',
};

function responseType(signal: OtlpSignal): protobuf.Type {
  const t = otlpTypes();
  return signal === 'traces' ? t.ExportTraceServiceResponse : signal === 'logs' ? t.ExportLogsServiceResponse : t.ExportMetricsServiceResponse;
}

function clip(message: string): string {
  return message.length > MAX_ERROR_MESSAGE_CHARS ? message.slice(0, MAX_ERROR_MESSAGE_CHARS - 3) + '...' : message;
}

/** partial_success from the scanner's rejections (undefined when nothing was rejected). */
export function partialSuccessOf(rejected: RejectedSpans): PartialSuccess | undefined {
  if (rejected.count === 0) return undefined;
  return { rejected: rejected.count, errorMessage: rejectionSummary(rejected) };
}

/** The JSON object of an Export*ServiceResponse ({} for full success). */
export function exportResponseJson(signal: OtlpSignal, partial?: PartialSuccess): Record<string, unknown> {
  if (!partial) return {};
  const body: Record<string, unknown> = {};
  // proto3 JSON: int64 as a decimal string; zero / empty fields omitted.
  if (partial.rejected !== 0) body[REJECTED_FIELD[signal]] = String(partial.rejected);
  if (partial.errorMessage) body.errorMessage = clip(partial.errorMessage);
  return { partialSuccess: body };
}

/** Full success encodes to zero bytes: shared, not built by protobufjs on every request. */
const EMPTY_RESPONSE = new Uint8Array(0);

/** The protobuf bytes of an Export*ServiceResponse (empty for full success). */
export function encodeExportResponse(signal: OtlpSignal, partial?: PartialSuccess): Uint8Array {
  if (!partial) return EMPTY_RESPONSE;
  const type = responseType(signal);
  const obj = { partialSuccess: { [REJECTED_FIELD[signal]]: partial.rejected, errorMessage: clip(partial.errorMessage) } };
  return type.encode(type.fromObject(obj)).finish();
}

/** google.rpc.Status as protobuf bytes (no details, or a RetryInfo when retryAfterMs is given). */
export function encodeRpcStatus(code: number, message: string, retryAfterMs?: number): Uint8Array {
  const t = otlpTypes();
  const details = retryAfterMs === undefined ? [] : [{ type_url: RETRY_INFO_TYPE_URL, value: encodeRetryInfo(retryAfterMs) }];
  return t.RpcStatus.encode(t.RpcStatus.fromObject({ code, message: clip(message), details })).finish();
}

export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/** google.rpc.RetryInfo {retry_delay} as protobuf bytes (for gRPC status details too). */
export function encodeRetryInfo(retryAfterMs: number): Uint8Array {
  const ms = Math.max(0, Math.round(retryAfterMs));
  const t = otlpTypes();
  return t.RetryInfo.encode(
    t.RetryInfo.fromObject({ retryDelay: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 } }),
  ).finish();
}

/** google.rpc.Status in proto3 JSON form. */
export function rpcStatusJson(code: number, message: string, retryAfterMs?: number): Record<string, unknown> {
  const details: Record<string, unknown>[] = [];
  if (retryAfterMs !== undefined) {
    const ms = Math.max(0, Math.round(retryAfterMs));
    details.push({ '@type': RETRY_INFO_TYPE_URL, retryDelay: `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s` });
  }
  return { code, message: clip(message), details };
}

/** Decodes a google.rpc.Status (for clients and tests). */
export function decodeRpcStatus(bytes: Uint8Array): { code: number; message: string } {
  const t = otlpTypes().RpcStatus;
  const obj = t.toObject(t.decode(bytes), { defaults: true }) as { code: number; message: string };
  return { code: obj.code, message: obj.message };
}
