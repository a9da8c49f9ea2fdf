/**
 * The in-memory shape of decoded OTLP trace data, shared by every module above `otlp/`.
 *
 * Spans are kept as the protobuf bytes that arrived (`bytes`), plus the few fields that routing,
 * storage and indexing need, extracted by a lazy scan. Nothing here is re-encoded field by field:
 * a stored trace is rebuilt by concatenating these slices into a TracesData message.
 */

/** A scalar attribute value as the index sees it. Arrays, kvlists and bytes are not indexed. */
export type AttrValue = string | number | boolean | bigint;

export interface IndexedAttribute {
  key: string;
  /** int64 values beyond 2^53 stay bigint; doubles are numbers (a double 3.0 stays a double: see `isDouble`). */
  value: AttrValue;
  /** true when the wire type was double_value (so 3.0 is not mistaken for int 3). */
  isDouble?: boolean;
}

/** One ResourceSpans' resource: the encoded `opentelemetry.proto.resource.v1.Resource` message. */
export interface ResourceRef {
  /** Encoded Resource message exactly as received (may be empty). */
  bytes: Uint8Array;
  /** ResourceSpans.schema_url */
  schemaUrl: string;
  /** Value of the `service.name` resource attribute, or '' when absent. */
  serviceName: string;
  /** Scalar resource attributes, for the index. */
  attributes: IndexedAttribute[];
}

/** One ScopeSpans' scope: the encoded `opentelemetry.proto.common.v1.InstrumentationScope` message. */
export interface ScopeRef {
  bytes: Uint8Array;
  /** ScopeSpans.schema_url */
  schemaUrl: string;
  name: string;
  version: string;
}

export interface SpanRecord {
  traceId: Uint8Array; // 16 bytes, non-zero
  spanId: Uint8Array; // 8 bytes, non-zero
  parentSpanId: Uint8Array; // 0 or 8 bytes
  name: string;
  kind: number; // SpanKind enum value
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  statusCode: number; // Status.code enum value
  statusMessage: string;
  /** Scalar span attributes, for the index. */
  attributes: IndexedAttribute[];
  /** Encoded Span message exactly as received. */
  bytes: Uint8Array;
  /** Index into SpanBatch.resources. */
  resource: number;
  /** Index into SpanBatch.scopes. */
  scope: number;
}

/**
 * A set of spans with their resources and scopes. Structurally a TracesData: it encodes to one
 * (`encodeSpanBatch`) and decodes from one (`decodeSpanBatch`), which is how batches travel
 * between nodes and into Raft log entries.
 */
export interface SpanBatch {
  resources: ResourceRef[];
  scopes: ScopeRef[];
  spans: SpanRecord[];
}

export interface RejectedSpans {
  count: number;
  /** Human-readable reasons, e.g. "span 3 of scope 0 of resource 1: trace_id must be 16 bytes, got 8". Bounded in length. */
  messages: string[];
}

export interface DecodedTraceRequest {
  batch: SpanBatch;
  rejected: RejectedSpans;
}

/** Thrown when a body cannot be decoded at all (→ 400 / INVALID_ARGUMENT). The message names the problem. */
export class OtlpDecodeError extends Error {
  override name = 'OtlpDecodeError';
}
