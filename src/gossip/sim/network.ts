/**
 * Deterministic simulator for the gossip core: many members in one process over a simulated
 * network (loss, delay, partitions), with crashes, restarts and stalled event loops. One seed
 * drives every random choice, so a run replays exactly.
 */
import { GossipCore } from '../core/core.js';
import { makeConfig, type GossipConfig } from '../core/config.js';
import { MinHeap, byTimeThenSeq } from '../../util/heap.js';
import { Prng } from '../core/prng.js';
import type { GossipEvent, GossipStats } from '../core/types.js';

export interface SimNetworkOptions {
  seed: number;
  /** Probability that one UDP packet (or one TCP segment exchange) is lost. */
  loss: number;
  /** One-way delay: base + uniform jitter, ms. */
  delayMs: number;
  jitterMs: number;
  /** Config overrides for every member. */
  config?: Partial<GossipConfig>;
}

type SimEvent =
  | { kind: 'packet'; to: number; from: string; bytes: Uint8Array; gen: number }
  | { kind: 'stream'; to: number; fromNode: number; fromGen: number; id: number; bytes: Uint8Array; gen: number }
  | { kind: 'reply'; to: number; id: number; bytes: Uint8Array | null; gen: number; refused?: boolean }
  | { kind: 'wake'; node: number; gen: number }
  | { kind: 'stallEnd'; node: number; gen: number }
  | { kind: 'action'; fn: () => void };

type QueuedEvent = { at: number; seq: number; ev: SimEvent };

export interface SimMember {
  index: number;
  name: string;
  addr: string;
  core: GossipCore | null;
  /** Bumped at every crash/restart, so in-flight events to a dead incarnation are dropped. */
  gen: number;
  up: boolean;
  stalledUntil: number;
  /** Work that arrived while the event loop was stalled (like a socket buffer). */
  backlog: SimEvent[];
  wakeAt: number;
  /** Counters of earlier incarnations, so totals survive restarts. */
  retiredStats: GossipStats[];
}

/** Socket receive buffer bound for a stalled member; beyond it packets are lost, as in a kernel. */
const MAX_BACKLOG = 20_000;

export type EventListener = (observer: SimMember, event: GossipEvent) => void;

export class SimNetwork {
  readonly members: SimMember[] = [];
  now = 0;
  private readonly heap = new MinHeap<QueuedEvent>(byTimeThenSeq('at'));
  private seq = 0;
  private readonly rng: Prng;
  private readonly byAddr = new Map<string, number>();
  /** partition group per member index; members in different groups cannot talk. */
  private group: number[] | null = null;
  private listeners: EventListener[] = [];
  eventsProcessed = 0;

  constructor(readonly opts: SimNetworkOptions) {
    if (!(opts.loss >= 0 && opts.loss < 1)) throw new Error('loss must be in [0, 1)');
    this.rng = new Prng(opts.seed);
  }

  onEvent(listener: EventListener): void {
    this.listeners.push(listener);
  }

  addMember(name: string): SimMember {
    const index = this.members.length;
    const addr = `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}:7946`;
    const m: SimMember = { index, name, addr, core: null, gen: 0, up: false, stalledUntil: 0, backlog: [], wakeAt: Infinity,
      retiredStats: [] };
    this.members.push(m);
    this.byAddr.set(addr, index);
    return m;
  }

  /** Boots (or reboots after a crash) a member with a fresh core that knows nothing. */
  boot(m: SimMember, seeds: string[]): void {
    if (m.up) throw new Error(`${m.name} is already up`);
    m.gen++;
    m.up = true;
    m.stalledUntil = 0;
    m.backlog = [];
    m.wakeAt = Infinity;
    const config = makeConfig({ ...this.opts.config, name: m.name, advertiseAddr: m.addr });
    m.core = new GossipCore({ config, rng: new Prng(this.rng.nextUint32()), nowMs: this.now });
    m.core.start(this.now);
    if (seeds.length > 0) m.core.join(seeds, this.now);
    this.flush(m);
  }

  /** kill -9: the process and everything in flight to it vanish. */
  crash(m: SimMember): void {
    if (!m.up || !m.core) throw new Error(`${m.name} is not up`);
    m.retiredStats.push({ ...m.core.stats });
    m.core.stop();
    m.core = null;
    m.up = false;
    m.gen++;
    m.backlog = [];
  }

  leave(m: SimMember): void {
    if (!m.core) throw new Error(`${m.name} is not up`);
    m.core.leave(this.now);
    this.flush(m);
  }

  /** Freezes the member's event loop until now + ms (timers and I/O pile up). */
  stall(m: SimMember, ms: number): void {
    if (!m.up) return;
    const until = this.now + ms;
    if (until <= m.stalledUntil) return;
    m.stalledUntil = until;
    this.push(until, { kind: 'stallEnd', node: m.index, gen: m.gen });
  }

  /** groups[i] = partition id of member i; null heals. */
  setPartition(groups: number[] | null): void {
    if (groups && groups.length !== this.members.length) throw new Error('partition must cover every member');
    this.group = groups ? [...groups] : null;
  }

  at(timeMs: number, fn: () => void): void {
    this.push(Math.max(timeMs, this.now), { kind: 'action', fn });
  }

  runUntil(timeMs: number): void {
    for (;;) {
      const top = this.heap.peek();
      if (!top || top.at > timeMs) break;
      this.heap.pop();
      this.now = top.at;
      this.eventsProcessed++;
      this.dispatch(top.ev);
    }
    this.now = Math.max(this.now, timeMs);
  }

  totalStats(m: SimMember): GossipStats[] {
    return m.core ? [...m.retiredStats, m.core.stats] : m.retiredStats;
  }

  // ------------------------------------------------------------------ internals

  private push(at: number, ev: SimEvent): void {
    this.heap.push({ at, seq: this.seq++, ev });
  }

  private canReach(a: number, b: number): boolean {
    return this.group === null || this.group[a] === this.group[b];
  }

  private oneWayDelay(): number {
    return this.opts.delayMs + this.rng.next() * this.opts.jitterMs;
  }

  private lost(): boolean {
    return this.opts.loss > 0 && this.rng.next() < this.opts.loss;
  }

  /** TCP leg time: lost segments cost a retransmission timeout (1 s for SYN, 200 ms for data). */
  private tcpLeg(rto: number): number {
    let t = this.oneWayDelay();
    for (let tries = 0; tries < 6 && this.lost(); tries++) t += rto * 2 ** tries;
    return t;
  }

  private dispatch(ev: SimEvent): void {
    if (ev.kind === 'action') {
      ev.fn();
      return;
    }
    const node = ev.kind === 'wake' || ev.kind === 'stallEnd' ? ev.node : ev.to;
    const m = this.members[node]!;
    if (!m.up || ev.gen !== m.gen || !m.core) return;
    if (ev.kind === 'stallEnd') {
      if (this.now < m.stalledUntil) return;
      // Node's event loop runs expired timers before polling I/O, so overdue timers fire first.
      m.wakeAt = Infinity;
      m.core.tick(this.now);
      const backlog = m.backlog;
      m.backlog = [];
      for (const queued of backlog) this.deliver(m, queued);
      this.flush(m);
      return;
    }
    if (this.now < m.stalledUntil) {
      if (ev.kind === 'wake') return; // re-armed at stall end
      if (m.backlog.length < MAX_BACKLOG) m.backlog.push(ev);
      return;
    }
    if (ev.kind === 'wake') {
      if (ev.node !== m.index || this.now !== m.wakeAt) return; // stale wake
      m.wakeAt = Infinity;
      m.core.tick(this.now);
    } else {
      this.deliver(m, ev);
    }
    this.flush(m);
  }

  private deliver(m: SimMember, ev: SimEvent): void {
    const core = m.core!;
    switch (ev.kind) {
      case 'packet':
        core.receivePacket(ev.from, ev.bytes, this.now);
        return;
      case 'stream': {
        const reply = core.handleStream(this.members[ev.fromNode]!.addr, ev.bytes, this.now);
        const back = this.members[ev.fromNode]!;
        if (this.canReach(m.index, back.index)) {
          this.push(this.now + this.tcpLeg(200), { kind: 'reply', to: back.index, id: ev.id, bytes: reply, gen: ev.fromGen });
        }
        return;
      }
      case 'reply':
        core.streamReply(ev.id, ev.bytes, this.now, ev.refused === true);
        return;
      default:
        throw new Error(`cannot deliver ${ev.kind}`);
    }
  }

  /** Moves what the core produced onto the simulated wire and re-arms its wake-up. */
  private flush(m: SimMember): void {
    const core = m.core;
    if (!core) return;
    for (const p of core.takePackets()) {
      const to = this.byAddr.get(p.to);
      if (to === undefined || !this.canReach(m.index, to) || this.lost()) continue;
      const target = this.members[to]!;
      this.push(this.now + this.oneWayDelay(), { kind: 'packet', to, from: m.addr, bytes: p.bytes, gen: target.gen });
    }
    for (const s of core.takeStreams()) {
      const to = this.byAddr.get(s.to);
      if (to === undefined || !this.canReach(m.index, to)) continue; // silent: the core's own timeout fires
      const target = this.members[to]!;
      if (!target.up) {
        // Connection refused arrives after one round trip.
        this.push(this.now + 2 * this.oneWayDelay(), { kind: 'reply', to: m.index, id: s.id, bytes: null, gen: m.gen,
          refused: true });
        continue;
      }
      const arrive = this.now + this.tcpLeg(1000) + this.tcpLeg(1000) + this.tcpLeg(200);
      this.push(arrive, { kind: 'stream', to, fromNode: m.index, fromGen: m.gen, id: s.id, bytes: s.bytes, gen: target.gen });
    }
    const events = core.takeEvents();
    if (events.length > 0) for (const e of events) for (const l of this.listeners) l(m, e);
    const next = core.nextDeadline();
    if (next !== undefined && next < m.wakeAt) {
      m.wakeAt = Math.max(next, this.now);
      this.push(m.wakeAt, { kind: 'wake', node: m.index, gen: m.gen });
    }
  }
}
