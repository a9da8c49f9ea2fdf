/**
 * A step-by-step driver for unit tests of the Raft core: real cores over SimDisk storage, with
 * every message queued so a test decides what is delivered, dropped or held back.
 */
import { RaftCore, seededRandom, type Message, type Mutation, type RaftConfig } from '../core/index.js';
import { SimDisk } from './disk.js';
import type { Entry, NodeId } from '../types.js';

export interface TestNode {
  id: NodeId;
  core: RaftCore;
  disk: SimDisk;
  applied: Entry[];
  reads: { index: number; context: string }[];
}

export class TestCluster {
  readonly nodes = new Map<NodeId, TestNode>();
  queue: Message[] = [];
  /** Links that drop messages: `${from}>${to}`. */
  readonly cut = new Set<string>();

  constructor(
    ids: NodeId[],
    private readonly extra: Partial<RaftConfig> = {},
  ) {
    ids.forEach((id, k) => this.add(id, ids, k));
  }

  add(id: NodeId, peers: NodeId[], salt = 99, mutations: Mutation[] = []): TestNode {
    const disk = new SimDisk();
    const core = new RaftCore({
      id,
      storage: disk,
      random: seededRandom(1000 + salt),
      peers,
      electionTick: 10,
      heartbeatTick: 1,
      mutations: new Set(mutations),
      ...this.extra,
    });
    const node: TestNode = { id, core, disk, applied: [], reads: [] };
    this.nodes.set(id, node);
    this.flush(id);
    return node;
  }

  get(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  core(id: NodeId): RaftCore {
    return this.get(id).core;
  }

  /** Run the host loop of one node: persist, queue messages, apply, advance. */
  flush(id: NodeId): void {
    const n = this.get(id);
    while (n.core.hasReady()) {
      const rd = n.core.ready();
      if (rd.snapshot) n.disk.saveSnapshotNow(rd.snapshot);
      if (rd.entries.length > 0) n.disk.append(rd.entries);
      if (rd.hardState) n.disk.setHardState(rd.hardState);
      if (rd.mustSync) n.disk.syncNow();
      for (const m of rd.messages) {
        this.queue.push(m.type === 'Snap' ? { ...m, snapshot: n.disk.snapshot() } : m);
      }
      n.applied.push(...rd.committedEntries);
      n.reads.push(...rd.readStates);
      n.core.advance();
    }
  }

  flushAll(): void {
    for (const id of this.nodes.keys()) this.flush(id);
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** Deliver queued messages (and what they cause) until quiet; `filter` false drops a message. */
  deliver(filter: (m: Message) => boolean = () => true, maxRounds = 1000): number {
    let delivered = 0;
    for (let round = 0; this.queue.length > 0; round++) {
      if (round >= maxRounds) throw new Error('messages did not quiesce');
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) {
        if (this.cut.has(`${m.from}>${m.to}`) || !filter(m)) continue;
        const target = this.nodes.get(m.to);
        if (!target) continue;
        target.core.step(m);
        delivered++;
        this.flush(m.to);
      }
    }
    return delivered;
  }

  /** Deliver exactly one round: only messages queued now, none they cause. */
  deliverOneRound(filter: (m: Message) => boolean = () => true): Message[] {
    const batch = this.queue;
    this.queue = [];
    const done: Message[] = [];
    for (const m of batch) {
      if (this.cut.has(`${m.from}>${m.to}`) || !filter(m)) continue;
      const target = this.nodes.get(m.to);
      if (!target) continue;
      target.core.step(m);
      done.push(m);
      this.flush(m.to);
    }
    return done;
  }

  tick(id: NodeId, times = 1): void {
    for (let k = 0; k < times; k++) {
      this.core(id).tick();
      this.flush(id);
    }
  }

  /** Make `id` leader: campaign and deliver everything. */
  elect(id: NodeId): void {
    this.core(id).campaign();
    this.flush(id);
    this.deliver();
    if (this.core(id).state !== 'Leader') throw new Error(`${id} did not become leader (state ${this.core(id).state})`);
  }

  propose(id: NodeId, text: string): { index: number; term: number } {
    const res = this.core(id).propose(new TextEncoder().encode(text));
    if (!res.ok) throw new Error(`proposal refused: ${res.reason}`);
    this.flush(id);
    return res;
  }

  logTerms(id: NodeId): (number | undefined)[] {
    const c = this.core(id);
    const out: (number | undefined)[] = [];
    for (let i = c.firstIndex(); i <= c.lastIndex(); i++) out.push(c.logTerm(i));
    return out;
  }
}
