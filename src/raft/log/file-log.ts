/**
 * FileLog: the durable Raft log on local disk.
 *
 * Layout of `dir`:
 *   <firstIndex, 20 digits>.wal   segments of framed records (see record.ts), rolled at a size bound
 *   hardstate                     term, vote, commit; replaced atomically
 *   snapshot                      latest snapshot; replaced atomically
 *
 * The whole live log (firstIndex..lastIndex) is also held in memory, like etcd's MemoryStorage;
 * compaction after a snapshot bounds it. Writes are buffered: `append` and `setHardState` only
 * change memory, and one flush round in `sync()` writes everything since the last round with
 * one O_DSYNC write (durable on return), shared by every caller waiting (group commit). A conflicting suffix that is
 * already on disk is removed by the next round before anything new is written after it, so an
 * overwrite can never interleave old and new records in one file.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { LogCorruptionError, type DurableLog, type Entry, type HardState, type Snapshot, type SnapshotMeta } from '../types.js';
import {
  decodeHardState,
  decodeSnapshot,
  encodeHardState,
  fsyncDir,
  fsyncDirSync,
  HARD_STATE_FILE,
  SNAPSHOT_FILE,
  TMP_SUFFIX,
  writeFileAtomic,
  writeSnapshotFileAtomic,
} from './files.js';
import { encodeCommit, encodeEntry, entryRecordSize, RECORD_OVERHEAD, COMMIT_PAYLOAD } from './record.js';
import { scanSegment } from './segment-scan.js';

export interface FileLogOptions {
  /** A segment is sealed and a new one started once it holds at least this many bytes. */
  segmentBytes?: number;
}

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const SEGMENT_SUFFIX = '.wal';
/** O_DSYNC: a write returns once its data (and the size needed to read it) is durable, like write + fdatasync in one call. */
const SEGMENT_OPEN_FLAGS = fs.constants.O_RDWR | fs.constants.O_DSYNC;
const SEGMENT_CREATE_FLAGS = SEGMENT_OPEN_FLAGS | fs.constants.O_CREAT | fs.constants.O_EXCL;
/**
 * Zeros are written (and made durable) ahead of the active segment's end in chunks of this size,
 * off the commit path. A synced write that grows a file must commit the filesystem journal (ext4);
 * one that overwrites already-allocated blocks need not, which on a shared disk cut fsync p99 from
 * 1-4.5 ms to 0.15-0.4 ms (docs/raft-log.md). Recovery reads an all-zero rest of the last segment
 * as its end.
 */
const PREFILL_BYTES = 1 << 20;
/**
 * Zeros cost as much disk bandwidth as records. They pay off when rounds are small (latency-bound:
 * one journal commit per few KiB); when rounds are large (throughput-bound) the journal commit is
 * shared by many records and the extra bytes would only take bandwidth from the log.
 */
const PREFILL_MAX_ROUND_BYTES = 32 * 1024;

interface Segment {
  firstIndex: number;
  file: string; // absolute path
  size: number; // bytes written (after completed rounds)
  /** File length on disk, >= size: the bytes past `size` are zeros written ahead (see prefill). */
  filled: number;
  offsets: number[]; // record offset of entry firstIndex + i
}

interface Waiter {
  target: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function segmentName(firstIndex: number): string {
  return String(firstIndex).padStart(20, '0') + SEGMENT_SUFFIX;
}

export class FileLog implements DurableLog {
  private mem: Entry[] = []; // mem[i].index === offsetIndex + 1 + i
  private offsetIndex = 0; // index just before the first live entry (the snapshot index after compaction)
  private offsetTerm = 0;
  private hs: HardState;
  private durableTermVote: { term: number; vote: string };
  private snapMeta: SnapshotMeta | null;

  private segments: Segment[];
  private activeHandle: fsp.FileHandle | null = null;
  /** Last index that is on disk or being written by the round in flight. */
  private plannedLast: number;
  /** Disk must drop entries >= this before anything is written after them. */
  private pendingTruncate: number | null = null;
  /** Disk must drop every segment and restart at plannedLast + 1 (log replaced by a snapshot). */
  private pendingReset = false;
  private pendingDeletes: string[] = [];
  private diskCommit: number;

  private mutationSeq = 0;
  private durableSeq = 0;
  private waiters: Waiter[] = [];
  private flushing: Promise<void> | null = null;
  /** Zeros being written ahead of the active segment (never overlaps a record write). */
  private prefilling: Promise<void> | null = null;
  private roundBytesAvg = 0;
  private failed: unknown = null;
  /** Flush rounds and fsync calls so far: lets tests and metrics see group commit working. */
  readonly stats = { rounds: 0, fsyncs: 0 };
  private closed = false;
  private snapshotChain: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
    init: {
      hs: HardState;
      snapMeta: SnapshotMeta | null;
      segments: Segment[];
      entries: Entry[];
      offsetIndex: number;
      offsetTerm: number;
      diskCommit: number;
    },
  ) {
    this.hs = init.hs;
    this.durableTermVote = { term: init.hs.term, vote: init.hs.vote };
    this.snapMeta = init.snapMeta;
    this.segments = init.segments;
    this.mem = init.entries;
    this.offsetIndex = init.offsetIndex;
    this.offsetTerm = init.offsetTerm;
    this.plannedLast = this.lastIndex();
    this.diskCommit = init.diskCommit;
  }

  /** Open (creating if needed) and recover. Throws LogCorruptionError on a corrupted middle. */
  static async open(dir: string, options: FileLogOptions = {}): Promise<FileLog> {
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!(segmentBytes > 0)) throw new Error(`segmentBytes must be positive, got ${segmentBytes}`);
    await fsp.mkdir(dir, { recursive: true });
    const log = new FileLog(dir, segmentBytes, recover(dir));
    return log;
  }

  get hardState(): HardState {
    return { ...this.hs };
  }

  get snapshotMeta(): SnapshotMeta | null {
    return this.snapMeta;
  }

  firstIndex(): number {
    return this.offsetIndex + 1;
  }

  lastIndex(): number {
    return this.offsetIndex + this.mem.length;
  }

  term(index: number): number | undefined {
    if (index === this.offsetIndex) return this.offsetTerm;
    if (index < this.offsetIndex || index > this.lastIndex()) return undefined;
    return this.mem[index - this.offsetIndex - 1]!.term;
  }

  entries(lo: number, hi: number, maxBytes?: number): Entry[] {
    if (lo < this.firstIndex()) throw new Error(`entries(${lo}, ${hi}): ${lo} is compacted (first ${this.firstIndex()})`);
    if (hi > this.lastIndex() + 1) throw new Error(`entries(${lo}, ${hi}): beyond last index ${this.lastIndex()}`);
    if (lo >= hi) return [];
    const from = lo - this.offsetIndex - 1;
    const to = hi - this.offsetIndex - 1;
    if (maxBytes === undefined) return this.mem.slice(from, to);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = from; i < to; i++) {
      const e = this.mem[i]!;
      bytes += e.data.length;
      // Always at least one entry, so a caller can make progress past a large one.
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  append(entries: Entry[]): void {
    this.assertUsable();
    if (entries.length === 0) return;
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.index !== entries[i - 1]!.index + 1) throw new Error('append: entries are not contiguous');
    }
    let i = 0;
    // Entries at or below the compaction point are covered by the snapshot: already committed.
    while (i < entries.length && entries[i]!.index <= this.offsetIndex) i++;
    // An entry that is already there with the same term is the same entry (log matching).
    while (i < entries.length && entries[i]!.index <= this.lastIndex() && this.term(entries[i]!.index) === entries[i]!.term) i++;
    if (i === entries.length) return;
    const first = entries[i]!.index;
    if (first > this.lastIndex() + 1) {
      throw new Error(`append: gap, first new index ${first} after last index ${this.lastIndex()}`);
    }
    if (first <= this.lastIndex()) {
      if (first <= this.hs.commit) {
        throw new Error(`append: refusing to overwrite committed entry ${first} (commit ${this.hs.commit})`);
      }
      this.mem.length = first - this.offsetIndex - 1;
      if (first <= this.plannedLast) {
        this.pendingTruncate = Math.min(this.pendingTruncate ?? first, first);
        this.plannedLast = first - 1;
      }
    }
    for (; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.term < (this.term(e.index - 1) ?? 0)) throw new Error(`append: term goes backwards at index ${e.index}`);
      this.mem.push(e);
    }
    this.mutationSeq++;
  }

  setHardState(hs: HardState): void {
    this.assertUsable();
    if (hs.term < this.hs.term) throw new Error(`setHardState: term goes backwards ${this.hs.term} -> ${hs.term}`);
    if (hs.term === this.hs.term && this.hs.vote !== '' && hs.vote !== this.hs.vote) {
      throw new Error(`setHardState: second vote in term ${hs.term} (${this.hs.vote} -> ${hs.vote})`);
    }
    if (hs.term === this.hs.term && hs.vote === this.hs.vote && hs.commit === this.hs.commit) return;
    this.hs = { term: hs.term, vote: hs.vote, commit: hs.commit };
    this.mutationSeq++;
  }

  sync(): Promise<void> {
    try {
      this.assertUsable();
    } catch (err) {
      return Promise.reject(err);
    }
    // durableSeq only advances after a round completes, so anything appended earlier is either
    // durable already or covered by a waiter target below.
    if (this.durableSeq >= this.mutationSeq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ target: this.mutationSeq, resolve, reject });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  saveSnapshot(snap: Snapshot): Promise<void> {
    // One at a time: they share the temp file, and an older one must never replace a newer one.
    const run = this.snapshotChain.then(() => this.saveSnapshotNow(snap));
    this.snapshotChain = run.catch(() => undefined);
    return run;
  }

  private async saveSnapshotNow(snap: Snapshot): Promise<void> {
    this.assertUsable();
    const index = snap.meta.index;
    if (this.snapMeta && index <= this.snapMeta.index) return; // older than what we have: nothing to do
    await writeSnapshotFileAtomic(this.dir, snap);
    this.snapMeta = snap.meta;
    if (this.term(index) === snap.meta.term && index <= this.lastIndex()) {
      this.compact(index);
    } else {
      // The log does not contain the snapshot's last entry: the snapshot replaces the whole log.
      this.mem = [];
      this.offsetIndex = index;
      this.offsetTerm = snap.meta.term;
      this.pendingReset = true;
      this.pendingTruncate = null;
      this.plannedLast = index;
      this.mutationSeq++;
    }
    if (this.hs.commit < index) this.setHardState({ ...this.hs, commit: index });
    await this.sync();
  }

  async loadSnapshot(): Promise<Snapshot | null> {
    if (!this.snapMeta) return null;
    const file = path.join(this.dir, SNAPSHOT_FILE);
    return decodeSnapshot(await fsp.readFile(file), file);
  }

  compact(index: number): void {
    this.assertUsable();
    if (index <= this.offsetIndex) return;
    if (!this.snapMeta || index > this.snapMeta.index) {
      throw new Error(`compact(${index}): not covered by a saved snapshot (snapshot ${this.snapMeta?.index ?? 'none'})`);
    }
    if (index > this.lastIndex()) throw new Error(`compact(${index}): beyond last index ${this.lastIndex()}`);
    this.offsetTerm = this.term(index)!;
    this.mem = this.mem.slice(index - this.offsetIndex);
    this.offsetIndex = index;
    if (index > this.plannedLast) {
      // Entries up to `index` were never written; rather than leave a gap on disk, restart the files.
      this.pendingReset = true;
      this.pendingTruncate = null;
      this.plannedLast = index;
    } else {
      // Whole segments whose every entry is <= index go; never the active (last) one.
      while (this.segments.length > 1 && this.segments[1]!.firstIndex <= index + 1) {
        this.pendingDeletes.push(this.segments.shift()!.file);
      }
    }
    this.mutationSeq++;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.failed) await this.sync();
    else if (this.flushing) await this.flushing.catch(() => undefined);
    await this.prefilling;
    if (!this.failed) await this.trimActive(); // a cleanly closed log leaves exactly its records
    this.closed = true;
    await this.activeHandle?.close();
    this.activeHandle = null;
  }

  /** Files currently holding the log, oldest first (for tests and tools). */
  segmentFiles(): string[] {
    return this.segments.map((s) => s.file);
  }

  private assertUsable(): void {
    if (this.closed) throw new Error('log is closed');
    // After a failed write or fsync the on-disk state is unknown: refuse to continue (reopen to recover).
    if (this.failed) throw new Error(`log failed earlier: ${String(this.failed)}`);
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.waiters.length > 0) {
        const target = this.mutationSeq;
        await this.flushRound();
        this.durableSeq = target;
        const still: Waiter[] = [];
        for (const w of this.waiters) (w.target <= target ? w.resolve() : still.push(w));
        this.waiters = still;
      }
    } catch (err) {
      this.failed = err;
      for (const w of this.waiters.splice(0)) w.reject(err);
    } finally {
      this.flushing = null;
    }
  }

  /** One group commit: capture everything pending now, write it, fsync once. */
  private async flushRound(): Promise<void> {
    this.stats.rounds++;
    const truncateAt = this.pendingTruncate;
    const reset = this.pendingReset;
    const deletes = this.pendingDeletes.splice(0);
    this.pendingTruncate = null;
    this.pendingReset = false;
    const lo = this.plannedLast + 1;
    const hi = this.lastIndex();
    if (lo < this.firstIndex()) throw new Error(`flush: would leave a gap on disk (${lo} < first ${this.firstIndex()})`);
    const batch = lo <= hi ? this.mem.slice(lo - this.offsetIndex - 1, hi - this.offsetIndex) : [];
    this.plannedLast = hi;
    const commit = this.hs.commit;
    const hardState = { ...this.hs };
    const termVoteChanged = hardState.term !== this.durableTermVote.term || hardState.vote !== this.durableTermVote.vote;
    if (this.prefilling) {
      // Record writes may only land below the zeros being written; anything else waits for them.
      const active = this.segments[this.segments.length - 1];
      let bytes = RECORD_OVERHEAD + COMMIT_PAYLOAD;
      for (const e of batch) bytes += entryRecordSize(e);
      if (reset || truncateAt !== null || deletes.length > 0 || !active || active.size + bytes > active.filled) await this.prefilling;
    }

    let dirDirty = false;
    if (reset) {
      dirDirty = (await this.dropAllSegments()) || dirDirty;
    } else if (truncateAt !== null) {
      dirDirty = (await this.truncateDisk(truncateAt)) || dirDirty;
    }
    for (const file of deletes) {
      await fsp.unlink(file);
      dirDirty = true;
    }
    const wroteEntries = batch.length > 0;
    const sizeBefore = this.segments[this.segments.length - 1]?.size ?? 0;
    // Commit rides in the WAL as a tiny record (no file of its own), in the same write as the
    // entries when there are any.
    const writeCommit = commit !== this.diskCommit && (wroteEntries || this.segments.length > 0);
    let commitRecord: Uint8Array | null = null;
    if (writeCommit) {
      commitRecord = new Uint8Array(RECORD_OVERHEAD + COMMIT_PAYLOAD);
      encodeCommit(commitRecord, 0, commit);
    }
    if (wroteEntries) dirDirty = (await this.writeEntries(batch, commitRecord)) || dirDirty;
    else if (commitRecord) {
      await this.ensureActiveHandle();
      const seg = this.segments[this.segments.length - 1]!;
      await this.activeHandle!.write(commitRecord, 0, commitRecord.length, seg.size);
      seg.size += commitRecord.length;
      seg.filled = Math.max(seg.filled, seg.size);
    }
    if (writeCommit) this.diskCommit = commit;
    // Segments are opened O_DSYNC: each write above returned only once durable, so the round needs
    // no separate fdatasync (one thread-pool hop instead of two on the commit path). A cut is
    // synced by truncateDisk itself.
    if (wroteEntries || writeCommit) this.stats.fsyncs++;
    if (wroteEntries) {
      // Exponential average of bytes per round (weight 1/8): what kind of load this log carries.
      const written = this.segments[this.segments.length - 1]!.size - sizeBefore;
      this.roundBytesAvg += (Math.max(0, written) - this.roundBytesAvg) / 8;
    }
    if (this.roundBytesAvg <= PREFILL_MAX_ROUND_BYTES) this.maybePrefill();
    if (dirDirty) await fsyncDir(this.dir);
    if (termVoteChanged || reset) {
      // Term and vote must never be lost or torn; commit rides along.
      await writeFileAtomic(this.dir, HARD_STATE_FILE, encodeHardState(hardState));
      this.durableTermVote = { term: hardState.term, vote: hardState.vote };
    }
  }

  /** Write `batch` after the active segment, rolling to new segments at the size bound. */
  private async writeEntries(batch: Entry[], trailer: Uint8Array | null): Promise<boolean> {
    let created = false;
    if (this.segments.length === 0) {
      await this.createSegment(batch[0]!.index);
      created = true;
    }
    await this.ensureActiveHandle();
    let i = 0;
    while (i < batch.length) {
      let seg = this.segments[this.segments.length - 1]!;
      if (seg.size >= this.segmentBytes && seg.offsets.length > 0) {
        // Seal: every write to it was O_DSYNC, so it is complete on disk before the next one
        // exists; its zeros go first (only the last segment may end in zeros).
        await this.prefilling;
        await this.trimActive();
        await this.createSegment(batch[i]!.index);
        created = true;
        seg = this.segments[this.segments.length - 1]!;
      }
      let bytes = 0;
      let j = i;
      while (j < batch.length && (j === i || seg.size + bytes < this.segmentBytes)) {
        bytes += entryRecordSize(batch[j]!);
        j++;
      }
      const extra = j === batch.length && trailer ? trailer.length : 0;
      const buf = Buffer.allocUnsafe(bytes + extra);
      let off = 0;
      const base = seg.size;
      for (let k = i; k < j; k++) {
        seg.offsets.push(base + off);
        off = encodeEntry(buf, off, batch[k]!);
      }
      if (extra > 0) buf.set(trailer!, off);
      await this.activeHandle!.write(buf, 0, bytes + extra, base);
      seg.size += bytes + extra;
      seg.filled = Math.max(seg.filled, seg.size);
      i = j;
    }
    return created;
  }

  /** Start writing zeros ahead of the active segment once less than half a chunk is left. */
  private maybePrefill(): void {
    const seg = this.segments[this.segments.length - 1];
    if (this.prefilling || !seg || !this.activeHandle || this.failed) return;
    if (seg.filled - seg.size >= PREFILL_BYTES / 2) return;
    const from = seg.filled;
    const bytes = Math.min(PREFILL_BYTES, this.segmentBytes - from);
    if (bytes <= 0) return;
    const handle = this.activeHandle;
    this.prefilling = handle
      .write(Buffer.alloc(bytes), 0, bytes, from) // O_DSYNC: durable on return
      .then(
        () => {
          if (this.segments[this.segments.length - 1] === seg) seg.filled = Math.max(seg.filled, from + bytes);
        },
        (err: unknown) => {
          this.failed ??= err; // a failed write leaves the disk state unknown, as in a flush round
        },
      )
      .finally(() => {
        this.prefilling = null;
      });
  }

  /** Cut the active segment's zeros so the file ends at its last record. */
  private async trimActive(): Promise<void> {
    const seg = this.segments[this.segments.length - 1];
    if (!seg || seg.filled <= seg.size) return;
    await this.ensureActiveHandle();
    await this.activeHandle!.truncate(seg.size);
    await this.activeHandle!.datasync();
    seg.filled = seg.size;
  }

  private async createSegment(firstIndex: number): Promise<void> {
    await this.activeHandle?.close();
    this.activeHandle = null;
    const file = path.join(this.dir, segmentName(firstIndex));
    this.activeHandle = await fsp.open(file, SEGMENT_CREATE_FLAGS);
    this.segments.push({ firstIndex, file, size: 0, filled: 0, offsets: [] });
  }

  private async ensureActiveHandle(): Promise<void> {
    if (this.activeHandle) return;
    const seg = this.segments[this.segments.length - 1];
    if (!seg) throw new Error('no active segment');
    this.activeHandle = await fsp.open(seg.file, SEGMENT_OPEN_FLAGS);
  }

  /**
   * Remove entries >= index from disk durably: later segments go first (newest first, so a crash
   * midway leaves a contiguous prefix of the old log), then the holding segment is cut.
   */
  private async truncateDisk(index: number): Promise<boolean> {
    let dirDirty = false;
    while (this.segments.length > 1 && this.segments[this.segments.length - 1]!.firstIndex >= index) {
      const seg = this.segments.pop()!;
      await this.activeHandle?.close();
      this.activeHandle = null;
      await fsp.unlink(seg.file);
      dirDirty = true;
    }
    if (dirDirty) await fsyncDir(this.dir);
    const seg = this.segments[this.segments.length - 1];
    if (!seg) return dirDirty;
    const k = index - seg.firstIndex;
    if (k < 0) throw new Error(`truncate(${index}): before first segment ${seg.firstIndex}`);
    if (k >= seg.offsets.length) return dirDirty; // nothing of it reached this segment
    const cut = seg.offsets[k]!;
    await this.ensureActiveHandle();
    await this.activeHandle!.truncate(cut);
    await this.activeHandle!.datasync();
    seg.offsets.length = k;
    seg.size = cut;
    seg.filled = cut;
    this.diskCommit = -1; // the cut may have dropped commit records; write a fresh one
    return dirDirty;
  }

  private async dropAllSegments(): Promise<boolean> {
    await this.activeHandle?.close();
    this.activeHandle = null;
    const had = this.segments.length > 0;
    while (this.segments.length > 0) await fsp.unlink(this.segments.pop()!.file);
    this.diskCommit = -1;
    return had;
  }
}

interface Recovered {
  hs: HardState;
  snapMeta: SnapshotMeta | null;
  segments: Segment[];
  entries: Entry[];
  offsetIndex: number;
  offsetTerm: number;
  diskCommit: number;
}

/** Read everything in `dir`, drop a torn tail (durably), refuse damage elsewhere. */
function recover(dir: string): Recovered {
  const names = fs.readdirSync(dir);
  for (const name of names) if (name.endsWith(TMP_SUFFIX)) fs.unlinkSync(path.join(dir, name)); // unfinished atomic writes

  const hsFile = path.join(dir, HARD_STATE_FILE);
  const hs: HardState = fs.existsSync(hsFile) ? decodeHardState(fs.readFileSync(hsFile), hsFile) : { term: 0, vote: '', commit: 0 };
  const snapFile = path.join(dir, SNAPSHOT_FILE);
  const snapMeta = fs.existsSync(snapFile) ? decodeSnapshot(fs.readFileSync(snapFile), snapFile).meta : null;

  const segNames = names
    .filter((n) => n.endsWith(SEGMENT_SUFFIX))
    .map((n) => {
      const first = Number(n.slice(0, -SEGMENT_SUFFIX.length));
      if (!Number.isSafeInteger(first) || first < 1) {
        throw new LogCorruptionError(`segment file with a bad name: ${n}`, path.join(dir, n), 0);
      }
      return { name: n, first };
    })
    .sort((a, b) => a.first - b.first);

  const segments: Segment[] = [];
  let entries: Entry[] = [];
  let walCommit = 0;
  let expectNext = segNames[0]?.first ?? 1;
  let prev: { file: string; size: number } | null = null;
  for (let s = 0; s < segNames.length; s++) {
    const { name, first } = segNames[s]!;
    const file = path.join(dir, name);
    if (first !== expectNext) {
      const where = prev ?? { file, size: 0 };
      throw new LogCorruptionError(
        `log gap: ${name} starts at index ${first}, expected ${expectNext} (is ${path.basename(where.file)} cut short?)`,
        where.file,
        where.size,
      );
    }
    const isLast = s === segNames.length - 1;
    const buf = fs.readFileSync(file);
    const scanned = scanSegment(buf, file, first, isLast);
    if (scanned.validBytes < buf.length) {
      // Torn tail: cut it off durably so new records follow the last whole one.
      const fd = fs.openSync(file, 'r+');
      try {
        fs.ftruncateSync(fd, scanned.validBytes);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    for (const e of scanned.entries) entries.push(e);
    walCommit = Math.max(walCommit, scanned.commit);
    segments.push({ firstIndex: first, file, size: scanned.validBytes, filled: scanned.validBytes, offsets: scanned.offsets });
    expectNext = first + scanned.entries.length;
    prev = { file, size: scanned.validBytes };
  }

  const logFirst = segments[0]?.firstIndex ?? 1;
  let offsetIndex = logFirst - 1;
  let offsetTerm = 0;
  if (snapMeta) {
    const snapIndex = snapMeta.index;
    const lastIndex = offsetIndex + entries.length;
    if (logFirst > snapIndex + 1 && entries.length === 0) {
      // Only empty segments beyond the snapshot: nothing to keep.
      for (const seg of segments) fs.unlinkSync(seg.file);
      if (segments.length > 0) fsyncDirSync(dir);
      segments.length = 0;
      offsetIndex = snapIndex;
    }
    if (logFirst > snapIndex + 1 && entries.length > 0) {
      throw new LogCorruptionError(
        `log starts at ${logFirst} but the snapshot ends at ${snapIndex}: entries are missing`,
        segments[0]!.file,
        0,
      );
    }
    const termAtSnap = snapIndex > offsetIndex && snapIndex <= lastIndex ? entries[snapIndex - offsetIndex - 1]!.term : undefined;
    if (lastIndex < snapIndex || (snapIndex > offsetIndex && termAtSnap !== snapMeta.term)) {
      // The snapshot replaced the log but the old segments were not removed before a crash.
      for (const seg of segments) fs.unlinkSync(seg.file);
      if (segments.length > 0) fsyncDirSync(dir);
      segments.length = 0;
      entries = [];
    } else {
      entries = entries.slice(snapIndex - offsetIndex);
    }
    offsetIndex = snapIndex;
    offsetTerm = snapMeta.term;
  } else if (logFirst !== 1) {
    throw new LogCorruptionError(`log starts at ${logFirst} without a snapshot: entries are missing`, segments[0]!.file, 0);
  }
  const commit = Math.max(hs.commit, walCommit, snapMeta?.index ?? 0);
  const lastIndex = offsetIndex + entries.length;
  if (commit > lastIndex) {
    throw new LogCorruptionError(`commit index ${commit} is beyond the recovered log (last ${lastIndex})`, hsFile, 0);
  }
  return {
    hs: { term: hs.term, vote: hs.vote, commit },
    snapMeta,
    segments,
    entries,
    offsetIndex,
    offsetTerm,
    diskCommit: walCommit,
  };
}
