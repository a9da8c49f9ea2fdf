/**
 * Deterministic simulation of a Raft cluster in one process. One seed drives everything: the
 * network (loss, delay, reordering, duplication, symmetric and one-way partitions), the clock,
 * the disks (unsynced writes lost on crash), and a workload of proposals, reads, membership
 * changes, leadership transfers, snapshots, crashes and restarts. Safety is checked after every
 * step; once the fault phase ends the cluster must elect a leader and commit within a bound.
 */
import type { NodeId, Snapshot } from '../types.js';
import { RaftCore, RaftInvariantError, seededRandom, type Message, type Mutation, type Random, type Ready } from '../core/index.js';
import { SafetyChecker, SimViolation, type Property } from './checker.js';
import { SimDisk } from './disk.js';
import { MinHeap, byTimeThenSeq } from '../../util/heap.js';
import { encodeOp, SimStateMachine } from './state-machine.js';

/**
 * swarm: each seed weighs fault kinds at random. membership: frequent membership changes and
 * leader-targeted faults. Chosen from the seed when absent (one seed in five is membership).
 */
export type SimProfile = 'swarm' | 'membership';

export interface SimOptions {
  profile?: SimProfile;
  seed: number;
  /** Cluster size at start; chosen from the seed when absent. */
  nodes?: 3 | 4 | 5 | 6 | 7;
  /** Simulated milliseconds of faults and workload before the liveness phase. */
  faultMs?: number;
  /** Simulated milliseconds the healed cluster has to elect a leader and commit. */
  livenessMs?: number;
  mutations?: readonly Mutation[];
  /** Receives one line per step when set. */
  trace?: (line: string) => void;
}

export interface SimStats {
  proposals: number;
  acked: number;
  reads: number;
  readsServed: number;
  elections: number;
  crashes: number;
  confChanges: number;
  snapshots: number;
  transfers: number;
  messages: number;
}

export interface SimResult {
  seed: number;
  nodes: number;
  ok: boolean;
  steps: number;
  simTimeMs: number;
  violation?: { property: Property; message: string };
  stats: SimStats;
}

const TICK_MS = 10;
const ELECTION_TICK = 10;
const HEARTBEAT_TICK = 2;
const MAX_PENDING_PROPOSALS = 64;
const MAX_MEMBERS = 9;

interface SimNode {
  id: NodeId;
  initial: boolean;
  disk: SimDisk;
  core: RaftCore | null;
  sm: SimStateMachine;
  incarnation: number;
  reads: { ctx: string; index: number }[];
  wasLeaderInTerm: number;
  placementRetries: number;
  /** A Ready whose fsync is still running: the core keeps stepping, nothing of it is sent yet. */
  pendingReady: Ready | null;
}

type SimEvent =
  | { time: number; seq: number; kind: 'tick'; node: NodeId; incarnation: number }
  | { time: number; seq: number; kind: 'deliver'; msg: Message }
  | { time: number; seq: number; kind: 'action' }
  | { time: number; seq: number; kind: 'synced'; node: NodeId; incarnation: number };

interface Proposal {
  node: NodeId;
  incarnation: number;
  index: number;
  term: number;
  acked: boolean;
  abandoned: boolean;
}

interface PendingRead {
  node: NodeId;
  ackedBefore: number;
}

export class Simulation {
  private readonly rng: Random;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly events = new MinHeap<SimEvent>(byTimeThenSeq('time'));
  private seqCounter = 0;
  private now = 0;
  private steps = 0;
  private readonly checker = new SafetyChecker();
  private readonly proposals = new Map<string, Proposal>();
  private pendingProposals = 0;
  private readonly ackedOrder: string[] = [];
  private readonly reads = new Map<string, PendingRead>();
  private nextOpId = 1;
  private nextReadId = 1;
  private nextNodeNumber: number;
  private readonly blocked = new Set<string>();
  private lossRate: number;
  private dupRate: number;
  private maxDelayMs: number;
  private readonly maxSizePerMsg: number;
  private readonly maxInflightMsgs: number;
  /** fsync latency bound; 0 means the host finishes each Ready at once. */
  private readonly diskLatencyMs: number;
  private faultsActive = true;
  private readonly profile: SimProfile;
  private readonly actionWeights: { action: () => void; weight: number }[];
  /** Probability that a new leader is asked for a membership change at once. */
  private readonly eagerConfChange: number;
  /** Probability that a new leader is isolated or crashed right after its election. */
  private readonly newLeaderNemesis: number;
  private finalOp: string | null = null;
  private finalProposedAt = -Infinity;
  readonly clusterSize: 3 | 4 | 5 | 6 | 7;
  readonly stats: SimStats = {
    proposals: 0,
    acked: 0,
    reads: 0,
    readsServed: 0,
    elections: 0,
    crashes: 0,
    confChanges: 0,
    snapshots: 0,
    transfers: 0,
    messages: 0,
  };

  constructor(private readonly opts: SimOptions) {
    this.rng = seededRandom(opts.seed);
    this.clusterSize = opts.nodes ?? ([3, 4, 5, 7] as const)[this.int(0, 4)]!;
    this.lossRate = this.pick([0, 0.01, 0.05, 0.15]);
    this.dupRate = this.pick([0, 0.02, 0.1]);
    this.maxDelayMs = this.pick([3, 10, 30]);
    this.maxSizePerMsg = this.pick([1, 256, 64 << 10]); // 1 byte: one entry per append
    this.maxInflightMsgs = this.pick([1, 4, 64]);
    this.diskLatencyMs = this.pick([0, 0, 2, 8]);
    this.profile = opts.profile ?? (this.chance(0.2) ? 'membership' : 'swarm');
    this.actionWeights = this.chooseActionWeights();
    if (this.profile === 'membership') {
      // Membership churn under leader-targeted faults: where single-server change bugs live.
      this.eagerConfChange = 1;
      this.newLeaderNemesis = this.pick([0.2, 0.4]);
    } else {
      this.eagerConfChange = this.pick([0, 0.3, 0.7]);
      this.newLeaderNemesis = this.pick([0, 0, 0.2, 0.5]);
    }
    const peers = Array.from({ length: this.clusterSize }, (_, k) => `n${k + 1}`);
    this.nextNodeNumber = this.clusterSize + 1;
    for (const id of peers) this.addNode(id, true, peers);
    this.schedule({ kind: 'action' }, this.int(1, 20));
  }

  // ------------------------------------------------------------------ helpers

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng() * (hi - lo));
  }

  private chance(p: number): boolean {
    return this.rng() < p;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length)]!;
  }

  private schedule(
    ev:
      | { kind: 'action' }
      | { kind: 'tick' | 'synced'; node: NodeId; incarnation: number }
      | { kind: 'deliver'; msg: Message },
    delay: number,
  ): void {
    const time = this.now + delay;
    const seq = this.seqCounter++;
    let event: SimEvent;
    if (ev.kind === 'tick') event = { kind: 'tick', node: ev.node, incarnation: ev.incarnation, time, seq };
    else if (ev.kind === 'synced') event = { kind: 'synced', node: ev.node, incarnation: ev.incarnation, time, seq };
    else if (ev.kind === 'deliver') event = { kind: 'deliver', msg: ev.msg, time, seq };
    else event = { kind: 'action', time, seq };
    this.events.push(event);
  }

  private trace(line: string): void {
    this.opts.trace?.(`t=${this.now} ${line}`);
  }

  private newCore(node: SimNode, peers: NodeId[]): RaftCore {
    const nodeNumber = Number(node.id.slice(1));
    return new RaftCore({
      id: node.id,
      storage: node.disk,
      random: seededRandom((this.opts.seed * 7919 + nodeNumber * 104729 + node.incarnation * 15485863) >>> 0),
      peers,
      electionTick: ELECTION_TICK,
      heartbeatTick: HEARTBEAT_TICK,
      maxSizePerMsg: this.maxSizePerMsg,
      maxInflightMsgs: this.maxInflightMsgs,
      maxInflightBytes: 1 << 20,
      mutations: new Set(this.opts.mutations ?? []),
    });
  }

  private addNode(id: NodeId, initial: boolean, peers: NodeId[]): SimNode {
    const node: SimNode = {
      id,
      initial,
      disk: new SimDisk(),
      core: null,
      sm: new SimStateMachine(),
      incarnation: 0,
      reads: [],
      wasLeaderInTerm: -1,
      placementRetries: 0,
      pendingReady: null,
    };
    node.core = this.newCore(node, initial ? peers : []);
    this.nodes.set(id, node);
    this.schedule({ kind: 'tick', node: id, incarnation: 0 }, this.int(1, TICK_MS + 1));
    this.drain(node);
    return node;
  }

  private lastShape: unknown[] = [];

  private clusterShapeChanged(): boolean {
    const shape: unknown[] = [this.checker.committedFrontier()];
    for (const n of this.nodes.values()) {
      if (n.core) {
        const last = n.core.lastIndex();
        shape.push(n.core.voters(), last, n.core.logTerm(last));
      } else {
        shape.push(null, n.incarnation);
      }
    }
    const prev = this.lastShape;
    this.lastShape = shape;
    if (prev.length !== shape.length) return true;
    for (let k = 0; k < shape.length; k++) if (prev[k] !== shape[k]) return true;
    return false;
  }

  private liveCores(): { id: NodeId; core: RaftCore }[] {
    const out: { id: NodeId; core: RaftCore }[] = [];
    for (const n of this.nodes.values()) if (n.core) out.push({ id: n.id, core: n.core });
    return out;
  }

  private crashedTips(): { id: NodeId; lastIndex: number; lastTerm: number }[] {
    const out: { id: NodeId; lastIndex: number; lastTerm: number }[] = [];
    for (const n of this.nodes.values()) if (!n.core) out.push({ id: n.id, ...n.disk.durableTip() });
    return out;
  }

  private alive(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.core !== null);
  }

  private leaders(): SimNode[] {
    return this.alive().filter((n) => n.core!.state === 'Leader');
  }

  /** The leader with the highest term, the one clients would find. */
  private leader(): SimNode | null {
    let best: SimNode | null = null;
    for (const n of this.leaders()) if (!best || n.core!.term > best.core!.term) best = n;
    return best;
  }

  // ------------------------------------------------------------------ host loop

  /** Process every Ready of `node`: persist, send, apply, answer reads, advance. */
  private drain(node: SimNode): void {
    const core = node.core!;
    for (let guard = 0; !node.pendingReady && core.hasReady(); guard++) {
      if (guard > 10_000) throw new Error(`sim: ${node.id} produced Readys without end`);
      const rd = core.ready();
      this.persist(node, rd);
      if (this.diskLatencyMs > 0 && rd.mustSync) {
        // A slow fsync: messages, applies and advance() wait for it while steps keep arriving.
        node.pendingReady = rd;
        this.schedule({ kind: 'synced', node: node.id, incarnation: node.incarnation }, this.int(1, this.diskLatencyMs + 1));
        break;
      }
      this.complete(node, core, rd);
    }
    this.serveReads(node);
    this.checker.afterStep(node.id, core);
    // The cluster-wide checks depend only on every node's log tip, configuration and the commit
    // frontier; most steps (ticks, heartbeats) change none of these.
    if (this.clusterShapeChanged()) {
      const live = this.liveCores();
      const crashed = this.crashedTips();
      this.checker.checkPotentialLeaders(live, crashed);
      this.checker.checkPotentialSplitBrain(live, crashed);
    }
    if (this.checker.takeCommitPointsChanged()) {
      for (const other of this.nodes.values()) if (other.core && other !== node) this.checker.checkNode(other.id, other.core);
    }
    if (core.state === 'Leader' && node.wasLeaderInTerm !== core.term) {
      node.wasLeaderInTerm = core.term;
      this.stats.elections++;
      this.trace(`${node.id} became leader of term ${core.term}`);
      // Like a placement loop reacting to leadership, a new leader is often asked for a
      // membership change at once (the core must refuse it until it commits in its term).
      if (this.faultsActive && this.chance(this.eagerConfChange) && !this.changeMembership(node)) {
        node.placementRetries = 5; // a placement loop retries on the next ticks
      }
      // A nemesis that goes after fresh leaders leaves uncommitted tails of many terms behind.
      if (this.faultsActive && this.chance(this.newLeaderNemesis)) {
        if (this.chance(0.8)) this.isolateLeader(node);
        else if (this.nodes.size - this.alive().length < Math.ceil(this.clusterSize / 2)) {
          this.crashNode(node);
          return;
        }
      }
    }
  }

  /** Write a Ready to the disk (not yet synced). */
  private persist(node: SimNode, rd: Ready): void {
    const disk = node.disk;
    if (rd.snapshot) disk.saveSnapshotNow(rd.snapshot);
    if (rd.entries.length > 0) {
      disk.append(rd.entries);
      this.checker.onPersist(node.id, rd.entries, (i) => disk.term(i));
    }
    if (rd.hardState) disk.setHardState(rd.hardState);
  }

  /** fsync done: send, apply, answer reads, advance. */
  private complete(node: SimNode, core: RaftCore, rd: Ready): void {
    if (rd.mustSync) node.disk.syncNow();
    for (const m of rd.messages) this.send(node, m);
    if (rd.snapshot) {
      node.sm.restore(rd.snapshot);
      node.sm.ops.forEach((op, k) => this.checker.onStateMachineOp(node.id, k, op));
      this.trace(`${node.id} installed snapshot @${rd.snapshot.meta.index}`);
    }
    for (const e of rd.committedEntries) {
      this.checker.onApply(node.id, e);
      const op = node.sm.apply(e);
      if (op === null) continue;
      this.checker.onStateMachineOp(node.id, node.sm.ops.length - 1, op);
      const p = this.proposals.get(op);
      if (p && !p.acked && !p.abandoned && p.node === node.id && p.incarnation === node.incarnation && p.index === e.index && p.term === e.term) {
        p.acked = true;
        this.pendingProposals--;
        this.ackedOrder.push(op);
        this.stats.acked++;
        this.trace(`ack ${op} @${e.index} by ${node.id}`);
      }
    }
    for (const rs of rd.readStates) node.reads.push({ ctx: rs.context, index: rs.index });
    core.advance();
  }

  private serveReads(node: SimNode): void {
    if (node.reads.length === 0) return;
    const keep: { ctx: string; index: number }[] = [];
    for (const r of node.reads) {
      if (r.index > node.sm.appliedIndex) {
        keep.push(r);
        continue;
      }
      const read = this.reads.get(r.ctx);
      if (!read) continue;
      this.reads.delete(r.ctx);
      this.stats.readsServed++;
      for (let k = 0; k < read.ackedBefore; k++) {
        const op = this.ackedOrder[k]!;
        if (!node.sm.opSet.has(op)) {
          throw new SimViolation(
            'read-linearizability',
            `read ${r.ctx} at ${node.id} (index ${r.index}, applied ${node.sm.appliedIndex}) misses ${op}, acknowledged before the read began`,
          );
        }
      }
      this.trace(`read ${r.ctx} served by ${node.id} @${r.index}`);
    }
    node.reads = keep;
  }

  private send(from: SimNode, m: Message): void {
    this.stats.messages++;
    let msg = m;
    if (m.type === 'Snap') {
      const snap: Snapshot | null = from.disk.snapshot();
      if (!snap) throw new Error(`sim: ${from.id} sends a snapshot but has none stored`);
      msg = { ...m, snapshot: snap };
    }
    if (this.faultsActive && this.chance(this.lossRate)) {
      if (msg.type === 'Snap') from.core?.reportSnapshot(msg.to, false);
      return;
    }
    this.schedule({ kind: 'deliver', msg }, this.int(1, this.maxDelayMs + 1));
    if (this.faultsActive && this.chance(this.dupRate)) this.schedule({ kind: 'deliver', msg }, this.int(1, 3 * this.maxDelayMs + 1));
  }

  // ------------------------------------------------------------------ events

  private handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'tick': {
        const node = this.nodes.get(ev.node)!;
        if (!node.core || node.incarnation !== ev.incarnation) return;
        node.core.tick();
        this.drain(node);
        if (node.placementRetries > 0 && node.core?.state === 'Leader' && this.faultsActive) {
          node.placementRetries--;
          if (this.changeMembership(node)) node.placementRetries = 0;
        }
        this.schedule({ kind: 'tick', node: node.id, incarnation: ev.incarnation }, TICK_MS);
        return;
      }
      case 'deliver': {
        const m = ev.msg;
        const node = this.nodes.get(m.to);
        if (!node || !node.core) return;
        if (this.blocked.has(`${m.from}>${m.to}`)) return;
        this.opts.trace?.(`t=${this.now} ${describe(m)}`);
        node.core.step(m);
        this.drain(node);
        return;
      }
      case 'synced': {
        const node = this.nodes.get(ev.node)!;
        if (!node.core || node.incarnation !== ev.incarnation || !node.pendingReady) return;
        const rd = node.pendingReady;
        node.pendingReady = null;
        this.complete(node, node.core, rd);
        this.drain(node);
        return;
      }
      case 'action':
        if (this.faultsActive) {
          this.randomAction();
          this.schedule({ kind: 'action' }, this.int(1, 25));
        } else {
          this.livenessAction();
          this.schedule({ kind: 'action' }, 20);
        }
        return;
    }
  }

  /**
   * Swarm testing: each seed weighs the fault kinds differently (some off, some frequent), which
   * reaches more corner cases than one fixed mix.
   */
  private chooseActionWeights(): { action: () => void; weight: number }[] {
    const base: [() => void, number][] = [
      [() => this.propose(), 40],
      [() => this.read(), 15],
      [() => this.crash(), 2],
      [() => this.crashLeader(), 2],
      [() => this.restart(), 6],
      [() => this.partition(), 2],
      [() => this.isolateLeader(), 2],
      [() => this.cutOneWay(), 3],
      [() => this.heal(), 5],
      [() => this.transfer(), 3],
      [() => this.snapshot(), 5],
      [() => this.changeMembership(), 8],
      [() => this.jitterNetwork(), 7],
    ];
    if (this.profile === 'membership') {
      const boost = new Map<number, number>([
        [6, 4], // isolate the leader
        [11, 5], // membership changes
        [8, 2], // heal
      ]);
      return base.map(([action, weight], k) => ({ action, weight: weight * (boost.get(k) ?? 1) }));
    }
    return base.map(([action, weight], k) => ({ action, weight: k === 0 ? weight : weight * this.pick([0, 0.5, 1, 1, 3]) }));
  }

  private randomAction(): void {
    let total = 0;
    for (const w of this.actionWeights) total += w.weight;
    let r = this.rng() * total;
    for (const w of this.actionWeights) {
      r -= w.weight;
      if (r < 0) {
        w.action();
        return;
      }
    }
  }

  /**
   * The node a client or operator reaches: usually the newest leader, but during faults often
   * any node that still believes it leads (clients cannot tell a deposed leader apart).
   */
  private someLeader(): SimNode | null {
    const all = this.leaders();
    if (all.length > 1 && this.faultsActive && this.chance(0.5)) return this.pick(all);
    return this.leader();
  }

  private propose(op?: string): boolean {
    if (!op && this.pendingProposals >= MAX_PENDING_PROPOSALS) return false;
    const leader = op ? this.leader() : this.someLeader();
    if (!leader) return false;
    const id = op ?? `p${this.nextOpId++}`;
    const res = leader.core!.propose(encodeOp(id));
    if (!res.ok) return false;
    this.stats.proposals++;
    if (!op || !this.proposals.has(id)) this.pendingProposals++;
    this.proposals.set(id, { node: leader.id, incarnation: leader.incarnation, index: res.index, term: res.term, acked: false, abandoned: false });
    this.trace(`propose ${id} at ${leader.id} → (${res.index}, t${res.term})`);
    this.drain(leader);
    return true;
  }

  private read(): void {
    const candidates = this.alive();
    if (candidates.length === 0) return;
    const node = this.pick(candidates);
    const ctx = `r${this.nextReadId++}`;
    if (!node.core!.readIndex(ctx)) return;
    this.stats.reads++;
    this.reads.set(ctx, { node: node.id, ackedBefore: this.ackedOrder.length });
    this.trace(`read ${ctx} at ${node.id}`);
    this.drain(node);
  }

  private crash(): void {
    const alive = this.alive();
    const crashed = this.nodes.size - alive.length;
    if (alive.length === 0 || crashed >= Math.ceil(this.clusterSize / 2)) return;
    const node = this.pick(alive);
    this.crashNode(node);
  }

  private crashLeader(): void {
    const leader = this.leader();
    if (leader && this.nodes.size - this.alive().length < Math.ceil(this.clusterSize / 2)) this.crashNode(leader);
  }

  /** Cut the leader off from everyone (its proposals pile up uncommitted; a new leader rises elsewhere). */
  private isolateLeader(at?: SimNode): void {
    const leader = at ?? this.leader();
    if (!leader) return;
    this.blocked.clear();
    for (const id of this.nodes.keys()) {
      if (id === leader.id) continue;
      this.blocked.add(`${leader.id}>${id}`);
      this.blocked.add(`${id}>${leader.id}`);
    }
    this.trace(`isolate leader ${leader.id}`);
  }

  private crashNode(node: SimNode): void {
    node.disk.crash();
    node.core = null;
    node.reads = [];
    node.pendingReady = null;
    node.incarnation++;
    this.stats.crashes++;
    // The client waiting on this node never learns the outcome: the proposal is indeterminate.
    for (const p of this.proposals.values()) {
      if (p.node === node.id && !p.acked && !p.abandoned) {
        p.abandoned = true;
        this.pendingProposals--;
      }
    }
    this.trace(`crash ${node.id}`);
  }

  private restart(): void {
    const down = [...this.nodes.values()].filter((n) => n.core === null);
    if (down.length === 0) return;
    this.restartNode(this.pick(down));
  }

  private restartNode(node: SimNode): void {
    node.sm = SimStateMachine.fromSnapshot(node.disk.snapshot());
    node.wasLeaderInTerm = -1;
    node.placementRetries = 0;
    this.checker.restarted(node.id);
    node.core = this.newCore(node, node.initial ? [...this.initialPeers()] : []);
    this.trace(`restart ${node.id} (term ${node.core.term}, last ${node.core.lastIndex()})`);
    this.schedule({ kind: 'tick', node: node.id, incarnation: node.incarnation }, this.int(1, TICK_MS + 1));
    this.drain(node);
  }

  private initialPeers(): NodeId[] {
    return Array.from({ length: this.clusterSize }, (_, k) => `n${k + 1}`);
  }

  private partition(): void {
    const ids = [...this.nodes.keys()];
    const minority = new Set<NodeId>();
    const size = this.int(1, Math.max(2, Math.floor(ids.length / 2) + 1));
    while (minority.size < size) minority.add(this.pick(ids));
    this.blocked.clear();
    for (const a of ids) for (const b of ids) if (minority.has(a) !== minority.has(b)) this.blocked.add(`${a}>${b}`);
    this.trace(`partition {${[...minority].join(',')}} | rest`);
  }

  private cutOneWay(): void {
    const ids = [...this.nodes.keys()];
    const a = this.pick(ids);
    const b = this.pick(ids);
    if (a === b) return;
    this.blocked.add(`${a}>${b}`);
    this.trace(`cut ${a}→${b}`);
  }

  private heal(): void {
    this.blocked.clear();
    this.trace('heal');
  }

  private jitterNetwork(): void {
    this.lossRate = this.pick([0, 0.01, 0.05, 0.15]);
    this.dupRate = this.pick([0, 0.02, 0.1]);
    this.maxDelayMs = this.pick([3, 10, 30]);
  }

  private transfer(): void {
    const leader = this.someLeader();
    if (!leader) return;
    const voters = leader.core!.confState().voters.filter((v) => v !== leader.id);
    if (voters.length === 0) return;
    const target = this.pick(voters);
    if (leader.core!.transferLeader(target)) {
      this.stats.transfers++;
      this.trace(`transfer ${leader.id} → ${target}`);
      this.drain(leader);
    }
  }

  private snapshot(): void {
    const alive = this.alive();
    if (alive.length === 0) return;
    const node = this.pick(alive);
    const core = node.core!;
    const applied = node.sm.appliedIndex;
    const current = node.disk.snapshotMeta?.index ?? 0;
    if (applied <= current) return;
    const term = core.logTerm(applied);
    if (term === undefined) throw new Error(`sim: ${node.id} has no term for applied index ${applied}`);
    node.disk.saveSnapshotNow({ meta: { index: applied, term, conf: core.confStateAt(applied) }, data: node.sm.encode() });
    node.disk.compact(applied);
    this.stats.snapshots++;
    this.trace(`snapshot ${node.id} @${applied}`);
  }

  /** Returns false when the leader refused the change (e.g. it has not committed in its term yet). */
  private changeMembership(at?: SimNode): boolean {
    const leader = at ?? this.someLeader();
    if (!leader) return true;
    const core = leader.core!;
    const status = core.status();
    const { voters, learners } = status.conf;
    const caughtUp = learners.filter((l) => (status.progress.get(l)?.match ?? 0) >= status.commit);
    let change: { type: 'AddNode' | 'AddLearner' | 'RemoveNode'; node: NodeId } | null = null;
    if (caughtUp.length > 0 && this.chance(0.7)) change = { type: 'AddNode', node: this.pick(caughtUp) };
    else if (voters.length + learners.length < MAX_MEMBERS && this.nodes.size < 16 && this.chance(0.5)) {
      change = { type: 'AddLearner', node: `n${this.nextNodeNumber}` };
    } else if (voters.length > 3 && this.chance(0.6)) {
      const others = voters.filter((v) => v !== leader.id);
      change = { type: 'RemoveNode', node: this.pick(others) };
    } else if (learners.length > 0) change = { type: 'RemoveNode', node: this.pick(learners) };
    if (!change) return true;
    const res = core.proposeConfChange(change);
    this.trace(`conf ${change.type} ${change.node} at ${leader.id}: ${res.ok ? `(${res.index}, t${res.term})` : res.detail ?? res.reason}`);
    if (!res.ok) return false;
    this.stats.confChanges++;
    if (change.type === 'AddLearner') {
      this.nextNodeNumber++;
      this.addNode(change.node, false, []);
    }
    this.drain(leader);
    return true;
  }

  // ------------------------------------------------------------------ liveness

  private stopFaults(): void {
    this.faultsActive = false;
    this.blocked.clear();
    for (const n of this.nodes.values()) if (n.core === null) this.restartNode(n);
    this.trace('faults stop: healed, all nodes restarted');
  }

  private livenessAction(): void {
    if (this.finalOp === null) this.finalOp = `final-${this.opts.seed}`;
    const p = this.proposals.get(this.finalOp);
    if (p?.acked) return;
    // Retry when the last attempt was lost (e.g. leader changed) after a reasonable wait.
    if (this.now - this.finalProposedAt < 20 * TICK_MS && p) {
      const proposer = this.nodes.get(p.node);
      if (proposer?.core?.state === 'Leader' && proposer.core.term === p.term) return;
    }
    if (this.propose(this.finalOp)) this.finalProposedAt = this.now;
  }

  private livenessReached(): boolean {
    if (this.finalOp === null || !this.proposals.get(this.finalOp)?.acked) return false;
    const leader = this.leader();
    if (!leader) return false;
    const conf = leader.core!.confState();
    for (const id of [...conf.voters, ...conf.learners]) {
      const node = this.nodes.get(id);
      if (!node || !node.core || !node.sm.opSet.has(this.finalOp)) return false;
    }
    return true;
  }

  private checkAckedEverywhere(): void {
    const leader = this.leader()!;
    const conf = leader.core!.confState();
    for (const id of [...conf.voters, ...conf.learners]) {
      const node = this.nodes.get(id)!;
      for (const op of this.ackedOrder) {
        if (!node.sm.opSet.has(op)) throw new SimViolation('acked-applied-everywhere', `${id} never applied acknowledged ${op}`);
      }
    }
  }

  // ------------------------------------------------------------------ run

  run(): SimResult {
    const faultMs = this.opts.faultMs ?? 2000;
    const livenessMs = this.opts.livenessMs ?? 6000;
    let violation: SimResult['violation'];
    try {
      this.runUntil(faultMs);
      this.stopFaults();
      const deadline = faultMs + livenessMs;
      while (!this.livenessReached()) {
        if (this.now >= deadline) {
          const leader = this.leader();
          throw new SimViolation(
            'liveness',
            leader
              ? `leader ${leader.id} (term ${leader.core!.term}) did not commit and spread a new proposal within ${livenessMs} ms`
              : `no leader within ${livenessMs} ms after faults stopped`,
          );
        }
        this.runUntil(Math.min(deadline, this.now + 50));
      }
      this.checkAckedEverywhere();
    } catch (err) {
      if (err instanceof SimViolation) violation = { property: err.property, message: err.message };
      else if (err instanceof RaftInvariantError) violation = { property: 'core-invariant', message: err.message };
      else throw err;
      this.trace(`VIOLATION ${violation.message}`);
    }
    return {
      seed: this.opts.seed,
      nodes: this.clusterSize,
      ok: violation === undefined,
      steps: this.steps,
      simTimeMs: this.now,
      violation,
      stats: this.stats,
    };
  }

  private runUntil(time: number): void {
    for (;;) {
      const next = this.events.peek()?.time;
      if (next === undefined || next > time) break;
      const ev = this.events.pop()!;
      this.now = ev.time;
      this.steps++;
      this.handle(ev);
    }
    if (this.now < time) this.now = time;
  }
}

export function describe(m: Message): string {
  const base = `${m.type} ${m.from}→${m.to} t${m.term}`;
  switch (m.type) {
    case 'App':
      return `${base} prev=(${m.index},t${m.logTerm}) n=${m.entries.length} commit=${m.commit}`;
    case 'AppResp':
      return `${base} ${m.reject ? `reject ${m.index} hint=(${m.rejectHint},t${m.logTerm})` : `ok ${m.index}`}`;
    case 'Vote':
    case 'PreVote':
      return `${base} last=(${m.index},t${m.logTerm})${m.context ? ' ' + m.context : ''}`;
    case 'VoteResp':
    case 'PreVoteResp':
      return `${base} ${m.reject ? 'reject' : 'grant'}`;
    case 'Heartbeat':
      return `${base} commit=${m.commit} read=${m.readSeq}`;
    case 'HeartbeatResp':
      return `${base} read=${m.readSeq}`;
    case 'Snap':
      return `${base} snap=(${m.snapshot?.meta.index},t${m.snapshot?.meta.term})`;
    case 'ReadIndex':
    case 'ReadIndexResp':
      return `${base} ${m.context} @${m.index}`;
    default:
      return base;
  }
}

export function runSeed(opts: SimOptions): SimResult {
  return new Simulation(opts).run();
}
