/**
 * The core's own timers: deadlines in a heap, run when the host calls tick(now). The host only
 * needs nextDeadline() to know when to call again.
 */
import { MinHeap, byTimeThenSeq } from '../../util/heap.js';

interface TimerEntry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export interface TimerHandle {
  cancel(): void;
}

const MAX_TIMERS = 1_000_000;

export class Timers {
  private heap = new MinHeap<TimerEntry>(byTimeThenSeq('at'));
  private seq = 0;

  schedule(at: number, fn: () => void): TimerHandle {
    if (!Number.isFinite(at)) throw new Error(`timer deadline must be finite, got ${at}`);
    if (this.heap.size >= MAX_TIMERS) throw new Error('timer heap overflow: timers are leaking');
    const entry: TimerEntry = { at, seq: this.seq++, fn, cancelled: false };
    this.heap.push(entry);
    return { cancel: () => { entry.cancelled = true; } };
  }

  /** Runs every timer due at or before now, in deadline order (including ones scheduled meanwhile). */
  runDue(now: number): void {
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined || top.at > now) return;
      this.heap.pop();
      if (!top.cancelled) top.fn();
    }
  }

  nextDeadline(): number | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined) return undefined;
      if (!top.cancelled) return top.at;
      this.heap.pop();
    }
  }
}
