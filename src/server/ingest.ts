/**
 * The receiver-independent part of ingest: decode and validate a body, write the good spans to the
 * store, and classify every failure once, so the HTTP and gRPC receivers only translate outcomes
 * into their own status codes.
 */
import type { Logger } from 'pino';
import type { DecodedTraceRequest, RejectedSpans } from '../otlp/model.js';
import { OtlpDecodeError } from '../otlp/model.js';
import { GrpcCode } from '../otlp/responses.js';
import { StoreOverloadedError, type Store } from '../store/types.js';
import { BadEncodingError, BodyTooLargeError, UnsupportedContentTypeError, UnsupportedEncodingError } from './body.js';
import { WRITE_CONSISTENCY_LEVELS, type NodeConfig, type WriteConsistency } from './config.js';
import { NodeBusyError, type InflightLimiter } from './limits.js';
import type { NodeMetrics, Signal, Transport } from './metrics.js';
import { InvalidTenantError } from './tenant.js';

import type { BodyFormat } from './body.js';
export type { BodyFormat };

/** What the receivers need from otlp/: decoders, validators and response encoders. */
export interface OtlpCodec {
  /** Throws OtlpDecodeError when the body cannot be decoded at all. */
  decodeTraces(body: Uint8Array, format: BodyFormat): DecodedTraceRequest;
  /** Throws OtlpDecodeError naming the problem when the body is not a valid export request. */
  validateLogs(body: Uint8Array, format: BodyFormat): void;
  validateMetrics(body: Uint8Array, format: BodyFormat): void;
  /** Export*ServiceResponse, with partial_success {rejected count, message} when rejected.count > 0. */
  encodeExportResponse(signal: Signal, format: BodyFormat, rejected: RejectedSpans): Uint8Array | string;
  /** google.rpc.Status; retryAfterMs adds a google.rpc.RetryInfo detail. */
  encodeStatus(format: BodyFormat, code: number, message: string, retryAfterMs?: number): Uint8Array | string;
}

export class InvalidConsistencyError extends Error {
  override name = 'InvalidConsistencyError';
}
export class SignalNotImplementedError extends Error {
  override name = 'SignalNotImplementedError';
}

export function parseWriteConsistency(value: string | string[] | undefined, fallback: WriteConsistency): WriteConsistency {
  if (value === undefined) return fallback;
  const text = (Array.isArray(value) ? value.join(',') : value).trim().toLowerCase();
  if ((WRITE_CONSISTENCY_LEVELS as readonly string[]).includes(text)) return text as WriteConsistency;
  throw new InvalidConsistencyError(`X-Consistency "${text.slice(0, 40)}" is not one of ${WRITE_CONSISTENCY_LEVELS.join(', ')}`);
}

export interface Failure {
  http: number;
  grpc: number;
  message: string;
  /** label for otlp_store_requests_rejected_total */
  reason: string;
  retryAfterMs?: number;
}

/** Maps any error thrown while handling an ingest request to what the client is told. */
export function classifyFailure(err: unknown): Failure {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof OtlpDecodeError) return { http: 400, grpc: GrpcCode.INVALID_ARGUMENT, message, reason: 'undecodable' };
  if (err instanceof BadEncodingError) return { http: 400, grpc: GrpcCode.INVALID_ARGUMENT, message, reason: 'bad_encoding' };
  if (err instanceof InvalidTenantError) return { http: 400, grpc: GrpcCode.INVALID_ARGUMENT, message, reason: 'bad_tenant' };
  if (err instanceof InvalidConsistencyError) return { http: 400, grpc: GrpcCode.INVALID_ARGUMENT, message, reason: 'bad_consistency' };
  // Both 415s carry INVALID_ARGUMENT: the request is malformed for this endpoint (UNIMPLEMENTED would
  // say the method is missing). The OTLP spec only fixes the HTTP status, 415.
  if (err instanceof UnsupportedEncodingError) return { http: 415, grpc: GrpcCode.INVALID_ARGUMENT, message, reason: 'unsupported_encoding' };
  if (err instanceof UnsupportedContentTypeError) return { http: 415, grpc: GrpcCode.INVALID_ARGUMENT, message, reason: 'unsupported_content_type' };
  if (err instanceof BodyTooLargeError) return { http: 413, grpc: GrpcCode.RESOURCE_EXHAUSTED, message, reason: 'too_large' };
  if (err instanceof SignalNotImplementedError) return { http: 501, grpc: GrpcCode.UNIMPLEMENTED, message, reason: 'not_implemented' };
  if (err instanceof StoreOverloadedError) {
    return { http: 429, grpc: GrpcCode.UNAVAILABLE, message, reason: 'overloaded', retryAfterMs: Math.max(1000, err.retryAfterMs) };
  }
  if (err instanceof NodeBusyError) {
    return { http: err.unavailable ? 503 : 429, grpc: GrpcCode.UNAVAILABLE, message, reason: err.unavailable ? 'shutting_down' : 'overloaded', retryAfterMs: Math.max(1000, err.retryAfterMs) };
  }
  return { http: 500, grpc: GrpcCode.INTERNAL, message: `internal error: ${message}`, reason: 'internal' };
}

/** Retry-After in whole seconds, at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** What both receivers (HTTP and gRPC) are built from. */
export interface ReceiverDeps {
  config: NodeConfig;
  pipeline: IngestPipeline;
  limiter: InflightLimiter;
  metrics: NodeMetrics;
  logger: Logger;
  /** false once shutdown has begun: new requests get 503 / UNAVAILABLE. */
  accepting: () => boolean;
}

export class IngestPipeline {
  constructor(
    private readonly store: Store,
    readonly codec: OtlpCodec,
    private readonly metrics: NodeMetrics,
  ) {}

  /** Decodes, stores the valid spans, and returns what was rejected. Throws on whole-request failures. */
  async traces(transport: Transport, tenant: string, body: Uint8Array, format: BodyFormat): Promise<RejectedSpans> {
    const decoded = this.codec.decodeTraces(body, format);
    const valid = decoded.batch.spans.length;
    this.metrics.spansReceived.inc({ transport }, valid + decoded.rejected.count);
    if (decoded.rejected.count > 0) this.metrics.spansRejected.inc({ transport, reason: 'invalid' }, decoded.rejected.count);
    if (valid > 0) {
      try {
        await this.store.write(tenant, decoded.batch);
      } catch (err) {
        this.metrics.spansRejected.inc({ transport, reason: err instanceof StoreOverloadedError ? 'overloaded' : 'error' }, valid);
        throw err;
      }
      this.metrics.spansAccepted.inc({ transport }, valid);
    }
    return decoded.rejected;
  }

  /** Logs and metrics are validated but not stored yet: never a 200 for data that would be dropped. */
  otherSignal(signal: Exclude<Signal, 'traces'>, body: Uint8Array, format: BodyFormat): never {
    if (signal === 'logs') this.codec.validateLogs(body, format);
    else this.codec.validateMetrics(body, format);
    throw new SignalNotImplementedError(`OTLP ${signal} are not stored by this version of otlp-store yet; the request was valid but nothing was kept`);
  }
}
