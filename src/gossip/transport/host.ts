/**
 * Real-network host for the gossip core: UDP (dgram) for packets, TCP (net) for push/pull and the
 * fallback ping, one port for both, real timers. The core stays deterministic; this file only
 * moves bytes and time in and out of it.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { GossipCore } from '../core/core.js';
import { makeConfig, type GossipConfig } from '../core/config.js';
import type { NodeMeta } from '../core/codec.js';
import { Prng } from '../core/prng.js';
import type { GossipEvent, Member } from '../core/types.js';

export interface GossipHostOptions {
  name: string;
  bindHost: string;
  /** 0 picks a free port (reported by address()). */
  port: number;
  /** Host others should use to reach us (defaults to bindHost). */
  advertiseHost?: string;
  meta?: NodeMeta;
  config?: Partial<Omit<GossipConfig, 'name' | 'advertiseAddr'>>;
  /** PRNG seed; random by default. */
  seed?: number;
}

const FRAME_HEADER = 4;

/** Reads one u32-length-prefixed frame from a socket, bounded by maxBytes. */
function readFrame(socket: net.Socket, maxBytes: number, onFrame: (frame: Buffer | null) => void): void {
  let chunks: Buffer[] = [];
  let have = 0;
  let want = -1;
  let done = false;
  const finish = (frame: Buffer | null): void => {
    if (done) return;
    done = true;
    socket.removeListener('data', onData);
    onFrame(frame);
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    have += chunk.length;
    if (want < 0 && have >= FRAME_HEADER) {
      const all = Buffer.concat(chunks);
      want = all.readUInt32BE(0);
      if (want > maxBytes) {
        finish(null);
        return;
      }
      chunks = [all];
    }
    if (want >= 0 && have >= FRAME_HEADER + want) {
      const all = Buffer.concat(chunks);
      finish(all.subarray(FRAME_HEADER, FRAME_HEADER + want));
    }
  };
  socket.on('data', onData);
  socket.once('close', () => finish(null));
  socket.once('error', () => finish(null));
}

function frame(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  out.set(bytes, FRAME_HEADER);
  return out;
}

function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  if (i <= 0) throw new Error(`bad address "${addr}"`);
  const port = Number(addr.slice(i + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad port in "${addr}"`);
  return { host: addr.slice(0, i), port };
}

export class GossipHost extends EventEmitter {
  private core: GossipCore | null = null;
  private udp: dgram.Socket | null = null;
  private tcp: net.Server | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private readonly openSockets = new Set<net.Socket>();
  private boundPort = 0;
  private closed = false;

  constructor(private readonly opts: GossipHostOptions) {
    super();
  }

  private now(): number {
    return performance.now();
  }

  /** Binds UDP and TCP on the same port and starts the protocol. */
  async start(): Promise<{ host: string; port: number }> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.bind(this.opts.port);
        break;
      } catch (err) {
        await this.closeSockets();
        // With port 0 the UDP port may be taken on TCP; try another.
        if (this.opts.port !== 0 || attempt >= 10) throw err;
      }
    }
    const advertiseAddr = `${this.opts.advertiseHost ?? this.opts.bindHost}:${this.boundPort}`;
    const config = makeConfig({ ...this.opts.config, name: this.opts.name, advertiseAddr });
    this.core = new GossipCore({ config, rng: new Prng(this.opts.seed ?? randomInt(2 ** 31)), nowMs: this.now(), meta: this.opts.meta });
    this.core.start(this.now());
    this.pump();
    return { host: this.opts.bindHost, port: this.boundPort };
  }

  address(): { host: string; port: number } {
    return { host: this.opts.bindHost, port: this.boundPort };
  }

  /** Syncs with the seeds; resolves with how many answered. */
  join(seeds: string[]): Promise<{ reached: number; failed: number }> {
    const core = this.requireCore();
    return new Promise((resolve) => {
      core.join(seeds, this.now(), (reached, failed) => resolve({ reached, failed }));
      this.pump();
    });
  }

  /** Graceful leave: broadcasts it and waits until it was sent enough times (or timeoutMs). */
  async leave(timeoutMs = 5000): Promise<void> {
    const core = this.requireCore();
    core.leave(this.now());
    this.pump();
    const deadline = Date.now() + timeoutMs;
    while (!core.leaveBroadcastDone() && Date.now() < deadline) {
      // Re-check after every pump of the core, or at the deadline if nothing happens.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(1, deadline - Date.now()));
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.once('pumped', done);
      });
    }
  }

  setMeta(meta: NodeMeta): void {
    this.requireCore().setMeta(meta, this.now());
    this.pump();
  }

  members(): Member[] {
    return this.requireCore().snapshot().members;
  }

  get gossip(): GossipCore {
    return this.requireCore();
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.core?.stop();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const s of this.openSockets) s.destroy();
    await this.closeSockets();
  }

  // ------------------------------------------------------------------ internals

  private requireCore(): GossipCore {
    if (!this.core) throw new Error('gossip host not started');
    return this.core;
  }

  private async bind(port: number): Promise<void> {
    const udp = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    this.udp = udp;
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, this.opts.bindHost, () => {
        udp.removeListener('error', reject);
        resolve();
      });
    });
    this.boundPort = udp.address().port;
    udp.on('error', () => { /* ICMP errors on unconnected sockets are not actionable */ });
    udp.on('message', (msg, rinfo) => {
      if (!this.core || this.closed) return;
      this.core.receivePacket(`${rinfo.address}:${rinfo.port}`, msg, this.now());
      this.pump();
    });
    const tcp = net.createServer((socket) => this.acceptStream(socket));
    this.tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.boundPort, this.opts.bindHost, () => {
        tcp.removeListener('error', reject);
        resolve();
      });
    });
  }

  private async closeSockets(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = null;
    this.tcp = null;
    if (udp) await new Promise<void>((r) => { try { udp.close(() => r()); } catch { r(); } });
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }

  private acceptStream(socket: net.Socket): void {
    const core = this.core;
    if (!core || this.closed) {
      socket.destroy();
      return;
    }
    this.openSockets.add(socket);
    socket.once('close', () => this.openSockets.delete(socket));
    socket.setTimeout(core.config.streamTimeoutMs, () => socket.destroy());
    readFrame(socket, core.config.maxStreamBytes, (request) => {
      if (!request || this.closed) {
        socket.destroy();
        return;
      }
      const reply = core.handleStream(`${socket.remoteAddress}:${socket.remotePort}`, request, this.now());
      this.pump();
      if (reply) socket.end(frame(reply));
      else socket.destroy();
    });
  }

  private openStream(id: number, to: string, bytes: Uint8Array, timeoutMs: number): void {
    const core = this.requireCore();
    let settled = false;
    let refused = false;
    const settle = (reply: Buffer | null): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (this.closed) return;
      core.streamReply(id, reply, this.now(), refused);
      this.pump();
    };
    let target;
    try {
      target = splitHostPort(to);
    } catch {
      queueMicrotask(() => settle(null));
      return;
    }
    const socket = net.connect({ host: target.host, port: target.port, localAddress: this.opts.bindHost });
    this.openSockets.add(socket);
    socket.once('close', () => this.openSockets.delete(socket));
    socket.setTimeout(timeoutMs, () => settle(null));
    // Registered before readFrame's own error listener, so settle() sees the flag.
    socket.once('error', (err: NodeJS.ErrnoException) => { refused = err.code === 'ECONNREFUSED'; });
    socket.once('connect', () => socket.write(frame(bytes)));
    readFrame(socket, core.config.maxStreamBytes, settle);
  }

  /** Sends what the core produced, forwards its events and re-arms the timer. */
  private pump(): void {
    const core = this.core;
    if (!core || this.closed) return;
    for (const p of core.takePackets()) {
      let target;
      try {
        target = splitHostPort(p.to);
      } catch {
        continue;
      }
      this.udp?.send(p.bytes, target.port, target.host);
    }
    for (const s of core.takeStreams()) this.openStream(s.id, s.to, s.bytes, s.timeoutMs);
    const events: GossipEvent[] = core.takeEvents();
    for (const e of events) this.emit('event', e);
    const next = core.nextDeadline();
    if (next !== undefined && next < this.timerAt) {
      if (this.timer) clearTimeout(this.timer);
      this.timerAt = next;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.timerAt = Infinity;
        this.core?.tick(this.now());
        this.pump();
      }, Math.max(0, Math.ceil(next - this.now())));
    }
    this.emit('pumped');
  }
}
