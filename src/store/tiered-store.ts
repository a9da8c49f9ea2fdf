/**
 * The node-local store: WAL + memory head + sealed blocks indexed in LevelDB + LRU cache.
 * See docs/store.md for the data layout and guarantees.
 *
 * Write path: encode → bounded queue → one writer ("pump") appends every queued record to the WAL
 * with a single fdatasync (group commit across writers and shards) → inserts into the head →
 * resolves. The pump is the only code that appends or rotates the WAL, so control operations
 * (seal, shard reset) are queued behind writes and never interleave with them.
 */
import { ClassicLevel } from 'classic-level';
import { closeSync, openSync, promises as fsp, readSync } from 'node:fs';
import * as path from 'node:path';
import { LRUCache } from 'lru-cache';
import type { SpanBatch } from '../otlp/model.js';
import {
  buildBlock, CHECKPOINT_KEY, decodeLocation, encodeLocation, encodePostings, META_RANGE, metaKey,
  postingKey, postingRange, readDirEntry, SHARDS_KEY, traceKey, DIR_ENTRY_BYTES,
  type BlockLimits, type BlockMeta,
} from './block.js';
import { Bloom } from './bloom.js';
import { decodeSpanBatch, groupSpanBatch } from '../otlp/batch.js';
import { crc32 } from 'node:zlib';
import { sizeTrace, writeTrace } from './encode.js';
import { packValue, unpackValue } from './codec.js';
import { Head } from './head.js';
import { searchTraces, type SearchSource } from './search.js';
import { shardOf } from './sharding.js';
import { tagValueOf } from './terms.js';
import { encodeTrace, idKey, partsOfBatch, type SpanPart } from './trace-merge.js';
import {
  StoreOverloadedError, type CandidateQuery, type Store, type StoreConfig, type StoreStats, type TagValue, type TraceView,
} from './types.js';
import { fsyncDir, frameRecord, parseFrames, Wal } from './wal.js';

export interface TieredStoreConfig extends StoreConfig {
  /** Seal the head at least this often, even when it is below memoryHeadBytes. Default 15 min. */
  blockDurationMs?: number;
  /** Index limits per block (see BlockLimits). */
  blockLimits?: Partial<BlockLimits>;
}

const RECORD_BATCH = 1;
const RECORD_RESET_SHARD = 2;
const SNAPSHOT_HEADER = 0;
const SNAPSHOT_TRACE = 1;
const SNAPSHOT_MAGIC = 'otlp-store-shard-snapshot-v1';
const MAX_TAG_NAMES = 10_000;
const MAX_TAG_VALUES = 1_000;
const MAX_SERVICES = 10_000;
const MAX_OPERATIONS = 10_000;

interface PendingWrite {
  type: 'write';
  tenant: string;
  batch: SpanBatch;
  ingestMs: number;
  frame: Buffer;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface PendingControl {
  type: 'control';
  run: () => Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** WAL payload: kind u8, tenant (u16 length + utf8), shard i32 (-1: any), ingest time f64 ms, body. */
function headerPayload(kind: number, tenant: string, shard: number, ingestMs: number, body: Uint8Array): Buffer {
  const t = Buffer.from(tenant, 'utf8');
  const out = Buffer.allocUnsafe(1 + 2 + t.length + 4 + 8 + body.length);
  out[0] = kind;
  out.writeUInt16LE(t.length, 1);
  out.set(t, 3);
  out.writeInt32LE(shard, 3 + t.length);
  out.writeDoubleLE(ingestMs, 7 + t.length);
  out.set(body, 15 + t.length);
  return out;
}

/**
 * The framed WAL record of a batch, built in one buffer: frame header, payload header, then the
 * batch as TracesData written in place (the same bytes as otlp's encodeSpanBatch, no copies).
 */
function batchFrame(tenant: string, shard: number, ingestMs: number, batch: SpanBatch): Buffer {
  const sized = sizeTrace(groupSpanBatch(batch));
  const t = Buffer.from(tenant, 'utf8');
  const headerBytes = 1 + 2 + t.length + 4 + 8;
  const frame = Buffer.allocUnsafe(8 + headerBytes + sized.total);
  const payload = frame.subarray(8);
  payload[0] = RECORD_BATCH;
  payload.writeUInt16LE(t.length, 1);
  payload.set(t, 3);
  payload.writeInt32LE(shard, 3 + t.length);
  payload.writeDoubleLE(ingestMs, 7 + t.length);
  writeTrace(sized, payload, headerBytes);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  return frame;
}

function parseHeaderPayload(p: Buffer): { kind: number; tenant: string; shard: number; ingestMs: number; body: Buffer } {
  const tl = p.readUInt16LE(1);
  return {
    kind: p[0]!, tenant: p.toString('utf8', 3, 3 + tl), shard: p.readInt32LE(3 + tl),
    ingestMs: p.readDoubleLE(7 + tl), body: p.subarray(15 + tl),
  };
}

export class TieredStore implements Store {
  private readonly cfg: Required<Omit<TieredStoreConfig, 'blockLimits'>> & { blockLimits: BlockLimits };
  private db!: ClassicLevel<Buffer, Buffer>;
  private wal!: Wal;
  private head: Head;
  private frozen: { head: Head; walSeq: number } | null = null;
  private sealing: Promise<void> | null = null;
  private readonly blocks = new Map<number, BlockMeta>();
  private readonly blooms = new Map<number, Bloom>();
  private nextBlockId = 1;
  private readonly queue: Array<PendingWrite | PendingControl> = [];
  private queuedSpans = 0;
  private pumping = false;
  private opened = false;
  private closing = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly traceCache: LRUCache<string, Uint8Array>;
  private readonly dirCache: LRUCache<number, Buffer>;
  /** Open descriptors of block data files (bounded; closed on eviction, drop and close). */
  private readonly blockFds = new LRUCache<number, number>({ max: 256, dispose: (fd) => closeSync(fd) });
  private cacheHits = 0;
  private cacheMisses = 0;
  /** Bumped on every head insert; a read that saw a different value does not fill the cache. */
  private writeGeneration = 0;
  private readonly pinned = new Map<number, number>();
  private readonly deferredDeletes = new Set<number>();
  private sealFailure: unknown = null;

  constructor(config: TieredStoreConfig) {
    if (!(Number.isInteger(config.shards) && config.shards > 0)) throw new RangeError(`shards must be a positive integer, got ${config.shards}`);
    this.cfg = {
      now: Date.now,
      blockDurationMs: 15 * 60_000,
      ...config,
      blockLimits: { maxIndexedValuesPerKey: 2_000, maxTagValuesPerKey: 1_000, maxOperations: 5_000, ...config.blockLimits },
    };
    this.head = new Head(config.shards);
    this.traceCache = new LRUCache<string, Uint8Array>({ maxSize: Math.max(1, config.cacheBytes), sizeCalculation: (v) => Math.max(1, v.length) });
    this.dirCache = new LRUCache<number, Buffer>({ maxSize: Math.max(1 << 20, Math.floor(config.cacheBytes / 2)), sizeCalculation: (v) => Math.max(1, v.length) });
  }

  private get blocksDir(): string {
    return path.join(this.cfg.dataDir, 'blocks');
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  async open(): Promise<void> {
    if (this.opened) throw new Error('store is already open');
    await fsp.mkdir(this.blocksDir, { recursive: true });
    this.db = new ClassicLevel<Buffer, Buffer>(path.join(this.cfg.dataDir, 'index'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await this.db.open();
    const shardsValue = await this.db.get(SHARDS_KEY);
    if (shardsValue === undefined) await this.db.put(SHARDS_KEY, Buffer.from(String(this.cfg.shards)), { sync: true });
    else if (Number(shardsValue.toString()) !== this.cfg.shards) {
      throw new Error(`data directory was created with ${shardsValue.toString()} shards; config says ${this.cfg.shards}`);
    }
    for await (const [, v] of this.db.iterator(META_RANGE)) {
      const meta = unpackValue<BlockMeta>(v);
      this.addBlock(meta);
    }
    await this.removeOrphanBlockFiles();
    const cp = await this.db.get(CHECKPOINT_KEY);
    const checkpoint = cp === undefined ? 0 : cp.readUInt32LE(0);
    this.wal = new Wal(path.join(this.cfg.dataDir, 'wal'), this.cfg.fsync);
    const payloads = await this.wal.open(checkpoint);
    const resetShards: number[] = [];
    for (const p of payloads) {
      const { kind, tenant, shard, ingestMs, body } = parseHeaderPayload(p);
      if (kind === RECORD_BATCH) this.head.insert(tenant, decodeSpanBatch(body), ingestMs);
      else if (kind === RECORD_RESET_SHARD) {
        this.head.dropShard(shard);
        resetShards.push(shard);
      } else throw new Error(`unknown WAL record kind ${kind}`);
    }
    if (resetShards.length) await this.excludeShards(resetShards);
    this.opened = true;
    const interval = Math.max(50, Math.min(10_000, Math.floor(this.cfg.blockDurationMs / 4)));
    this.timer = setInterval(() => {
      if (this.shouldSeal()) this.kick();
    }, interval);
    this.timer.unref();
  }

  private addBlock(meta: BlockMeta): void {
    this.blocks.set(meta.id, meta);
    this.blooms.set(meta.id, new Bloom(meta.bloom, meta.bloomProbes ?? 11));
    if (meta.id >= this.nextBlockId) this.nextBlockId = meta.id + 1;
  }

  private async removeOrphanBlockFiles(): Promise<void> {
    for (const name of await fsp.readdir(this.blocksDir)) {
      const m = /^(\d+)\.(dat|dir)$/.exec(name);
      if (m && !this.blocks.has(Number(m[1]))) await fsp.rm(path.join(this.blocksDir, name), { force: true });
    }
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    await this.waitIdle();
    if (this.sealing) await this.sealing;
    this.blockFds.clear();
    await this.wal.close();
    await this.db.close();
    this.opened = false;
  }

  private async waitIdle(): Promise<void> {
    // A control item resolves after every item queued before it.
    if (this.queue.length === 0 && !this.pumping) return;
    await this.control(async () => {});
  }

  // ---- write path -----------------------------------------------------------------------------

  write(tenant: string, batch: SpanBatch): Promise<void> {
    return this.enqueue(tenant, -1, batch);
  }

  apply(shard: number, tenant: string, batch: SpanBatch): Promise<void> {
    if (!(Number.isInteger(shard) && shard >= 0 && shard < this.cfg.shards)) return Promise.reject(new RangeError(`shard ${shard} out of range`));
    for (const s of batch.spans) {
      const actual = shardOf(s.traceId, this.cfg.shards);
      if (actual !== shard) return Promise.reject(new Error(`apply to shard ${shard}: span of trace ${idKey(s.traceId)} belongs to shard ${actual}`));
    }
    return this.enqueue(tenant, shard, batch);
  }

  private enqueue(tenant: string, shard: number, batch: SpanBatch): Promise<void> {
    if (!this.opened || this.closing) return Promise.reject(new Error('store is not open'));
    const n = batch.spans.length;
    if (n === 0) return Promise.resolve();
    if (this.queuedSpans + n > this.cfg.maxQueuedSpans) {
      return Promise.reject(new StoreOverloadedError(`write queue full (${this.queuedSpans} spans queued, limit ${this.cfg.maxQueuedSpans})`, 100));
    }
    if (this.frozen && this.head.bytes > 2 * this.cfg.memoryHeadBytes) {
      return Promise.reject(new StoreOverloadedError('memory head full while the previous block is being sealed', 500));
    }
    for (const s of batch.spans) {
      if (s.traceId.length !== 16 || s.spanId.length !== 8) return Promise.reject(new Error('span ids must be 16 (trace) and 8 (span) bytes'));
    }
    const ingestMs = this.cfg.now();
    const frame = batchFrame(tenant, shard, ingestMs, batch);
    this.queuedSpans += n;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ type: 'write', tenant, batch, ingestMs, frame, resolve, reject });
      this.kick();
    });
  }

  private control(run: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ type: 'control', run, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.pumping) return;
    this.pumping = true;
    // Let writers arriving in the same tick join the group before the first append.
    setImmediate(() => void this.pump());
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        if (this.queue.length === 0) {
          if (this.shouldSeal() && !this.sealing) await this.beginSeal();
          if (this.queue.length === 0) break;
        }
        let n = 0;
        while (n < this.queue.length && this.queue[n]!.type === 'write') n++;
        if (n > 0) {
          await this.commitGroup(this.queue.splice(0, n) as PendingWrite[]);
          if (this.shouldSeal()) await this.beginSeal();
          continue;
        }
        const ctl = this.queue.shift() as PendingControl;
        try {
          await ctl.run();
          ctl.resolve();
        } catch (e) {
          ctl.reject(e);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async commitGroup(group: PendingWrite[]): Promise<void> {
    let spans = 0;
    for (const g of group) spans += g.batch.spans.length;
    try {
      await this.wal.append(group.map((g) => g.frame));
    } catch (e) {
      this.queuedSpans -= spans;
      for (const g of group) g.reject(e);
      return;
    }
    this.writeGeneration++;
    for (const g of group) {
      const tenant = g.tenant;
      this.head.insert(tenant, g.batch, g.ingestMs, (traceKey) => this.traceCache.delete(tenant + '\0' + traceKey));
    }
    this.queuedSpans -= spans;
    for (const g of group) g.resolve();
  }

  // ---- sealing --------------------------------------------------------------------------------

  private shouldSeal(): boolean {
    if (!this.opened || this.sealing) return false;
    if (this.frozen) return true; // a previous seal failed: retry it
    if (this.head.empty) return false;
    return this.head.bytes >= this.cfg.memoryHeadBytes || this.cfg.now() - this.head.minIngestMs >= this.cfg.blockDurationMs;
  }

  /** Runs inside the pump: freezes the head and rotates the WAL, then builds blocks in the background. */
  private async beginSeal(): Promise<void> {
    if (this.sealing) throw new Error('beginSeal while a seal is running');
    if (!this.frozen) {
      if (this.head.empty) return;
      const walSeq = await this.wal.rotate();
      this.frozen = { head: this.head, walSeq };
      this.head = new Head(this.cfg.shards);
    }
    const frozen = this.frozen;
    this.sealing = this.sealFrozen(frozen.head, frozen.walSeq)
      .then(() => { this.sealFailure = null; })
      .catch((e: unknown) => { this.sealFailure = e; })
      .finally(() => { this.sealing = null; });
  }

  /** Seals whatever is in the head now and waits until it is in blocks (tests, retention, benchmarks). */
  async flush(): Promise<void> {
    await this.control(async () => {
      if (this.sealing) await this.sealing;
      if (!this.frozen && this.head.empty) return;
      await this.beginSeal();
      await this.sealing;
      if (this.sealFailure) throw this.sealFailure;
    });
  }

  private async sealFrozen(head: Head, walSeq: number): Promise<void> {
    const built: BlockMeta[] = [];
    const ops: Array<{ type: 'put'; key: Buffer; value: Buffer }> = [];
    for (const [tenant, traces] of head.tenants) {
      if (traces.size === 0) continue;
      const id = this.nextBlockId++;
      const inOlder = await this.tracesInBlocks(tenant, traces.values());
      const b = await buildBlock(id, tenant, [...traces.values()], { minMs: head.minIngestMs, maxMs: head.maxIngestMs }, this.cfg.blockLimits,
        (traceId) => inOlder.has(idKey(traceId)));
      await this.writeFileDurably(path.join(this.blocksDir, `${id}.dat`), b.data);
      await this.writeFileDurably(path.join(this.blocksDir, `${id}.dir`), [b.dir]);
      for (let ord = 0; ord < b.meta.traceCount; ord++) {
        const e = readDirEntry(b.dir, ord);
        ops.push({ type: 'put', key: traceKey(tenant, e.traceId, id), value: encodeLocation(e, ord) });
      }
      for (const [term, ords] of b.postings) ops.push({ type: 'put', key: postingKey(id, term), value: encodePostings(ords) });
      ops.push({ type: 'put', key: metaKey(id), value: Buffer.from(packValue(b.meta)) });
      built.push(b.meta);
    }
    if (this.cfg.fsync && built.length) await fsyncDir(this.blocksDir);
    const cp = Buffer.alloc(4);
    cp.writeUInt32LE(walSeq, 0);
    ops.push({ type: 'put', key: CHECKPOINT_KEY, value: cp });
    await this.db.batch(ops, { sync: this.cfg.fsync });
    // Visible as blocks and no longer as head in one synchronous step.
    for (const m of built) this.addBlock(m);
    this.frozen = null;
    this.traceCache.clear();
    await this.wal.deleteUpTo(walSeq);
  }

  /**
   * Which of these traces an existing block of the tenant holds: Bloom filters first, then one
   * LevelDB lookup for the positives, so a false positive never marks a trace split (split
   * traces are never pruned by search, so every false one costs every query).
   */
  private async tracesInBlocks(tenant: string, traces: Iterable<{ traceId: Uint8Array }>): Promise<Set<string>> {
    const blocks = [...this.blocks.values()].filter((m) => m.tenant === tenant);
    const keys: Buffer[] = [];
    const owners: string[] = [];
    for (const t of traces) {
      for (const m of blocks) {
        if (!this.blooms.get(m.id)!.mayHave(t.traceId)) continue;
        keys.push(traceKey(tenant, t.traceId, m.id));
        owners.push(idKey(t.traceId));
      }
    }
    const found = new Set<string>();
    if (keys.length === 0) return found;
    const values = await this.db.getMany(keys);
    values.forEach((v, i) => { if (v) found.add(owners[i]!); });
    return found;
  }

  private async writeFileDurably(file: string, chunks: Uint8Array[]): Promise<void> {
    const fh = await fsp.open(file, 'w');
    try {
      let pending = chunks;
      let remaining = chunks.reduce((n, c) => n + c.length, 0);
      while (remaining > 0) {
        const batch = pending.slice(0, 512); // writev takes at most IOV_MAX buffers
        const want = batch.reduce((n, c) => n + c.length, 0);
        const { bytesWritten } = await fh.writev(batch);
        remaining -= bytesWritten;
        if (bytesWritten === want) pending = pending.slice(512);
        else pending = [Buffer.concat(pending.slice(0, 512)).subarray(bytesWritten), ...pending.slice(512)];
      }
      if (this.cfg.fsync) await fh.sync();
    } finally {
      await fh.close();
    }
  }

  // ---- block reads ----------------------------------------------------------------------------

  /** Reads one trace record of a block; null if the block has since been dropped. */
  /**
   * Reads one trace record of a block; null if the block has since been dropped. Synchronous on a
   * cached descriptor: records are a few KiB, usually in the page cache, and a thread-pool round
   * trip per read costs more than the read itself when the machine is busy.
   */
  private readRecord(blockId: number, offset: number, length: number): Buffer | null {
    let fd = this.blockFds.get(blockId);
    if (fd === undefined) {
      try {
        fd = openSync(path.join(this.blocksDir, `${blockId}.dat`), 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
      this.blockFds.set(blockId, fd);
    }
    const buf = Buffer.allocUnsafe(length);
    const n = readSync(fd, buf, 0, length, offset);
    if (n !== length) throw new Error(`block ${blockId}: short read at ${offset} (${n} of ${length})`);
    return buf;
  }

  async loadDir(meta: BlockMeta): Promise<Buffer | null> {
    const cached = this.dirCache.get(meta.id);
    if (cached) return cached;
    try {
      const dir = await fsp.readFile(path.join(this.blocksDir, `${meta.id}.dir`));
      if (dir.length !== meta.traceCount * DIR_ENTRY_BYTES) throw new Error(`block ${meta.id}: dir has ${dir.length} bytes, expected ${meta.traceCount * DIR_ENTRY_BYTES}`);
      if (this.blocks.has(meta.id)) this.dirCache.set(meta.id, dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async postingsMany(requests: Array<{ blockId: number; terms: string[] }>): Promise<Array<Array<Buffer | undefined>>> {
    if (requests.length === 0) return [];
    const values = await this.db.getMany(requests.flatMap((r) => r.terms.map((t) => postingKey(r.blockId, t))));
    let pos = 0;
    return requests.map((r) => values.slice(pos, (pos += r.terms.length)));
  }

  /** Where a trace's parts sit in the visible blocks (oldest block first). */
  private async locate(tenant: string, traceId: Uint8Array, visible: ReadonlyMap<number, BlockMeta>): Promise<Array<{ blockId: number; offset: number; length: number }>> {
    const shard = shardOf(traceId, this.cfg.shards);
    const ids: number[] = [];
    for (const m of visible.values()) {
      if (m.tenant === tenant && !m.excludedShards.includes(shard) && this.blooms.get(m.id)?.mayHave(traceId)) ids.push(m.id);
    }
    if (ids.length === 0) return [];
    ids.sort((x, y) => x - y);
    // One LevelDB round trip for every block the Bloom filters point at.
    const values = await this.db.getMany(ids.map((id) => traceKey(tenant, traceId, id)));
    const out: Array<{ blockId: number; offset: number; length: number }> = [];
    ids.forEach((blockId, i) => {
      const v = values[i];
      if (!v) return; // a Bloom false positive
      const loc = decodeLocation(v);
      out.push({ blockId, offset: loc.offset, length: loc.length });
    });
    return out;
  }

  /**
   * Every stored part of a trace: blocks (oldest first) then the frozen and live heads.
   * `blocks` and `heads` limit what counts (a search's or snapshot's view of the store).
   */
  async traceParts(tenant: string, traceId: Uint8Array, blocks?: ReadonlyMap<number, BlockMeta>, heads?: Head[]): Promise<SpanPart[]> {
    // Take the heads before any await: a seal that commits meanwhile moves the frozen head into a
    // block this call may not have located; the frozen head object itself still holds the spans.
    const visibleHeads = heads ?? this.heads();
    const parts: SpanPart[] = [];
    for (const loc of await this.locate(tenant, traceId, blocks ?? this.blocks)) {
      const rec = await this.readRecord(loc.blockId, loc.offset, loc.length);
      if (rec) for (const p of partsOfBatch(decodeSpanBatch(rec))) parts.push(p);
    }
    const key = idKey(traceId);
    for (const h of visibleHeads) {
      const t = h.get(tenant, key);
      if (t) for (const p of t.spans.values()) parts.push(p);
    }
    return parts;
  }

  heads(): Head[] {
    return this.frozen ? [this.frozen.head, this.head] : [this.head];
  }

  // ---- reads ----------------------------------------------------------------------------------

  async getTrace(tenant: string, traceId: Uint8Array): Promise<Uint8Array | null> {
    this.assertOpen();
    if (traceId.length !== 16) return null;
    const key = tenant + '\0' + idKey(traceId);
    const cached = this.traceCache.get(key);
    if (cached) {
      this.cacheHits++;
      return cached;
    }
    this.cacheMisses++;
    const generation = this.writeGeneration;
    const key2 = idKey(traceId);
    const heads = this.heads();
    const inHead = heads.some((h) => h.get(tenant, key2) !== undefined);
    let bytes: Uint8Array | null = null;
    if (!inHead) {
      // The common case for older traces: one block record, already an encoded, deduplicated TracesData.
      const locs = await this.locate(tenant, traceId, this.blocks);
      if (locs.length === 0) return null;
      if (locs.length === 1) bytes = await this.readRecord(locs[0]!.blockId, locs[0]!.offset, locs[0]!.length);
    }
    if (!bytes) {
      const parts = await this.traceParts(tenant, traceId, undefined, heads);
      if (parts.length === 0) return null;
      bytes = encodeTrace(parts);
    }
    if (generation === this.writeGeneration) this.traceCache.set(key, bytes);
    return bytes;
  }

  searchTraces(q: CandidateQuery): AsyncIterable<TraceView> {
    this.assertOpen();
    const source: SearchSource = {
      heads: this.heads(),
      blocks: new Map([...this.blocks].filter(([, m]) => m.tenant === q.tenant)),
      blooms: this.blooms,
      loadDir: (m) => this.loadDir(m),
      postingsMany: (requests) => this.postingsMany(requests),
      readView: async (m, offset, length) => {
        const rec = await this.readRecord(m.id, offset, length);
        return rec ? partsOfBatch(decodeSpanBatch(rec)) : null;
      },
      traceParts: (tenant, traceId, blocks, heads) => this.traceParts(tenant, traceId, blocks, heads),
      shards: this.cfg.shards,
    };
    return searchTraces(source, q);
  }

  private *headSpans(tenant: string): Iterable<SpanPart> {
    for (const h of this.heads()) {
      const traces = h.tenants.get(tenant);
      if (!traces) continue;
      for (const t of traces.values()) yield* t.spans.values();
    }
  }

  private tenantBlocks(tenant: string, range?: { startNs?: bigint; endNs?: bigint }): BlockMeta[] {
    return [...this.blocks.values()].filter((m) => m.tenant === tenant
      && (range?.startNs === undefined || m.maxEndNs >= range.startNs)
      && (range?.endNs === undefined || m.minStartNs <= range.endNs));
  }

  private static spanInRange(p: SpanPart, range?: { startNs?: bigint; endNs?: bigint }): boolean {
    return (range?.startNs === undefined || p.rec.endTimeUnixNano >= range.startNs)
      && (range?.endNs === undefined || p.rec.startTimeUnixNano <= range.endNs);
  }

  async tagNames(tenant: string, range?: { startNs?: bigint; endNs?: bigint }): Promise<{ span: string[]; resource: string[] }> {
    this.assertOpen();
    const span = new Set<string>();
    const resource = new Set<string>();
    for (const m of this.tenantBlocks(tenant, range)) {
      for (const k of Object.keys(m.spanTags)) if (span.size < MAX_TAG_NAMES) span.add(k);
      for (const k of Object.keys(m.resourceTags)) if (resource.size < MAX_TAG_NAMES) resource.add(k);
    }
    for (const p of this.headSpans(tenant)) {
      if (!TieredStore.spanInRange(p, range)) continue;
      for (const a of p.rec.attributes) if (span.size < MAX_TAG_NAMES) span.add(a.key);
      for (const a of p.res.attributes) if (resource.size < MAX_TAG_NAMES) resource.add(a.key);
    }
    return { span: [...span].sort(), resource: [...resource].sort() };
  }

  async tagValues(tenant: string, scope: 'span' | 'resource' | 'any', key: string, range?: { startNs?: bigint; endNs?: bigint }): Promise<TagValue[]> {
    this.assertOpen();
    const out = new Map<string, TagValue>();
    const add = (tv: TagValue): void => {
      if (out.size < MAX_TAG_VALUES) out.set(tv.type + '\0' + tv.value, tv);
    };
    for (const m of this.tenantBlocks(tenant, range)) {
      if (scope !== 'resource') for (const tv of m.spanTags[key] ?? []) add(tv);
      if (scope !== 'span') for (const tv of m.resourceTags[key] ?? []) add(tv);
    }
    for (const p of this.headSpans(tenant)) {
      if (!TieredStore.spanInRange(p, range)) continue;
      if (scope !== 'resource') for (const a of p.rec.attributes) if (a.key === key) add(tagValueOf(a));
      if (scope !== 'span') for (const a of p.res.attributes) if (a.key === key) add(tagValueOf(a));
    }
    return [...out.values()].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  }

  async services(tenant: string): Promise<string[]> {
    this.assertOpen();
    const out = new Set<string>();
    for (const m of this.tenantBlocks(tenant)) for (const s of m.services) if (out.size < MAX_SERVICES) out.add(s);
    for (const p of this.headSpans(tenant)) if (out.size < MAX_SERVICES) out.add(p.res.serviceName);
    return [...out].sort();
  }

  async operations(tenant: string, service?: string): Promise<{ name: string; kind: number; service: string }[]> {
    this.assertOpen();
    const out = new Map<string, { name: string; kind: number; service: string }>();
    const add = (svc: string, name: string, kind: number): void => {
      if (service !== undefined && svc !== service) return;
      const k = svc + '\0' + name + '\0' + kind;
      if (out.size < MAX_OPERATIONS && !out.has(k)) out.set(k, { name, kind, service: svc });
    };
    for (const m of this.tenantBlocks(tenant)) for (const [svc, name, kind] of m.operations) add(svc, name, kind);
    for (const p of this.headSpans(tenant)) add(p.res.serviceName, p.rec.name, p.rec.kind);
    return [...out.values()].sort((a, b) => (a.service !== b.service ? (a.service < b.service ? -1 : 1) : a.name !== b.name ? (a.name < b.name ? -1 : 1) : a.kind - b.kind));
  }

  // ---- retention ------------------------------------------------------------------------------

  private retentionMs(tenant: string): number {
    return this.cfg.retention.perTenantMs?.[tenant] ?? this.cfg.retention.defaultMs;
  }

  async runRetention(): Promise<number> {
    this.assertOpen();
    const now = this.cfg.now();
    // Head data past its retention is sealed first so it can leave as a whole block.
    let headExpired = false;
    for (const h of this.heads()) {
      for (const tenant of h.tenants.keys()) if (h.minIngestMs < now - this.retentionMs(tenant)) headExpired = true;
    }
    if (headExpired) await this.flush();
    let dropped = 0;
    for (const m of [...this.blocks.values()]) {
      if (m.maxIngestMs >= now - this.retentionMs(m.tenant)) continue;
      dropped += m.spanCount;
      await this.dropBlock(m);
    }
    return dropped;
  }

  private async dropBlock(meta: BlockMeta): Promise<void> {
    const dir = await this.loadDir(meta);
    // Gone from queries first; then from disk.
    this.blocks.delete(meta.id);
    this.blooms.delete(meta.id);
    this.dirCache.delete(meta.id);
    this.blockFds.delete(meta.id);
    this.traceCache.clear();
    const ops: Array<{ type: 'del'; key: Buffer }> = [{ type: 'del', key: metaKey(meta.id) }];
    if (dir) for (let ord = 0; ord < meta.traceCount; ord++) ops.push({ type: 'del', key: traceKey(meta.tenant, readDirEntry(dir, ord).traceId, meta.id) });
    await this.db.batch(ops, { sync: this.cfg.fsync });
    const range = postingRange(meta.id);
    await this.db.clear(range);
    await this.db.compactRange(range.gte, range.lt).catch(() => {});
    if ((this.pinned.get(meta.id) ?? 0) > 0) this.deferredDeletes.add(meta.id);
    else await this.deleteBlockFiles(meta.id);
  }

  private async deleteBlockFiles(id: number): Promise<void> {
    await fsp.rm(path.join(this.blocksDir, `${id}.dat`), { force: true });
    await fsp.rm(path.join(this.blocksDir, `${id}.dir`), { force: true });
  }

  // ---- snapshot and restore ------------------------------------------------------------------

  async *snapshot(shard: number): AsyncIterable<Uint8Array> {
    this.assertOpen();
    if (!(Number.isInteger(shard) && shard >= 0 && shard < this.cfg.shards)) throw new RangeError(`shard ${shard} out of range`);
    await this.waitIdle();
    const blocks = new Map(this.blocks);
    const heads = this.heads();
    for (const id of blocks.keys()) this.pinned.set(id, (this.pinned.get(id) ?? 0) + 1);
    try {
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
          const dir = await this.loadDir(m);
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
          const parts = await this.traceParts(tenant, ids.get(k)!, blocks, heads);
          if (parts.length === 0) continue;
          const t = Buffer.from(tenant, 'utf8');
          const head = Buffer.allocUnsafe(3);
          head[0] = SNAPSHOT_TRACE;
          head.writeUInt16LE(t.length, 1);
          const frame = frameRecord(Buffer.concat([head, t, encodeTrace(parts)]));
          pending.push(frame);
          pendingBytes += frame.length;
          if (pendingBytes >= 1 << 20) {
            yield Buffer.concat(pending);
            pending = [];
            pendingBytes = 0;
          }
        }
      }
      if (pending.length) yield Buffer.concat(pending);
    } finally {
      for (const id of blocks.keys()) {
        const n = (this.pinned.get(id) ?? 1) - 1;
        if (n > 0) this.pinned.set(id, n);
        else {
          this.pinned.delete(id);
          if (this.deferredDeletes.delete(id)) await this.deleteBlockFiles(id);
        }
      }
    }
  }

  async restore(shard: number, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    this.assertOpen();
    if (!(Number.isInteger(shard) && shard >= 0 && shard < this.cfg.shards)) throw new RangeError(`shard ${shard} out of range`);
    // Forget the shard's current state, durably, behind every write queued before.
    await this.control(async () => {
      if (this.sealing) await this.sealing;
      await this.wal.append([frameRecord(headerPayload(RECORD_RESET_SHARD, '-', shard, this.cfg.now(), new Uint8Array(0)))]);
      await this.excludeShards([shard]);
      for (const h of this.heads()) h.dropShard(shard);
      this.writeGeneration++;
      this.traceCache.clear();
    });
    let buffered: Buffer = Buffer.alloc(0);
    let sawHeader = false;
    const pendingByTenant = new Map<string, SpanBatch[]>();
    let pendingSpans = 0;
    const flushPending = async (): Promise<void> => {
      for (const [tenant, batches] of pendingByTenant) {
        for (const b of batches) await this.applyWithBackoff(shard, tenant, b);
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
        if (pendingSpans >= 5_000) await flushPending();
      }
    }
    if (buffered.length) throw new Error(`restore: snapshot stream ends inside a record (${buffered.length} bytes left)`);
    if (!sawHeader) throw new Error('restore: empty snapshot stream');
    await flushPending();
  }

  private async applyWithBackoff(shard: number, tenant: string, batch: SpanBatch): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.apply(shard, tenant, batch);
      } catch (e) {
        if (!(e instanceof StoreOverloadedError) || attempt >= 100) throw e;
        await new Promise((r) => setTimeout(r, e.retryAfterMs));
      }
    }
  }

  private async excludeShards(shards: number[]): Promise<void> {
    const ops: Array<{ type: 'put'; key: Buffer; value: Buffer }> = [];
    for (const m of this.blocks.values()) {
      const add = shards.filter((s) => !m.excludedShards.includes(s));
      if (!add.length) continue;
      m.excludedShards = [...m.excludedShards, ...add].sort((a, b) => a - b);
      ops.push({ type: 'put', key: metaKey(m.id), value: Buffer.from(packValue(m)) });
    }
    if (ops.length) await this.db.batch(ops, { sync: this.cfg.fsync });
  }

  // ---- stats ----------------------------------------------------------------------------------

  stats(): StoreStats {
    let spans = 0;
    let traces = 0;
    let diskBytes = this.opened ? this.wal.bytesOnDisk : 0;
    let memoryHeadBytes = 0;
    for (const h of this.heads()) {
      spans += h.spanCount;
      traces += h.traceCount;
      memoryHeadBytes += h.bytes;
    }
    for (const m of this.blocks.values()) {
      spans += m.spanCount;
      traces += m.traceCount;
      diskBytes += m.dataBytes;
    }
    return {
      spans, traces, diskBytes, memoryHeadBytes,
      cacheEntries: this.traceCache.size, cacheHits: this.cacheHits, cacheMisses: this.cacheMisses,
      queuedSpans: this.queuedSpans,
    };
  }

  /** Blocks on disk (for tests and metrics). */
  blockCount(): number {
    return this.blocks.size;
  }

  private assertOpen(): void {
    if (!this.opened) throw new Error('store is not open');
  }
}
