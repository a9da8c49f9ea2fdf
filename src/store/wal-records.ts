/**
 * The store's WAL record payloads: kind u8, tenant (u16 length + utf8), shard i32 (-1: any),
 * ingest time f64 ms, body. A batch record's body is the batch as encoded TracesData.
 */
import { crc32 } from 'node:zlib';
import type { SpanBatch } from '../otlp/model.js';
import { decodeSpanBatch, groupSpanBatch } from '../otlp/batch.js';
import { sizeTracesData, writeTracesData } from '../otlp/assemble.js';
import type { Head } from './head.js';

export const RECORD_BATCH = 1;
export const RECORD_RESET_SHARD = 2;

export function headerPayload(kind: number, tenant: string, shard: number, ingestMs: number, body: Uint8Array): Buffer {
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
export function batchFrame(tenant: string, shard: number, ingestMs: number, batch: SpanBatch): Buffer {
  const sized = sizeTracesData(groupSpanBatch(batch));
  const t = Buffer.from(tenant, 'utf8');
  const headerBytes = 1 + 2 + t.length + 4 + 8;
  const frame = Buffer.allocUnsafe(8 + headerBytes + sized.total);
  const payload = frame.subarray(8);
  payload[0] = RECORD_BATCH;
  payload.writeUInt16LE(t.length, 1);
  payload.set(t, 3);
  payload.writeInt32LE(shard, 3 + t.length);
  payload.writeDoubleLE(ingestMs, 7 + t.length);
  writeTracesData(sized, payload, headerBytes);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  return frame;
}

export function parseHeaderPayload(p: Buffer): { kind: number; tenant: string; shard: number; ingestMs: number; body: Buffer } {
  const tl = p.readUInt16LE(1);
  return {
    kind: p[0]!, tenant: p.toString('utf8', 3, 3 + tl), shard: p.readInt32LE(3 + tl),
    ingestMs: p.readDoubleLE(7 + tl), body: p.subarray(15 + tl),
  };
}

/**
 * Replays WAL payloads (in log order) into `head`: batches are inserted, a shard reset drops the
 * shard from the head. Returns the reset shards, which the caller must also exclude from blocks.
 */
export function replayIntoHead(payloads: Iterable<Buffer>, head: Head): number[] {
  const resetShards: number[] = [];
  for (const p of payloads) {
    const { kind, tenant, shard, ingestMs, body } = parseHeaderPayload(p);
    if (kind === RECORD_BATCH) head.insert(tenant, decodeSpanBatch(body), ingestMs);
    else if (kind === RECORD_RESET_SHARD) {
      head.dropShard(shard);
      resetShards.push(shard);
    } else throw new Error(`unknown WAL record kind ${kind}`);
  }
  return resetShards;
}
