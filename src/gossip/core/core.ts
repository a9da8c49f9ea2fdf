/**
 * Deterministic SWIM + Lifeguard membership core, shaped like HashiCorp memberlist.
 *
 * No sockets, clocks or randomness of its own: the host feeds time (tick), packets (receivePacket),
 * stream requests (handleStream) and stream replies (streamReply), and drains what the core wants
 * sent (takePackets, takeStreams) and what happened (takeEvents). nextDeadline() says when the host
 * must call tick again. The same code runs in the simulator and over real UDP/TCP.
 */
import { Awareness } from './awareness.js';
import { BroadcastQueue, retransmitLimit } from './broadcasts.js';
import {
  COMPOUND_ENTRY_OVERHEAD, COMPOUND_HEADER_BYTES, DecodeError, EMPTY_META, MsgType, decodePacket, decodeStream,
  encodeMessage, encodedMetaSize, frameCompound, frameStream,
  type AliveMsg, type DeadMsg, type IndirectPingMsg, type MemberStatus, type NodeMeta, type PacketMsg, type PingMsg,
  type PushPullMsg, type PushState, type SuspectMsg,
} from './codec.js';
import { validateConfig, type GossipConfig } from './config.js';
import type { Prng } from './prng.js';
import { Suspicion, suspicionTimeoutMs } from './suspicion.js';
import { Timers, type TimerHandle } from './timers.js';
import { emptyStats, type GossipEvent, type GossipEventType, type GossipStats, type Member, type OutPacket, type StreamRequest } from './types.js';

interface MemberState {
  name: string;
  addr: string;
  meta: NodeMeta;
  incarnation: number;
  status: MemberStatus;
  stateChangeMs: number;
  suspicion?: Suspicion;
  suspicionTimer?: TimerHandle;
}

interface AckHandler {
  onAck: () => void;
  onNack: () => void;
  expiry: TimerHandle;
}

interface PendingStream {
  onReply: (bytes: Uint8Array | null, refused: boolean) => void;
  timer: TimerHandle;
}

interface Probe {
  seq: number;
  target: string;
  acked: boolean;
  nacks: number;
  expectedNacks: number;
  tcpOk: boolean;
  done: boolean;
  onDone?: (ok: boolean) => void;
}

const PUSH_PULL_SCALE_THRESHOLD = 32;
const MAX_OUTBOX = 10_000;
const NACK_FRACTION = 0.8;

export function pushPullScale(intervalMs: number, clusterSize: number): number {
  if (clusterSize <= PUSH_PULL_SCALE_THRESHOLD) return intervalMs;
  const multiplier = Math.ceil(Math.log2(clusterSize) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1;
  return multiplier * intervalMs;
}

function sameMeta(a: NodeMeta, b: NodeMeta): boolean {
  return a.zone === b.zone && a.version === b.version && sameMap(a.services, b.services) && sameMap(a.tags, b.tags);
}

function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

function snapshotOf(m: MemberState): Member {
  return Object.freeze({ name: m.name, addr: m.addr, meta: m.meta, incarnation: m.incarnation, status: m.status,
    stateChangeMs: m.stateChangeMs });
}

function freezeMeta(meta: NodeMeta): NodeMeta {
  return Object.freeze({ services: Object.freeze({ ...meta.services }), zone: meta.zone, version: meta.version,
    tags: Object.freeze({ ...meta.tags }) }) as NodeMeta;
}

export interface GossipCoreOptions {
  config: GossipConfig;
  rng: Prng;
  nowMs: number;
  meta?: NodeMeta;
}

export class GossipCore {
  readonly config: GossipConfig;
  readonly stats: GossipStats = emptyStats();
  private readonly rng: Prng;
  private readonly timers = new Timers();
  private readonly awareness: Awareness;
  private readonly broadcasts = new BroadcastQueue();
  private readonly members = new Map<string, MemberState>();
  /** Same members as an array, for O(1) random picks. */
  private memberArray: MemberState[] = [];
  private probeList: string[] = [];
  private probeIndex = 0;
  private readonly self: MemberState;
  private now: number;
  private seq = 0;
  private streamSeq = 0;
  private readonly ackHandlers = new Map<number, AckHandler>();
  private readonly pendingStreams = new Map<number, PendingStream>();
  private outPackets: OutPacket[] = [];
  private outStreams: StreamRequest[] = [];
  private events: GossipEvent[] = [];
  private started = false;
  private leaving = false;
  private leaveDone = false;
  private stopped = false;
  private viewVersion = 0;

  constructor(opts: GossipCoreOptions) {
    validateConfig(opts.config);
    this.config = opts.config;
    this.rng = opts.rng;
    this.now = opts.nowMs;
    this.awareness = new Awareness(this.config.awarenessMaxMultiplier);
    const meta = freezeMeta(opts.meta ?? EMPTY_META);
    this.checkMetaSize(meta);
    this.self = { name: this.config.name, addr: this.config.advertiseAddr, meta, incarnation: 0, status: 'alive',
      stateChangeMs: this.now };
    this.members.set(this.self.name, this.self);
    this.memberArray.push(this.self);
  }

  // ---------------------------------------------------------------- host entry points

  /** Starts the periodic protocol timers (probe, gossip, push/pull, reconnect) and announces us. */
  start(nowMs: number): void {
    this.advance(nowMs);
    if (this.started) throw new Error('gossip core already started');
    this.started = true;
    this.broadcastAlive(this.self);
    // Stagger the first rounds so members started together do not act in lockstep.
    this.timers.schedule(this.now + this.rng.int(this.config.probeIntervalMs), () => this.probeRound());
    this.timers.schedule(this.now + this.rng.int(this.config.gossipIntervalMs), () => this.gossipRound());
    if (this.config.pushPullIntervalMs > 0) {
      this.timers.schedule(this.now + this.rng.int(this.config.pushPullIntervalMs), () => this.pushPullRound());
    }
    if (this.config.reconnectIntervalMs > 0) {
      this.timers.schedule(this.now + this.rng.int(this.config.reconnectIntervalMs), () => this.reconnectRound());
    }
  }

  /** Full-state syncs with each seed; onDone reports how many answered. */
  join(seeds: string[], nowMs: number, onDone?: (reached: number, failed: number) => void): void {
    this.advance(nowMs);
    const targets = [...new Set(seeds)].filter((s) => s !== this.self.addr);
    let reached = 0;
    let failed = 0;
    if (targets.length === 0) {
      onDone?.(0, 0);
      return;
    }
    for (const to of targets) {
      this.pushPull(to, true, (ok) => {
        if (ok) reached++;
        else failed++;
        if (reached + failed === targets.length) onDone?.(reached, failed);
      });
    }
  }

  /** Announces a graceful leave; keep ticking until leaveBroadcastDone() (or a host deadline). */
  leave(nowMs: number): void {
    this.advance(nowMs);
    if (this.leaving) return;
    this.leaving = true;
    const msg: DeadMsg = { type: MsgType.Dead, incarnation: this.self.incarnation, node: this.self.name, from: this.self.name };
    this.self.status = 'left';
    this.self.stateChangeMs = this.now;
    this.viewVersion++;
    if (this.aliveOthers() === 0) {
      this.leaveDone = true;
      return;
    }
    this.broadcasts.enqueue(this.self.name, encodeMessage(msg), () => { this.leaveDone = true; });
    this.gossipRound(false); // do not wait for the next gossip tick
  }

  leaveBroadcastDone(): boolean {
    return this.leaveDone;
  }

  /** Stops all activity; later calls are ignored. */
  stop(): void {
    this.stopped = true;
  }

  /** Publishes new metadata: bumps our incarnation and broadcasts it. */
  setMeta(meta: NodeMeta, nowMs: number): void {
    this.advance(nowMs);
    const frozen = freezeMeta(meta);
    this.checkMetaSize(frozen);
    this.self.meta = frozen;
    this.self.incarnation++;
    this.viewVersion++;
    this.broadcastAlive(this.self);
  }

  tick(nowMs: number): void {
    this.advance(nowMs);
    if (this.stopped) return;
    this.timers.runDue(this.now);
  }

  nextDeadline(): number | undefined {
    return this.stopped ? undefined : this.timers.nextDeadline();
  }

  receivePacket(from: string, bytes: Uint8Array, nowMs: number): void {
    this.advance(nowMs);
    if (this.stopped) return;
    this.stats.packetsIn++;
    this.stats.bytesIn += bytes.length;
    if (bytes.length > this.config.maxPacketBytes) {
      this.stats.oversized++;
      return;
    }
    let decoded;
    try {
      decoded = decodePacket(bytes);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.stats.malformed++;
      return;
    }
    this.stats.unknownMessages += decoded.unknown;
    for (const msg of decoded.messages) this.handleMessage(from, msg);
  }

  /** Answers an incoming stream request (TCP); null means close without an answer. */
  handleStream(from: string, bytes: Uint8Array, nowMs: number): Uint8Array | null {
    this.advance(nowMs);
    if (this.stopped) return null;
    this.stats.streamsIn++;
    this.stats.streamBytesIn += bytes.length;
    if (bytes.length > this.config.maxStreamBytes) {
      this.stats.oversized++;
      return null;
    }
    let msg;
    try {
      msg = decodeStream(bytes);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.stats.malformed++;
      return null;
    }
    switch (msg.type) {
      case MsgType.Ping:
        if (msg.target !== this.self.name) {
          this.stats.misdirected++;
          return null;
        }
        return this.countStreamOut(frameStream({ type: MsgType.Ack, seq: msg.seq }));
      case MsgType.PushPull:
        // Merge first, then answer: refutations caused by the remote view are in our answer, so a
        // single exchange across a healed partition carries both sides' fresh incarnations.
        this.mergeRemoteState(msg.states, msg.source);
        return this.countStreamOut(frameStream(this.localStateMsg(false)));
      case MsgType.Ack:
        this.stats.misdirected++;
        return null;
    }
  }

  /**
   * Delivers the outcome of a StreamRequest: the reply bytes, or null on failure/timeout. `refused`
   * says the connection was actively refused (nothing listens there any more), which unlike a
   * timeout is conclusive about the target.
   */
  streamReply(id: number, bytes: Uint8Array | null, nowMs: number, refused = false): void {
    this.advance(nowMs);
    const pending = this.pendingStreams.get(id);
    if (!pending) return; // already timed out
    this.pendingStreams.delete(id);
    pending.timer.cancel();
    if (bytes !== null) {
      this.stats.streamBytesIn += bytes.length;
      if (bytes.length > this.config.maxStreamBytes) {
        this.stats.oversized++;
        bytes = null;
      }
    }
    if (this.stopped) return;
    pending.onReply(bytes, refused && bytes === null);
  }

  takePackets(): OutPacket[] {
    const out = this.outPackets;
    this.outPackets = [];
    return out;
  }

  takeStreams(): StreamRequest[] {
    const out = this.outStreams;
    this.outStreams = [];
    return out;
  }

  takeEvents(): GossipEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  // ---------------------------------------------------------------- views

  get name(): string {
    return this.self.name;
  }

  get incarnation(): number {
    return this.self.incarnation;
  }

  healthScore(): number {
    return this.awareness.getScore();
  }

  /** Consistent snapshot of the member table (including us), sorted by name. */
  snapshot(): { version: number; members: Member[] } {
    const members = [...this.members.values()].map(snapshotOf).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { version: this.viewVersion, members };
  }

  member(name: string): Member | undefined {
    const m = this.members.get(name);
    return m ? snapshotOf(m) : undefined;
  }

  /** Members currently alive or suspect, us included. */
  liveCount(): number {
    let n = 0;
    for (const m of this.memberArray) if (m.status === 'alive' || m.status === 'suspect') n++;
    return n;
  }

  broadcastQueueLength(): number {
    return this.broadcasts.length;
  }

  // ---------------------------------------------------------------- internals: time and output

  private advance(nowMs: number): void {
    if (!Number.isFinite(nowMs)) throw new Error(`time must be finite, got ${nowMs}`);
    if (nowMs > this.now) this.now = nowMs;
  }

  private checkMetaSize(meta: NodeMeta): void {
    const size = encodedMetaSize(meta);
    if (size > this.config.maxMetaBytes) throw new Error(`node metadata is ${size} bytes, limit ${this.config.maxMetaBytes}`);
  }

  private emit(type: GossipEventType, m: MemberState): void {
    this.viewVersion++;
    if (m === this.self) return;
    if (this.events.length >= this.config.maxBufferedEvents) {
      this.events.shift();
      this.stats.droppedEvents++;
    }
    this.events.push({ type, member: snapshotOf(m), atMs: this.now });
  }

  private countStreamOut(bytes: Uint8Array): Uint8Array {
    this.stats.streamBytesOut += bytes.length;
    return bytes;
  }

  private clusterSize(): number {
    return Math.max(1, this.liveCount());
  }

  private aliveOthers(): number {
    let n = 0;
    for (const m of this.memberArray) if (m !== this.self && m.status === 'alive') n++;
    return n;
  }

  /** Sends messages in one packet, filling the remaining room with queued broadcasts. */
  private sendPacket(to: string, messages: Uint8Array[]): void {
    let budget = this.config.maxPacketBytes - COMPOUND_HEADER_BYTES;
    for (const m of messages) budget -= m.length + COMPOUND_ENTRY_OVERHEAD;
    if (budget < 0) throw new Error('protocol message exceeds the packet size bound');
    const extra = this.broadcasts.take(budget, COMPOUND_ENTRY_OVERHEAD, this.retransmits(), 255 - messages.length);
    this.emitPacket(to, frameCompound(messages.concat(extra)));
  }

  private emitPacket(to: string, bytes: Uint8Array): void {
    if (bytes.length > this.config.maxPacketBytes) throw new Error(`built a ${bytes.length}-byte packet over the bound`);
    if (this.outPackets.length >= MAX_OUTBOX) {
      this.stats.droppedOutbox++;
      return;
    }
    this.stats.packetsOut++;
    this.stats.bytesOut += bytes.length;
    this.outPackets.push({ to, bytes });
  }

  private sendStream(to: string, bytes: Uint8Array, timeoutMs: number,
    onReply: (b: Uint8Array | null, refused: boolean) => void): void {
    const id = ++this.streamSeq;
    if (this.pendingStreams.size >= MAX_OUTBOX) {
      this.stats.droppedOutbox++;
      onReply(null, false);
      return;
    }
    const timer = this.timers.schedule(this.now + timeoutMs, () => {
      if (this.pendingStreams.delete(id)) onReply(null, false);
    });
    this.pendingStreams.set(id, { onReply, timer });
    this.stats.streamsOut++;
    this.stats.streamBytesOut += bytes.length;
    this.outStreams.push({ id, to, bytes, timeoutMs });
  }

  private retransmits(): number {
    return retransmitLimit(this.config.retransmitMult, this.clusterSize());
  }

  private queueBroadcast(key: string, msg: PacketMsg): void {
    this.broadcasts.enqueue(key, encodeMessage(msg));
    const depth = Math.max(this.config.maxBroadcastQueue, 2 * this.memberArray.length);
    this.stats.prunedBroadcasts += this.broadcasts.prune(depth);
  }

  private broadcastAlive(m: MemberState): void {
    this.queueBroadcast(m.name, { type: MsgType.Alive, incarnation: m.incarnation, node: m.name, addr: m.addr, meta: m.meta });
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  /** Up to k distinct random members passing the filter (memberlist's kRandomNodes). */
  private randomMembers(k: number, accept: (m: MemberState) => boolean): MemberState[] {
    const out: MemberState[] = [];
    const n = this.memberArray.length;
    if (k <= 0 || n === 0) return out;
    for (let i = 0; i < 3 * n && out.length < k; i++) {
      const m = this.memberArray[this.rng.int(n)]!;
      if (m === this.self || !accept(m) || out.includes(m)) continue;
      out.push(m);
    }
    return out;
  }

  // ---------------------------------------------------------------- failure detection (SWIM + Lifeguard)

  private probeRound(): void {
    if (this.stopped) return;
    // Lifeguard: a node in poor health probes less often.
    const interval = this.awareness.scale(this.config.probeIntervalMs);
    this.timers.schedule(this.now + interval, () => this.probeRound());
    if (this.leaving) return;
    const target = this.nextProbeTarget();
    if (target) this.probe(target, interval);
  }

  private nextProbeTarget(): MemberState | undefined {
    for (let resets = 0; resets < 2; ) {
      if (this.probeIndex >= this.probeList.length) {
        this.resetProbeList();
        resets++;
        continue;
      }
      const m = this.members.get(this.probeList[this.probeIndex++]!);
      if (m && m !== this.self && (m.status === 'alive' || m.status === 'suspect')) return m;
    }
    return undefined;
  }

  /** Start of a new round-robin pass: forget long-dead members and reshuffle. */
  private resetProbeList(): void {
    this.reapDead();
    this.probeList = this.rng.shuffle(this.memberArray.filter((m) => m !== this.self).map((m) => m.name));
    this.probeIndex = 0;
  }

  private reapDead(): void {
    const horizon = this.now - this.config.deadRetentionMs;
    const keep: MemberState[] = [];
    for (const m of this.memberArray) {
      if ((m.status === 'dead' || m.status === 'left') && m !== this.self && m.stateChangeMs <= horizon) {
        this.members.delete(m.name);
      } else keep.push(m);
    }
    this.memberArray = keep;
  }

  private probe(target: MemberState, intervalMs: number, onDone?: (ok: boolean) => void): void {
    const seq = this.nextSeq();
    const probe: Probe = { seq, target: target.name, acked: false, nacks: 0, expectedNacks: 0, tcpOk: false, done: false, onDone };
    const ping: PingMsg = { type: MsgType.Ping, seq, target: target.name, source: this.self.name, sourceAddr: this.self.addr };
    const messages: Uint8Array[] = [];
    if (target.status === 'suspect') {
      // Buddy rule: tell a suspect it is suspected, so it can refute at once. It goes before the
      // ping so that the refutation (or a re-sent newer alive) rides on the ack.
      messages.push(encodeMessage({ type: MsgType.Suspect, incarnation: target.incarnation, node: target.name,
        from: this.self.name }));
    }
    messages.push(encodeMessage(ping));
    const start = this.now;
    this.registerAck(seq, intervalMs, () => {
      if (probe.done) return;
      probe.acked = true;
      probe.done = true;
      this.awareness.applyDelta(-1);
      probe.onDone?.(true);
    }, () => { probe.nacks++; });
    this.sendPacket(target.addr, messages);
    // memberlist leaves the direct timeout unscaled (waiting longer does not help UDP through);
    // the scaled interval gives indirect and TCP probes more time instead.
    this.timers.schedule(start + this.config.probeTimeoutMs, () => this.probeIndirect(probe, target, start + intervalMs));
    this.timers.schedule(start + intervalMs, () => this.probeFinish(probe));
  }

  private probeIndirect(probe: Probe, target: MemberState, deadline: number): void {
    if (probe.done || this.stopped) return;
    const helpers = this.randomMembers(this.config.indirectChecks,
      (m) => m.status === 'alive' && m.name !== target.name);
    probe.expectedNacks = helpers.length;
    const req: IndirectPingMsg = { type: MsgType.IndirectPing, seq: probe.seq, target: target.name, targetAddr: target.addr,
      wantNack: true, source: this.self.name, sourceAddr: this.self.addr };
    const bytes = encodeMessage(req);
    for (const h of helpers) this.sendPacket(h.addr, [bytes]);
    if (this.config.tcpFallbackPing && deadline > this.now) {
      const ping: PingMsg = { type: MsgType.Ping, seq: probe.seq, target: target.name, source: this.self.name,
        sourceAddr: this.self.addr };
      this.sendStream(target.addr, frameStream(ping), deadline - this.now, (reply, refused) => {
        if (reply === null) {
          // The direct ping already went unanswered and now the target's port refuses connections:
          // no process is there. Waiting out the rest of the interval for indirect acks that cannot
          // come only delays the suspicion (memberlist waits; on a LAN this is about 0.5 s per probe).
          if (refused && !probe.done) {
            this.stats.probesRefused++;
            this.probeFinish(probe, true);
          }
          return;
        }
        try {
          const msg = decodeStream(reply);
          if (msg.type === MsgType.Ack && msg.seq === probe.seq) probe.tcpOk = true;
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          this.stats.malformed++;
        }
      });
    }
  }

  /** `conclusive`: ended early on a refused connection, so missing nacks say nothing about us. */
  private probeFinish(probe: Probe, conclusive = false): void {
    if (probe.done || this.stopped) return;
    probe.done = true;
    this.ackHandlers.get(probe.seq)?.expiry.cancel();
    this.ackHandlers.delete(probe.seq);
    if (probe.acked || probe.tcpOk) {
      this.awareness.applyDelta(-1);
      probe.onDone?.(true);
      return;
    }
    // Lifeguard: missing nacks mean *we* may be the problem, so our health score rises. A refused
    // connection is an answer from the target's host, so it says we are fine.
    if (conclusive) { /* no change */ } else if (probe.expectedNacks > 0) {
      this.awareness.applyDelta(Math.max(0, probe.expectedNacks - probe.nacks));
    } else this.awareness.applyDelta(1);
    const target = this.members.get(probe.target);
    if (target && !this.leaving) {
      this.suspectNode({ type: MsgType.Suspect, incarnation: target.incarnation, node: target.name, from: this.self.name });
    }
    probe.onDone?.(false);
  }

  private registerAck(seq: number, ttlMs: number, onAck: () => void, onNack: () => void): void {
    const expiry = this.timers.schedule(this.now + ttlMs, () => { this.ackHandlers.delete(seq); });
    this.ackHandlers.get(seq)?.expiry.cancel();
    this.ackHandlers.set(seq, { onAck, onNack, expiry });
  }

  // ---------------------------------------------------------------- message handling

  private handleMessage(from: string, msg: PacketMsg): void {
    switch (msg.type) {
      case MsgType.Ping:
        if (msg.target !== this.self.name) {
          this.stats.misdirected++;
          return;
        }
        this.sendPacket(from, [encodeMessage({ type: MsgType.Ack, seq: msg.seq })]);
        return;
      case MsgType.IndirectPing:
        this.handleIndirectPing(from, msg);
        return;
      case MsgType.Ack: {
        const h = this.ackHandlers.get(msg.seq);
        if (h) {
          this.ackHandlers.delete(msg.seq);
          h.expiry.cancel();
          h.onAck();
        }
        return;
      }
      case MsgType.Nack:
        this.ackHandlers.get(msg.seq)?.onNack();
        return;
      case MsgType.Suspect:
        this.suspectNode(msg);
        return;
      case MsgType.Alive:
        this.aliveNode(msg);
        return;
      case MsgType.Dead:
        this.deadNode(msg);
        return;
    }
  }

  private handleIndirectPing(from: string, req: IndirectPingMsg): void {
    const seq = this.nextSeq();
    let answered = false;
    this.registerAck(seq, this.config.probeIntervalMs, () => {
      answered = true;
      this.sendPacket(from, [encodeMessage({ type: MsgType.Ack, seq: req.seq })]);
    }, () => {});
    this.sendPacket(req.targetAddr, [encodeMessage({ type: MsgType.Ping, seq, target: req.target, source: this.self.name,
      sourceAddr: this.self.addr })]);
    if (req.wantNack) {
      // A nack tells the requester that we are reachable even though the target is not, which is
      // what lets Lifeguard tell "the target is down" from "I am the one cut off".
      this.timers.schedule(this.now + Math.floor(this.config.probeTimeoutMs * NACK_FRACTION), () => {
        if (!answered && !this.stopped) this.sendPacket(from, [encodeMessage({ type: MsgType.Nack, seq: req.seq })]);
      });
    }
  }

  // ---------------------------------------------------------------- state transitions (memberlist state.go)

  private refute(accusedIncarnation: number): void {
    this.self.incarnation = Math.max(this.self.incarnation, accusedIncarnation) + 1;
    this.stats.refutations++;
    this.viewVersion++;
    this.broadcastAlive(this.self);
    // Being accused is a hint that we are slow to answer.
    this.awareness.applyDelta(1);
  }

  private aliveNode(msg: AliveMsg): void {
    const isLocal = msg.node === this.self.name;
    let m = this.members.get(msg.node);
    if (isLocal) {
      if (this.leaving) return;
      // An older or foreign copy of ourselves: outbid it (how a restarted node reclaims its name).
      const echo = msg.incarnation === this.self.incarnation && msg.addr === this.self.addr && sameMeta(msg.meta, this.self.meta);
      if (msg.incarnation >= this.self.incarnation && !echo) this.refute(msg.incarnation);
      return;
    }
    let isNew = false;
    if (!m) {
      if (this.members.size >= this.config.maxMembers) {
        this.reapDead();
        if (this.members.size >= this.config.maxMembers) {
          this.stats.refusedMembers++;
          return;
        }
      }
      isNew = true;
      m = { name: msg.node, addr: msg.addr, meta: msg.meta, incarnation: msg.incarnation, status: 'dead', stateChangeMs: this.now };
      this.members.set(m.name, m);
      this.memberArray.push(m);
      // Random position in the probe order keeps the detection bound low (memberlist does the same).
      this.probeList.splice(this.probeIndex + this.rng.int(this.probeList.length - this.probeIndex + 1), 0, m.name);
    } else {
      if (m.addr !== msg.addr && (m.status === 'alive' || m.status === 'suspect')) {
        // Two processes claim one name: keep the live one until it is declared dead.
        this.stats.addressConflicts++;
        return;
      }
      if (msg.incarnation <= m.incarnation) return;
    }
    this.clearSuspicion(m);
    const old = m.status;
    const changed = isNew || m.addr !== msg.addr || !sameMeta(m.meta, msg.meta);
    m.addr = msg.addr;
    m.meta = freezeMeta(msg.meta);
    m.incarnation = msg.incarnation;
    if (old !== 'alive') {
      m.status = 'alive';
      m.stateChangeMs = this.now;
    }
    this.queueBroadcast(m.name, msg);
    if (old === 'dead' || old === 'left') this.emit('joined', m);
    else {
      if (old === 'suspect') this.emit('alive', m);
      if (changed) this.emit('updated', m);
      else this.viewVersion++;
    }
  }

  private suspectNode(msg: SuspectMsg): void {
    const m = this.members.get(msg.node);
    if (!m) return;
    if (msg.incarnation < m.incarnation) {
      // A stale accusation of us: whoever sent it missed our refutation, so send it again
      // (it rides on the ack we are about to send to a buddy-rule probe).
      if (m === this.self && !this.leaving && !this.broadcasts.has(m.name)) this.broadcastAlive(this.self);
      return;
    }
    if (m.suspicion) {
      if (msg.from === this.self.name) m.suspicion.selfWitnessed = true;
      // Already suspect: an independent accuser shortens the timeout (Lifeguard).
      if (m.suspicion.confirm(msg.from)) {
        this.queueBroadcast(m.name, msg);
        this.armSuspicionTimer(m);
      }
      return;
    }
    if (m.status !== 'alive') return;
    if (m === this.self) {
      if (!this.leaving) this.refute(msg.incarnation);
      return;
    }
    this.queueBroadcast(m.name, msg);
    // Our own accusation goes out now rather than at the next gossip tick (up to 200 ms later):
    // other members' suspicion clocks, and so the whole detection, start when they hear it.
    m.incarnation = msg.incarnation;
    m.status = 'suspect';
    m.stateChangeMs = this.now;
    const n = this.clusterSize();
    let k = this.config.suspicionMult - 2;
    if (n - 2 < k) k = 0; // too few members to expect confirmations
    const min = suspicionTimeoutMs(this.config.suspicionMult, n, this.config.probeIntervalMs);
    const max = this.config.suspicionMaxTimeoutMult * min;
    m.suspicion = new Suspicion(msg.incarnation, this.now, msg.from, Math.max(0, k), min, max);
    m.suspicion.selfWitnessed = msg.from === this.self.name;
    this.stats.suspicionsStarted++;
    this.armSuspicionTimer(m);
    this.emit('suspect', m);
    if (msg.from === this.self.name) this.gossipRound(false);
  }

  private armSuspicionTimer(m: MemberState): void {
    const suspicion = m.suspicion;
    if (!suspicion) throw new Error('arming a suspicion timer without a suspicion');
    m.suspicionTimer?.cancel();
    m.suspicionTimer = this.timers.schedule(Math.max(this.now, suspicion.deadlineMs()), () => {
      if (m.suspicion !== suspicion || m.status !== 'suspect' || this.stopped) return;
      if (!suspicion.selfWitnessed && !this.leaving) {
        // Hearsay only: we never failed to reach it ourselves and may simply have missed its
        // refutation. Probe it once (buddy rule) before convicting.
        this.verifySuspect(m, suspicion);
        return;
      }
      this.stats.deathsDeclared++;
      this.deadNode({ type: MsgType.Dead, incarnation: m.incarnation, node: m.name, from: this.self.name });
      this.gossipRound(false); // send our conviction now, not at the next gossip tick
    });
  }

  private verifySuspect(m: MemberState, suspicion: Suspicion): void {
    if (suspicion.verifying) return;
    suspicion.verifying = true;
    this.stats.suspicionVerifications++;
    this.probe(m, this.awareness.scale(this.config.probeIntervalMs), (ok) => {
      if (m.suspicion !== suspicion || m.status !== 'suspect') return;
      suspicion.verifying = false;
      if (ok) {
        // Reachable after all: restart the suspicion clock and wait for its refutation.
        m.suspicion = new Suspicion(suspicion.incarnation, this.now, this.self.name, suspicion.k, suspicion.minMs, suspicion.maxMs);
        this.armSuspicionTimer(m);
        return;
      }
      suspicion.selfWitnessed = true;
      this.armSuspicionTimer(m);
    });
  }

  private clearSuspicion(m: MemberState): void {
    m.suspicionTimer?.cancel();
    m.suspicionTimer = undefined;
    m.suspicion = undefined;
  }

  private deadNode(msg: DeadMsg): void {
    const m = this.members.get(msg.node);
    if (!m || msg.incarnation < m.incarnation) return;
    if (m.status === 'dead' || m.status === 'left') return;
    if (m === this.self) {
      if (!this.leaving) this.refute(msg.incarnation);
      return;
    }
    this.clearSuspicion(m);
    this.queueBroadcast(m.name, msg);
    m.incarnation = msg.incarnation;
    m.status = msg.from === msg.node ? 'left' : 'dead';
    m.stateChangeMs = this.now;
    this.emit(m.status === 'left' ? 'left' : 'dead', m);
  }

  // ---------------------------------------------------------------- dissemination

  private gossipRound(reschedule = true): void {
    if (this.stopped) return;
    if (reschedule) this.timers.schedule(this.now + this.config.gossipIntervalMs, () => this.gossipRound());
    if (this.broadcasts.length === 0) return;
    const horizon = this.now - this.config.gossipToTheDeadMs;
    const targets = this.randomMembers(this.config.gossipNodes, (m) =>
      m.status === 'alive' || m.status === 'suspect' || m.stateChangeMs > horizon);
    const budget = this.config.maxPacketBytes - COMPOUND_HEADER_BYTES;
    for (const t of targets) {
      const msgs = this.broadcasts.take(budget, COMPOUND_ENTRY_OVERHEAD, this.retransmits(), 255);
      if (msgs.length === 0) return;
      this.emitPacket(t.addr, frameCompound(msgs));
    }
  }

  private localStateMsg(join: boolean): PushPullMsg {
    const states: PushState[] = this.memberArray.map((m) => ({ name: m.name, addr: m.addr, incarnation: m.incarnation,
      status: m.status, meta: m.meta }));
    return { type: MsgType.PushPull, join, source: this.self.name, states };
  }

  private pushPull(to: string, join: boolean, onDone?: (ok: boolean) => void): void {
    this.sendStream(to, frameStream(this.localStateMsg(join)), this.config.streamTimeoutMs, (reply) => {
      if (reply === null) {
        onDone?.(false);
        return;
      }
      let msg;
      try {
        msg = decodeStream(reply);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        this.stats.malformed++;
        onDone?.(false);
        return;
      }
      if (msg.type !== MsgType.PushPull) {
        this.stats.malformed++;
        onDone?.(false);
        return;
      }
      this.mergeRemoteState(msg.states, msg.source);
      onDone?.(true);
    });
  }

  private mergeRemoteState(states: PushState[], source: string): void {
    for (const s of states) {
      const local = this.members.get(s.name);
      if (local && local !== this.self && local.status === s.status && local.incarnation === s.incarnation) continue;
      if (!local && (s.status === 'dead' || s.status === 'left')) {
        // Remember the tombstone: a restarted member that joins through us must learn its old
        // incarnation from us, or its fresh "alive 0" would be ignored by everyone else.
        this.addTombstone(s);
        continue;
      }
      switch (s.status) {
        case 'alive':
          this.aliveNode({ type: MsgType.Alive, incarnation: s.incarnation, node: s.name, addr: s.addr, meta: s.meta });
          break;
        case 'left':
          this.deadNode({ type: MsgType.Dead, incarnation: s.incarnation, node: s.name, from: s.name });
          break;
        case 'dead':
        case 'suspect':
          // Like memberlist: a remote "dead" only makes us suspect, so the member gets a chance to refute.
          this.suspectNode({ type: MsgType.Suspect, incarnation: s.incarnation, node: s.name, from: source });
          break;
      }
    }
  }

  private addTombstone(s: PushState): void {
    if (this.members.size >= this.config.maxMembers) {
      this.stats.refusedMembers++;
      return;
    }
    const m: MemberState = { name: s.name, addr: s.addr, meta: freezeMeta(s.meta), incarnation: s.incarnation, status: s.status,
      stateChangeMs: this.now };
    this.members.set(m.name, m);
    this.memberArray.push(m);
    this.viewVersion++;
  }

  private pushPullRound(): void {
    if (this.stopped) return;
    const interval = pushPullScale(this.config.pushPullIntervalMs, this.clusterSize());
    this.timers.schedule(this.now + interval, () => this.pushPullRound());
    if (this.leaving) return;
    const [peer] = this.randomMembers(1, (m) => m.status === 'alive');
    if (peer) this.pushPull(peer.addr, false);
  }

  /** Serf-style reconnect: sync with one dead member per round, so healed partitions merge. */
  private reconnectRound(): void {
    if (this.stopped) return;
    this.timers.schedule(this.now + this.config.reconnectIntervalMs, () => this.reconnectRound());
    if (this.leaving) return;
    const dead = this.memberArray.filter((m) => m.status === 'dead');
    if (dead.length === 0) return;
    const target = dead[this.rng.int(dead.length)]!;
    this.pushPull(target.addr, true);
  }
}
