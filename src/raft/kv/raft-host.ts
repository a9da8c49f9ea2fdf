/**
 * Drives one RaftCore with real time, a FileLog and a PeerTransport:
 * tick on a timer, step what arrives, and drain Ready in order (persist + fsync, send, apply,
 * serve reads, advance). One Ready is in flight at a time; everything that arrives meanwhile
 * lands in the next one, which is what batches proposals into one fsync (group commit).
 */
import { performance } from 'node:perf_hooks';
import { RaftCore, type ProposeResult } from '../core/raft.js';
import type { Message, ReadState, Ready } from '../core/messages.js';
import type { FileLog } from '../log/index.js';
import { EntryType, type Entry, type NodeId, type Snapshot } from '../types.js';
import type { PeerTransport } from './transport.js';
import { mulberry32 } from '../../util/prng.js';

export interface StateMachine {
  /** Apply one committed Normal entry; returns what the proposer should get back. */
  apply(entry: Entry): unknown;
  snapshot(): Uint8Array;
  /** Capture the state as of now; the returned function serializes it later (may yield). */
  captureSnapshot(): () => Promise<Uint8Array>;
  restore(data: Uint8Array): void;
}

export interface RaftHostOptions {
  id: NodeId;
  voters: NodeId[];
  log: FileLog;
  stateMachine: StateMachine;
  tickMs?: number;
  electionTick?: number;
  heartbeatTick?: number;
  /** Take a snapshot (and compact the log) after this many applied entries or bytes. */
  snapshotEveryEntries?: number;
  snapshotEveryBytes?: number;
  /** Proposals waiting for their outcome; more are refused. */
  maxPendingProposals?: number;
  maxPendingReads?: number;
  seed?: number;
}

export type ProposalOutcome =
  | { status: 'applied'; result: unknown }
  /** Definitely not applied (refused, or its log slot went to another entry). */
  | { status: 'failed'; reason: string; leader: NodeId | '' }
  /** Outcome unknown. */
  | { status: 'timeout' };

export type ReadOutcome = { status: 'ready' } | { status: 'failed'; reason: string; leader: NodeId | '' } | { status: 'timeout' };

interface PendingProposal {
  term: number;
  deadline: number;
  resolve: (o: ProposalOutcome) => void;
}

interface PendingRead {
  deadline: number;
  index: number; // -1 until the ReadState arrives
  resolve: (o: ReadOutcome) => void;
}

export class RaftHost {
  readonly core: RaftCore;
  private transport: PeerTransport | null = null;
  private readonly log: FileLog;
  private readonly sm: StateMachine;
  private readonly proposals = new Map<number, PendingProposal>(); // by log index
  private readonly reads = new Map<string, PendingRead>(); // by context
  private readSeq = 0;
  private applied: number;
  private sinceSnapshotEntries = 0;
  private sinceSnapshotBytes = 0;
  private lastSnapshotBytes = 0;
  /** 4–6×, drawn per snapshot, so the nodes of a group do not all write snapshots at once. */
  private snapshotGrowthFactor = 4 + 2 * Math.random();
  private tickTimer: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  private stopped = false;
  private cachedSnapshot: Snapshot | null = null;
  private fatal: ((err: unknown) => void) | null = null;
  private snapshotInFlight: Promise<void> | null = null;
  private syncInFlight = false;
  /** Counters, and how long each Ready's fsync took (ms, bucket upper bounds in syncBucketsMs). */
  readonly stats = { readies: 0, appliedEntries: 0, snapshots: 0, syncs: 0, syncMsTotal: 0, syncMsMax: 0, syncHistogram: [0, 0, 0, 0, 0, 0, 0, 0] };
  static readonly syncBucketsMs = [1, 2, 5, 10, 20, 50, 100, Infinity];

  constructor(private readonly options: RaftHostOptions) {
    this.log = options.log;
    this.sm = options.stateMachine;
    this.core = new RaftCore({
      id: options.id,
      storage: options.log,
      random: mulberry32(options.seed ?? hashSeed(options.id)),
      peers: options.voters,
      electionTick: options.electionTick ?? 10,
      heartbeatTick: options.heartbeatTick ?? 2,
      preVote: true,
      checkQuorum: true,
    });
    this.applied = options.log.snapshotMeta?.index ?? 0;
  }

  /** Restore the state machine from the stored snapshot (if any) and start ticking. */
  async start(transport: PeerTransport, onFatal: (err: unknown) => void): Promise<void> {
    this.transport = transport;
    this.fatal = onFatal;
    const snap = await this.log.loadSnapshot();
    if (snap) this.sm.restore(snap.data);
    const tickMs = this.options.tickMs ?? 25;
    this.tickTimer = setInterval(() => {
      this.core.tick();
      this.expire();
      this.kick();
    }, tickMs);
    this.kick();
  }

  get isLeader(): boolean {
    return this.core.state === 'Leader';
  }

  get leader(): NodeId | '' {
    return this.core.lead;
  }

  /** The transport could not deliver these: let the leader stop waiting on them. */
  dropped(messages: Message[]): void {
    if (this.stopped) return;
    for (const m of messages) {
      if (m.type === 'Snap') this.core.reportSnapshot(m.to, false);
      else if (m.type === 'App') this.core.reportUnreachable(m.to);
    }
    this.kick();
  }

  step(messages: Message[]): void {
    if (this.stopped) return;
    for (const m of messages) {
      if (m.to !== this.options.id || m.from === this.options.id) continue; // misrouted: ignore
      this.core.step(m);
    }
    if (this.syncInFlight && this.core.state === 'Leader') this.applyAhead();
    this.kick();
  }

  /**
   * While the leader's own fsync is in flight no new Ready can be taken, but followers' acks may
   * already have committed entries (a majority durable without the leader's copy). Apply those
   * now so clients do not wait for the leader's disk; they come again in a later Ready and are
   * skipped then. Only entries whose term matches the core's own log are applied.
   */
  private applyAhead(): void {
    const upTo = Math.min(this.core.commit, this.log.lastIndex()); // not status(): that copies the progress map
    if (upTo <= this.applied || this.applied + 1 < this.log.firstIndex()) return;
    for (const e of this.log.entries(this.applied + 1, upTo + 1)) {
      if (this.core.logTerm(e.index) !== e.term) break;
      this.applyEntry(e);
    }
    this.serveReads();
  }

  propose(data: Uint8Array, timeoutMs: number): Promise<ProposalOutcome> {
    const max = this.options.maxPendingProposals ?? 20_000;
    if (this.stopped) return Promise.resolve({ status: 'failed', reason: 'stopped', leader: '' });
    if (this.proposals.size >= max) return Promise.resolve({ status: 'failed', reason: 'Overloaded', leader: this.core.lead });
    const result: ProposeResult = this.core.propose(data);
    if (!result.ok) return Promise.resolve({ status: 'failed', reason: result.reason, leader: result.leader });
    this.kick();
    return new Promise((resolve) => {
      this.proposals.set(result.index, { term: result.term, deadline: Date.now() + timeoutMs, resolve });
    });
  }

  /** Resolves once the local state machine may serve a linearizable read. */
  readBarrier(timeoutMs: number): Promise<ReadOutcome> {
    const max = this.options.maxPendingReads ?? 4096;
    if (this.stopped) return Promise.resolve({ status: 'failed', reason: 'stopped', leader: '' });
    if (this.reads.size >= max) return Promise.resolve({ status: 'failed', reason: 'Overloaded', leader: this.core.lead });
    const context = `${this.options.id}/${++this.readSeq}`;
    if (!this.core.readIndex(context)) return Promise.resolve({ status: 'failed', reason: 'NoLeader', leader: this.core.lead });
    this.kick();
    return new Promise((resolve) => {
      this.reads.set(context, { deadline: Date.now() + timeoutMs, index: -1, resolve });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = null;
    for (const p of this.proposals.values()) p.resolve({ status: 'timeout' });
    this.proposals.clear();
    for (const r of this.reads.values()) r.resolve({ status: 'failed', reason: 'stopped', leader: '' });
    this.reads.clear();
    while (this.running) await new Promise((r) => setImmediate(r));
    await this.snapshotInFlight;
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    setImmediate(() => {
      this.drain()
        .catch((err: unknown) => this.fatal?.(err))
        .finally(() => {
          this.running = false;
          if (this.again) {
            this.again = false;
            this.kick();
          }
        });
    });
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.core.hasReady()) {
      this.again = false;
      await this.handleReady(this.core.ready());
      this.core.advance();
      await this.maybeSnapshot();
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    this.stats.readies++;
    // A leader may replicate its new entries before they are durable locally (Raft thesis
    // §10.2.1, as etcd does): the core counts the leader's own copy only after advance(), so
    // nothing commits on the strength of an unsynced local write. Anything that carries a new
    // term or vote still waits for the fsync.
    const stored = this.log.hardState;
    const sendFirst =
      this.core.state === 'Leader' &&
      rd.snapshot === null &&
      (rd.hardState === null || (rd.hardState.term === stored.term && rd.hardState.vote === stored.vote));
    if (sendFirst && rd.messages.length > 0) await this.send(rd.messages);
    if (rd.snapshot) await this.log.saveSnapshot(rd.snapshot);
    if (rd.entries.length > 0) this.log.append(rd.entries);
    if (rd.hardState) this.log.setHardState(rd.hardState);
    if (rd.mustSync) {
      const t0 = performance.now();
      this.syncInFlight = true;
      try {
        await this.log.sync();
      } finally {
        this.syncInFlight = false;
      }
      const ms = performance.now() - t0;
      this.stats.syncs++;
      this.stats.syncMsTotal += ms;
      this.stats.syncMsMax = Math.max(this.stats.syncMsMax, ms);
      this.stats.syncHistogram[RaftHost.syncBucketsMs.findIndex((b) => ms <= b)]!++;
    }
    if (!sendFirst && rd.messages.length > 0) await this.send(rd.messages);
    if (rd.snapshot) {
      this.sm.restore(rd.snapshot.data);
      this.applied = rd.snapshot.meta.index;
      // Proposals at or below the snapshot: their fate is unknown to this node.
      for (const [index, p] of this.proposals) {
        if (index <= this.applied) {
          p.resolve({ status: 'timeout' });
          this.proposals.delete(index);
        }
      }
    }
    for (const e of rd.committedEntries) this.applyEntry(e);
    for (const rs of rd.readStates) this.readReady(rs);
    this.serveReads();
  }

  private async send(messages: Message[]): Promise<void> {
    for (const m of messages) {
      if (m.type === 'Snap' && m.snapshot && m.snapshot.data.length === 0) {
        const snap = await this.snapshotFor(m.snapshot.meta.index);
        if (!snap) {
          this.core.reportSnapshot(m.to, false);
          continue;
        }
        m.snapshot = snap;
      }
    }
    this.transport!.send(messages.filter((m) => m.type !== 'Snap' || (m.snapshot?.data.length ?? 0) > 0));
  }

  private async snapshotFor(index: number): Promise<Snapshot | null> {
    if (this.cachedSnapshot?.meta.index === index) return this.cachedSnapshot;
    const snap = await this.log.loadSnapshot();
    if (!snap || snap.meta.index !== index) return null;
    this.cachedSnapshot = snap;
    return snap;
  }

  private applyEntry(e: Entry): void {
    if (e.index <= this.applied) return;
    if (e.index !== this.applied + 1) throw new Error(`apply gap: ${e.index} after ${this.applied}`);
    this.applied = e.index;
    this.stats.appliedEntries++;
    this.sinceSnapshotEntries++;
    this.sinceSnapshotBytes += e.data.length;
    // Conf changes take effect in the core when appended; an empty Normal entry is a leader's no-op.
    const result = e.type === EntryType.Normal && e.data.length > 0 ? this.sm.apply(e) : undefined;
    const pending = this.proposals.get(e.index);
    if (pending) {
      this.proposals.delete(e.index);
      // The slot went to another leader's entry: our proposal can never commit (log matching).
      if (pending.term === e.term) pending.resolve({ status: 'applied', result });
      else pending.resolve({ status: 'failed', reason: 'Superseded', leader: this.core.lead });
    }
  }

  private readReady(rs: ReadState): void {
    const r = this.reads.get(rs.context);
    if (r) r.index = rs.index;
  }

  private serveReads(): void {
    for (const [context, r] of this.reads) {
      if (r.index >= 0 && r.index <= this.applied) {
        this.reads.delete(context);
        r.resolve({ status: 'ready' });
      }
    }
  }

  /** Time out proposals and reads past their deadline (their outcome is unknown). */
  private expire(): void {
    const now = Date.now();
    for (const [index, p] of this.proposals) {
      if (p.deadline <= now) {
        this.proposals.delete(index);
        p.resolve({ status: 'timeout' });
      }
    }
    for (const [context, r] of this.reads) {
      if (r.deadline <= now) {
        this.reads.delete(context);
        r.resolve({ status: 'timeout' });
      }
    }
  }

  private async maybeSnapshot(): Promise<void> {
    if (this.snapshotInFlight) return;
    const everyEntries = this.options.snapshotEveryEntries ?? 10_000;
    const everyBytes = this.options.snapshotEveryBytes ?? 64 * 1024 * 1024;
    if (this.sinceSnapshotEntries < everyEntries && this.sinceSnapshotBytes < everyBytes) return;
    // A snapshot costs about the state's size (serialize, checksum, write, fsync); taking one
    // more often than every ~4 states' worth of log would spend much of the disk on snapshots.
    if (this.sinceSnapshotBytes < this.snapshotGrowthFactor * this.lastSnapshotBytes) return;
    const index = this.applied;
    const term = this.log.term(index);
    if (term === undefined || index <= (this.log.snapshotMeta?.index ?? 0)) return;
    const meta = { index, term, conf: this.core.confStateAt(index) };
    const serialize = this.sm.captureSnapshot();
    this.sinceSnapshotEntries = 0;
    this.sinceSnapshotBytes = 0;
    // Serialized, checksummed and written in the background: a large state takes a while, and
    // the Ready loop must keep sending heartbeats meanwhile or followers start elections.
    let snap: Snapshot;
    this.snapshotInFlight = serialize()
      .then((data) => {
        snap = { meta, data };
        return this.log.saveSnapshot(snap);
      })
      .then(() => {
        this.lastSnapshotBytes = snap.data.length;
        this.snapshotGrowthFactor = 4 + 2 * Math.random();
        this.cachedSnapshot = snap;
        this.stats.snapshots++;
      })
      .catch((err: unknown) => this.fatal?.(err))
      .finally(() => {
        this.snapshotInFlight = null;
      });
  }
}

function hashSeed(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h ^ Date.now()) >>> 0;
}
