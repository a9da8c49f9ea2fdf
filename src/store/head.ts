/**
 * The memory head: every span written since the last seal, by tenant and trace, readable at once.
 * Every span here is also in a WAL segment newer than the last sealed checkpoint.
 */
import type { SpanBatch } from '../otlp/model.js';
import { shardOf } from './sharding.js';
import { idKey, type SpanPart } from './trace-merge.js';

export interface HeadTrace {
  traceId: Uint8Array;
  shard: number;
  /** Unique by span id. Most traces are small: a linear id check beats a map and a hex key per span. */
  spans: SpanPart[];
  /** Span ids (hex) once the trace outgrows the linear check. */
  index?: Set<string>;
  startNs: bigint;
  endNs: bigint;
  /** Memo for search: some block with id ≤ blocksCheckedUpTo may hold this trace (Bloom). */
  maybeInBlocks?: boolean;
  blocksCheckedUpTo?: number;
}

const LINEAR_SPANS = 32;

function sameId(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hasSpan(t: HeadTrace, spanId: Uint8Array): boolean {
  if (t.index) return t.index.has(idKey(spanId));
  for (const p of t.spans) if (sameId(p.rec.spanId, spanId)) return true;
  return false;
}

/** Rough cost in memory of a span beyond its bytes: the record, its attributes, map entries. */
const SPAN_OVERHEAD_BYTES = 320;
const ATTR_OVERHEAD_BYTES = 80;

export class Head {
  readonly tenants = new Map<string, Map<string, HeadTrace>>();
  bytes = 0;
  spanCount = 0;
  traceCount = 0;
  minIngestMs = Number.POSITIVE_INFINITY;
  maxIngestMs = Number.NEGATIVE_INFINITY;

  constructor(readonly shards: number) {}

  /** Adds spans not already present; returns how many. `changed` hears every trace the batch touches (cache invalidation). */
  insert(tenant: string, batch: SpanBatch, ingestMs: number, changed?: (traceKey: string) => void): number {
    let traces = this.tenants.get(tenant);
    if (!traces) { traces = new Map(); this.tenants.set(tenant, traces); }
    let added = 0;
    let lastTrace: HeadTrace | undefined;
    for (const rec of batch.spans) {
      const res = batch.resources[rec.resource];
      const scope = batch.scopes[rec.scope];
      if (!res || !scope) throw new Error(`span refers to resource ${rec.resource} / scope ${rec.scope} outside the batch`);
      let t: HeadTrace | undefined;
      if (lastTrace && sameId(lastTrace.traceId, rec.traceId)) t = lastTrace; // spans of a trace usually arrive together
      else {
        const tk = idKey(rec.traceId);
        t = traces.get(tk);
        if (!t) {
          t = { traceId: rec.traceId, shard: shardOf(rec.traceId, this.shards), spans: [], startNs: rec.startTimeUnixNano, endNs: rec.endTimeUnixNano };
          traces.set(tk, t);
          this.traceCount++;
        }
        changed?.(tk); // once per run of spans of one trace, not per span
        lastTrace = t;
      }
      if (hasSpan(t, rec.spanId)) continue;
      t.spans.push({ rec, res, scope });
      if (t.index) t.index.add(idKey(rec.spanId));
      else if (t.spans.length > LINEAR_SPANS) t.index = new Set(t.spans.map((p) => idKey(p.rec.spanId)));
      if (rec.startTimeUnixNano < t.startNs) t.startNs = rec.startTimeUnixNano;
      if (rec.endTimeUnixNano > t.endNs) t.endNs = rec.endTimeUnixNano;
      this.bytes += rec.bytes.length + SPAN_OVERHEAD_BYTES + ATTR_OVERHEAD_BYTES * rec.attributes.length;
      this.spanCount++;
      added++;
    }
    if (added > 0) {
      if (ingestMs < this.minIngestMs) this.minIngestMs = ingestMs;
      if (ingestMs > this.maxIngestMs) this.maxIngestMs = ingestMs;
    }
    return added;
  }

  get(tenant: string, traceKey: string): HeadTrace | undefined {
    return this.tenants.get(tenant)?.get(traceKey);
  }

  /** Drops every trace of a shard (restore replaces a shard's state). */
  dropShard(shard: number): void {
    for (const traces of this.tenants.values()) {
      for (const [k, t] of traces) {
        if (t.shard !== shard) continue;
        traces.delete(k);
        this.traceCount--;
        for (const p of t.spans.values()) {
          this.spanCount--;
          this.bytes -= p.rec.bytes.length + SPAN_OVERHEAD_BYTES + ATTR_OVERHEAD_BYTES * p.rec.attributes.length;
        }
      }
    }
  }

  get empty(): boolean {
    return this.spanCount === 0;
  }
}
