/**
 * The core's view of the Raft log: a read-only durable part (the host's DurableLog) followed by an
 * in-memory unstable part (entries and possibly a snapshot not yet persisted by the host).
 * Shaped like etcd's raftLog/unstable; the unstable part always wins where the two overlap,
 * because it holds what the host has not yet written over the stale stored suffix.
 */
import type { DurableLog, Entry, Snapshot, SnapshotMeta } from '../types.js';
import { assert } from './assert.js';

/** The read-only subset of DurableLog the core needs. DurableLog satisfies it as is. */
export type LogReader = Pick<DurableLog, 'hardState' | 'snapshotMeta' | 'firstIndex' | 'lastIndex' | 'term' | 'entries'>;

export function entryBytes(e: Entry): number {
  return e.data.length + 24;
}

export class RaftLog {
  /** Unstable entries; unstable[0].index === offset. */
  private unstable: Entry[] = [];
  private offset: number;
  private unstableSnapshot: Snapshot | null = null;
  committed: number;
  applied: number;

  constructor(readonly storage: LogReader) {
    const snapIndex = storage.snapshotMeta?.index ?? 0;
    this.offset = this.storageLastIndex() + 1;
    this.committed = Math.max(storage.hardState.commit, snapIndex);
    this.applied = snapIndex;
    assert(this.committed <= this.lastIndex(), `stored commit ${this.committed} beyond last index ${this.lastIndex()}`);
  }

  private storageSnapshotIndex(): number {
    return this.storage.snapshotMeta?.index ?? 0;
  }

  private storageLastIndex(): number {
    return Math.max(this.storage.lastIndex(), this.storageSnapshotIndex());
  }

  firstIndex(): number {
    if (this.unstableSnapshot) return this.unstableSnapshot.meta.index + 1;
    return Math.max(this.storage.firstIndex(), this.storageSnapshotIndex() + 1);
  }

  lastIndex(): number {
    if (this.unstable.length > 0) return this.offset + this.unstable.length - 1;
    if (this.unstableSnapshot) return this.unstableSnapshot.meta.index;
    return this.storageLastIndex();
  }

  /** The newest snapshot the log starts from (pending or stored), if any. */
  snapshotMeta(): SnapshotMeta | null {
    return this.unstableSnapshot?.meta ?? this.storage.snapshotMeta;
  }

  /** Term of the entry at `index`; undefined when compacted away or beyond the end. 0 for index 0. */
  term(index: number): number | undefined {
    if (index === 0) return 0;
    if (this.unstableSnapshot && index === this.unstableSnapshot.meta.index) return this.unstableSnapshot.meta.term;
    if (index >= this.offset) {
      const e = this.unstable[index - this.offset];
      return e?.term;
    }
    if (this.unstableSnapshot && index < this.unstableSnapshot.meta.index) return undefined;
    const meta = this.storage.snapshotMeta;
    if (meta && index === meta.index) return meta.term;
    if (index < this.storage.firstIndex()) return undefined;
    return this.storage.term(index);
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(t !== undefined, `no term for last index ${this.lastIndex()}`);
    return t;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries in [lo, hi), at most maxBytes (but at least one). Returns null when lo is compacted
   * away (the caller must fall back to a snapshot).
   */
  slice(lo: number, hi: number, maxBytes = Infinity): Entry[] | null {
    if (lo >= hi) return [];
    if (lo < this.firstIndex()) return null;
    assert(hi <= this.lastIndex() + 1, `slice [${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    const out: Entry[] = [];
    let bytes = 0;
    if (lo < this.offset) {
      const stored = this.storage.entries(lo, Math.min(hi, this.offset), maxBytes);
      for (const e of stored) {
        bytes += entryBytes(e);
        if (out.length > 0 && bytes > maxBytes) return out;
        out.push(e);
      }
      if (out.length === 0) return null; // storage compacted under us
      assert(out[0]!.index === lo, `storage returned index ${out[0]!.index} for ${lo}`);
      if (out[out.length - 1]!.index + 1 < Math.min(hi, this.offset)) return out; // storage hit its byte limit
    }
    for (let i = Math.max(lo, this.offset); i < hi; i++) {
      const e = this.unstable[i - this.offset]!;
      bytes += entryBytes(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** Index of the first entry whose term differs from the given one, 0 if all match. */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /** Largest index ≤ index whose term ≤ term (fast backtracking, etcd's findConflictByTerm). */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (; i > 0; i--) {
      const t = this.term(i);
      if (t === undefined) break; // compacted: the caller will probe or snapshot from here
      if (t <= term) return { index: i, term: t };
    }
    return { index: i, term: this.term(i) ?? 0 };
  }

  /**
   * Append entries after truncating any conflicting suffix. Returns the index where the log was
   * truncated (0 when it only grew).
   */
  append(entries: readonly Entry[], skipTermOrderCheck = false): number {
    if (entries.length === 0) return 0;
    const first = entries[0]!.index;
    assert(first > this.committed, `append at ${first} would overwrite committed ${this.committed}`);
    assert(first <= this.lastIndex() + 1, `append at ${first} leaves a gap after ${this.lastIndex()}`);
    let prevTerm = this.term(first - 1) ?? 0;
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k]!;
      assert(e.index === first + k, `entries not contiguous at ${e.index}`);
      assert(skipTermOrderCheck || e.term >= prevTerm, `term decreases at index ${e.index}: ${e.term} < ${prevTerm}`);
      prevTerm = e.term;
    }
    let truncatedAt = 0;
    if (first <= this.lastIndex()) truncatedAt = first;
    if (first === this.offset + this.unstable.length) {
      for (const e of entries) this.unstable.push(e);
    } else if (first <= this.offset) {
      // Replaces part of the stored log (or all unstable entries): the host truncates on persist.
      this.offset = first;
      this.unstable = entries.slice();
    } else {
      this.unstable = this.unstable.slice(0, first - this.offset);
      for (const e of entries) this.unstable.push(e);
    }
    return truncatedAt;
  }

  /** Last index the host has persisted that still matches this log (0 while a snapshot is pending). */
  stableLastIndex(): number {
    if (this.unstableSnapshot) return 0;
    return this.unstable.length > 0 ? this.offset - 1 : this.lastIndex();
  }

  unstableEntries(): Entry[] {
    return this.unstable.slice();
  }

  pendingSnapshot(): Snapshot | null {
    return this.unstableSnapshot;
  }

  /** The host persisted entries up to (index, term). Entries replaced since then stay unstable. */
  stableTo(index: number, term: number): void {
    if (index < this.offset) return;
    const e = this.unstable[index - this.offset];
    if (!e || e.term !== term) return;
    this.unstable = this.unstable.slice(index - this.offset + 1);
    this.offset = index + 1;
  }

  stableSnapshotTo(index: number): void {
    if (this.unstableSnapshot && this.unstableSnapshot.meta.index === index) {
      this.unstableSnapshot = null;
      assert(
        this.storageSnapshotIndex() >= index,
        `host did not persist snapshot ${index} (stored snapshot ${this.storageSnapshotIndex()})`,
      );
    }
  }

  /** Replace the whole log with a snapshot received from the leader. */
  restore(snap: Snapshot): void {
    assert(snap.meta.index > this.committed, `restore to ${snap.meta.index} behind commit ${this.committed}`);
    this.unstableSnapshot = snap;
    this.unstable = [];
    this.offset = snap.meta.index + 1;
    this.committed = snap.meta.index;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }
}
