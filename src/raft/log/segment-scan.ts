/**
 * Recovery scan of one segment file. Decides, for the first bad record, whether it is a torn
 * tail (only possible at the end of the last segment: drop it and what follows) or damage in the
 * middle (refuse with LogCorruptionError naming the file and the record's offset).
 */
import { LogCorruptionError, type Entry } from '../types.js';
import { lastRecordStart, readRecord, readU32, RecordKind, RECORD_OVERHEAD, validRecordEndsAtEof } from './record.js';

export interface ScannedSegment {
  entries: Entry[];
  /** Byte offset of each entry's record, parallel to `entries`. */
  offsets: number[];
  /** Highest commit index recorded in this segment, 0 if none. */
  commit: number;
  /** Bytes of whole valid records; < file length when a torn tail was found. */
  validBytes: number;
  tornReason?: string;
}

/**
 * `firstIndex` comes from the file name; `isLast` allows a torn tail.
 * Entry indexes must run firstIndex, firstIndex+1, ... without gaps.
 */
export function scanSegment(buf: Uint8Array, file: string, firstIndex: number, isLast: boolean): ScannedSegment {
  const entries: Entry[] = [];
  const offsets: number[] = [];
  let commit = 0;
  let off = 0;
  let nextIndex = firstIndex;
  while (off < buf.length) {
    const outcome = readRecord(buf, off);
    if (!outcome.ok) {
      if (isLast) {
        // The writer fills the last segment with zeros ahead of its records (FileLog prefill).
        const dataEnd = endOfNonZero(buf);
        if (dataEnd <= off) return { entries, offsets, commit, validBytes: off, tornReason: 'zeros written ahead' };
        // Judge as if the file ended at its data. The last record ends with its length (u32 LE,
        // never 0) whose top bytes may be zero: the true end is dataEnd..dataEnd+3. Torn only if
        // torn for every candidate, so a zero tail never hides damage the plain file would show.
        let torn = true;
        for (let end = dataEnd; end <= Math.min(buf.length, dataEnd + 3); end++) torn &&= isTornTail(buf.subarray(0, end), off);
        if (torn) return { entries, offsets, commit, validBytes: off, tornReason: outcome.reason };
      }
      throw new LogCorruptionError(`corrupted record in ${file} at offset ${off}: ${outcome.reason}`, file, off);
    }
    const record = outcome.record;
    if (record.kind === RecordKind.Entry) {
      if (record.entry.index !== nextIndex) {
        throw new LogCorruptionError(
          `entry index ${record.entry.index} in ${file} at offset ${off}, expected ${nextIndex}`,
          file,
          off,
        );
      }
      entries.push(record.entry);
      offsets.push(off);
      nextIndex++;
    } else {
      commit = Math.max(commit, record.commit);
    }
    off = record.end;
  }
  return { entries, offsets, commit, validBytes: off };
}

/**
 * A bad record at `off` is a torn tail when it is the last record in the file (by its own length
 * or by the trailing length of the file), or when nothing valid follows it at the end of the file
 * (the file was cut short inside or after it). If a valid record still ends exactly at end of
 * file, the file was not cut short, so the bad record is damage in the middle.
 */
function isTornTail(buf: Uint8Array, off: number): boolean {
  const remaining = buf.length - off;
  if (remaining < RECORD_OVERHEAD) return true;
  if (lastRecordStart(buf) === off) return true;
  const len = readU32(buf, off);
  if (off + RECORD_OVERHEAD + len === buf.length) return true;
  return !validRecordEndsAtEof(buf, off);
}

/** Offset just past the last non-zero byte (0 for an all-zero buffer). */
function endOfNonZero(buf: Uint8Array): number {
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0) end--;
  return end;
}
