/**
 * The bounded write queue and its single writer ("pump"). Every queued write record is appended
 * with one WAL append (one fdatasync: group commit across writers, shards and tenants); control
 * operations (seal, shard reset, idle waits) run in queue order, never interleaved with appends.
 */
import type { SpanBatch } from '../otlp/model.js';

export interface PendingWrite {
  type: 'write';
  tenant: string;
  batch: SpanBatch;
  ingestMs: number;
  frame: Buffer;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface PendingControl {
  type: 'control';
  run: () => Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface WriteQueueHooks {
  /** Appends the group's frames to the WAL durably; a throw rejects the whole group. */
  append(frames: Buffer[]): Promise<void>;
  /** Makes a durably appended group readable (head insert); runs before the writers resolve. */
  applyGroup(group: PendingWrite[]): void;
  /** Starts a seal if one is due; called between groups and when the queue runs dry. */
  sealIfDue(): Promise<void>;
}

export class WriteQueue {
  private readonly queue: Array<PendingWrite | PendingControl> = [];
  private queuedSpansCount = 0;
  private pumping = false;

  constructor(private readonly hooks: WriteQueueHooks) {}

  /** Spans accepted but not yet committed (the bound of maxQueuedSpans applies to this). */
  get queuedSpans(): number {
    return this.queuedSpansCount;
  }

  /** Queues a write record of `batch`; resolves once it is on disk and in the head. */
  push(tenant: string, batch: SpanBatch, ingestMs: number, frame: Buffer): Promise<void> {
    this.queuedSpansCount += batch.spans.length;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ type: 'write', tenant, batch, ingestMs, frame, resolve, reject });
      this.kick();
    });
  }

  /** Runs `run` in the pump after every item queued before it. */
  control(run: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ type: 'control', run, resolve, reject });
      this.kick();
    });
  }

  async waitIdle(): Promise<void> {
    // A control item resolves after every item queued before it.
    if (this.queue.length === 0 && !this.pumping) return;
    await this.control(async () => {});
  }

  kick(): void {
    if (this.pumping) return;
    this.pumping = true;
    // Let writers arriving in the same tick join the group before the first append.
    setImmediate(() => void this.pump());
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        if (this.queue.length === 0) {
          await this.hooks.sealIfDue();
          if (this.queue.length === 0) break;
        }
        let n = 0;
        while (n < this.queue.length && this.queue[n]!.type === 'write') n++;
        if (n > 0) {
          await this.commitGroup(this.queue.splice(0, n) as PendingWrite[]);
          await this.hooks.sealIfDue();
          continue;
        }
        const ctl = this.queue.shift() as PendingControl;
        try {
          await ctl.run();
          ctl.resolve();
        } catch (e) {
          ctl.reject(e);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async commitGroup(group: PendingWrite[]): Promise<void> {
    let spans = 0;
    for (const g of group) spans += g.batch.spans.length;
    try {
      await this.hooks.append(group.map((g) => g.frame));
    } catch (e) {
      this.queuedSpansCount -= spans;
      for (const g of group) g.reject(e);
      return;
    }
    this.hooks.applyGroup(group);
    this.queuedSpansCount -= spans;
    for (const g of group) g.resolve();
  }
}
