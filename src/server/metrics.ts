/**
 * Prometheus metrics of one node, on its own registry (several nodes can live in one process in tests).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../store/types.js';
import type { InflightLimiter } from './limits.js';

export type Transport = 'grpc' | 'http';
export type Signal = 'traces' | 'logs' | 'metrics';

export class NodeMetrics {
  readonly registry = new Registry();
  readonly spansReceived: Counter<'transport'>;
  readonly spansAccepted: Counter<'transport'>;
  readonly spansRejected: Counter<'transport' | 'reason'>;
  readonly requestsRejected: Counter<'transport' | 'signal' | 'reason'>;
  readonly ingestDuration: Histogram<'transport' | 'signal' | 'code'>;
  readonly httpDuration: Histogram<'server' | 'method' | 'route' | 'code'>;
  readonly undecodableTraces: Counter;

  constructor(store: () => Store | undefined, limiter: InflightLimiter) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.spansReceived = new Counter({ name: 'otlp_store_spans_received_total', help: 'Spans received in decodable trace requests', labelNames: ['transport'], registers });
    this.spansAccepted = new Counter({ name: 'otlp_store_spans_accepted_total', help: 'Spans stored durably and acknowledged', labelNames: ['transport'], registers });
    this.spansRejected = new Counter({
      name: 'otlp_store_spans_rejected_total',
      help: 'Spans not stored, by reason (invalid: failed validation; overloaded: pushed back; error: store failure)',
      labelNames: ['transport', 'reason'],
      registers,
    });
    this.requestsRejected = new Counter({
      name: 'otlp_store_requests_rejected_total',
      help: 'Ingest requests refused as a whole, by reason',
      labelNames: ['transport', 'signal', 'reason'],
      registers,
    });
    this.undecodableTraces = new Counter({
      name: 'otlp_store_query_undecodable_traces_total',
      help: 'Traces a search left out because their stored bytes could not be decoded',
      registers,
    });
    this.ingestDuration = new Histogram({
      name: 'otlp_store_ingest_request_duration_seconds',
      help: 'Ingest request latency from arrival to answer, per transport and signal',
      labelNames: ['transport', 'signal', 'code'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'otlp_store_http_request_duration_seconds',
      help: 'HTTP request latency per server, route and status code',
      labelNames: ['server', 'method', 'route', 'code'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    const storeGauge = (name: string, help: string, pick: (s: ReturnType<Store['stats']>) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const s = store();
          if (s) this.set(pick(s.stats()));
        },
      });
    };
    storeGauge('otlp_store_stored_spans', 'Spans held by the store', (s) => s.spans);
    storeGauge('otlp_store_stored_traces', 'Traces held by the store', (s) => s.traces);
    storeGauge('otlp_store_disk_bytes', 'Bytes the store uses on disk', (s) => s.diskBytes);
    storeGauge('otlp_store_memory_head_bytes', 'Bytes in the in-memory head', (s) => s.memoryHeadBytes);
    storeGauge('otlp_store_cache_entries', 'Entries in the trace / search cache', (s) => s.cacheEntries);
    storeGauge('otlp_store_cache_hits', 'Cache hits since start', (s) => s.cacheHits);
    storeGauge('otlp_store_cache_misses', 'Cache misses since start', (s) => s.cacheMisses);
    storeGauge('otlp_store_cache_hit_ratio', 'Cache hits / (hits + misses) since start; 0 before any lookup', (s) =>
      s.cacheHits + s.cacheMisses === 0 ? 0 : s.cacheHits / (s.cacheHits + s.cacheMisses),
    );
    storeGauge('otlp_store_queued_spans', 'Spans waiting in the store write queue', (s) => s.queuedSpans);
    new Gauge({ name: 'otlp_store_inflight_requests', help: 'Ingest requests being processed', registers, collect() { this.set(limiter.inflightRequests); } });
    new Gauge({ name: 'otlp_store_inflight_bytes', help: 'Decompressed ingest bytes being processed', registers, collect() { this.set(limiter.inflightBytes); } });
  }
}
