/**
 * Transmit-limited broadcast queue (memberlist's TransmitLimitedQueue): each update about a member
 * is piggybacked until it has been sent retransmitMult · ceil(log10(N + 1)) times; least-sent and
 * then newest go first; a new update about a member invalidates the queued older one.
 */
export interface QueuedBroadcast {
  /** Member the update is about; a newer update about the same member replaces this one. */
  key: string;
  bytes: Uint8Array;
  transmits: number;
  id: number;
  /** Invoked once the broadcast leaves the queue (sent enough times, superseded or pruned). */
  onDone?: () => void;
}

export function retransmitLimit(retransmitMult: number, clusterSize: number): number {
  return retransmitMult * Math.max(1, Math.ceil(Math.log10(clusterSize + 1)));
}

export class BroadcastQueue {
  private byKey = new Map<string, QueuedBroadcast>();
  private nextId = 0;

  get length(): number {
    return this.byKey.size;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  enqueue(key: string, bytes: Uint8Array, onDone?: () => void): void {
    const old = this.byKey.get(key);
    if (old) {
      this.byKey.delete(key);
      old.onDone?.();
    }
    this.byKey.set(key, { key, bytes, transmits: 0, id: this.nextId++, onDone });
  }

  /**
   * Takes broadcasts that fit in `budget` bytes (each costing its size + overhead), counting one
   * transmission each, and retiring those that reached `limit`.
   */
  take(budget: number, overhead: number, limit: number, maxCount: number): Uint8Array[] {
    if (this.byKey.size === 0 || budget <= overhead) return [];
    const ordered = [...this.byKey.values()].sort((a, b) => a.transmits - b.transmits || b.id - a.id);
    const out: Uint8Array[] = [];
    let left = budget;
    for (const b of ordered) {
      if (out.length >= maxCount) break;
      const cost = b.bytes.length + overhead;
      if (cost > left) continue;
      left -= cost;
      out.push(b.bytes);
      b.transmits++;
      if (b.transmits >= limit) {
        this.byKey.delete(b.key);
        b.onDone?.();
      }
      if (left <= overhead) break;
    }
    return out;
  }

  /** Drops the most-transmitted (then oldest) entries above `maxDepth`. */
  prune(maxDepth: number): number {
    if (this.byKey.size <= maxDepth) return 0;
    const ordered = [...this.byKey.values()].sort((a, b) => b.transmits - a.transmits || a.id - b.id);
    let dropped = 0;
    for (const b of ordered) {
      if (this.byKey.size <= maxDepth) break;
      this.byKey.delete(b.key);
      b.onDone?.();
      dropped++;
    }
    return dropped;
  }
}
