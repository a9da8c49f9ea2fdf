/**
 * Shard snapshots for Raft: a stream of length- and CRC-framed records, a header
 * (`otlp-store-shard-snapshot-v1`, shard) then one record per trace (tenant + its deduplicated spans
 * as TracesData) in tenant then trace-id order, in chunks of ~1 MiB; and the parser that applies
 * such a stream. The store does the pinning and the durable shard reset around these.
 */
import type { SpanBatch } from '../otlp/model.js';
import { decodeSpanBatch } from '../otlp/batch.js';
import { readDirEntry, type BlockMeta } from './block.js';
import { packValue, unpackValue } from './codec.js';
import type { Head } from './head.js';
import { encodeTrace, idKey, type SpanPart } from './trace-merge.js';
import { frameRecord, parseFrames } from './wal.js';

const SNAPSHOT_HEADER = 0;
const SNAPSHOT_TRACE = 1;
const SNAPSHOT_MAGIC = 'otlp-store-shard-snapshot-v1';
const CHUNK_BYTES = 1 << 20;
/** Spans restored per round of applies. */
const RESTORE_BATCH_SPANS = 5_000;

/** A fixed view of the store: blocks pinned by the caller, heads taken at the same moment. */
export interface SnapshotView {
  blocks: ReadonlyMap<number, BlockMeta>;
  heads: Head[];
  loadDir(m: BlockMeta): Promise<Buffer | null>;
  traceParts(tenant: string, traceId: Uint8Array, blocks: ReadonlyMap<number, BlockMeta>, heads: Head[]): Promise<SpanPart[]>;
}

export async function* snapshotChunks(view: SnapshotView, shard: number): AsyncIterable<Uint8Array> {
  const { blocks, heads } = view;
  yield frameRecord(Buffer.concat([Buffer.from([SNAPSHOT_HEADER]), Buffer.from(packValue({ magic: SNAPSHOT_MAGIC, shard }))]));
  const tenants = new Set<string>();
  for (const m of blocks.values()) tenants.add(m.tenant);
  for (const h of heads) for (const t of h.tenants.keys()) tenants.add(t);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for (const tenant of [...tenants].sort()) {
    const ids = new Map<string, Uint8Array>();
    for (const m of blocks.values()) {
      if (m.tenant !== tenant || m.excludedShards.includes(shard)) continue;
      const dir = await view.loadDir(m);
      if (!dir) throw new Error(`snapshot: block ${m.id} vanished while pinned`);
      for (let ord = 0; ord < m.traceCount; ord++) {
        const e = readDirEntry(dir, ord);
        if (e.shard === shard) ids.set(idKey(e.traceId), Buffer.from(e.traceId));
      }
    }
    for (const h of heads) {
      for (const [k, t] of h.tenants.get(tenant) ?? []) if (t.shard === shard) ids.set(k, t.traceId);
    }
    for (const k of [...ids.keys()].sort()) {
      const parts = await view.traceParts(tenant, ids.get(k)!, blocks, heads);
      if (parts.length === 0) continue;
      const t = Buffer.from(tenant, 'utf8');
      const head = Buffer.allocUnsafe(3);
      head[0] = SNAPSHOT_TRACE;
      head.writeUInt16LE(t.length, 1);
      const frame = frameRecord(Buffer.concat([head, t, encodeTrace(parts)]));
      pending.push(frame);
      pendingBytes += frame.length;
      if (pendingBytes >= CHUNK_BYTES) {
        yield Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pending.length) yield Buffer.concat(pending);
}

/**
 * Parses a snapshot stream of `shard` (any chunking) and hands its traces to `apply`, a few
 * thousand spans at a time. Refuses a truncated stream, another shard's snapshot, or a stream that
 * is not a snapshot.
 */
export async function applySnapshot(shard: number, chunks: AsyncIterable<Uint8Array>, apply: (tenant: string, batch: SpanBatch) => Promise<void>): Promise<void> {
  let buffered: Buffer = Buffer.alloc(0);
  let sawHeader = false;
  const pendingByTenant = new Map<string, SpanBatch[]>();
  let pendingSpans = 0;
  const flushPending = async (): Promise<void> => {
    for (const [tenant, batches] of pendingByTenant) {
      for (const b of batches) await apply(tenant, b);
    }
    pendingByTenant.clear();
    pendingSpans = 0;
  };
  for await (const chunk of chunks) {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : Buffer.from(chunk);
    const { records, validLength } = parseFrames(buffered);
    buffered = buffered.subarray(validLength);
    for (const r of records) {
      if (r[0] === SNAPSHOT_HEADER) {
        const h = unpackValue<{ magic: string; shard: number }>(r.subarray(1));
        if (h.magic !== SNAPSHOT_MAGIC) throw new Error(`restore: not a shard snapshot (${String(h.magic)})`);
        if (h.shard !== shard) throw new Error(`restore: snapshot of shard ${h.shard} offered to shard ${shard}`);
        sawHeader = true;
        continue;
      }
      if (!sawHeader) throw new Error('restore: snapshot stream does not start with a header');
      if (r[0] !== SNAPSHOT_TRACE) throw new Error(`restore: unknown snapshot record kind ${r[0]}`);
      const tl = r.readUInt16LE(1);
      const tenant = r.toString('utf8', 3, 3 + tl);
      const batch = decodeSpanBatch(Buffer.from(r.subarray(3 + tl)));
      let list = pendingByTenant.get(tenant);
      if (!list) { list = []; pendingByTenant.set(tenant, list); }
      list.push(batch);
      pendingSpans += batch.spans.length;
      if (pendingSpans >= RESTORE_BATCH_SPANS) await flushPending();
    }
  }
  if (buffered.length) throw new Error(`restore: snapshot stream ends inside a record (${buffered.length} bytes left)`);
  if (!sawHeader) throw new Error('restore: empty snapshot stream');
  await flushPending();
}
