/**
 * The leader's ReadIndex bookkeeping (etcd's read_only.go, safe mode): each read records the
 * commit index when it arrived and waits until a majority of voters answered a heartbeat round
 * sent at or after it, proving this node was still the leader when the read began.
 */
import type { NodeId } from '../types.js';
import { quorumSize } from './quorum.js';

export interface ReadRequest {
  context: string;
  /** Who asked: the leader itself, or the follower that forwarded the read. */
  from: NodeId;
}

interface PendingRead extends ReadRequest {
  seq: number;
  index: number;
  acks: Set<NodeId>;
}

export class ReadOnly {
  private seq = 0;
  private pending: PendingRead[] = [];
  /** Reads that arrived before this leader committed an entry of its term. */
  private waiting: ReadRequest[] = [];

  constructor(private readonly maxPending: number) {}

  /** Park a read until the leader commits in its term; false when the queue is full. */
  wait(req: ReadRequest): boolean {
    if (this.waiting.length >= this.maxPending) return false;
    this.waiting.push(req);
    return true;
  }

  takeWaiting(): ReadRequest[] {
    const out = this.waiting;
    this.waiting = [];
    return out;
  }

  /** Start a confirmation round for a read at `index`; returns its round number, or 0 when full. */
  add(req: ReadRequest, index: number, self: NodeId, voters: readonly NodeId[]): number {
    if (this.pending.length >= this.maxPending) return 0;
    const seq = ++this.seq;
    const acks = new Set<NodeId>();
    if (voters.includes(self)) acks.add(self);
    this.pending.push({ ...req, seq, index, acks });
    return seq;
  }

  /** The newest round, carried by every heartbeat so a lost one is retried. */
  lastSeq(): number {
    return this.pending.length > 0 ? this.pending[this.pending.length - 1]!.seq : 0;
  }

  /** `from` answered heartbeats up to round `seq`; returns the reads now confirmed, oldest first. */
  ack(from: NodeId, seq: number, voters: readonly NodeId[]): { request: ReadRequest; index: number }[] {
    if (!voters.includes(from)) return [];
    const q = quorumSize(voters.length);
    let released = -1;
    for (let k = 0; k < this.pending.length; k++) {
      const r = this.pending[k]!;
      if (r.seq > seq) break;
      r.acks.add(from);
      let n = 0;
      for (const id of r.acks) if (voters.includes(id)) n++;
      if (n >= q) released = k;
    }
    if (released < 0) return [];
    // A later round confirmed implies every earlier one is confirmed too.
    return this.pending.splice(0, released + 1).map((r) => ({ request: { context: r.context, from: r.from }, index: r.index }));
  }

  reset(): void {
    this.pending = [];
    this.waiting = [];
  }
}
