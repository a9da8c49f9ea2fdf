/**
 * Sealing: turns a frozen head into one block per tenant. Writes and fsyncs each block's files,
 * then commits every index entry and the new WAL checkpoint in one synced LevelDB batch. The caller
 * makes the returned blocks visible (and the frozen head invisible) in one synchronous step.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import {
  buildBlock, CHECKPOINT_KEY, encodeLocation, encodePostings, metaKey, postingKey, readDirEntry, traceKey,
  type BlockLimits, type BlockMeta,
} from './block.js';
import type { BlockSet } from './block-set.js';
import { packValue } from './codec.js';
import type { Head } from './head.js';
import { idKey } from './trace-merge.js';
import { fsyncDir } from './wal.js';

/** Builds and durably commits the blocks of `head`, whose WAL ends at segment `walSeq`. */
export async function sealHead(blocks: BlockSet, head: Head, walSeq: number, limits: BlockLimits, fsync: boolean): Promise<BlockMeta[]> {
  const built: BlockMeta[] = [];
  const ops: Array<{ type: 'put'; key: Buffer; value: Buffer }> = [];
  for (const [tenant, traces] of head.tenants) {
    if (traces.size === 0) continue;
    const id = blocks.nextId();
    const inOlder = await blocks.tracesInBlocks(tenant, traces.values());
    const b = await buildBlock(id, tenant, [...traces.values()], { minMs: head.minIngestMs, maxMs: head.maxIngestMs }, limits,
      (traceId) => inOlder.has(idKey(traceId)));
    await writeFileDurably(path.join(blocks.blocksDir, `${id}.dat`), b.data, fsync);
    await writeFileDurably(path.join(blocks.blocksDir, `${id}.dir`), [b.dir], fsync);
    for (let ord = 0; ord < b.meta.traceCount; ord++) {
      const e = readDirEntry(b.dir, ord);
      ops.push({ type: 'put', key: traceKey(tenant, e.traceId, id), value: encodeLocation(e, ord) });
    }
    for (const [term, ords] of b.postings) ops.push({ type: 'put', key: postingKey(id, term), value: encodePostings(ords) });
    ops.push({ type: 'put', key: metaKey(id), value: Buffer.from(packValue(b.meta)) });
    built.push(b.meta);
  }
  if (fsync && built.length) await fsyncDir(blocks.blocksDir);
  const cp = Buffer.alloc(4);
  cp.writeUInt32LE(walSeq, 0);
  ops.push({ type: 'put', key: CHECKPOINT_KEY, value: cp });
  await blocks.db.batch(ops, { sync: fsync });
  return built;
}

async function writeFileDurably(file: string, chunks: Uint8Array[], fsync: boolean): Promise<void> {
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
    if (fsync) await fh.sync();
  } finally {
    await fh.close();
  }
}
