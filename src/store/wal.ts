/**
 * Write-ahead log: numbered append-only segment files `wal/<seq>.wal` of framed records
 * [u32 payloadLength][u32 crc32(payload)][payload]. One segment is open for appends; a seal
 * rotates to the next, and segments at or below the sealed checkpoint are deleted.
 *
 * Recovery reads every segment above the checkpoint in order. A short or checksum-failing record
 * at the end of the last segment is a torn tail (the write was never acknowledged): it is cut off.
 * The same in an earlier segment is corruption of acknowledged data, and open refuses it.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';

const HEADER_BYTES = 8;
/** A sanity bound: no record is larger than this (the server bounds requests far below it). */
const MAX_RECORD_BYTES = 1 << 30;

export class WalCorruptionError extends Error {
  override name = 'WalCorruptionError';
}

export function frameRecord(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  out.set(payload, HEADER_BYTES);
  return out;
}

/**
 * Splits a buffer of framed records. Returns the records and the length of the valid prefix
 * (anything after it is a torn or corrupt tail).
 */
export function parseFrames(buf: Buffer): { records: Buffer[]; validLength: number } {
  const records: Buffer[] = [];
  let pos = 0;
  while (pos + HEADER_BYTES <= buf.length) {
    const len = buf.readUInt32LE(pos);
    if (len > MAX_RECORD_BYTES || pos + HEADER_BYTES + len > buf.length) break;
    const payload = buf.subarray(pos + HEADER_BYTES, pos + HEADER_BYTES + len);
    if (crc32(payload) !== buf.readUInt32LE(pos + 4)) break;
    records.push(payload);
    pos += HEADER_BYTES + len;
  }
  return { records, validLength: pos };
}

function segmentName(seq: number): string {
  return String(seq).padStart(10, '0') + '.wal';
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class Wal {
  private fh: fsp.FileHandle | null = null;
  private seq = 0;
  private size = 0;
  bytesOnDisk = 0;

  constructor(private readonly dir: string, private readonly fsync: boolean) {}

  get currentSegment(): number {
    return this.seq;
  }

  /**
   * Deletes segments ≤ checkpoint, returns the payloads of the rest in order (cutting a torn tail),
   * and opens a fresh segment for appends.
   */
  async open(checkpoint: number): Promise<Buffer[]> {
    await fsp.mkdir(this.dir, { recursive: true });
    const names = (await fsp.readdir(this.dir)).filter((n) => /^\d{10}\.wal$/.test(n)).sort();
    const payloads: Buffer[] = [];
    let last = checkpoint;
    for (let i = 0; i < names.length; i++) {
      const seq = Number(names[i]!.slice(0, 10));
      const file = path.join(this.dir, names[i]!);
      if (seq <= checkpoint) {
        await fsp.rm(file, { force: true });
        continue;
      }
      last = seq;
      const buf = await fsp.readFile(file);
      const { records, validLength } = parseFrames(buf);
      if (validLength < buf.length) {
        if (i !== names.length - 1) {
          throw new WalCorruptionError(`WAL segment ${file} is corrupt at byte ${validLength} of ${buf.length} and is not the last segment`);
        }
        await fsp.truncate(file, validLength); // torn tail of an unacknowledged write
      }
      for (const r of records) payloads.push(r);
      this.bytesOnDisk += validLength;
    }
    this.seq = last;
    await this.openSegment(last + 1);
    return payloads;
  }

  private async openSegment(seq: number): Promise<void> {
    const fh = await fsp.open(path.join(this.dir, segmentName(seq)), 'a');
    if (this.fsync) await fsyncDir(this.dir); // the new file's directory entry must survive a crash
    this.fh = fh;
    this.seq = seq;
    this.size = 0;
  }

  /** Appends framed records and (when fsync) makes them durable with one fdatasync. */
  async append(frames: Buffer[]): Promise<void> {
    const fh = this.fh;
    if (!fh) throw new Error('WAL is not open');
    let total = 0;
    for (const f of frames) total += f.length;
    // writev may write partially; loop until everything is down.
    let pending = frames;
    let remaining = total;
    while (remaining > 0) {
      const { bytesWritten } = await fh.writev(pending);
      remaining -= bytesWritten;
      if (remaining > 0) pending = [Buffer.concat(pending).subarray(bytesWritten)];
    }
    if (this.fsync) await fh.datasync();
    this.size += total;
    this.bytesOnDisk += total;
  }

  /** Closes the current segment and opens the next; returns the number of the closed one. */
  async rotate(): Promise<number> {
    const closed = this.seq;
    const old = this.fh;
    await this.openSegment(closed + 1);
    if (old) await old.close();
    return closed;
  }

  /** Deletes every segment ≤ seq (their contents are sealed into blocks). */
  async deleteUpTo(seq: number): Promise<void> {
    const names = (await fsp.readdir(this.dir)).filter((n) => /^\d{10}\.wal$/.test(n));
    for (const n of names) {
      if (Number(n.slice(0, 10)) > seq) continue;
      const file = path.join(this.dir, n);
      const st = await fsp.stat(file).catch(() => null);
      await fsp.rm(file, { force: true });
      if (st) this.bytesOnDisk -= st.size;
    }
  }

  get openSegmentBytes(): number {
    return this.size;
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = null;
  }
}
