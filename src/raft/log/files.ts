/**
 * Small whole-file formats written atomically (temp file + fsync + rename + fsync of the
 * directory): the hard state and the snapshot. A reader sees either the old or the new file,
 * never a mix, so a checksum failure here is real damage and is refused.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { crc32c, crc32cUpdate } from './crc32c.js';
import { readU32, readU64, writeU32, writeU64 } from './record.js';
import { LogCorruptionError, type HardState, type Snapshot, type SnapshotMeta } from '../types.js';

export const HARD_STATE_FILE = 'hardstate';
export const SNAPSHOT_FILE = 'snapshot';
export const TMP_SUFFIX = '.tmp';

const HARD_STATE_VERSION = 1;
const SNAPSHOT_MAGIC = 0x52534e50; // "PNSR" little-endian: raft snapshot

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function fsyncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export async function writeFileAtomic(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const finalPath = path.join(dir, name);
  const tmpPath = finalPath + TMP_SUFFIX;
  const handle = await fsp.open(tmpPath, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(tmpPath, finalPath);
  await fsyncDir(dir);
}

export function encodeHardState(hs: HardState): Uint8Array {
  const vote = Buffer.from(hs.vote, 'utf8');
  if (vote.length > 0xffff) throw new Error('vote id too long');
  const buf = new Uint8Array(4 + 1 + 8 + 8 + 2 + vote.length);
  buf[4] = HARD_STATE_VERSION;
  writeU64(buf, 5, hs.term);
  writeU64(buf, 13, hs.commit);
  buf[21] = vote.length & 0xff;
  buf[22] = vote.length >>> 8;
  buf.set(vote, 23);
  writeU32(buf, 0, crc32c(buf, 4));
  return buf;
}

export function decodeHardState(buf: Uint8Array, file: string): HardState {
  const bad = (why: string, offset: number): never => {
    throw new LogCorruptionError(`hard state ${file}: ${why}`, file, offset);
  };
  if (buf.length < 23) bad(`file too short (${buf.length} bytes)`, 0);
  if (crc32c(buf, 4) !== readU32(buf, 0)) bad('checksum mismatch', 0);
  if (buf[4] !== HARD_STATE_VERSION) bad(`unknown version ${buf[4]}`, 4);
  const voteLen = buf[21]! | (buf[22]! << 8);
  if (23 + voteLen !== buf.length) bad('vote length does not match file size', 21);
  return {
    term: readU64(buf, 5),
    commit: readU64(buf, 13),
    vote: Buffer.from(buf.buffer, buf.byteOffset + 23, voteLen).toString('utf8'),
  };
}

const CRC_CHUNK = 4 * 1024 * 1024;

/**
 * Same bytes as encodeSnapshot, without copying the data into one buffer and with the checksum
 * computed in chunks that yield to the event loop: a large state must not stall heartbeats.
 */
export async function writeSnapshotFileAtomic(dir: string, snap: Snapshot): Promise<void> {
  const meta = Buffer.from(JSON.stringify(snap.meta), 'utf8');
  const header = Buffer.alloc(12 + meta.length);
  writeU32(header, 4, SNAPSHOT_MAGIC);
  writeU32(header, 8, meta.length);
  header.set(meta, 12);
  let crc = crc32cUpdate(0, header, 4);
  for (let off = 0; off < snap.data.length; off += CRC_CHUNK) {
    crc = crc32cUpdate(crc, snap.data, off, Math.min(snap.data.length, off + CRC_CHUNK));
    await new Promise((resolve) => setImmediate(resolve));
  }
  writeU32(header, 0, crc);
  const finalPath = path.join(dir, SNAPSHOT_FILE);
  const tmpPath = finalPath + TMP_SUFFIX;
  const handle = await fsp.open(tmpPath, 'w');
  try {
    await handle.write(header, 0, header.length, 0);
    // In slices, each made durable before the next: one large dirty file would be flushed by
    // ext4 along with the next journal commit, stalling the WAL's fsync behind all of it.
    for (let off = 0; off < snap.data.length; off += CRC_CHUNK) {
      const end = Math.min(snap.data.length, off + CRC_CHUNK);
      await handle.write(snap.data, off, end - off, header.length + off);
      await handle.datasync();
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(tmpPath, finalPath);
  await fsyncDir(dir);
}

export function encodeSnapshot(snap: Snapshot): Uint8Array {
  const meta = Buffer.from(JSON.stringify(snap.meta), 'utf8');
  const buf = new Uint8Array(12 + meta.length + snap.data.length);
  writeU32(buf, 4, SNAPSHOT_MAGIC);
  writeU32(buf, 8, meta.length);
  buf.set(meta, 12);
  buf.set(snap.data, 12 + meta.length);
  writeU32(buf, 0, crc32c(buf, 4));
  return buf;
}

export function decodeSnapshot(buf: Uint8Array, file: string): Snapshot {
  const bad = (why: string, offset: number): never => {
    throw new LogCorruptionError(`snapshot ${file}: ${why}`, file, offset);
  };
  if (buf.length < 12) bad(`file too short (${buf.length} bytes)`, 0);
  if (crc32c(buf, 4) !== readU32(buf, 0)) bad('checksum mismatch', 0);
  if (readU32(buf, 4) !== SNAPSHOT_MAGIC) bad('bad magic', 4);
  const metaLen = readU32(buf, 8);
  if (12 + metaLen > buf.length) bad('meta length runs past end of file', 8);
  const meta = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 12, metaLen).toString('utf8')) as SnapshotMeta;
  if (!Number.isSafeInteger(meta.index) || !Number.isSafeInteger(meta.term) || !meta.conf) bad('malformed meta', 12);
  return { meta, data: buf.slice(12 + metaLen) };
}
