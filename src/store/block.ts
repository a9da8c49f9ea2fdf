/**
 * Sealed blocks. A seal turns the memory head of one tenant into an immutable block:
 *   blocks/<id>.dat  one record per trace (encodeBatch of its deduplicated spans), traces in
 *                    search order: start time descending, then trace id ascending;
 *   blocks/<id>.dir  one fixed-size entry per trace in the same order (the ordinal);
 *   LevelDB          T keys (tenant, trace id, block) → location, for trace-by-id;
 *                    P keys (block, term) → ordinals, the inverted index for search;
 *                    B key (block) → BlockMeta (time and ingest ranges, bloom, tag summary).
 * Retention drops a whole block: two files and three key ranges.
 */
import type { IndexedAttribute } from '../otlp/model.js';
import { Bloom } from './bloom.js';
import { encodeBatch } from './codec.js';
import type { HeadTrace } from './head.js';
import { attrKeyPrefix, canonicalValue, nameTerm, serviceTerm, statusTerm, tagValueOf, valueIndexable } from './terms.js';
import { batchOfParts, compareBytes } from './trace-merge.js';
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
  /** Bytes of the length prefix plus the view: what a search reads. */
  viewBytes: number;
  /** Bytes of the raw slices after the view. */
  blobBytes: number;
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
    viewBytes: dir.readUInt32LE(p + 40),
    blobBytes: dir.readUInt32LE(p + 44),
    shard: dir.readUInt32LE(p + 48),
    flags: dir.readUInt32LE(p + 52),
  };
}

export function dirStartNs(dir: Buffer, ordinal: number): bigint {
  return dir.readBigUInt64LE(ordinal * DIR_ENTRY_BYTES + 16);
}

function writeDirEntry(dir: Buffer, ordinal: number, e: DirEntry): void {
  const p = ordinal * DIR_ENTRY_BYTES;
  dir.set(e.traceId, p);
  dir.writeBigUInt64LE(e.startNs, p + 16);
  dir.writeBigUInt64LE(e.endNs, p + 24);
  dir.writeUInt32LE(e.offset % 2 ** 32, p + 32);
  dir.writeUInt32LE(Math.floor(e.offset / 2 ** 32), p + 36);
  dir.writeUInt32LE(e.viewBytes, p + 40);
  dir.writeUInt32LE(e.blobBytes, p + 44);
  dir.writeUInt32LE(e.shard, p + 48);
  dir.writeUInt32LE(e.flags, p + 52);
}

// ---- LevelDB keys -------------------------------------------------------------------------------

const textEncoder = new TextEncoder();

export function tenantBytes(tenant: string): Uint8Array {
  const b = textEncoder.encode(tenant);
  if (b.length === 0 || b.length > 255) throw new RangeError(`tenant id must be 1..255 bytes, got ${b.length}`);
  return b;
}

/** 'T' tenantLength tenant traceId(16) [blockId u32 BE]. */
export function traceKeyPrefix(tenant: string, traceId: Uint8Array): Buffer {
  const t = tenantBytes(tenant);
  const k = Buffer.allocUnsafe(2 + t.length + traceId.length);
  k[0] = 0x54;
  k[1] = t.length;
  k.set(t, 2);
  k.set(traceId, 2 + t.length);
  return k;
}

export function traceKey(tenant: string, traceId: Uint8Array, blockId: number): Buffer {
  const p = traceKeyPrefix(tenant, traceId);
  const k = Buffer.allocUnsafe(p.length + 4);
  k.set(p, 0);
  k.writeUInt32BE(blockId, p.length);
  return k;
}

export function encodeLocation(e: DirEntry, ordinal: number): Buffer {
  const v = Buffer.allocUnsafe(20);
  v.writeUInt32LE(e.offset % 2 ** 32, 0);
  v.writeUInt32LE(Math.floor(e.offset / 2 ** 32), 4);
  v.writeUInt32LE(e.viewBytes, 8);
  v.writeUInt32LE(e.blobBytes, 12);
  v.writeUInt32LE(ordinal, 16);
  return v;
}

export function decodeLocation(v: Buffer): { offset: number; viewBytes: number; blobBytes: number; ordinal: number } {
  return {
    offset: v.readUInt32LE(0) + v.readUInt32LE(4) * 2 ** 32,
    viewBytes: v.readUInt32LE(8),
    blobBytes: v.readUInt32LE(12),
    ordinal: v.readUInt32LE(16),
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

export function decodePostings(b: Buffer): Uint32Array {
  const copy = new Uint32Array(b.length / 4);
  for (let i = 0; i < copy.length; i++) copy[i] = b.readUInt32LE(i * 4);
  return copy;
}

// ---- building ---------------------------------------------------------------------------------

export interface BuiltBlock {
  meta: BlockMeta;
  data: Buffer[];
  dir: Buffer;
  /** term → ordinals (ascending); keys of unindexed attributes already removed. */
  postings: Map<string, number[]>;
}

export function compareTraces(aStart: bigint, aId: Uint8Array, bStart: bigint, bId: Uint8Array): number {
  if (aStart !== bStart) return aStart > bStart ? -1 : 1;
  return compareBytes(aId, bId);
}

class TagCollector {
  readonly tags = new Map<string, Map<string, TagValue>>();
  constructor(private readonly maxValues: number) {}
  add(a: IndexedAttribute): void {
    let m = this.tags.get(a.key);
    if (!m) { m = new Map(); this.tags.set(a.key, m); }
    if (m.size >= this.maxValues) return;
    const tv = tagValueOf(a);
    const k = tv.type + '\0' + tv.value;
    if (!m.has(k)) m.set(k, tv);
  }
  toRecord(): Record<string, TagValue[]> {
    const out: Record<string, TagValue[]> = {};
    for (const [k, m] of this.tags) out[k] = [...m.values()];
    return out;
  }
}

/**
 * Builds one block from the head traces of one tenant. `olderMayHave` says whether an older block
 * of this tenant may hold the trace (so the new part is flagged split).
 */
export function buildBlock(
  id: number,
  tenant: string,
  traces: HeadTrace[],
  ingest: { minMs: number; maxMs: number },
  limits: BlockLimits,
  olderMayHave: (traceId: Uint8Array) => boolean,
): BuiltBlock {
  if (traces.length === 0) throw new Error('buildBlock: no traces');
  const sorted = traces.slice().sort((a, b) => compareTraces(a.startNs, a.traceId, b.startNs, b.traceId));
  const dir = Buffer.alloc(sorted.length * DIR_ENTRY_BYTES);
  const data: Buffer[] = [];
  const bloom = Bloom.forKeys(sorted.length);
  const postings = new Map<string, number[]>();
  const valuesPerKey = new Map<string, Set<string>>();
  const unindexed = new Set<string>();
  const spanTags = new TagCollector(limits.maxTagValuesPerKey);
  const resourceTags = new TagCollector(limits.maxTagValuesPerKey);
  const services = new Set<string>();
  const operations = new Map<string, [string, string, number]>();
  let offset = 0;
  let spanCount = 0;
  let maxEndNs = 0n;

  const post = (term: string, ordinal: number): void => {
    let list = postings.get(term);
    if (!list) { list = []; postings.set(term, list); }
    if (list[list.length - 1] !== ordinal) list.push(ordinal);
  };
  const postAttr = (scope: 's' | 'r', a: IndexedAttribute, ordinal: number): void => {
    if (!valueIndexable(a.value)) return;
    const prefix = attrKeyPrefix(scope, a.key);
    if (unindexed.has(prefix)) return;
    const canon = canonicalValue(a.value);
    let values = valuesPerKey.get(prefix);
    if (!values) { values = new Set(); valuesPerKey.set(prefix, values); }
    if (!values.has(canon)) {
      if (values.size >= limits.maxIndexedValuesPerKey) {
        unindexed.add(prefix);
        return;
      }
      values.add(canon);
    }
    post(prefix + canon, ordinal);
  };

  sorted.forEach((t, ordinal) => {
    const batch = batchOfParts([...t.spans.values()]);
    const record = encodeBatch(batch) as Buffer;
    const viewBytes = 4 + record.readUInt32LE(0);
    let flags = 0;
    if (olderMayHave(t.traceId)) {
      flags |= FLAG_SPLIT;
      post(SPLIT_POSTING, ordinal);
    }
    writeDirEntry(dir, ordinal, {
      traceId: t.traceId, startNs: t.startNs, endNs: t.endNs, offset,
      viewBytes, blobBytes: record.length - viewBytes, shard: t.shard, flags,
    });
    data.push(record);
    offset += record.length;
    bloom.add(t.traceId);
    if (t.endNs > maxEndNs) maxEndNs = t.endNs;
    for (const res of batch.resources) {
      for (const a of res.attributes) { postAttr('r', a, ordinal); resourceTags.add(a); }
      post(serviceTerm(res.serviceName), ordinal);
    }
    for (const s of batch.spans) {
      const service = batch.resources[s.resource]!.serviceName;
      post(nameTerm(s.name), ordinal);
      post(statusTerm(s.statusCode), ordinal);
      for (const a of s.attributes) { postAttr('s', a, ordinal); spanTags.add(a); }
      services.add(service);
      const opKey = service + '\0' + s.name + '\0' + s.kind;
      if (operations.size < limits.maxOperations && !operations.has(opKey)) operations.set(opKey, [service, s.name, s.kind]);
    }
    spanCount += batch.spans.length;
  });
  for (const term of [...postings.keys()]) {
    if (term.startsWith('A')) {
      const prefix = term.slice(0, term.indexOf('\0', 3) + 1);
      if (unindexed.has(prefix)) postings.delete(term);
    }
  }
  const meta: BlockMeta = {
    id, tenant,
    minStartNs: sorted[sorted.length - 1]!.startNs,
    maxStartNs: sorted[0]!.startNs,
    maxEndNs,
    minIngestMs: ingest.minMs, maxIngestMs: ingest.maxMs,
    traceCount: sorted.length, spanCount, dataBytes: offset + dir.length,
    unindexedKeys: [...unindexed], excludedShards: [], bloom: bloom.bits,
    spanTags: spanTags.toRecord(), resourceTags: resourceTags.toRecord(),
    services: [...services], operations: [...operations.values()],
  };
  return { meta, data, dir, postings };
}
