/**
 * Sealed blocks. A seal turns the memory head of one tenant into an immutable block:
 *   blocks/<id>.dat  one record per trace (its deduplicated spans as an encoded TracesData), traces in
 *                    search order: start time descending, then trace id ascending;
 *   blocks/<id>.dir  one fixed-size entry per trace in the same order (the ordinal);
 *   LevelDB          T keys (tenant, trace id, block) → location, for trace-by-id;
 *                    P keys (block, term) → ordinals, the inverted index for search;
 *                    B key (block) → BlockMeta (time and ingest ranges, bloom, tag summary).
 * Retention drops a whole block: two files and three key ranges.
 */
import type { AttrValue, IndexedAttribute, ResourceRef } from '../otlp/model.js';
import { Bloom } from './bloom.js';
import type { HeadTrace } from './head.js';
import { attrKeyPrefix, canonicalValue, nameTerm, serviceTerm, statusTerm, tagValueOf, valueIndexable } from './terms.js';
import { sizeTracesData, writeTracesData, type SizedTracesData } from '../otlp/assemble.js';
import { compareBytes, groupParts, type SpanPart } from './trace-merge.js';
import type { TagValue } from './types.js';

export const DIR_ENTRY_BYTES = 56;
export const FLAG_SPLIT = 1; // this trace may have spans in an older block: search must not prune it locally
export const SPLIT_POSTING = '\u0001split';

/** Bounds of the per-block tag summary and index, so one noisy attribute cannot blow them up. */
export interface BlockLimits {
  /** Distinct values of one attribute key in one block beyond which the key is not indexed. */
  maxIndexedValuesPerKey: number;
  /** Values kept per key for tag-value autocomplete. */
  maxTagValuesPerKey: number;
  maxOperations: number;
}

export interface BlockMeta {
  id: number;
  tenant: string;
  minStartNs: bigint;
  maxStartNs: bigint;
  maxEndNs: bigint;
  minIngestMs: number;
  maxIngestMs: number;
  traceCount: number;
  spanCount: number;
  dataBytes: number;
  /** attrKeyPrefix strings of keys with too many distinct values to index in this block. */
  unindexedKeys: string[];
  /** Shards whose data here was replaced by a restore: invisible. */
  excludedShards: number[];
  bloom: Uint8Array;
  /** Probes of the bloom filter (absent in blocks written before it was recorded: 11). */
  bloomProbes?: number;
  spanTags: Record<string, TagValue[]>;
  resourceTags: Record<string, TagValue[]>;
  services: string[];
  operations: Array<[service: string, name: string, kind: number]>;
}

export interface DirEntry {
  traceId: Uint8Array;
  startNs: bigint;
  endNs: bigint;
  offset: number;
  /** Bytes of the record (an encoded TracesData). */
  length: number;
  shard: number;
  flags: number;
}

export function readDirEntry(dir: Buffer, ordinal: number): DirEntry {
  const p = ordinal * DIR_ENTRY_BYTES;
  return {
    traceId: dir.subarray(p, p + 16),
    startNs: dir.readBigUInt64LE(p + 16),
    endNs: dir.readBigUInt64LE(p + 24),
    offset: dir.readUInt32LE(p + 32) + dir.readUInt32LE(p + 36) * 2 ** 32,
    length: dir.readUInt32LE(p + 40),
    shard: dir.readUInt32LE(p + 48),
    flags: dir.readUInt32LE(p + 52),
  };
}

function writeDirEntry(dir: Buffer, ordinal: number, e: DirEntry): void {
  const p = ordinal * DIR_ENTRY_BYTES;
  dir.set(e.traceId, p);
  dir.writeBigUInt64LE(e.startNs, p + 16);
  dir.writeBigUInt64LE(e.endNs, p + 24);
  dir.writeUInt32LE(e.offset % 2 ** 32, p + 32);
  dir.writeUInt32LE(Math.floor(e.offset / 2 ** 32), p + 36);
  dir.writeUInt32LE(e.length, p + 40);
  dir.writeUInt32LE(0, p + 44); // reserved
  dir.writeUInt32LE(e.shard, p + 48);
  dir.writeUInt32LE(e.flags, p + 52);
}

// ---- LevelDB keys -------------------------------------------------------------------------------

const textEncoder = new TextEncoder();

const tenantBytesCache = new Map<string, Uint8Array>();
const MAX_CACHED_TENANTS = 4096;

/** UTF-8 of a tenant id, cached: a seal builds one key per trace and tenants are few. */
export function tenantBytes(tenant: string): Uint8Array {
  let b = tenantBytesCache.get(tenant);
  if (b) return b;
  b = textEncoder.encode(tenant);
  if (b.length === 0 || b.length > 255) throw new RangeError(`tenant id must be 1..255 bytes, got ${b.length}`);
  if (tenantBytesCache.size < MAX_CACHED_TENANTS) tenantBytesCache.set(tenant, b);
  return b;
}

/** 'T' tenantLength tenant traceId(16) blockId(u32 BE). */
export function traceKey(tenant: string, traceId: Uint8Array, blockId: number): Buffer {
  const t = tenantBytes(tenant);
  const k = Buffer.allocUnsafe(2 + t.length + traceId.length + 4);
  k[0] = 0x54;
  k[1] = t.length;
  k.set(t, 2);
  k.set(traceId, 2 + t.length);
  k.writeUInt32BE(blockId, 2 + t.length + traceId.length);
  return k;
}

export function encodeLocation(e: DirEntry, ordinal: number): Buffer {
  const v = Buffer.allocUnsafe(16);
  v.writeUInt32LE(e.offset % 2 ** 32, 0);
  v.writeUInt32LE(Math.floor(e.offset / 2 ** 32), 4);
  v.writeUInt32LE(e.length, 8);
  v.writeUInt32LE(ordinal, 12);
  return v;
}

export function decodeLocation(v: Buffer): { offset: number; length: number; ordinal: number } {
  return {
    offset: v.readUInt32LE(0) + v.readUInt32LE(4) * 2 ** 32,
    length: v.readUInt32LE(8),
    ordinal: v.readUInt32LE(12),
  };
}

/** 'P' blockId(u32 BE) term. */
export function postingKey(blockId: number, term: string): Buffer {
  const t = Buffer.from(term, 'utf8');
  const k = Buffer.allocUnsafe(5 + t.length);
  k[0] = 0x50;
  k.writeUInt32BE(blockId, 1);
  k.set(t, 5);
  return k;
}

export function postingRange(blockId: number): { gte: Buffer; lt: Buffer } {
  const gte = Buffer.from([0x50, 0, 0, 0, 0]);
  gte.writeUInt32BE(blockId, 1);
  // every term key of the block is > gte; the first key of the next block id bounds them
  const next = Buffer.from([0x50, 0, 0, 0, 0]);
  next.writeUInt32BE(blockId + 1, 1);
  return { gte, lt: next };
}

export function metaKey(blockId: number): Buffer {
  const k = Buffer.from([0x42, 0, 0, 0, 0]);
  k.writeUInt32BE(blockId, 1);
  return k;
}
export const META_RANGE = { gte: Buffer.from([0x42]), lt: Buffer.from([0x43]) };
export const CHECKPOINT_KEY = Buffer.from('Mcheckpoint');
export const SHARDS_KEY = Buffer.from('Mshards');

export function encodePostings(ordinals: number[]): Buffer {
  const b = Buffer.allocUnsafe(ordinals.length * 4);
  for (let i = 0; i < ordinals.length; i++) b.writeUInt32LE(ordinals[i]!, i * 4);
  return b;
}

// ---- building ---------------------------------------------------------------------------------

export interface BuiltBlock {
  meta: BlockMeta;
  data: Uint8Array[];
  dir: Buffer;
  /** term → ordinals (ascending); keys of unindexed attributes already removed. */
  postings: Map<string, number[]>;
}

export function compareTraces(aStart: bigint, aId: Uint8Array, bStart: bigint, bId: Uint8Array): number {
  if (aStart !== bStart) return aStart > bStart ? -1 : 1;
  return compareBytes(aId, bId);
}

function pushOrdinal(list: number[], ordinal: number): void {
  if (list[list.length - 1] !== ordinal) list.push(ordinal);
}

/** Values of one attribute key in one block: raw value → ordinals (raw values avoid building a term string per span). */
interface KeyValues {
  values: Map<AttrValue, { ordinals: number[]; tag: TagValue }>;
  /** Too many distinct values: not indexed in this block (tag autocomplete keeps the first ones). */
  overflow: boolean;
}

class AttrIndex {
  readonly keys = new Map<string, KeyValues>();
  constructor(private readonly limits: BlockLimits) {}
  add(a: IndexedAttribute, ordinal: number): void {
    if (!valueIndexable(a.value)) return;
    let kv = this.keys.get(a.key);
    if (!kv) {
      kv = { values: new Map(), overflow: false };
      this.keys.set(a.key, kv);
    }
    const entry = kv.values.get(a.value);
    if (entry) {
      if (!kv.overflow) pushOrdinal(entry.ordinals, ordinal);
      return;
    }
    if (kv.values.size >= this.limits.maxIndexedValuesPerKey) {
      kv.overflow = true;
      return;
    }
    if (kv.overflow) return;
    kv.values.set(a.value, { ordinals: [ordinal], tag: tagValueOf(a) });
  }
  /** Adds this scope's postings (values with the same canonical form merged) and returns unindexed key prefixes. */
  emit(scope: 's' | 'r', postings: Map<string, number[]>): { unindexed: string[]; tags: Record<string, TagValue[]> } {
    const unindexed: string[] = [];
    const tags: Record<string, TagValue[]> = {};
    for (const [key, kv] of this.keys) {
      const tagList: TagValue[] = [];
      for (const { tag } of kv.values.values()) {
        if (tagList.length >= this.limits.maxTagValuesPerKey) break;
        tagList.push(tag);
      }
      tags[key] = tagList;
      const prefix = attrKeyPrefix(scope, key);
      if (kv.overflow) {
        unindexed.push(prefix);
        continue;
      }
      for (const [value, { ordinals }] of kv.values) {
        const term = prefix + canonicalValue(value);
        const existing = postings.get(term);
        if (!existing) postings.set(term, ordinals);
        else postings.set(term, [...new Set([...existing, ...ordinals])].sort((x, y) => x - y));
      }
    }
    return { unindexed, tags };
  }
}

/** A seal runs on the event loop beside the writers: it pauses this often so acknowledgements keep flowing. */
const YIELD_EVERY_TRACES = 1000;
function yieldToWriters(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function postTerm(map: Map<string, number[]>, term: string, ordinal: number): void {
  const list = map.get(term);
  if (list) pushOrdinal(list, ordinal);
  else map.set(term, [ordinal]);
}

/**
 * Builds one block from the head traces of one tenant. `olderHas` says whether an older block of
 * this tenant holds the trace (so the new part is flagged split).
 */
export async function buildBlock(
  id: number,
  tenant: string,
  traces: HeadTrace[],
  ingest: { minMs: number; maxMs: number },
  limits: BlockLimits,
  olderHas: (traceId: Uint8Array) => boolean,
): Promise<BuiltBlock> {
  if (traces.length === 0) throw new Error('buildBlock: no traces');
  const sorted = traces.slice().sort((a, b) => compareTraces(a.startNs, a.traceId, b.startNs, b.traceId));
  const dir = Buffer.alloc(sorted.length * DIR_ENTRY_BYTES);
  const bloom = Bloom.forKeys(sorted.length);
  const spanAttrs = new AttrIndex(limits);
  const resourceAttrs = new AttrIndex(limits);
  const names = new Map<string, number[]>();
  const services = new Map<string, number[]>();
  const statuses = new Map<number, number[]>();
  const split: number[] = [];
  const operations = new Map<string, Map<string, Set<number>>>();
  let operationCount = 0;
  let offset = 0;
  let spanCount = 0;
  let maxEndNs = 0n;

  // Pass 1 sizes every record so pass 2 writes the whole data file into one buffer.
  const sized = new Array<SizedTracesData>(sorted.length);
  const partsOf = new Array<SpanPart[]>(sorted.length);
  let dataBytes = 0;
  for (let ordinal = 0; ordinal < sorted.length; ordinal++) {
    if (ordinal % YIELD_EVERY_TRACES === YIELD_EVERY_TRACES - 1) await yieldToWriters();
    const parts = (partsOf[ordinal] = sorted[ordinal]!.spans); // frozen: never changes again
    sized[ordinal] = sizeTracesData(groupParts(parts, true)); // unique by span id already
    dataBytes += sized[ordinal]!.total;
  }
  const dataBuf = Buffer.allocUnsafe(dataBytes);
  for (let ordinal = 0; ordinal < sorted.length; ordinal++) {
    if (ordinal % YIELD_EVERY_TRACES === YIELD_EVERY_TRACES - 1) await yieldToWriters();
    const t = sorted[ordinal]!;
    const parts = partsOf[ordinal]!;
    const length = sized[ordinal]!.total;
    if (writeTracesData(sized[ordinal]!, dataBuf, offset) !== offset + length) throw new Error('buildBlock: record size mismatch');
    let flags = 0;
    if (olderHas(t.traceId)) {
      flags |= FLAG_SPLIT;
      split.push(ordinal);
    }
    writeDirEntry(dir, ordinal, { traceId: t.traceId, startNs: t.startNs, endNs: t.endNs, offset, length, shard: t.shard, flags });
    offset += length;
    bloom.add(t.traceId);
    if (t.endNs > maxEndNs) maxEndNs = t.endNs;
    let lastRes: ResourceRef | undefined;
    const seenRes = new Set<ResourceRef>();
    for (const { rec, res } of parts) {
      if (res !== lastRes && !seenRes.has(res)) {
        seenRes.add(res);
        for (const a of res.attributes) resourceAttrs.add(a, ordinal);
        postTerm(services, res.serviceName, ordinal);
      }
      lastRes = res;
      postTerm(names, rec.name, ordinal);
      const sl = statuses.get(rec.statusCode);
      if (sl) pushOrdinal(sl, ordinal);
      else statuses.set(rec.statusCode, [ordinal]);
      for (const a of rec.attributes) spanAttrs.add(a, ordinal);
      let byName = operations.get(res.serviceName);
      if (!byName) { byName = new Map(); operations.set(res.serviceName, byName); }
      let kinds = byName.get(rec.name);
      if (!kinds) { kinds = new Set(); byName.set(rec.name, kinds); }
      if (!kinds.has(rec.kind) && operationCount < limits.maxOperations) { kinds.add(rec.kind); operationCount++; }
    }
    spanCount += parts.length;
  }
  const postings = new Map<string, number[]>();
  for (const [name, ords] of names) postings.set(nameTerm(name), ords);
  for (const [svc, ords] of services) postings.set(serviceTerm(svc), ords);
  for (const [code, ords] of statuses) postings.set(statusTerm(code), ords);
  if (split.length) postings.set(SPLIT_POSTING, split);
  const spanEmit = spanAttrs.emit('s', postings);
  const resourceEmit = resourceAttrs.emit('r', postings);
  const ops: Array<[string, string, number]> = [];
  for (const [svc, byName] of operations) for (const [name, kinds] of byName) for (const k of kinds) ops.push([svc, name, k]);
  const meta: BlockMeta = {
    id, tenant,
    minStartNs: sorted[sorted.length - 1]!.startNs,
    maxStartNs: sorted[0]!.startNs,
    maxEndNs,
    minIngestMs: ingest.minMs, maxIngestMs: ingest.maxMs,
    traceCount: sorted.length, spanCount, dataBytes: offset + dir.length,
    unindexedKeys: [...spanEmit.unindexed, ...resourceEmit.unindexed], excludedShards: [], bloom: bloom.bits, bloomProbes: bloom.probes,
    spanTags: spanEmit.tags, resourceTags: resourceEmit.tags,
    services: [...services.keys()], operations: ops,
  };
  if (offset !== dataBytes) throw new Error(`buildBlock: wrote ${offset} of ${dataBytes} bytes`);
  return { meta, data: [dataBuf], dir, postings };
}
