/**
 * Safety properties of Raft (Figure 3 of the paper) plus client-visible guarantees, checked
 * incrementally after every simulation step. Each check throws SimViolation naming the property.
 */
import type { Entry, NodeId } from '../types.js';
import type { RaftCore } from '../core/index.js';

export type Property =
  | 'election-safety'
  | 'leader-append-only'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'acked-applied-everywhere'
  | 'read-linearizability'
  | 'liveness'
  | 'core-invariant';

export class SimViolation extends Error {
  override name = 'SimViolation';
  constructor(
    readonly property: Property,
    detail: string,
  ) {
    super(`${property}: ${detail}`);
  }
}

export function fingerprint(e: Entry): string {
  return `${e.term}/${e.type}/${Buffer.from(e.data).toString('latin1')}`;
}

interface LeaderMark {
  term: number;
  lastIndex: number;
  lastTerm: number;
}

export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** term τ → highest index a leader committed whose entry has term τ. */
  private readonly commitPointByTerm = new Map<number, number>();
  private commitPointsChanged = false;
  private readonly leaderStartCommit = new Map<string, number>();
  private readonly leaderMark = new Map<NodeId, LeaderMark>();
  /** (index, term) → fingerprint and previous entry's term, from every persisted entry. */
  private readonly persisted = new Map<string, { fp: string; prevTerm: number | undefined }>();
  /** index → term of the committed entry there, as any node reported it. */
  private readonly committedTerm = new Map<number, number>();
  private maxCommitted = 0;
  private readonly checkedCommit = new Map<NodeId, number>();
  /** index → fingerprint of what was applied there. */
  private readonly appliedAt = new Map<number, string>();
  /** The sequence of client proposals in apply order; every node's sequence is a prefix of it. */
  readonly canonical: string[] = [];

  /** After any step of `id`: election safety, leader append-only, commit bookkeeping, leader completeness. */
  afterStep(id: NodeId, core: RaftCore): void {
    const term = core.term;
    if (core.state === 'Leader') {
      const other = this.leaderOfTerm.get(term);
      if (other !== undefined && other !== id) {
        throw new SimViolation('election-safety', `${other} and ${id} both leaders in term ${term}`);
      }
      const mark = this.leaderMark.get(id);
      const lastIndex = core.lastIndex();
      if (other === undefined) {
        this.leaderOfTerm.set(term, id);
        this.checkLeaderCompleteness(id, core);
      } else if (mark && mark.term === term) {
        if (lastIndex < mark.lastIndex || core.logTerm(mark.lastIndex) !== mark.lastTerm) {
          throw new SimViolation(
            'leader-append-only',
            `leader ${id} term ${term}: had (${mark.lastIndex}, t${mark.lastTerm}), now last ${lastIndex} with t${core.logTerm(mark.lastIndex)} there`,
          );
        }
      }
      this.leaderMark.set(id, { term, lastIndex, lastTerm: core.logTerm(lastIndex) ?? -1 });
    } else {
      this.leaderMark.delete(id);
    }
    this.recordCommit(id, core);
    this.checkCommitPoints(id, core);
  }

  /**
   * Leader completeness in the form the paper's proof uses: once a leader commits index c whose
   * entry has term τ, every later leader holds the log up to c, so no log anywhere may hold an
   * entry of a term above τ at an index ≤ c. Catches the Figure 8 danger state as soon as it
   * exists, before a competing leader actually overwrites anything.
   */
  private checkCommitPoints(id: NodeId, core: RaftCore): void {
    if (core.state === 'Leader') {
      const key = `${id}@${core.term}`;
      const start = this.leaderStartCommit.get(key);
      if (start === undefined) this.leaderStartCommit.set(key, core.commit);
      // Only commits this leader made itself count: an inherited commit index may point at an
      // old-term entry that an earlier leader committed indirectly.
      const c = core.commit;
      const tau = core.logTerm(c);
      if (start !== undefined && c > start && tau !== undefined && c > (this.commitPointByTerm.get(tau) ?? 0)) {
        this.commitPointByTerm.set(tau, c);
        this.commitPointsChanged = true;
      }
    }
    const last = core.lastIndex();
    const first = core.firstIndex();
    for (const [tau, c] of this.commitPointByTerm) {
      const at = Math.min(c, last);
      if (at < first) continue; // covered by this node's snapshot, which only holds committed entries
      const t = core.logTerm(at);
      if (t !== undefined && t > tau) {
        throw new SimViolation(
          'leader-completeness',
          `${id} holds term ${t} at index ${at}, but a leader committed up to ${c} with an entry of term ${tau} there`,
        );
      }
    }
  }

  /**
   * Leader completeness, checked on what could happen next rather than only on what did: a live
   * node whose log lacks a committed entry must not be able to win an election now, i.e. there
   * must be no majority of its own configuration made of live nodes whose logs are no more
   * up-to-date than its own (each of them would grant it a vote once leases expire). Sound for
   * correct Raft (the proof of Leader Completeness is exactly this), and it flags the danger
   * state left by a broken commit or membership rule without waiting for the losing schedule.
   */
  checkPotentialLeaders(
    cores: readonly { id: NodeId; core: RaftCore }[],
    crashed: readonly { id: NodeId; lastIndex: number; lastTerm: number }[],
  ): void {
    const maxC = this.maxCommitted;
    const committed = this.committedTerm.get(maxC);
    if (maxC === 0 || committed === undefined) return;
    const live = cores.map(({ id, core }) => {
      const lastIndex = core.lastIndex();
      return { id, core, lastIndex, lastTerm: core.logTerm(lastIndex) ?? 0 };
    });
    // Crashed nodes vote again after a restart, with whatever their disk kept.
    const tips: { id: NodeId; lastIndex: number; lastTerm: number }[] = [...live, ...crashed];
    for (const n of live) {
      if (maxC < n.core.firstIndex()) continue; // its snapshot covers the committed prefix
      if (n.lastIndex >= maxC && n.core.logTerm(maxC) === committed) continue;
      const voters = n.core.voters();
      if (!voters.includes(n.id)) continue;
      let grants = 0;
      for (const v of tips) {
        if (!voters.includes(v.id)) continue;
        if (v.lastTerm < n.lastTerm || (v.lastTerm === n.lastTerm && v.lastIndex <= n.lastIndex)) grants++;
      }
      if (grants >= Math.floor(voters.length / 2) + 1) {
        throw new SimViolation(
          'leader-completeness',
          `${n.id} lacks committed entry (${maxC}, t${committed}) yet a majority of its configuration {${voters.join(',')}} would elect it`,
        );
      }
    }
  }

  /**
   * Election safety on what could happen next: two live nodes with different configurations must
   * never be able to win the same future term with disjoint sets of voters. Each voter grants a
   * candidate whose log is at least as up-to-date as its own; the candidates vote for themselves.
   * Single-server changes guarantee overlap between a configuration and the next; a broken
   * change rule (two divergent changes) breaks it, which this catches before any election runs.
   */
  checkPotentialSplitBrain(
    cores: readonly { id: NodeId; core: RaftCore }[],
    crashed: readonly { id: NodeId; lastIndex: number; lastTerm: number }[],
  ): void {
    // Cheap exit first: when every would-be candidate has one configuration, majorities overlap.
    const candidates: { id: NodeId; voters: readonly NodeId[]; key: string; lastIndex: number; lastTerm: number }[] = [];
    let differ = false;
    for (const { id, core } of cores) {
      const voters = core.voters();
      if (!voters.includes(id)) continue;
      const key = this.votersKey(id, voters);
      if (candidates.length > 0 && key !== candidates[0]!.key) differ = true;
      const lastIndex = core.lastIndex();
      candidates.push({ id, voters, key, lastIndex, lastTerm: core.logTerm(lastIndex) ?? 0 });
    }
    if (!differ) return;
    const tips: { id: NodeId; lastIndex: number; lastTerm: number }[] = [];
    for (const { id, core } of cores) {
      const lastIndex = core.lastIndex();
      tips.push({ id, lastIndex, lastTerm: core.logTerm(lastIndex) ?? 0 });
    }
    for (const t of crashed) tips.push(t);
    const atMost = (v: { lastIndex: number; lastTerm: number }, n: { lastIndex: number; lastTerm: number }) =>
      v.lastTerm < n.lastTerm || (v.lastTerm === n.lastTerm && v.lastIndex <= n.lastIndex);
    for (let i = 0; i < candidates.length; i++) {
      for (let j = i + 1; j < candidates.length; j++) {
        const a = candidates[i]!;
        const b = candidates[j]!;
        if (a.key === b.key) continue;
        let onlyA = 0;
        let onlyB = 0;
        let shared = 0;
        for (const v of tips) {
          // Each candidate votes for itself, so neither supports the other.
          const forA = v.id !== b.id && a.voters.includes(v.id) && atMost(v, a);
          const forB = v.id !== a.id && b.voters.includes(v.id) && atMost(v, b);
          if (forA && forB) shared++;
          else if (forA) onlyA++;
          else if (forB) onlyB++;
        }
        const needA = Math.floor(a.voters.length / 2) + 1;
        const needB = Math.floor(b.voters.length / 2) + 1;
        if (Math.max(0, needA - onlyA) + Math.max(0, needB - onlyB) <= shared) {
          throw new SimViolation(
            'election-safety',
            `${a.id} (voters {${a.key}}) and ${b.id} (voters {${b.key}}) could both win the same term with disjoint majorities`,
          );
        }
      }
    }
  }

  private readonly keyCache = new Map<NodeId, { voters: readonly NodeId[]; key: string }>();

  private votersKey(id: NodeId, voters: readonly NodeId[]): string {
    const cached = this.keyCache.get(id);
    if (cached && cached.voters === voters) return cached.key;
    const key = voters.join(',');
    this.keyCache.set(id, { voters, key });
    return key;
  }

  /** Highest index any node has reported committed. */
  committedFrontier(): number {
    return this.maxCommitted;
  }

  /** After a step that moved a commit point, check every live node, not just the one that stepped. */
  takeCommitPointsChanged(): boolean {
    const changed = this.commitPointsChanged;
    this.commitPointsChanged = false;
    return changed;
  }

  checkNode(id: NodeId, core: RaftCore): void {
    this.checkCommitPoints(id, core);
  }

  private recordCommit(id: NodeId, core: RaftCore): void {
    const commit = core.commit;
    const from = Math.max(this.checkedCommit.get(id) ?? 0, core.firstIndex() - 1);
    for (let i = from + 1; i <= commit; i++) {
      const t = core.logTerm(i);
      if (t === undefined) continue;
      const known = this.committedTerm.get(i);
      if (known === undefined) this.committedTerm.set(i, t);
      else if (known !== t) {
        throw new SimViolation('state-machine-safety', `${id} committed term ${t} at index ${i}, another node committed term ${known}`);
      }
    }
    if (commit > this.maxCommitted) this.maxCommitted = commit;
    this.checkedCommit.set(id, commit);
  }

  /** A crashed node restarts with its durable commit index, possibly lower. */
  restarted(id: NodeId): void {
    this.checkedCommit.delete(id);
    this.leaderMark.delete(id);
  }

  private checkLeaderCompleteness(id: NodeId, core: RaftCore): void {
    const firstIndex = core.firstIndex();
    for (const [index, term] of this.committedTerm) {
      if (index < firstIndex) continue; // inside the leader's snapshot: committed by construction
      const mine = core.logTerm(index);
      if (mine !== term) {
        throw new SimViolation(
          'leader-completeness',
          `new leader ${id} (term ${core.term}) has term ${mine ?? 'none'} at ${index}, where term ${term} was committed`,
        );
      }
    }
  }

  /** Entries a node just persisted: log matching by induction on (index, term) → same entry and same predecessor. */
  onPersist(id: NodeId, entries: readonly Entry[], termAt: (index: number) => number | undefined): void {
    for (const e of entries) {
      const key = `${e.index}:${e.term}`;
      const fp = fingerprint(e);
      const prevTerm = termAt(e.index - 1);
      const seen = this.persisted.get(key);
      if (!seen) {
        this.persisted.set(key, { fp, prevTerm });
        continue;
      }
      if (seen.fp !== fp) {
        throw new SimViolation('log-matching', `${id} holds a different entry at (${e.index}, t${e.term}) than another node`);
      }
      if (seen.prevTerm !== undefined && prevTerm !== undefined && seen.prevTerm !== prevTerm) {
        throw new SimViolation(
          'log-matching',
          `${id}: entry (${e.index}, t${e.term}) follows term ${prevTerm}, elsewhere it follows term ${seen.prevTerm}`,
        );
      }
    }
  }

  onApply(id: NodeId, e: Entry): void {
    const fp = fingerprint(e);
    const known = this.appliedAt.get(e.index);
    if (known === undefined) this.appliedAt.set(e.index, fp);
    else if (known !== fp) {
      throw new SimViolation('state-machine-safety', `${id} applied a different entry at index ${e.index}`);
    }
  }

  /** A node's state machine now has `op` at position `position` of its proposal sequence. */
  onStateMachineOp(id: NodeId, position: number, op: string): void {
    const known = this.canonical[position];
    if (known === undefined) {
      if (position !== this.canonical.length) throw new Error(`sim: state machine position ${position} skips ahead`);
      this.canonical.push(op);
    } else if (known !== op) {
      throw new SimViolation('state-machine-safety', `${id} applied ${op} as operation #${position}, another node applied ${known}`);
    }
  }
}
