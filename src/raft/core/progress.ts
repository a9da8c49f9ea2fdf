/**
 * The leader's view of one follower, and the flow control of appends to it (etcd's tracker).
 *  - Probe: we do not know where the follower's log matches; send one append, then wait.
 *  - Replicate: the follower keeps up; pipeline appends optimistically, bounded by Inflights.
 *  - Snapshot: the follower needs a snapshot; send nothing until it reports back.
 */
import type { NodeId } from '../types.js';
import { assert } from './assert.js';

export type ProgressState = 'Probe' | 'Replicate' | 'Snapshot';

/** Appends in flight to one follower: bounded by count and by bytes. */
export class Inflights {
  private readonly items: { index: number; bytes: number }[] = [];
  private bytesInFlight = 0;

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {
    assert(maxCount > 0, 'maxInflightMsgs must be positive');
  }

  get count(): number {
    return this.items.length;
  }

  get bytes(): number {
    return this.bytesInFlight;
  }

  full(): boolean {
    return this.items.length >= this.maxCount || this.bytesInFlight >= this.maxBytes;
  }

  add(index: number, bytes: number): void {
    assert(!this.full(), 'inflights full');
    const last = this.items[this.items.length - 1];
    assert(!last || index > last.index, `inflight index ${index} not increasing`);
    this.items.push({ index, bytes });
    this.bytesInFlight += bytes;
  }

  /** Everything up to and including `index` was acknowledged. */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.items.length && this.items[n]!.index <= index) {
      this.bytesInFlight -= this.items[n]!.bytes;
      n++;
    }
    if (n > 0) this.items.splice(0, n);
  }

  freeFirstOne(): void {
    const first = this.items.shift();
    if (first) this.bytesInFlight -= first.bytes;
  }

  reset(): void {
    this.items.length = 0;
    this.bytesInFlight = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'Probe';
  /** Probe: an append was sent and we wait for its answer (or a heartbeat answer) before the next. */
  probeSent = false;
  pendingSnapshot = 0;
  /** Ticks spent in Snapshot state; a lost snapshot falls back to probing after a bound. */
  snapshotTicks = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(
    readonly id: NodeId,
    next: number,
    public isLearner: boolean,
    maxInflightMsgs: number,
    maxInflightBytes: number,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotTicks = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'Snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('Probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('Probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('Replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('Snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** An acknowledgement up to `index`; returns whether it told us anything new. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of the append at `rejected`; `hint` is where the follower suggests probing.
   * Returns false when the rejection is stale (answers an older append).
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === 'Replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Whether sending another append must wait. */
  isPaused(): boolean {
    switch (this.state) {
      case 'Probe':
        return this.probeSent;
      case 'Replicate':
        return this.inflights.full();
      case 'Snapshot':
        return true;
    }
  }

  /** The append just sent ends at `lastIndex` and carries `bytes`. */
  sentEntries(lastIndex: number, bytes: number, entryCount: number): void {
    if (this.state === 'Replicate') {
      if (entryCount > 0) {
        this.inflights.add(lastIndex, bytes);
        this.next = lastIndex + 1;
      }
    } else if (this.state === 'Probe') {
      this.probeSent = true;
    }
  }
}
