/**
 * The store's contract with the layers above it (query/, server/, and later cluster/ and raft apply).
 *
 * A node holds S shards; shard = shardOf(traceId, S). Each shard is a deterministic state machine:
 * `apply(batch)` adds spans (set union keyed by (tenant, traceId, spanId), so re-applying a batch
 * changes nothing), `snapshot()` streams its whole state, `restore()` replaces it. The same objects
 * serve the single node, the Raft apply path and the eventual path.
 */
import type { IndexedAttribute, SpanBatch } from '../otlp/model.js';

export interface RetentionConfig {
  /** Default retention for every tenant. */
  defaultMs: number;
  /** Per-tenant overrides. */
  perTenantMs?: Record<string, number>;
}

export interface StoreConfig {
  dataDir: string;
  /** Number of shards on this node (fixed for the life of the data directory). */
  shards: number;
  /** fsync before `apply` resolves (group commit). Only tests of non-durable paths turn it off. */
  fsync: boolean;
  retention: RetentionConfig;
  /** Byte budget of the assembled-trace / search-result cache. */
  cacheBytes: number;
  /** Byte budget of the in-memory head before it is flushed to disk segments. */
  memoryHeadBytes: number;
  /** Max spans waiting in the write queue; beyond it `apply` throws StoreOverloadedError. */
  maxQueuedSpans: number;
  /** Clock, injectable for tests of retention. Milliseconds since the epoch. */
  now?: () => number;
}

export interface TraceSummary {
  traceId: Uint8Array;
  /** Service and name of the root span (no parent); '' when the root has not arrived yet. */
  rootServiceName: string;
  rootSpanName: string;
  startTimeUnixNano: bigint; // earliest span start
  endTimeUnixNano: bigint; // latest span end
  spanCount: number;
  errorCount: number;
  /** Spans and errors per service (Tempo's serviceStats). */
  serviceStats: Record<string, { spanCount: number; errorCount: number }>;
}

/** What search sees of one span: enough to evaluate TraceQL without decoding the span bytes. */
export interface SpanView {
  spanId: Uint8Array;
  parentSpanId: Uint8Array;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  statusCode: number;
  statusMessage: string;
  serviceName: string;
  attributes: IndexedAttribute[];
  resourceAttributes: IndexedAttribute[];
}

export interface TraceView {
  summary: TraceSummary;
  spans: SpanView[];
}

/** An exact-match condition the index can use to prune traces. */
export type IndexTerm =
  | { kind: 'service'; value: string }
  | { kind: 'name'; value: string }
  | { kind: 'status'; value: number }
  | { kind: 'attr'; scope: 'span' | 'resource' | 'any'; key: string; value: string | number | boolean };

export interface CandidateQuery {
  tenant: string;
  /** Only traces overlapping [startNs, endNs] (inclusive). */
  startNs?: bigint;
  endNs?: bigint;
  /**
   * Every returned trace contains every one of these terms in some span (a conjunction used for
   * pruning). Traces returned may still fail the caller's full filter; the caller evaluates it.
   */
  requiredTerms?: IndexTerm[];
  minTraceDurationNs?: bigint;
  maxTraceDurationNs?: bigint;
}

export interface TagValue {
  type: 'string' | 'int' | 'double' | 'bool';
  value: string;
}

export interface StoreStats {
  spans: number;
  traces: number;
  diskBytes: number;
  memoryHeadBytes: number;
  cacheEntries: number;
  cacheHits: number;
  cacheMisses: number;
  queuedSpans: number;
}

/** The node-local store over all shards. */
export interface Store {
  open(): Promise<void>;
  close(): Promise<void>;

  /** Split by shard and apply; resolves when every span is durable (fsync'd when config.fsync). */
  write(tenant: string, batch: SpanBatch): Promise<void>;
  /** Apply to one shard (the Raft / replica apply path). Idempotent. */
  apply(shard: number, tenant: string, batch: SpanBatch): Promise<void>;

  /** All spans of a trace as an encoded TracesData, grouped by resource and scope, each span once; null if none. */
  getTrace(tenant: string, traceId: Uint8Array): Promise<Uint8Array | null>;
  /** Candidate traces, most recent first (start time desc, then trace id), deterministic. Lazy: stop iterating to stop work. */
  searchTraces(q: CandidateQuery): AsyncIterable<TraceView>;

  tagNames(tenant: string, range?: { startNs?: bigint; endNs?: bigint }): Promise<{ span: string[]; resource: string[] }>;
  tagValues(tenant: string, scope: 'span' | 'resource' | 'any', key: string, range?: { startNs?: bigint; endNs?: bigint }): Promise<TagValue[]>;
  services(tenant: string): Promise<string[]>;
  operations(tenant: string, service?: string): Promise<{ name: string; kind: number; service: string }[]>;

  /** Drop data older than each tenant's retention and reclaim its disk space. Returns spans dropped. */
  runRetention(): Promise<number>;

  snapshot(shard: number): AsyncIterable<Uint8Array>;
  restore(shard: number, chunks: AsyncIterable<Uint8Array>): Promise<void>;

  stats(): StoreStats;
}

/** Thrown by write/apply when the write queue is full (→ 429 / 503 with Retry-After). */
export class StoreOverloadedError extends Error {
  override name = 'StoreOverloadedError';
  constructor(message: string, readonly retryAfterMs: number) {
    super(message);
  }
}
