/**
 * The sealed-block tier of one store: block metadata and Bloom filters in memory, the LevelDB
 * index, the block files and their caches (directories, open descriptors). Owns everything that
 * reads, adds or removes blocks; sealing (seal.ts) builds new ones.
 */
import { closeSync, openSync, promises as fsp, readSync } from 'node:fs';
import * as path from 'node:path';
import type { ClassicLevel } from 'classic-level';
import { LRUCache } from 'lru-cache';
import {
  decodeLocation, META_RANGE, metaKey, postingKey, postingRange, readDirEntry, traceKey, DIR_ENTRY_BYTES,
  type BlockMeta,
} from './block.js';
import { Bloom } from './bloom.js';
import { packValue, unpackValue } from './codec.js';
import { shardOf } from './sharding.js';
import { idKey } from './trace-merge.js';

export type TimeRange = { startNs?: bigint; endNs?: bigint };
export type RecordLocation = { blockId: number; offset: number; length: number };

export class BlockSet {
  /** Visible blocks by id. Removing one here removes it from every query started afterwards. */
  readonly metas = new Map<number, BlockMeta>();
  readonly blooms = new Map<number, Bloom>();
  private nextBlockId = 1;
  private dbHandle: ClassicLevel<Buffer, Buffer> | null = null;
  private readonly dirCache: LRUCache<number, Buffer>;
  /** Open descriptors of block data files (bounded; closed on eviction, drop and close). */
  private readonly blockFds = new LRUCache<number, number>({ max: 256, dispose: (fd) => closeSync(fd) });
  /** Snapshot pins per block: a pinned block's files outlive its retention drop. */
  private readonly pinned = new Map<number, number>();
  private readonly deferredDeletes = new Set<number>();

  constructor(readonly blocksDir: string, cacheBytes: number, private readonly shards: number, private readonly fsync: boolean) {
    this.dirCache = new LRUCache<number, Buffer>({ maxSize: Math.max(1 << 20, Math.floor(cacheBytes / 2)), sizeCalculation: (v) => Math.max(1, v.length) });
  }

  get db(): ClassicLevel<Buffer, Buffer> {
    if (!this.dbHandle) throw new Error('block index is not open');
    return this.dbHandle;
  }

  /** Loads every committed block's metadata and deletes block files none of them names (a crash mid-seal). */
  async load(db: ClassicLevel<Buffer, Buffer>): Promise<void> {
    this.dbHandle = db;
    for await (const [, v] of db.iterator(META_RANGE)) this.add(unpackValue<BlockMeta>(v));
    for (const name of await fsp.readdir(this.blocksDir)) {
      const m = /^(\d+)\.(dat|dir)$/.exec(name);
      if (m && !this.metas.has(Number(m[1]))) await fsp.rm(path.join(this.blocksDir, name), { force: true });
    }
  }

  /** Closes cached block file descriptors (the index is closed by its owner). */
  closeFiles(): void {
    this.blockFds.clear();
  }

  nextId(): number {
    return this.nextBlockId++;
  }

  add(meta: BlockMeta): void {
    this.metas.set(meta.id, meta);
    this.blooms.set(meta.id, new Bloom(meta.bloom, meta.bloomProbes ?? 11));
    if (meta.id >= this.nextBlockId) this.nextBlockId = meta.id + 1;
  }

  tenantBlocks(tenant: string, range?: TimeRange): BlockMeta[] {
    return [...this.metas.values()].filter((m) => m.tenant === tenant
      && (range?.startNs === undefined || m.maxEndNs >= range.startNs)
      && (range?.endNs === undefined || m.minStartNs <= range.endNs));
  }

  /**
   * Reads one trace record of a block; null if the block has since been dropped. Synchronous on a
   * cached descriptor: records are a few KiB, usually in the page cache, and a thread-pool round
   * trip per read costs more than the read itself when the machine is busy.
   */
  readRecord(blockId: number, offset: number, length: number): Buffer | null {
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
      if (this.metas.has(meta.id)) this.dirCache.set(meta.id, dir);
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
  async locate(tenant: string, traceId: Uint8Array, visible: ReadonlyMap<number, BlockMeta>): Promise<RecordLocation[]> {
    const shard = shardOf(traceId, this.shards);
    const ids: number[] = [];
    for (const m of visible.values()) {
      if (m.tenant === tenant && !m.excludedShards.includes(shard) && this.blooms.get(m.id)?.mayHave(traceId)) ids.push(m.id);
    }
    if (ids.length === 0) return [];
    ids.sort((x, y) => x - y);
    // One LevelDB round trip for every block the Bloom filters point at.
    const values = await this.db.getMany(ids.map((id) => traceKey(tenant, traceId, id)));
    const out: RecordLocation[] = [];
    ids.forEach((blockId, i) => {
      const v = values[i];
      if (!v) return; // a Bloom false positive
      const loc = decodeLocation(v);
      out.push({ blockId, offset: loc.offset, length: loc.length });
    });
    return out;
  }

  /**
   * Which of these traces an existing block of the tenant holds: Bloom filters first, then one
   * LevelDB lookup for the positives, so a false positive never marks a trace split (split
   * traces are never pruned by search, so every false one costs every query).
   */
  async tracesInBlocks(tenant: string, traces: Iterable<{ traceId: Uint8Array }>): Promise<Set<string>> {
    const blocks = [...this.metas.values()].filter((m) => m.tenant === tenant);
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

  /** Marks these shards excluded in every existing block, durably (a shard reset). */
  async excludeShards(shards: number[]): Promise<void> {
    const ops: Array<{ type: 'put'; key: Buffer; value: Buffer }> = [];
    for (const m of this.metas.values()) {
      const add = shards.filter((s) => !m.excludedShards.includes(s));
      if (!add.length) continue;
      m.excludedShards = [...m.excludedShards, ...add].sort((a, b) => a - b);
      ops.push({ type: 'put', key: metaKey(m.id), value: Buffer.from(packValue(m)) });
    }
    if (ops.length) await this.db.batch(ops, { sync: this.fsync });
  }

  /**
   * Drops a block: gone from queries first (`onGone` runs in that same synchronous step), then its
   * index keys and postings, then its files (deferred while a snapshot pins it).
   */
  async drop(meta: BlockMeta, onGone: () => void): Promise<void> {
    const dir = await this.loadDir(meta);
    this.metas.delete(meta.id);
    this.blooms.delete(meta.id);
    this.dirCache.delete(meta.id);
    this.blockFds.delete(meta.id);
    onGone();
    const ops: Array<{ type: 'del'; key: Buffer }> = [{ type: 'del', key: metaKey(meta.id) }];
    if (dir) for (let ord = 0; ord < meta.traceCount; ord++) ops.push({ type: 'del', key: traceKey(meta.tenant, readDirEntry(dir, ord).traceId, meta.id) });
    await this.db.batch(ops, { sync: this.fsync });
    const range = postingRange(meta.id);
    await this.db.clear(range);
    await this.db.compactRange(range.gte, range.lt).catch(() => {});
    if ((this.pinned.get(meta.id) ?? 0) > 0) this.deferredDeletes.add(meta.id);
    else await this.deleteFiles(meta.id);
  }

  pin(ids: Iterable<number>): void {
    for (const id of ids) this.pinned.set(id, (this.pinned.get(id) ?? 0) + 1);
  }

  /** Releases pins; a block dropped while pinned loses its files now. */
  async unpin(ids: Iterable<number>): Promise<void> {
    for (const id of ids) {
      const n = (this.pinned.get(id) ?? 1) - 1;
      if (n > 0) this.pinned.set(id, n);
      else {
        this.pinned.delete(id);
        if (this.deferredDeletes.delete(id)) await this.deleteFiles(id);
      }
    }
  }

  private async deleteFiles(id: number): Promise<void> {
    await fsp.rm(path.join(this.blocksDir, `${id}.dat`), { force: true });
    await fsp.rm(path.join(this.blocksDir, `${id}.dir`), { force: true });
  }
}
