/**
 * Read paths over the tiers: a trace's parts (blocks, then heads), trace-by-id through the trace
 * cache, and the source a search merges over.
 */
import { LRUCache } from 'lru-cache';
import { decodeSpanBatch } from '../otlp/batch.js';
import type { BlockMeta } from './block.js';
import type { BlockSet } from './block-set.js';
import type { Head } from './head.js';
import type { SearchSource } from './search.js';
import { encodeTrace, idKey, partsOfBatch, type SpanPart } from './trace-merge.js';

/** Assembled trace-by-id answers, LRU by bytes, keyed by tenant + trace id. */
export class TraceCache {
  private readonly lru: LRUCache<string, Uint8Array>;
  hits = 0;
  misses = 0;
  /** Bumped on every head insert; a read that saw a different value does not fill the cache. */
  writeGeneration = 0;

  constructor(maxBytes: number) {
    this.lru = new LRUCache<string, Uint8Array>({ maxSize: Math.max(1, maxBytes), sizeCalculation: (v) => Math.max(1, v.length) });
  }

  get size(): number {
    return this.lru.size;
  }

  get(key: string): Uint8Array | undefined {
    return this.lru.get(key);
  }

  set(key: string, bytes: Uint8Array): void {
    this.lru.set(key, bytes);
  }

  /** Forgets one trace (a write to it). */
  invalidate(tenant: string, traceKey: string): void {
    this.lru.delete(tenant + '\0' + traceKey);
  }

  clear(): void {
    this.lru.clear();
  }
}

/**
 * Every stored part of a trace: blocks (oldest first) then the given heads. `visible` and `heads`
 * limit what counts (a search's or snapshot's view of the store). The caller takes `heads` before
 * any await: a seal that commits meanwhile moves the frozen head into a block this call may not
 * have located; the frozen head object itself still holds the spans.
 */
export async function traceParts(blocks: BlockSet, tenant: string, traceId: Uint8Array, visible: ReadonlyMap<number, BlockMeta>, heads: Head[]): Promise<SpanPart[]> {
  const parts: SpanPart[] = [];
  for (const loc of await blocks.locate(tenant, traceId, visible)) {
    const rec = await blocks.readRecord(loc.blockId, loc.offset, loc.length);
    if (rec) for (const p of partsOfBatch(decodeSpanBatch(rec))) parts.push(p);
  }
  const key = idKey(traceId);
  for (const h of heads) {
    const t = h.get(tenant, key);
    if (t) for (const p of t.spans.values()) parts.push(p);
  }
  return parts;
}

/** Trace by id as encoded TracesData, or null; `heads()` gives the heads at the time of the call. */
export async function readTrace(blocks: BlockSet, cache: TraceCache, heads: () => Head[], tenant: string, traceId: Uint8Array): Promise<Uint8Array | null> {
  if (traceId.length !== 16) return null;
  const key = tenant + '\0' + idKey(traceId);
  const cached = cache.get(key);
  if (cached) {
    cache.hits++;
    return cached;
  }
  cache.misses++;
  const generation = cache.writeGeneration;
  const key2 = idKey(traceId);
  const visibleHeads = heads();
  const inHead = visibleHeads.some((h) => h.get(tenant, key2) !== undefined);
  let bytes: Uint8Array | null = null;
  if (!inHead) {
    // The common case for older traces: one block record, already an encoded, deduplicated TracesData.
    const locs = await blocks.locate(tenant, traceId, blocks.metas);
    if (locs.length === 0) return null;
    if (locs.length === 1) bytes = await blocks.readRecord(locs[0]!.blockId, locs[0]!.offset, locs[0]!.length);
  }
  if (!bytes) {
    const parts = await traceParts(blocks, tenant, traceId, blocks.metas, visibleHeads);
    if (parts.length === 0) return null;
    bytes = encodeTrace(parts);
  }
  if (generation === cache.writeGeneration) cache.set(key, bytes);
  return bytes;
}

/** What a search of `tenant` merges over: the heads and the tenant's blocks as of now. */
export function searchSource(blocks: BlockSet, heads: Head[], tenant: string, shards: number): SearchSource {
  return {
    heads,
    blocks: new Map([...blocks.metas].filter(([, m]) => m.tenant === tenant)),
    blooms: blocks.blooms,
    loadDir: (m) => blocks.loadDir(m),
    postingsMany: (requests) => blocks.postingsMany(requests),
    readView: async (m, offset, length) => {
      const rec = await blocks.readRecord(m.id, offset, length);
      return rec ? partsOfBatch(decodeSpanBatch(rec)) : null;
    },
    traceParts: (t, traceId, visible, hs) => traceParts(blocks, t, traceId, visible, hs),
    shards,
  };
}
