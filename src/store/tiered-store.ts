/**
 * The node-local store: WAL + memory head + sealed blocks indexed in LevelDB + LRU cache.
 * See docs/store.md for the data layout and guarantees.
 *
 * Write path: encode → bounded queue → one writer ("pump", write-queue.ts) appends every queued
 * record to the WAL with a single fdatasync (group commit across writers and shards) → inserts
 * into the head → resolves. The pump is the only code that appends or rotates the WAL, so control
 * operations (seal, shard reset) are queued behind writes and never interleave with them.
 *
 * This class owns the tiers' state and the order of operations; the work is in: write-queue.ts
 * (group commit), wal-records.ts (WAL payloads, replay), block-set.ts (blocks, index, block
 * files), seal.ts (head → blocks), reads.ts (trace by id, search source, trace cache),
 * catalog.ts (tags, services, operations), retention.ts, snapshot.ts (snapshot and restore).
 */
import { ClassicLevel } from 'classic-level';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { SpanBatch } from '../otlp/model.js';
import { CHECKPOINT_KEY, SHARDS_KEY, type BlockLimits, type BlockMeta } from './block.js';
import { BlockSet, type TimeRange } from './block-set.js';
import * as catalog from './catalog.js';
import { Head } from './head.js';
import { readTrace, searchSource, TraceCache, traceParts } from './reads.js';
import { expiredBlocks, headHasExpired } from './retention.js';
import { searchTraces } from './search.js';
import { sealHead } from './seal.js';
import { shardOf } from './sharding.js';
import { applySnapshot, snapshotChunks } from './snapshot.js';
import { idKey, type SpanPart } from './trace-merge.js';
import {
  StoreOverloadedError, type CandidateQuery, type Store, type StoreConfig, type StoreStats, type TagValue, type TraceView,
} from './types.js';
import { frameRecord, Wal } from './wal.js';
import { batchFrame, headerPayload, RECORD_RESET_SHARD, replayIntoHead } from './wal-records.js';
import { WriteQueue, type PendingWrite } from './write-queue.js';

export interface TieredStoreConfig extends StoreConfig {
  /** Seal the head at least this often, even when it is below memoryHeadBytes. Default 15 min. */
  blockDurationMs?: number;
  /** Index limits per block (see BlockLimits). */
  blockLimits?: Partial<BlockLimits>;
}

export class TieredStore implements Store {
  private readonly cfg: Required<Omit<TieredStoreConfig, 'blockLimits'>> & { blockLimits: BlockLimits };
  private db!: ClassicLevel<Buffer, Buffer>;
  private wal!: Wal;
  private head: Head;
  private frozen: { head: Head; walSeq: number } | null = null;
  private sealing: Promise<void> | null = null;
  private sealFailure: unknown = null;
  private readonly blocks: BlockSet;
  private readonly queue: WriteQueue;
  private readonly traceCache: TraceCache;
  private opened = false;
  private closing = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(config: TieredStoreConfig) {
    if (!(Number.isInteger(config.shards) && config.shards > 0)) throw new RangeError(`shards must be a positive integer, got ${config.shards}`);
    this.cfg = {
      now: Date.now,
      blockDurationMs: 15 * 60_000,
      ...config,
      blockLimits: { maxIndexedValuesPerKey: 2_000, maxTagValuesPerKey: 1_000, maxOperations: 5_000, ...config.blockLimits },
    };
    this.head = new Head(config.shards);
    this.traceCache = new TraceCache(config.cacheBytes);
    this.blocks = new BlockSet(path.join(this.cfg.dataDir, 'blocks'), config.cacheBytes, config.shards, this.cfg.fsync);
    this.queue = new WriteQueue({
      append: (frames) => this.wal.append(frames),
      applyGroup: (group) => this.insertIntoHead(group),
      sealIfDue: async () => {
        if (this.shouldSeal()) await this.beginSeal();
      },
    });
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  async open(): Promise<void> {
    if (this.opened) throw new Error('store is already open');
    await fsp.mkdir(this.blocks.blocksDir, { recursive: true });
    this.db = new ClassicLevel<Buffer, Buffer>(path.join(this.cfg.dataDir, 'index'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await this.db.open();
    const shardsValue = await this.db.get(SHARDS_KEY);
    if (shardsValue === undefined) await this.db.put(SHARDS_KEY, Buffer.from(String(this.cfg.shards)), { sync: true });
    else if (Number(shardsValue.toString()) !== this.cfg.shards) {
      throw new Error(`data directory was created with ${shardsValue.toString()} shards; config says ${this.cfg.shards}`);
    }
    await this.blocks.load(this.db);
    const cp = await this.db.get(CHECKPOINT_KEY);
    const checkpoint = cp === undefined ? 0 : cp.readUInt32LE(0);
    this.wal = new Wal(path.join(this.cfg.dataDir, 'wal'), this.cfg.fsync);
    const resetShards = replayIntoHead(await this.wal.open(checkpoint), this.head);
    if (resetShards.length) await this.blocks.excludeShards(resetShards);
    this.opened = true;
    const interval = Math.max(50, Math.min(10_000, Math.floor(this.cfg.blockDurationMs / 4)));
    this.timer = setInterval(() => {
      if (this.shouldSeal()) this.queue.kick();
    }, interval);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    await this.queue.waitIdle();
    if (this.sealing) await this.sealing;
    this.blocks.closeFiles();
    await this.wal.close();
    await this.db.close();
    this.opened = false;
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
    const queued = this.queue.queuedSpans;
    if (queued + n > this.cfg.maxQueuedSpans) {
      return Promise.reject(new StoreOverloadedError(`write queue full (${queued} spans queued, limit ${this.cfg.maxQueuedSpans})`, 100));
    }
    if (this.frozen && this.head.bytes > 2 * this.cfg.memoryHeadBytes) {
      return Promise.reject(new StoreOverloadedError('memory head full while the previous block is being sealed', 500));
    }
    for (const s of batch.spans) {
      if (s.traceId.length !== 16 || s.spanId.length !== 8) return Promise.reject(new Error('span ids must be 16 (trace) and 8 (span) bytes'));
    }
    const ingestMs = this.cfg.now();
    const frame = batchFrame(tenant, shard, ingestMs, batch);
    return this.queue.push(tenant, batch, ingestMs, frame);
  }

  /** Runs in the pump once a group is durably in the WAL. */
  private insertIntoHead(group: PendingWrite[]): void {
    this.traceCache.writeGeneration++;
    for (const g of group) {
      const tenant = g.tenant;
      this.head.insert(tenant, g.batch, g.ingestMs, (traceKey) => this.traceCache.invalidate(tenant, traceKey));
    }
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
    await this.queue.control(async () => {
      if (this.sealing) await this.sealing;
      if (!this.frozen && this.head.empty) return;
      await this.beginSeal();
      await this.sealing;
      if (this.sealFailure) throw this.sealFailure;
    });
  }

  private async sealFrozen(head: Head, walSeq: number): Promise<void> {
    const built = await sealHead(this.blocks, head, walSeq, this.cfg.blockLimits, this.cfg.fsync);
    // Visible as blocks and no longer as head in one synchronous step.
    for (const m of built) this.blocks.add(m);
    this.frozen = null;
    this.traceCache.clear();
    await this.wal.deleteUpTo(walSeq);
  }

  // ---- reads ----------------------------------------------------------------------------------

  async loadDir(meta: BlockMeta): Promise<Buffer | null> {
    return this.blocks.loadDir(meta);
  }

  async postingsMany(requests: Array<{ blockId: number; terms: string[] }>): Promise<Array<Array<Buffer | undefined>>> {
    return this.blocks.postingsMany(requests);
  }

  /**
   * Every stored part of a trace: blocks (oldest first) then the frozen and live heads.
   * `blocks` and `heads` limit what counts (a search's or snapshot's view of the store).
   */
  async traceParts(tenant: string, traceId: Uint8Array, blocks?: ReadonlyMap<number, BlockMeta>, heads?: Head[]): Promise<SpanPart[]> {
    // Take the heads before any await (see reads.ts traceParts).
    return traceParts(this.blocks, tenant, traceId, blocks ?? this.blocks.metas, heads ?? this.heads());
  }

  heads(): Head[] {
    return this.frozen ? [this.frozen.head, this.head] : [this.head];
  }

  async getTrace(tenant: string, traceId: Uint8Array): Promise<Uint8Array | null> {
    this.assertOpen();
    return readTrace(this.blocks, this.traceCache, () => this.heads(), tenant, traceId);
  }

  searchTraces(q: CandidateQuery): AsyncIterable<TraceView> {
    this.assertOpen();
    return searchTraces(searchSource(this.blocks, this.heads(), q.tenant, this.cfg.shards), q);
  }

  async tagNames(tenant: string, range?: TimeRange): Promise<{ span: string[]; resource: string[] }> {
    this.assertOpen();
    return catalog.tagNames(this.blocks.tenantBlocks(tenant, range), this.heads(), tenant, range);
  }

  async tagValues(tenant: string, scope: 'span' | 'resource' | 'any', key: string, range?: TimeRange): Promise<TagValue[]> {
    this.assertOpen();
    return catalog.tagValues(this.blocks.tenantBlocks(tenant, range), this.heads(), tenant, scope, key, range);
  }

  async services(tenant: string): Promise<string[]> {
    this.assertOpen();
    return catalog.services(this.blocks.tenantBlocks(tenant), this.heads(), tenant);
  }

  async operations(tenant: string, service?: string): Promise<{ name: string; kind: number; service: string }[]> {
    this.assertOpen();
    return catalog.operations(this.blocks.tenantBlocks(tenant), this.heads(), tenant, service);
  }

  // ---- retention ------------------------------------------------------------------------------

  async runRetention(): Promise<number> {
    this.assertOpen();
    const now = this.cfg.now();
    // Head data past its retention is sealed first so it can leave as a whole block.
    if (headHasExpired(this.heads(), this.cfg.retention, now)) await this.flush();
    let dropped = 0;
    for (const m of expiredBlocks(this.blocks.metas.values(), this.cfg.retention, now)) {
      dropped += m.spanCount;
      await this.blocks.drop(m, () => this.traceCache.clear());
    }
    return dropped;
  }

  // ---- snapshot and restore ------------------------------------------------------------------

  async *snapshot(shard: number): AsyncIterable<Uint8Array> {
    this.assertOpen();
    if (!(Number.isInteger(shard) && shard >= 0 && shard < this.cfg.shards)) throw new RangeError(`shard ${shard} out of range`);
    await this.queue.waitIdle();
    const blocks = new Map(this.blocks.metas);
    const heads = this.heads();
    this.blocks.pin(blocks.keys());
    try {
      yield* snapshotChunks({
        blocks, heads,
        loadDir: (m) => this.blocks.loadDir(m),
        traceParts: (tenant, traceId, bs, hs) => this.traceParts(tenant, traceId, bs, hs),
      }, shard);
    } finally {
      await this.blocks.unpin(blocks.keys());
    }
  }

  async restore(shard: number, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    this.assertOpen();
    if (!(Number.isInteger(shard) && shard >= 0 && shard < this.cfg.shards)) throw new RangeError(`shard ${shard} out of range`);
    // Forget the shard's current state, durably, behind every write queued before.
    await this.queue.control(async () => {
      if (this.sealing) await this.sealing;
      await this.wal.append([frameRecord(headerPayload(RECORD_RESET_SHARD, '-', shard, this.cfg.now(), new Uint8Array(0)))]);
      await this.blocks.excludeShards([shard]);
      for (const h of this.heads()) h.dropShard(shard);
      this.traceCache.writeGeneration++;
      this.traceCache.clear();
    });
    await applySnapshot(shard, chunks, (tenant, batch) => this.applyWithBackoff(shard, tenant, batch));
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
    for (const m of this.blocks.metas.values()) {
      spans += m.spanCount;
      traces += m.traceCount;
      diskBytes += m.dataBytes;
    }
    return {
      spans, traces, diskBytes, memoryHeadBytes,
      cacheEntries: this.traceCache.size, cacheHits: this.traceCache.hits, cacheMisses: this.traceCache.misses,
      queuedSpans: this.queue.queuedSpans,
    };
  }

  /** Blocks on disk (for tests and metrics). */
  blockCount(): number {
    return this.blocks.metas.size;
  }

  private assertOpen(): void {
    if (!this.opened) throw new Error('store is not open');
  }
}
