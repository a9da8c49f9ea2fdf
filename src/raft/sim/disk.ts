/**
 * A simulated disk holding one node's Raft log. It implements DurableLog, so the core reads it
 * exactly as it reads the real durable log. Appends and hard-state writes land in a volatile view
 * at once (the page cache) and in the durable view only on sync(); crash() throws away whatever
 * was not synced. A snapshot save is durable at once (its own file plus fsync) and flushes the
 * journal first, as a real implementation ordering those writes would.
 */
import type { DurableLog, Entry, HardState, Snapshot, SnapshotMeta } from '../types.js';
import { entryBytes } from '../core/log.js';

interface LogImage {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** entries[k].index === offset + k */
  offset: number;
  entries: Entry[];
}

type JournalOp = { kind: 'append'; entries: Entry[] } | { kind: 'hardState'; hs: HardState };

function emptyImage(): LogImage {
  return { hardState: { term: 0, vote: '', commit: 0 }, snapshot: null, offset: 1, entries: [] };
}

function cloneImage(img: LogImage): LogImage {
  return { hardState: { ...img.hardState }, snapshot: img.snapshot, offset: img.offset, entries: img.entries.slice() };
}

function lastIndexOf(img: LogImage): number {
  return img.offset + img.entries.length - 1;
}

function termOf(img: LogImage, index: number): number | undefined {
  if (index === 0) return 0;
  if (img.snapshot && index === img.snapshot.meta.index) return img.snapshot.meta.term;
  return img.entries[index - img.offset]?.term;
}

function appendTo(img: LogImage, entries: readonly Entry[]): void {
  if (entries.length === 0) return;
  let first = entries[0]!.index;
  let from = 0;
  if (first < img.offset) {
    // Part of the batch is already covered by a snapshot: skip it.
    from = img.offset - first;
    first = img.offset;
    if (from >= entries.length) return;
  }
  if (first > lastIndexOf(img) + 1) {
    throw new Error(`sim disk: append at ${first} leaves a gap after ${lastIndexOf(img)}`);
  }
  img.entries.length = first - img.offset; // truncate the conflicting suffix
  for (let k = from; k < entries.length; k++) img.entries.push(entries[k]!);
}

function saveSnapshotTo(img: LogImage, snap: Snapshot): void {
  const { index, term } = snap.meta;
  if (img.snapshot && img.snapshot.meta.index >= index) return;
  if (termOf(img, index) === term && index <= lastIndexOf(img)) {
    img.entries = img.entries.slice(index + 1 - img.offset);
  } else {
    img.entries = []; // the log does not hold the snapshot's last entry: it is replaced entirely
  }
  img.offset = index + 1;
  img.snapshot = snap;
  if (img.hardState.commit < index) img.hardState = { ...img.hardState, commit: index };
}

function compactTo(img: LogImage, index: number): void {
  if (!img.snapshot || img.snapshot.meta.index < index) throw new Error(`sim disk: compact(${index}) beyond the snapshot`);
  if (index < img.offset) return;
  img.entries = img.entries.slice(index + 1 - img.offset);
  img.offset = index + 1;
}

export class SimDisk implements DurableLog {
  private volatile: LogImage = emptyImage();
  private durable: LogImage = emptyImage();
  private journal: JournalOp[] = [];
  syncCount = 0;

  get hardState(): HardState {
    return this.volatile.hardState;
  }

  get snapshotMeta(): SnapshotMeta | null {
    return this.volatile.snapshot?.meta ?? null;
  }

  /** The newest snapshot (data included), for the host to attach to outgoing Snap messages. */
  snapshot(): Snapshot | null {
    return this.volatile.snapshot;
  }

  firstIndex(): number {
    return this.volatile.offset;
  }

  lastIndex(): number {
    return lastIndexOf(this.volatile);
  }

  term(index: number): number | undefined {
    return termOf(this.volatile, index);
  }

  entries(lo: number, hi: number, maxBytes = Infinity): Entry[] {
    const img = this.volatile;
    if (lo < img.offset || hi > lastIndexOf(img) + 1) {
      throw new Error(`sim disk: entries [${lo}, ${hi}) outside [${img.offset}, ${lastIndexOf(img) + 1})`);
    }
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const e = img.entries[i - img.offset]!;
      bytes += entryBytes(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  append(entries: Entry[]): void {
    appendTo(this.volatile, entries);
    this.journal.push({ kind: 'append', entries: entries.slice() });
  }

  setHardState(hs: HardState): void {
    this.volatile.hardState = { ...hs };
    this.journal.push({ kind: 'hardState', hs: { ...hs } });
  }

  /** Synchronous fsync for the simulator's single-threaded loop. */
  syncNow(): void {
    for (const op of this.journal) {
      if (op.kind === 'append') appendTo(this.durable, op.entries);
      else this.durable.hardState = op.hs;
    }
    this.journal = [];
    this.syncCount++;
  }

  sync(): Promise<void> {
    this.syncNow();
    return Promise.resolve();
  }

  saveSnapshotNow(snap: Snapshot): void {
    this.syncNow();
    saveSnapshotTo(this.volatile, snap);
    saveSnapshotTo(this.durable, snap);
  }

  saveSnapshot(snap: Snapshot): Promise<void> {
    this.saveSnapshotNow(snap);
    return Promise.resolve();
  }

  loadSnapshot(): Promise<Snapshot | null> {
    return Promise.resolve(this.volatile.snapshot);
  }

  compact(index: number): void {
    compactTo(this.volatile, index);
    if (this.durable.snapshot && this.durable.snapshot.meta.index >= index) compactTo(this.durable, index);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Power loss: everything written since the last sync is gone. */
  crash(): void {
    this.journal = [];
    this.volatile = cloneImage(this.durable);
  }

  /** Last index and term that would survive a crash right now. */
  durableTip(): { lastIndex: number; lastTerm: number } {
    const lastIndex = lastIndexOf(this.durable);
    return { lastIndex, lastTerm: termOf(this.durable, lastIndex) ?? 0 };
  }

  unsyncedOps(): number {
    return this.journal.length;
  }
}
