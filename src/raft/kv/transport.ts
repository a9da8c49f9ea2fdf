/**
 * Raft peer transport over TCP: one outbound connection per peer; each send() call (one Ready)
 * goes out at once as one frame per peer. Raft tolerates loss, so when a peer is
 * unreachable or its queue is over the bound, messages are dropped (and counted), never buffered
 * without limit.
 */
import * as net from 'node:net';
import type { Message } from '../core/messages.js';
import type { NodeId } from '../types.js';
import { encodeFrame, FrameDecoder, type HostPort } from './framing.js';

export interface PeerTransportOptions {
  self: NodeId;
  listen: HostPort;
  peers: Map<NodeId, HostPort>;
  onMessages: (messages: Message[]) => void;
  /** Messages that could not be sent (peer down, backed up, or too large); Raft will retry. */
  onDropped?: (messages: Message[]) => void;
  /** Bytes waiting in one peer's socket before new messages to it are dropped. */
  maxQueuedBytes?: number;
  reconnectDelayMs?: number;
}

interface PeerFrame {
  from: NodeId;
  messages: Message[];
}

class PeerLink {
  private socket: net.Socket | null = null;
  private connected = false;
  private nextAttempt = 0;
  queue: Message[] = [];

  constructor(
    readonly id: NodeId,
    private readonly address: HostPort,
    private readonly localAddress: string,
    private readonly reconnectDelayMs: number,
  ) {}

  /** Returns false when the link cannot take the batch now (down or backed up). */
  write(frame: Buffer, maxQueuedBytes: number): boolean {
    if (!this.connected || !this.socket) {
      this.connect();
      return false;
    }
    if (this.socket.writableLength > maxQueuedBytes) return false;
    this.socket.write(frame);
    return true;
  }

  private connect(): void {
    if (this.socket || Date.now() < this.nextAttempt) return;
    const socket = net.connect({ host: this.address.host, port: this.address.port, localAddress: this.localAddress });
    socket.setNoDelay(true);
    this.socket = socket;
    socket.on('connect', () => {
      this.connected = true;
    });
    socket.on('data', () => undefined); // peers never answer on this connection
    const down = (): void => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.connected = false;
      this.nextAttempt = Date.now() + this.reconnectDelayMs;
      socket.destroy();
    };
    socket.on('error', down);
    socket.on('close', down);
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
    this.connected = false;
  }
}

export class PeerTransport {
  private server: net.Server | null = null;
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly inbound = new Set<net.Socket>();
  private readonly maxQueuedBytes: number;
  readonly stats = { framesSent: 0, messagesSent: 0, messagesDropped: 0, framesReceived: 0 };

  constructor(private readonly options: PeerTransportOptions) {
    this.maxQueuedBytes = options.maxQueuedBytes ?? 64 * 1024 * 1024;
    for (const [id, address] of options.peers) {
      if (id === options.self) continue;
      this.links.set(id, new PeerLink(id, address, options.listen.host, options.reconnectDelayMs ?? 50));
    }
  }

  async start(): Promise<HostPort> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.listen.port, this.options.listen.host, () => resolve());
    });
    const address = server.address() as net.AddressInfo;
    return { host: address.address, port: address.port };
  }

  send(messages: Message[]): void {
    for (const m of messages) {
      const link = this.links.get(m.to);
      if (!link) throw new Error(`message to unknown peer ${m.to}`);
      link.queue.push(m);
    }
    // Written at once: the host hands over a whole Ready per call, so this already is one frame
    // per peer per round, and waiting a loop turn for more only added latency to every commit.
    if (messages.length > 0) this.flush();
  }

  private flush(): void {
    const dropped: Message[] = [];
    for (const link of this.links.values()) {
      if (link.queue.length === 0) continue;
      const messages = link.queue;
      link.queue = [];
      let frame: Buffer | null = null;
      try {
        frame = encodeFrame({ from: this.options.self, messages } satisfies PeerFrame);
      } catch {
        frame = null; // over MAX_FRAME_BYTES: dropped like any undeliverable batch
      }
      if (frame && link.write(frame, this.maxQueuedBytes)) {
        this.stats.framesSent++;
        this.stats.messagesSent += messages.length;
      } else {
        this.stats.messagesDropped += messages.length;
        dropped.push(...messages);
      }
    }
    // Reported on a later turn, never back into the caller's Ready handling.
    const onDropped = this.options.onDropped;
    if (dropped.length > 0 && onDropped) setImmediate(() => onDropped(dropped));
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    this.inbound.add(socket);
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      const frames: PeerFrame[] = [];
      try {
        decoder.push(chunk, (value) => {
          const frame = value as PeerFrame;
          if (!frame || typeof frame.from !== 'string' || !Array.isArray(frame.messages)) {
            throw new Error('malformed peer frame');
          }
          frames.push(frame);
        });
      } catch {
        socket.destroy(); // a peer speaking garbage gets disconnected; it will reconnect
      }
      // Outside the try: an error in the host is a bug to surface, not a bad peer.
      for (const frame of frames) {
        this.stats.framesReceived++;
        this.options.onMessages(frame.messages);
      }
    });
    const gone = (): void => {
      this.inbound.delete(socket);
    };
    socket.on('error', gone);
    socket.on('close', gone);
  }

  async close(): Promise<void> {
    for (const link of this.links.values()) link.close();
    for (const socket of this.inbound) socket.destroy();
    this.inbound.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
