/**
 * WAL record framing. Every record is
 *
 *   [payloadLength u32 LE][crc32c u32 LE][payload][payloadLength u32 LE]
 *
 * where crc32c covers the leading length bytes and the payload. The trailing copy of the length
 * lets recovery find where the last record of a file starts by reading backwards from the end, so
 * a damaged length field in the last record is still recognised as "the last record" (torn tail)
 * and not mistaken for a corrupted middle, and vice versa.
 *
 * Payloads:
 *   entry:  [kind=1 u8][entryType u8][term u64 LE][index u64 LE][data...]
 *   commit: [kind=2 u8][commit u64 LE]
 */
import { crc32cUpdate } from './crc32c.js';
import type { Entry } from '../types.js';

export const RECORD_OVERHEAD = 12;
export const ENTRY_HEADER = 18;
export const COMMIT_PAYLOAD = 9;
export const MAX_PAYLOAD = 256 * 1024 * 1024;

export const enum RecordKind {
  Entry = 1,
  Commit = 2,
}

const TWO_32 = 0x1_0000_0000;

export function writeU64(buf: Uint8Array, off: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`not a non-negative safe integer: ${value}`);
  const lo = value % TWO_32;
  const hi = (value - lo) / TWO_32;
  writeU32(buf, off, lo);
  writeU32(buf, off + 4, hi);
}

export function readU64(buf: Uint8Array, off: number): number {
  return readU32(buf, off) + readU32(buf, off + 4) * TWO_32;
}

export function writeU32(buf: Uint8Array, off: number, value: number): void {
  buf[off] = value & 0xff;
  buf[off + 1] = (value >>> 8) & 0xff;
  buf[off + 2] = (value >>> 16) & 0xff;
  buf[off + 3] = (value >>> 24) & 0xff;
}

export function readU32(buf: Uint8Array, off: number): number {
  return (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
}

export function entryRecordSize(e: Entry): number {
  return RECORD_OVERHEAD + ENTRY_HEADER + e.data.length;
}

/** Frame a payload already written at `buf[off+8, off+8+len)`; returns the offset after the record. */
function seal(buf: Uint8Array, off: number, len: number): number {
  writeU32(buf, off, len);
  let crc = crc32cUpdate(0, buf, off, off + 4);
  crc = crc32cUpdate(crc, buf, off + 8, off + 8 + len);
  writeU32(buf, off + 4, crc);
  writeU32(buf, off + 8 + len, len);
  return off + RECORD_OVERHEAD + len;
}

export function encodeEntry(buf: Uint8Array, off: number, e: Entry): number {
  const p = off + 8;
  buf[p] = RecordKind.Entry;
  buf[p + 1] = e.type;
  writeU64(buf, p + 2, e.term);
  writeU64(buf, p + 10, e.index);
  buf.set(e.data, p + ENTRY_HEADER);
  return seal(buf, off, ENTRY_HEADER + e.data.length);
}

export function encodeCommit(buf: Uint8Array, off: number, commit: number): number {
  const p = off + 8;
  buf[p] = RecordKind.Commit;
  writeU64(buf, p + 1, commit);
  return seal(buf, off, COMMIT_PAYLOAD);
}

export type DecodedRecord =
  | { kind: RecordKind.Entry; entry: Entry; offset: number; end: number }
  | { kind: RecordKind.Commit; commit: number; offset: number; end: number };

export type ReadOutcome =
  | { ok: true; record: DecodedRecord }
  /** `torn` is only a candidate: the caller decides whether it may be dropped as a tail. */
  | { ok: false; reason: string };

/** Validate and decode the record starting at `off`; never reads past `buf.length`. */
export function readRecord(buf: Uint8Array, off: number): ReadOutcome {
  if (buf.length - off < RECORD_OVERHEAD) return { ok: false, reason: 'partial record header' };
  const len = readU32(buf, off);
  if (len > MAX_PAYLOAD || off + RECORD_OVERHEAD + len > buf.length) {
    return { ok: false, reason: `record length ${len} runs past end of file` };
  }
  let crc = crc32cUpdate(0, buf, off, off + 4);
  crc = crc32cUpdate(crc, buf, off + 8, off + 8 + len);
  if (crc !== readU32(buf, off + 4)) return { ok: false, reason: 'checksum mismatch' };
  if (readU32(buf, off + 8 + len) !== len) return { ok: false, reason: 'trailing length mismatch' };
  const p = off + 8;
  const end = off + RECORD_OVERHEAD + len;
  const kind = buf[p];
  if (kind === RecordKind.Entry && len >= ENTRY_HEADER) {
    const type = buf[p + 1]!;
    if (type !== 0 && type !== 1) return { ok: false, reason: `unknown entry type ${type}` };
    const entry: Entry = {
      type,
      term: readU64(buf, p + 2),
      index: readU64(buf, p + 10),
      // Copy so the entry does not pin the whole segment buffer.
      data: Uint8Array.prototype.slice.call(buf, p + ENTRY_HEADER, p + len),
    };
    return { ok: true, record: { kind: RecordKind.Entry, entry, offset: off, end } };
  }
  if (kind === RecordKind.Commit && len === COMMIT_PAYLOAD) {
    return { ok: true, record: { kind: RecordKind.Commit, commit: readU64(buf, p + 1), offset: off, end } };
  }
  return { ok: false, reason: `unknown record kind ${kind} (length ${len})` };
}

/**
 * True when a valid record ends exactly at the end of `buf` and starts after `after`: proof that
 * the file was not cut short, so a bad record at `after` is damage in the middle, not a torn tail.
 */
export function validRecordEndsAtEof(buf: Uint8Array, after: number): boolean {
  const start = lastRecordStart(buf);
  if (start === undefined || start <= after) return false;
  return readRecord(buf, start).ok;
}

/** Where the last record would start according to the trailing length, if that is plausible. */
export function lastRecordStart(buf: Uint8Array): number | undefined {
  if (buf.length < RECORD_OVERHEAD) return undefined;
  const len = readU32(buf, buf.length - 4);
  const start = buf.length - RECORD_OVERHEAD - len;
  return start >= 0 ? start : undefined;
}
