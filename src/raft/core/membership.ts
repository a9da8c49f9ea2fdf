/**
 * Cluster configuration as the Raft dissertation (§4.1) defines it for single-server changes:
 * a server uses the newest configuration in its log, committed or not. When a conflicting suffix
 * is truncated the configuration reverts to the newest one left, so we keep every configuration
 * entry still in the log, on top of the one the log's snapshot carries.
 */
import type { ConfState, Entry } from '../types.js';
import { EntryType } from '../types.js';
import { assert } from './assert.js';
import { decodeConfChange, type ConfChange } from './messages.js';

export function applyConfChange(conf: ConfState, cc: ConfChange): ConfState {
  const voters = conf.voters.filter((id) => id !== cc.node);
  const learners = conf.learners.filter((id) => id !== cc.node);
  if (cc.type === 'AddNode') voters.push(cc.node);
  else if (cc.type === 'AddLearner') learners.push(cc.node);
  voters.sort();
  learners.sort();
  return { voters, learners };
}

/** Why a change is not allowed against `conf`, or null when it is. */
export function confChangeProblem(conf: ConfState, cc: ConfChange): string | null {
  const isVoter = conf.voters.includes(cc.node);
  const isLearner = conf.learners.includes(cc.node);
  switch (cc.type) {
    case 'AddNode':
      return isVoter ? `${cc.node} is already a voter` : null;
    case 'AddLearner':
      return isVoter ? `${cc.node} is a voter; demotion is not supported` : isLearner ? `${cc.node} is already a learner` : null;
    case 'RemoveNode':
      if (!isVoter && !isLearner) return `${cc.node} is not a member`;
      if (isVoter && conf.voters.length === 1) return 'cannot remove the last voter';
      return null;
  }
}

export class Membership {
  private base: { index: number; conf: ConfState };
  private readonly changes: { index: number; conf: ConfState }[] = [];

  constructor(snapshotIndex: number, snapshotConf: ConfState) {
    this.base = { index: snapshotIndex, conf: cloneConf(snapshotConf) };
  }

  current(): ConfState {
    return (this.changes[this.changes.length - 1] ?? this.base).conf;
  }

  /** Index of the newest configuration entry in the log (the snapshot's index if none). */
  lastChangeIndex(): number {
    return (this.changes[this.changes.length - 1] ?? this.base).index;
  }

  /** The configuration in force after the entry at `index` (for snapshots taken at `index`). */
  at(index: number): ConfState {
    assert(index >= this.base.index, `configuration at ${index} predates the log start ${this.base.index}`);
    let conf = this.base.conf;
    for (const c of this.changes) {
      if (c.index > index) break;
      conf = c.conf;
    }
    return cloneConf(conf);
  }

  /** Entries were appended (after truncating from `truncatedAt` when non-zero). */
  appended(entries: readonly Entry[], truncatedAt: number): void {
    if (truncatedAt > 0) this.truncateFrom(truncatedAt);
    for (const e of entries) {
      if (e.type !== EntryType.ConfChange) continue;
      const cc = decodeConfChange(e.data);
      const last = this.changes[this.changes.length - 1];
      assert(!last || last.index < e.index, `configuration entries out of order at ${e.index}`);
      this.changes.push({ index: e.index, conf: applyConfChange(this.current(), cc) });
    }
  }

  private truncateFrom(index: number): void {
    assert(index > this.base.index, `truncation at ${index} into the snapshot ${this.base.index}`);
    while (this.changes.length > 0 && this.changes[this.changes.length - 1]!.index >= index) this.changes.pop();
  }

  /** The log now starts from a snapshot. */
  reset(snapshotIndex: number, conf: ConfState): void {
    this.base = { index: snapshotIndex, conf: cloneConf(conf) };
    this.changes.length = 0;
  }

  /** Forget configurations the log no longer holds (compacted below `firstIndex`). */
  compactBelow(firstIndex: number): void {
    while (this.changes.length > 0 && this.changes[0]!.index < firstIndex) {
      this.base = this.changes.shift()!;
    }
  }
}

export function cloneConf(c: ConfState): ConfState {
  return { voters: [...c.voters], learners: [...c.learners] };
}
