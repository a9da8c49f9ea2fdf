/** Configuration and status types of the Raft core. */
import type { ConfState, NodeId } from '../types.js';
import type { LogReader } from './log.js';
import type { Random } from './prng.js';
import type { ProgressState } from './progress.js';

/**
 * Bugs that can be planted for the simulator to find. Never set in production: the default
 * config has none, and hosts outside test/ must not pass any.
 */
export type Mutation =
  | 'commitOldTerm' // (a) commit an entry of an older term by counting replicas (Figure 8)
  | 'doubleVote' // (b) grant a second vote in the same term
  | 'replyBeforePersist' // (c) claim vote/entries need no fsync before the reply is sent
  | 'applyBeforeCommit' // (d) hand out entries for apply beyond the commit index
  | 'skipPrevCheck' // (e) accept AppendEntries without the previous-entry check
  | 'readWithoutQuorum' // (f) leader serves ReadIndex without a heartbeat round
  | 'confChangeBeforeOwnTermCommit'; // (g) start a config change before committing an entry of its own term

export const ALL_MUTATIONS: readonly Mutation[] = [
  'commitOldTerm',
  'doubleVote',
  'replyBeforePersist',
  'applyBeforeCommit',
  'skipPrevCheck',
  'readWithoutQuorum',
  'confChangeBeforeOwnTermCommit',
];

export interface RaftConfig {
  id: NodeId;
  storage: LogReader;
  /** Seeded randomness for election timeouts; the only source of nondeterminism, owned by the host. */
  random: Random;
  /**
   * Initial voters of a brand-new cluster (storage empty): the core writes them as the first log
   * entries, committed, as etcd's bootstrap does. Leave empty on restart and for a node joining
   * an existing cluster (it learns the configuration from the leader).
   */
  peers?: NodeId[];
  learners?: NodeId[];
  /** Ticks without hearing from a leader before campaigning; randomized in [electionTick, 2·electionTick). */
  electionTick?: number;
  heartbeatTick?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  /** Bytes of entries per append message (at least one entry is always sent). */
  maxSizePerMsg?: number;
  /** Appends in flight per follower in Replicate state, by count and by bytes. */
  maxInflightMsgs?: number;
  maxInflightBytes?: number;
  /** Proposals refused (Overloaded) while the leader's uncommitted tail exceeds this. */
  maxUncommittedBytes?: number;
  /** Bytes of committed entries handed out per Ready. */
  maxCommittedBytesPerReady?: number;
  /** Reads waiting for leadership confirmation; more are refused. */
  maxPendingReads?: number;
  mutations?: ReadonlySet<Mutation>;
}

export type StateType = 'Follower' | 'PreCandidate' | 'Candidate' | 'Leader';

export type ProposeResult =
  | { ok: true; index: number; term: number }
  | { ok: false; reason: 'NotLeader' | 'TransferInProgress' | 'Overloaded' | 'ChangeNotAllowed'; leader: NodeId; detail?: string };

export interface ProgressView {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  inflight: number;
  recentActive: boolean;
}

export interface Status {
  id: NodeId;
  state: StateType;
  term: number;
  vote: NodeId | '';
  lead: NodeId | '';
  commit: number;
  applied: number;
  firstIndex: number;
  lastIndex: number;
  conf: ConfState;
  leadTransferee: NodeId | '';
  progress: Map<NodeId, ProgressView>;
}

