/**
 * A client that knows every node's client address and follows leader hints. It never retries a
 * request that may have reached a node (timeouts are reported to the caller as they are, so a
 * recorded history stays honest); it only moves on to the next node for the next request.
 */
import { KvConnection } from './client.js';
import type { HostPort } from './framing.js';
import type { KvOp, KvResponse } from './protocol.js';

export class KvRouter {
  private readonly connections = new Map<string, KvConnection>();
  private target: string;

  constructor(
    private readonly nodes: Map<string, HostPort>,
    private readonly connectTimeoutMs = 500,
  ) {
    this.target = [...nodes.keys()][0]!;
  }

  get currentTarget(): string {
    return this.target;
  }

  /** Send to the node believed to lead, or to `via` (e.g. to read through a follower). */
  async request(op: KvOp, key: string, value: string | undefined, timeoutMs: number, via?: string): Promise<KvResponse> {
    const nodeId = via ?? this.target;
    let conn = this.connections.get(nodeId);
    if (!conn || !conn.isOpen) {
      try {
        conn = await KvConnection.connect(this.nodes.get(nodeId)!, this.connectTimeoutMs);
        this.connections.set(nodeId, conn);
      } catch (err) {
        if (via === undefined) this.rotate();
        // Nothing was sent: a definite failure.
        return { id: 0, ok: false, error: 'unavailable', message: `connect ${nodeId}: ${(err as Error).message}` };
      }
    }
    const res = await conn.request(op, key, value, timeoutMs);
    if (!res.ok && via === undefined) {
      if (res.error === 'not_leader' && res.leader && this.nodes.has(res.leader)) this.target = res.leader;
      else this.rotate();
    }
    return res;
  }

  private rotate(): void {
    const ids = [...this.nodes.keys()];
    this.target = ids[(ids.indexOf(this.target) + 1) % ids.length]!;
  }

  close(): void {
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }
}
