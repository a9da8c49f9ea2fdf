import { describe, expect, it } from 'vitest';
import { BroadcastQueue, retransmitLimit } from '../../src/gossip/core/broadcasts.js';
import { Awareness } from '../../src/gossip/core/awareness.js';
import {
  EMPTY_META, MsgType, type PushPullMsg, decodePacket, decodeStream, encodeMessage, frameCompound, frameStream,
} from '../../src/gossip/core/codec.js';
import { makeConfig, type GossipConfig } from '../../src/gossip/core/config.js';
import { GossipCore, pushPullScale } from '../../src/gossip/core/core.js';
import { Prng } from '../../src/gossip/core/prng.js';
import { Suspicion, dynamicTimeoutMs, suspicionTimeoutMs } from '../../src/gossip/core/suspicion.js';
import type { GossipEvent } from '../../src/gossip/core/types.js';

describe('codec', () => {
  it('round-trips every packet message type in one compound packet', () => {
    const msgs = [
      { type: MsgType.Ping, seq: 7, target: 'b', source: 'a', sourceAddr: '10.0.0.1:7946' },
      { type: MsgType.IndirectPing, seq: 8, target: 'c', targetAddr: '10.0.0.3:7946', wantNack: true, source: 'a', sourceAddr: 'x:1' },
      { type: MsgType.Ack, seq: 9 },
      { type: MsgType.Nack, seq: 10 },
      { type: MsgType.Suspect, incarnation: 3, node: 'c', from: 'a' },
      { type: MsgType.Alive, incarnation: 4, node: 'd', addr: '10.0.0.4:7946',
        meta: { services: { peer: '10.0.0.4:7947' }, zone: 'z1', version: '1.2.3', tags: { role: 'ingest' } } },
      { type: MsgType.Dead, incarnation: 5, node: 'e', from: 'e' },
    ] as const;
    const decoded = decodePacket(frameCompound(msgs.map((m) => encodeMessage(m))));
    expect(decoded.unknown).toBe(0);
    expect(decoded.messages).toEqual(msgs);
  });

  it('round-trips a push/pull stream message', () => {
    const msg: PushPullMsg = { type: MsgType.PushPull, join: true, source: 'a',
      states: [{ name: 'a', addr: 'h:1', incarnation: 2, status: 'left', meta: EMPTY_META }] };
    expect(decodeStream(frameStream(msg))).toEqual(msg);
  });

  it('rejects malformed input with DecodeError and skips unknown message types from newer peers', () => {
    const good = encodeMessage({ type: MsgType.Ack, seq: 1 });
    const packet = frameCompound([good]);
    for (const bad of [new Uint8Array([]), new Uint8Array([1]), packet.subarray(0, packet.length - 1),
      new Uint8Array([0, 1, 1, 0, 1, 0x90]), new Uint8Array([1, 1, 1, 0, 3, 0xc1, 0xc1, 0xc1])]) {
      expect(() => decodePacket(bad)).toThrow();
    }
    // A future message type 99 is skipped, the known one is kept.
    const future = new Uint8Array([0x92, 99, 1]); // msgpack [99, 1]
    const mixed = decodePacket(frameCompound([future, good]));
    expect(mixed.unknown).toBe(1);
    expect(mixed.messages).toEqual([{ type: MsgType.Ack, seq: 1 }]);
    // Extra trailing fields (a newer peer's additions) are ignored.
    const extended = new Uint8Array([0x93, 3, 5, 0xa1, 0x78]); // [3, 5, "x"]
    expect(decodePacket(frameCompound([extended])).messages).toEqual([{ type: MsgType.Ack, seq: 5 }]);
  });
});

describe('Lifeguard pieces', () => {
  it('suspicion timeout follows memberlist: mult * max(1, log10 N) * interval', () => {
    expect(suspicionTimeoutMs(4, 5, 1000)).toBe(4000);
    expect(suspicionTimeoutMs(4, 100, 1000)).toBeCloseTo(8000, 6);
    expect(suspicionTimeoutMs(4, 1000, 1000)).toBeCloseTo(12000, 6);
  });

  it('dynamic timeout shrinks from max to min as confirmations arrive', () => {
    const min = 4000;
    const max = 24000;
    const k = 3;
    const expected = (c: number): number => Math.max(min, Math.floor(max - ((max - min) * Math.log(c + 1)) / Math.log(k + 1)));
    const seen = [0, 1, 2, 3].map((c) => dynamicTimeoutMs(c, k, min, max));
    expect(seen).toEqual([0, 1, 2, 3].map(expected));
    expect(seen[0]).toBe(max);
    expect(seen[3]).toBe(min);
    const s = new Suspicion(1, 1000, 'a', k, min, max);
    expect(s.confirm('a')).toBe(false); // the accuser does not confirm itself
    expect(s.confirm('b')).toBe(true);
    expect(s.confirm('b')).toBe(false);
    expect(s.deadlineMs()).toBe(1000 + expected(1));
  });

  it('awareness scales timeouts and saturates at the configured maximum', () => {
    const a = new Awareness(8);
    expect(a.scale(500)).toBe(500);
    a.applyDelta(3);
    expect(a.scale(500)).toBe(2000);
    a.applyDelta(100);
    expect(a.getScore()).toBe(7);
    a.applyDelta(-100);
    expect(a.getScore()).toBe(0);
  });
});

describe('broadcast queue', () => {
  it('sends least-transmitted then newest first, invalidates superseded updates and retires after the limit', () => {
    const q = new BroadcastQueue();
    const b = (n: number): Uint8Array => new Uint8Array(n);
    q.enqueue('a', b(10));
    q.enqueue('b', b(11));
    q.enqueue('a', b(12)); // supersedes the first "a"
    expect(q.length).toBe(2);
    expect(q.take(1000, 2, 2, 255).map((x) => x.length)).toEqual([12, 11]);
    q.enqueue('c', b(13));
    expect(q.take(1000, 2, 2, 255).map((x) => x.length)).toEqual([13, 12, 11]);
    expect(q.length).toBe(1); // a and b reached the limit of 2
    expect(q.take(14, 2, 2, 255)).toHaveLength(0); // does not fit the budget
    expect(retransmitLimit(4, 200)).toBe(12);
    expect(retransmitLimit(4, 5)).toBe(4);
  });
});

/** A tiny lossless in-memory wiring of several cores, for unit tests of protocol paths. */
class Wire {
  readonly cores = new Map<string, GossipCore>();
  readonly events: { observer: string; e: GossipEvent }[] = [];
  down = new Set<string>();
  /** Down members whose host refuses TCP connections (a killed process) rather than staying silent. */
  refusing = new Set<string>();
  now = 0;

  add(name: string, overrides: Partial<GossipConfig> = {}): GossipCore {
    const config = makeConfig({ name, advertiseAddr: `${name}:1`, ...overrides });
    const core = new GossipCore({ config, rng: new Prng(this.cores.size + 1), nowMs: this.now });
    this.cores.set(`${name}:1`, core);
    core.start(this.now);
    return core;
  }

  /** Moves messages until quiet, then advances time in 10 ms steps up to `untilMs`. */
  run(untilMs: number): void {
    for (; this.now <= untilMs; this.now += 10) {
      for (const c of this.cores.values()) if (!this.down.has(c.name)) c.tick(this.now);
      for (let round = 0; round < 100 && this.deliverAll(); round++);
    }
  }

  private deliverAll(): boolean {
    let moved = false;
    for (const [addr, core] of this.cores) {
      if (this.down.has(core.name)) {
        core.takePackets();
        core.takeStreams();
        continue;
      }
      for (const e of core.takeEvents()) this.events.push({ observer: core.name, e });
      for (const p of core.takePackets()) {
        const to = this.cores.get(p.to);
        moved = true;
        if (to && !this.down.has(to.name)) to.receivePacket(addr, p.bytes, this.now);
      }
      for (const s of core.takeStreams()) {
        const to = this.cores.get(s.to);
        moved = true;
        const reply = to && !this.down.has(to.name) ? to.handleStream(addr, s.bytes, this.now) : null;
        core.streamReply(s.id, reply, this.now, reply === null && to !== undefined && this.refusing.has(to.name));
      }
    }
    return moved;
  }
}

describe('GossipCore', () => {
  it('joins through a seed, detects a crash through suspicion, and sees a graceful leave', () => {
    const w = new Wire();
    const names = ['a', 'b', 'c', 'd', 'e'];
    const cores = names.map((n) => w.add(n));
    for (const c of cores.slice(1)) c.join(['a:1'], w.now);
    w.run(3000);
    for (const c of cores) expect(c.snapshot().members.filter((m) => m.status === 'alive')).toHaveLength(5);

    w.down.add('e');
    const crashAt = w.now;
    w.run(crashAt + 40_000);
    for (const c of cores.slice(0, 4)) expect(c.member('e')?.status).toBe('dead');
    expect(w.events.some(({ e }) => e.type === 'suspect' && e.member.name === 'e')).toBe(true);

    cores[3]!.leave(w.now);
    w.run(w.now + 2000);
    expect(cores[3]!.leaveBroadcastDone()).toBe(true);
    for (const c of cores.slice(0, 3)) expect(c.member('d')?.status).toBe('left');
    expect(w.events.filter(({ e }) => e.type === 'left' && e.member.name === 'd').map(({ observer }) => observer).sort())
      .toEqual(['a', 'b', 'c']);
  });

  it('a refused TCP ping ends the probe at the direct-ping timeout and does not count against our health', () => {
    const suspectedAt = (refuse: boolean): { atMs: number; a: GossipCore } => {
      const w = new Wire();
      const a = w.add('a');
      w.add('b').join(['a:1'], 0);
      w.run(3000);
      w.down.add('b');
      if (refuse) w.refusing.add('b');
      w.run(w.now + 3000);
      const ev = w.events.find(({ observer, e }) => observer === 'a' && e.type === 'suspect' && e.member.name === 'b');
      expect(ev).toBeDefined();
      return { atMs: ev!.e.atMs, a };
    };
    const refused = suspectedAt(true);
    const silent = suspectedAt(false);
    const { probeIntervalMs, probeTimeoutMs } = refused.a.config;
    // Same seed, same schedule: only the end of the failing probe differs (10 ms wire steps).
    expect(silent.atMs - refused.atMs).toBeGreaterThanOrEqual(probeIntervalMs - probeTimeoutMs - 10);
    expect(silent.atMs - refused.atMs).toBeLessThanOrEqual(probeIntervalMs - probeTimeoutMs + 10);
    expect(refused.a.stats.probesRefused).toBeGreaterThan(0);
    expect(silent.a.stats.probesRefused).toBe(0);
    expect(refused.a.healthScore()).toBe(0);
    expect(silent.a.healthScore()).toBeGreaterThan(0);
  });

  it('a suspected member refutes with a higher incarnation (buddy rule delivers the accusation)', () => {
    const w = new Wire();
    const a = w.add('a');
    const b = w.add('b');
    b.join(['a:1'], 0);
    w.run(2000);
    // A forged accusation of b arrives at a; a probes b with the suspicion piggybacked, b refutes.
    const forged = frameCompound([encodeMessage({ type: MsgType.Suspect, incarnation: 0, node: 'b', from: 'x' })]);
    a.receivePacket('x:1', forged, w.now);
    expect(a.member('b')?.status).toBe('suspect');
    w.run(w.now + 5000);
    expect(b.incarnation).toBeGreaterThan(0);
    expect(b.stats.refutations).toBeGreaterThan(0);
    expect(a.member('b')?.status).toBe('alive');
    expect(a.member('b')?.incarnation).toBe(b.incarnation);
  });

  it('a restarted member learns its old incarnation from the cluster and outbids it', () => {
    const w = new Wire();
    w.add('a');
    const b1 = w.add('b');
    b1.join(['a:1'], 0);
    w.run(1000);
    b1.setMeta({ services: { peer: 'b:2' }, zone: 'z', version: '1', tags: {} }, w.now); // incarnation 1
    w.run(w.now + 1000);
    const a = w.cores.get('a:1')!;
    expect(a.member('b')?.meta.zone).toBe('z');
    expect(w.events.some(({ observer, e }) => observer === 'a' && e.type === 'updated' && e.member.name === 'b')).toBe(true);
    w.down.add('b');
    w.run(w.now + 40_000);
    expect(a.member('b')?.status).toBe('dead');
    // Restart: a fresh core with the same name and address knows nothing.
    w.down.delete('b');
    const b2 = w.add('b');
    expect(b2.incarnation).toBe(0);
    b2.join(['a:1'], w.now);
    w.run(w.now + 2000);
    expect(b2.incarnation).toBeGreaterThan(1);
    expect(a.member('b')?.status).toBe('alive');
    expect(a.member('b')?.incarnation).toBe(b2.incarnation);
  });

  it('drops and counts malformed and oversized packets, never throws', () => {
    const core = new GossipCore({ config: makeConfig({ name: 'a', advertiseAddr: 'a:1' }), rng: new Prng(1), nowMs: 0 });
    core.start(0);
    const rng = new Prng(42);
    let fed = 0;
    for (let i = 0; i < 2000; i++) {
      const len = 1 + rng.int(64);
      const junk = new Uint8Array(len);
      for (let j = 0; j < len; j++) junk[j] = rng.int(256);
      if (i % 2 === 0) junk[1] = 1; // make half look like compound packets to reach the msgpack layer
      core.receivePacket('x:1', junk, i);
      expect(core.handleStream('x:1', junk, i)).toBeNull();
      fed++;
    }
    core.receivePacket('x:1', new Uint8Array(5000), 3000);
    expect(core.stats.oversized).toBe(1);
    expect(core.stats.malformed + core.stats.unknownMessages).toBeGreaterThan(fed);
    expect(core.snapshot().members).toHaveLength(1);
  });

  it('never builds a packet above the payload bound, even with a large backlog of updates', () => {
    const w = new Wire();
    const a = w.add('a', { maxPacketBytes: 300 });
    for (let i = 0; i < 40; i++) w.add(`m${i}`, { maxPacketBytes: 300 }).join(['a:1'], 0);
    let largest = 0;
    for (let t = 0; t < 5000; t += 10) {
      w.now = t;
      for (const c of w.cores.values()) {
        c.tick(t);
        const packets = c.takePackets();
        for (const p of packets) {
          largest = Math.max(largest, p.bytes.length);
          w.cores.get(p.to)?.receivePacket(`${c.name}:1`, p.bytes, t);
        }
        for (const s of c.takeStreams()) c.streamReply(s.id, w.cores.get(s.to)?.handleStream(`${c.name}:1`, s.bytes, t) ?? null, t);
      }
    }
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThanOrEqual(300);
    expect(a.snapshot().members.filter((m) => m.status === 'alive')).toHaveLength(41);
  });

  it('scales the push/pull interval like memberlist above 32 members', () => {
    expect(pushPullScale(30_000, 32)).toBe(30_000);
    expect(pushPullScale(30_000, 64)).toBe(60_000);
    expect(pushPullScale(30_000, 200)).toBe(120_000);
  });
});
