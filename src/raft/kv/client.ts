/**
 * A KV client over one TCP connection with pipelining: many requests in flight, answered by id.
 * Each request has a deadline; on expiry it rejects with `timeout` (outcome unknown).
 */
import * as net from 'node:net';
import { encodeFrame, FrameDecoder, type HostPort } from './framing.js';
import type { KvOp, KvRequest, KvResponse } from './protocol.js';

interface Pending {
  resolve: (r: KvResponse) => void;
  timer: NodeJS.Timeout;
}

export class KvConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (value) => {
          const response = value as KvResponse;
          const p = this.pending.get(response.id);
          if (!p) return; // answered after its deadline: already reported as timeout
          this.pending.delete(response.id);
          clearTimeout(p.timer);
          p.resolve(response);
        });
      } catch {
        socket.destroy();
      }
    });
    const fail = (): void => this.failAll('connection closed');
    socket.on('close', fail);
    socket.on('error', fail);
  }

  static connect(address: HostPort, timeoutMs = 1000, localAddress?: string): Promise<KvConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: address.host, port: address.port, localAddress });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${address.host}:${address.port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new KvConnection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  request(op: KvOp, key: string, value: string | undefined, timeoutMs: number): Promise<KvResponse> {
    const id = this.nextId++;
    if (this.closed) return Promise.resolve({ id, ok: false, error: 'unavailable', message: 'connection closed' });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ id, ok: false, error: 'timeout', message: `no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      this.pending.set(id, { resolve, timer });
      const req: KvRequest = value === undefined ? { id, op, key } : { id, op, key, value };
      this.socket.write(encodeFrame(req));
    });
  }

  private failAll(message: string): void {
    this.closed = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      // The request may have reached the node before the connection died: outcome unknown.
      p.resolve({ id, ok: false, error: 'timeout', message });
    }
    this.pending.clear();
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
