/**
 * The Raft consensus core: a deterministic state machine with no clock, timers, randomness or
 * I/O. The host calls tick()/step()/propose()/..., then drains ready(), persists, sends, applies,
 * and calls advance(). Shaped after etcd-io/raft (raft.go + rawnode.go), written from scratch.
 */
import type { ConfState, Entry, HardState, NodeId, Snapshot } from '../types.js';
import type { Mutation, ProgressView, ProposeResult, RaftConfig, StateType, Status } from './config.js';
import { EntryType } from '../types.js';
import { assert } from './assert.js';
import { entryBytes, RaftLog } from './log.js';
import { cloneConf, confChangeProblem, Membership } from './membership.js';
import { encodeConfChange, message, type ConfChange, type Message, type MessageType, type ReadState, type Ready } from './messages.js';
import { Progress } from './progress.js';
import { ReadOnly } from './read-only.js';
import { committedIndex, quorumSize, voteResult } from './quorum.js';
import { randomInt, type Random } from './prng.js';

export type { Mutation, RaftConfig, StateType, ProposeResult, ProgressView, Status } from './config.js';
export { ALL_MUTATIONS } from './config.js';

interface InFlightReady {
  hardState: HardState | null;
  lastEntry: { index: number; term: number } | null;
  snapshotIndex: number;
  appliedTo: number;
}

const TRANSFER_CONTEXT = 'transfer';
const EMPTY = new Uint8Array(0);

export class RaftCore {
  readonly id: NodeId;
  private termValue = 0;
  private voteValue: NodeId | '' = '';
  private leadValue: NodeId | '' = '';
  private stateValue: StateType = 'Follower';

  private readonly log: RaftLog;
  private readonly membership: Membership;
  private readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();
  private msgs: Message[] = [];
  private readStates: ReadState[] = [];

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private leadTransferee: NodeId | '' = '';

  private readonly readOnly: ReadOnly;
  private uncommittedBytes = 0;

  private persistedHardState: HardState;
  private inFlightReady: InFlightReady | null = null;

  private readonly random: Random;
  private readonly electionTimeout: number;
  private readonly heartbeatTimeout: number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxSizePerMsg: number;
  private readonly maxInflightMsgs: number;
  private readonly maxInflightBytes: number;
  private readonly maxUncommittedBytes: number;
  private readonly maxCommittedBytesPerReady: number;
  private readonly mutations: ReadonlySet<Mutation>;

  constructor(config: RaftConfig) {
    assert(config.id !== '', 'node id must not be empty');
    this.id = config.id;
    this.random = config.random;
    this.electionTimeout = config.electionTick ?? 10;
    this.heartbeatTimeout = config.heartbeatTick ?? 1;
    assert(this.heartbeatTimeout > 0 && this.electionTimeout > this.heartbeatTimeout, 'need 0 < heartbeatTick < electionTick');
    this.preVote = config.preVote ?? true;
    this.checkQuorum = config.checkQuorum ?? true;
    this.maxSizePerMsg = config.maxSizePerMsg ?? 1 << 20;
    this.maxInflightMsgs = config.maxInflightMsgs ?? 256;
    this.maxInflightBytes = config.maxInflightBytes ?? 32 << 20;
    this.maxUncommittedBytes = config.maxUncommittedBytes ?? 64 << 20;
    this.maxCommittedBytesPerReady = config.maxCommittedBytesPerReady ?? 16 << 20;
    this.readOnly = new ReadOnly(config.maxPendingReads ?? 4096);
    this.mutations = config.mutations ?? new Set();

    const storage = config.storage;
    this.log = new RaftLog(storage);
    const snap = storage.snapshotMeta;
    this.membership = new Membership(snap?.index ?? 0, snap?.conf ?? { voters: [], learners: [] });
    const hs = storage.hardState;
    this.termValue = hs.term;
    this.voteValue = hs.vote;
    this.persistedHardState = { ...hs };

    // Configuration entries already in the log are in force (append-time membership).
    const first = this.log.firstIndex();
    const last = this.log.lastIndex();
    if (last >= first) {
      const stored = this.log.slice(first, last + 1);
      assert(stored !== null && stored.length === last - first + 1, 'storage could not return its own entries');
      this.membership.appended(stored, 0);
    }

    const peers = config.peers ?? [];
    const learners = config.learners ?? [];
    if (peers.length > 0) {
      if (last === 0 && hs.term === 0) this.bootstrap(peers, learners);
      // On restart the stored log already holds the bootstrap entries; peers is ignored.
    }
    this.becomeFollower(this.termValue, '');
  }

  private bootstrap(peers: NodeId[], learners: NodeId[]): void {
    const changes: ConfChange[] = [
      ...[...peers].sort().map((node): ConfChange => ({ type: 'AddNode', node })),
      ...[...learners].sort().map((node): ConfChange => ({ type: 'AddLearner', node })),
    ];
    const entries: Entry[] = changes.map((cc, k) => ({ term: 1, index: k + 1, type: EntryType.ConfChange, data: encodeConfChange(cc) }));
    this.log.append(entries);
    this.membership.appended(entries, 0);
    this.log.commitTo(entries.length);
    this.termValue = 1;
  }

  private mut(m: Mutation): boolean {
    return this.mutations.has(m);
  }

  // ---------------------------------------------------------------- public API

  get term(): number {
    return this.termValue;
  }
  get state(): StateType {
    return this.stateValue;
  }
  get lead(): NodeId | '' {
    return this.leadValue;
  }

  status(): Status {
    const progress = new Map<NodeId, ProgressView>();
    if (this.stateValue === 'Leader') {
      for (const [id, pr] of this.progress) {
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          isLearner: pr.isLearner,
          inflight: pr.inflights.count,
          recentActive: pr.recentActive,
        });
      }
    }
    return {
      id: this.id,
      state: this.stateValue,
      term: this.termValue,
      vote: this.voteValue,
      lead: this.leadValue,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      conf: cloneConf(this.membership.current()),
      leadTransferee: this.leadTransferee,
      progress,
    };
  }

  /** Term of the entry at `index` in this node's log (pending entries included). */
  logTerm(index: number): number | undefined {
    return this.log.term(index);
  }

  lastIndex(): number {
    return this.log.lastIndex();
  }

  firstIndex(): number {
    return this.log.firstIndex();
  }

  get commit(): number {
    return this.log.committed;
  }

  get applied(): number {
    return this.log.applied;
  }

  confState(): ConfState {
    return cloneConf(this.membership.current());
  }

  /** Current voters without copying (do not mutate). */
  voters(): readonly NodeId[] {
    return this.membership.current().voters;
  }

  /** The configuration after the entry at `index`: what a snapshot taken at `index` must carry. */
  confStateAt(index: number): ConfState {
    return this.membership.at(index);
  }

  /** Advance logical time by one tick. */
  tick(): void {
    if (this.stateValue === 'Leader') this.tickHeartbeat();
    else this.tickElection();
  }

  /** Start an election now (as if the election timeout had elapsed). */
  campaign(): void {
    this.hup(false);
  }

  propose(data: Uint8Array): ProposeResult {
    const refused = this.refuseProposal();
    if (refused) return refused;
    return this.appendLocal(EntryType.Normal, data);
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    const refused = this.refuseProposal();
    if (refused) return refused;
    const notAllowed = (detail: string): ProposeResult => ({ ok: false, reason: 'ChangeNotAllowed', leader: this.leadValue, detail });
    // A leader must commit an entry of its own term before changing the configuration: otherwise
    // an uncommitted change of an earlier leader can be lost under it (Ongaro, raft-dev 2015).
    if (!this.committedInCurrentTerm() && !this.mut('confChangeBeforeOwnTermCommit')) {
      return notAllowed('leader has not committed an entry of its term yet');
    }
    if (this.membership.lastChangeIndex() > this.log.committed) return notAllowed('a configuration change is already in flight');
    if (cc.type === 'RemoveNode' && cc.node === this.id) return notAllowed('the leader cannot remove itself; transfer leadership first');
    const problem = confChangeProblem(this.membership.current(), cc);
    if (problem) return notAllowed(problem);
    return this.appendLocal(EntryType.ConfChange, encodeConfChange(cc));
  }

  /**
   * Request a linearizable read. A ReadState {index, context} appears in a later Ready once
   * leadership is confirmed; the host serves the read when its applied index reaches `index`.
   * Returns false when no leader is known or the leader's queue is full (retry later).
   */
  readIndex(context: string): boolean {
    if (this.stateValue === 'Leader') return this.handleReadRequest(context, this.id);
    if (this.leadValue === '') return false;
    this.send(message('ReadIndex', this.id, this.leadValue, this.termValue, { context }));
    return true;
  }

  /** Hand leadership to `target` once its log is caught up (it campaigns on TimeoutNow). */
  transferLeader(target: NodeId): boolean {
    if (this.stateValue !== 'Leader' || target === this.id) return false;
    if (!this.membership.current().voters.includes(target)) return false;
    if (this.leadTransferee === target) return true;
    this.leadTransferee = target;
    this.electionElapsed = 0; // the transfer must finish within one election timeout
    const pr = this.progress.get(target)!;
    if (pr.match === this.log.lastIndex()) this.send(message('TimeoutNow', this.id, target, this.termValue));
    else this.sendAppend(target);
    return true;
  }

  /** The host could not deliver a snapshot (or did): lets the leader leave Snapshot state early. */
  reportSnapshot(to: NodeId, ok: boolean): void {
    const pr = this.progress.get(to);
    if (this.stateValue !== 'Leader' || !pr || pr.state !== 'Snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    pr.probeSent = true; // wait for the follower's answer (or a heartbeat) before probing again
  }

  reportUnreachable(to: NodeId): void {
    const pr = this.progress.get(to);
    if (this.stateValue === 'Leader' && pr && pr.state === 'Replicate') pr.becomeProbe();
  }

  step(m: Message): void {
    assert(m.to === this.id, `message for ${m.to} stepped into ${this.id}`);
    assert(m.from !== this.id, 'message from self');
    if (m.term > this.termValue) {
      if (m.type === 'Vote' || m.type === 'PreVote') {
        const force = m.context === TRANSFER_CONTEXT;
        const inLease = this.checkQuorum && this.leadValue !== '' && this.electionElapsed < this.electionTimeout;
        // A node that heard from a leader recently ignores campaigns: a rejoining partitioned
        // node cannot depose a healthy leader.
        if (!force && inLease) return;
      }
      if (m.type === 'PreVote' || (m.type === 'PreVoteResp' && !m.reject)) {
        // A pre-vote never changes terms.
      } else if (m.type === 'App' || m.type === 'Heartbeat' || m.type === 'Snap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, '');
      }
    } else if (m.term < this.termValue) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'App' || m.type === 'Heartbeat')) {
        // Tell a stale leader about the newer term so it steps down.
        this.send(message('AppResp', this.id, m.from, this.termValue));
      } else if (m.type === 'PreVote') {
        this.send(message('PreVoteResp', this.id, m.from, this.termValue, { reject: true }));
      }
      return;
    }

    if (m.type === 'Vote' || m.type === 'PreVote') {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.stateValue) {
      case 'Leader':
        this.stepLeader(m);
        break;
      case 'PreCandidate':
      case 'Candidate':
        this.stepCandidate(m);
        break;
      case 'Follower':
        this.stepFollower(m);
        break;
    }
  }

  hasReady(): boolean {
    if (this.inFlightReady) return false;
    if (this.msgs.length > 0 || this.readStates.length > 0) return true;
    if (this.log.unstableEntries().length > 0 || this.log.pendingSnapshot()) return true;
    if (!sameHardState(this.hardState(), this.persistedHardState)) return true;
    return this.applyLimit() > this.log.applied;
  }

  ready(): Ready {
    assert(this.inFlightReady === null, 'ready() called again before advance()');
    const hs = this.hardState();
    const hsChanged = !sameHardState(hs, this.persistedHardState);
    const entries = this.log.unstableEntries();
    const snapshot = this.log.pendingSnapshot();
    const applyFrom = Math.max(this.log.applied, snapshot?.meta.index ?? 0) + 1;
    const applyTo = this.applyLimit();
    let committedEntries: Entry[] = [];
    if (applyTo >= applyFrom) {
      const slice = this.log.slice(applyFrom, applyTo + 1, this.maxCommittedBytesPerReady);
      assert(slice !== null, `committed entries from ${applyFrom} were compacted before being applied`);
      committedEntries = slice;
    }
    if (this.stateValue === 'Leader') {
      for (const e of committedEntries) if (e.term === this.termValue) this.uncommittedBytes -= entryBytes(e);
      if (this.uncommittedBytes < 0) this.uncommittedBytes = 0;
    }
    const last = entries[entries.length - 1];
    const mustSync =
      !this.mut('replyBeforePersist') &&
      (entries.length > 0 || snapshot !== null || hs.term !== this.persistedHardState.term || hs.vote !== this.persistedHardState.vote);
    const ready: Ready = {
      hardState: hsChanged ? hs : null,
      entries,
      snapshot,
      messages: this.msgs,
      committedEntries,
      readStates: this.readStates,
      mustSync,
    };
    this.msgs = [];
    this.readStates = [];
    const lastApplied = committedEntries[committedEntries.length - 1];
    this.inFlightReady = {
      hardState: hsChanged ? hs : null,
      lastEntry: last ? { index: last.index, term: last.term } : null,
      snapshotIndex: snapshot?.meta.index ?? 0,
      appliedTo: lastApplied ? lastApplied.index : 0,
    };
    return ready;
  }

  /** The host persisted, sent and applied everything in the last Ready. */
  advance(): void {
    const done = this.inFlightReady;
    assert(done !== null, 'advance() without ready()');
    this.inFlightReady = null;
    if (done.hardState) this.persistedHardState = done.hardState;
    if (done.snapshotIndex > 0) {
      this.log.stableSnapshotTo(done.snapshotIndex);
      if (done.snapshotIndex > this.log.applied) this.log.applied = done.snapshotIndex;
    }
    if (done.lastEntry) this.log.stableTo(done.lastEntry.index, done.lastEntry.term);
    if (done.appliedTo > this.log.applied) this.log.applied = done.appliedTo;
    if (!this.mut('applyBeforeCommit')) {
      assert(this.log.applied <= this.log.committed, `applied ${this.log.applied} beyond commit ${this.log.committed}`);
    }
    this.membership.compactBelow(this.log.firstIndex());
    if (this.stateValue === 'Leader') {
      // The leader counts its own copy only once it is durable.
      const self = this.progress.get(this.id);
      assert(!self || self.match <= this.log.lastIndex(), `leader's own match ${self?.match} beyond its log`);
      if (self && self.maybeUpdate(this.log.stableLastIndex())) {
        if (this.maybeCommit()) this.bcastAppend();
      }
    }
  }

  // ---------------------------------------------------------------- state transitions

  private hardState(): HardState {
    return { term: this.termValue, vote: this.voteValue, commit: this.log.committed };
  }

  private applyLimit(): number {
    if (this.mut('applyBeforeCommit')) return this.log.lastIndex();
    return this.log.committed;
  }

  private promotable(): boolean {
    return this.membership.current().voters.includes(this.id);
  }

  private reset(term: number): void {
    if (term !== this.termValue) {
      assert(term > this.termValue, `term going backwards ${this.termValue} → ${term}`);
      this.termValue = term;
      this.voteValue = '';
    }
    this.leadValue = '';
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = randomInt(this.random, this.electionTimeout, 2 * this.electionTimeout);
    this.leadTransferee = '';
    this.votes.clear();
    this.progress.clear();
    this.readOnly.reset();
    this.uncommittedBytes = 0;
  }

  private becomeFollower(term: number, lead: NodeId | ''): void {
    this.reset(term);
    this.stateValue = 'Follower';
    this.leadValue = lead;
  }

  private becomePreCandidate(): void {
    assert(this.stateValue !== 'Leader', 'leader cannot become pre-candidate');
    // Term and vote stay: a pre-vote must not disturb anyone.
    this.votes.clear();
    this.leadValue = '';
    this.stateValue = 'PreCandidate';
  }

  private becomeCandidate(): void {
    assert(this.stateValue !== 'Leader', 'leader cannot become candidate');
    this.reset(this.termValue + 1);
    this.voteValue = this.id;
    this.stateValue = 'Candidate';
  }

  private becomeLeader(): void {
    assert(this.stateValue === 'Candidate', `only a candidate becomes leader (was ${this.stateValue})`);
    this.reset(this.termValue);
    assert(this.log.lastTerm() <= this.termValue, `leader of term ${this.termValue} holds a log entry of term ${this.log.lastTerm()}`);
    this.stateValue = 'Leader';
    this.leadValue = this.id;
    this.syncProgress();
    const self = this.progress.get(this.id);
    if (self) {
      self.maybeUpdate(this.log.stableLastIndex());
      self.becomeReplicate();
      self.recentActive = true;
    }
    // A no-op of the new term: committing it commits everything before it (§5.4.2).
    this.appendEntries([{ term: this.termValue, index: this.log.lastIndex() + 1, type: EntryType.Normal, data: EMPTY }]);
  }

  /** Keep the leader's progress map equal to the current configuration. */
  private syncProgress(): void {
    if (this.stateValue !== 'Leader') return;
    const conf = this.membership.current();
    const members = new Set([...conf.voters, ...conf.learners]);
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      const learner = conf.learners.includes(id);
      const pr = this.progress.get(id);
      if (pr) pr.isLearner = learner;
      else this.progress.set(id, new Progress(id, this.log.lastIndex() + 1, learner, this.maxInflightMsgs, this.maxInflightBytes));
    }
    if (this.leadTransferee !== '' && !conf.voters.includes(this.leadTransferee)) this.leadTransferee = '';
  }

  private hup(transfer: boolean): void {
    if (this.stateValue === 'Leader' || !this.promotable()) return;
    if (this.preVote && !transfer) this.runCampaign('PreVote', false);
    else this.runCampaign('Vote', transfer);
  }

  private runCampaign(kind: 'PreVote' | 'Vote', transfer: boolean): void {
    let term: number;
    if (kind === 'PreVote') {
      this.becomePreCandidate();
      term = this.termValue + 1;
    } else {
      this.becomeCandidate();
      term = this.termValue;
    }
    this.votes.set(this.id, true);
    if (this.pollResult() === 'Won') {
      if (kind === 'PreVote') this.runCampaign('Vote', false);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const voter of this.membership.current().voters) {
      if (voter === this.id) continue;
      this.send(message(kind, this.id, voter, term, { index: lastIndex, logTerm: lastTerm, context: transfer ? TRANSFER_CONTEXT : '' }));
    }
  }

  private pollResult(): 'Won' | 'Lost' | 'Pending' {
    return voteResult(this.membership.current().voters, this.votes);
  }

  // ---------------------------------------------------------------- ticks

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum && !this.quorumActive()) {
        // Lost touch with a majority: step down so clients go elsewhere and reads stop here.
        this.becomeFollower(this.termValue, '');
        return;
      }
      this.leadTransferee = ''; // a transfer that did not finish within an election timeout is abandoned
    }
    for (const pr of this.progress.values()) {
      if (pr.state === 'Snapshot' && ++pr.snapshotTicks > 2 * this.electionTimeout) {
        // The snapshot (or its answer) was lost: probe again, which resends it if still needed.
        pr.becomeProbe();
      }
    }
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  private quorumActive(): boolean {
    const voters = this.membership.current().voters;
    let active = 0;
    for (const id of voters) {
      const pr = this.progress.get(id);
      if (id === this.id || pr?.recentActive) active++;
    }
    for (const [id, pr] of this.progress) if (id !== this.id) pr.recentActive = false;
    return active >= quorumSize(voters.length);
  }

  // ---------------------------------------------------------------- message handling

  private send(m: Message): void {
    assert(m.to !== this.id, 'sending to self');
    this.msgs.push(m);
  }

  private handleVoteRequest(m: Message): void {
    const pre = m.type === 'PreVote';
    const respType: MessageType = pre ? 'PreVoteResp' : 'VoteResp';
    let canVote =
      this.voteValue === m.from || (this.voteValue === '' && this.leadValue === '') || (pre && m.term > this.termValue);
    if (!pre && this.mut('doubleVote')) canVote = true;
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      this.send(message(respType, this.id, m.from, m.term));
      if (!pre) {
        assert(
          this.voteValue === '' || this.voteValue === m.from || this.mut('doubleVote'),
          `second vote in term ${this.termValue}: had ${this.voteValue}, asked by ${m.from}`,
        );
        this.electionElapsed = 0;
        this.voteValue = m.from;
      }
    } else {
      this.send(message(respType, this.id, m.from, this.termValue, { reject: true }));
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'App':
        this.electionElapsed = 0;
        this.leadValue = m.from;
        this.handleAppend(m);
        break;
      case 'Heartbeat':
        this.electionElapsed = 0;
        this.leadValue = m.from;
        this.handleHeartbeat(m);
        break;
      case 'Snap':
        this.electionElapsed = 0;
        this.leadValue = m.from;
        this.handleSnapshot(m);
        break;
      case 'TimeoutNow':
        this.hup(true);
        break;
      case 'ReadIndexResp':
        this.readStates.push({ index: m.index, context: m.context });
        break;
      default:
        break; // stale answers to an earlier candidacy or leadership
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'App':
      case 'Heartbeat':
      case 'Snap':
        this.becomeFollower(m.term, m.from);
        this.stepFollower(m);
        break;
      case 'PreVoteResp':
      case 'VoteResp': {
        if ((m.type === 'PreVoteResp') !== (this.stateValue === 'PreCandidate')) return;
        this.votes.set(m.from, !m.reject);
        const result = this.pollResult();
        if (result === 'Won') {
          if (this.stateValue === 'PreCandidate') this.runCampaign('Vote', false);
          else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === 'Lost') {
          this.becomeFollower(this.termValue, '');
        }
        break;
      }
      default:
        break;
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'AppResp':
        this.handleAppendResponse(m);
        break;
      case 'HeartbeatResp':
        this.handleHeartbeatResponse(m);
        break;
      case 'ReadIndex':
        if (!this.handleReadRequest(m.context, m.from)) {
          // Refused (queue full): answer nothing; the follower's host times the read out.
        }
        break;
      default:
        break;
    }
  }

  private handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      this.send(message('AppResp', this.id, m.from, this.termValue, { index: this.log.committed }));
      return;
    }
    const prevMatches = this.log.matchTerm(m.index, m.logTerm);
    const skipCheck = this.mut('skipPrevCheck') && m.index <= this.log.lastIndex() && this.log.term(m.index) !== undefined;
    if (prevMatches || skipCheck) {
      const lastNew = m.index + m.entries.length;
      const conflict = this.log.findConflict(m.entries);
      if (conflict !== 0) {
        const from = Math.max(conflict, this.log.committed + 1);
        const toAppend = m.entries.slice(from - (m.index + 1));
        if (toAppend.length > 0) {
          const truncatedAt = this.log.append(toAppend, this.mut('skipPrevCheck'));
          this.membership.appended(toAppend, truncatedAt);
        }
      }
      assert(lastNew <= this.log.lastIndex(), `acknowledging ${lastNew} beyond last index ${this.log.lastIndex()}`);
      this.log.commitTo(Math.min(m.commit, lastNew));
      this.send(message('AppResp', this.id, m.from, this.termValue, { index: lastNew }));
      return;
    }
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send(
      message('AppResp', this.id, m.from, this.termValue, { index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term }),
    );
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(m.commit);
    this.send(message('HeartbeatResp', this.id, m.from, this.termValue, { readSeq: m.readSeq }));
  }

  private handleSnapshot(m: Message): void {
    const snap = m.snapshot;
    assert(snap !== null, 'Snap message without snapshot');
    const { index, term } = snap.meta;
    if (index <= this.log.committed) {
      this.send(message('AppResp', this.id, m.from, this.termValue, { index: this.log.committed }));
      return;
    }
    // A node added after the snapshot was taken is not in its configuration; it still restores:
    // the configuration entry that added it follows in the log and is in force once appended.
    if (this.log.matchTerm(index, term)) {
      // Our log already holds the snapshot's last entry: just move the commit index.
      this.log.commitTo(index);
      this.send(message('AppResp', this.id, m.from, this.termValue, { index: this.log.committed }));
      return;
    }
    this.log.restore(snap);
    this.membership.reset(index, snap.meta.conf);
    this.send(message('AppResp', this.id, m.from, this.termValue, { index }));
  }

  private handleAppendResponse(m: Message): void {
    const pr = this.progress.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    if (m.reject) {
      let hint = m.rejectHint;
      if (m.logTerm > 0) hint = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'Replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'Probe') pr.becomeReplicate();
    else if (pr.state === 'Snapshot' && pr.match + 1 >= this.log.firstIndex()) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'Replicate') pr.inflights.freeLE(m.index);

    if (this.maybeCommit()) this.bcastAppend();
    else if (wasPaused) this.sendAppend(m.from);
    while (this.sendAppend(m.from, false)) {
      // keep the pipeline full up to the inflight bound
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.send(message('TimeoutNow', this.id, m.from, this.termValue));
    }
  }

  private handleHeartbeatResponse(m: Message): void {
    const pr = this.progress.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    pr.probeSent = false;
    if (pr.state === 'Replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
    if (m.readSeq > 0) this.ackReads(m.from, m.readSeq);
  }

  // ---------------------------------------------------------------- replication

  private refuseProposal(): ProposeResult | null {
    if (this.stateValue !== 'Leader') return { ok: false, reason: 'NotLeader', leader: this.leadValue };
    if (this.leadTransferee !== '') return { ok: false, reason: 'TransferInProgress', leader: this.leadValue };
    if (this.uncommittedBytes > this.maxUncommittedBytes) return { ok: false, reason: 'Overloaded', leader: this.leadValue };
    return null;
  }

  private appendLocal(type: EntryType, data: Uint8Array): ProposeResult {
    const entry: Entry = { term: this.termValue, index: this.log.lastIndex() + 1, type, data };
    this.appendEntries([entry]);
    this.uncommittedBytes += entryBytes(entry);
    this.bcastAppend();
    return { ok: true, index: entry.index, term: entry.term };
  }

  private appendEntries(entries: Entry[]): void {
    assert(this.stateValue === 'Leader', 'only the leader appends locally');
    const truncatedAt = this.log.append(entries);
    assert(truncatedAt === 0, 'a leader never overwrites its own log');
    this.membership.appended(entries, 0);
    this.syncProgress();
  }

  private maybeCommit(): boolean {
    const voters = this.membership.current().voters;
    const index = committedIndex(voters, (id) => this.progress.get(id)?.match ?? 0);
    if (index <= this.log.committed) return false;
    // Figure 8: only an entry of the current term is committed by counting replicas.
    if (this.log.term(index) !== this.termValue && !this.mut('commitOldTerm')) return false;
    const firstInTerm = !this.committedInCurrentTerm();
    this.log.commitTo(index);
    if (firstInTerm && this.committedInCurrentTerm()) {
      for (const r of this.readOnly.takeWaiting()) this.handleReadRequest(r.context, r.from);
    }
    return true;
  }

  private committedInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.termValue;
  }

  private bcastAppend(): void {
    for (const id of this.progress.keys()) if (id !== this.id) this.sendAppend(id);
  }

  /** Send the next append (or snapshot) to `to`; returns whether a message went out. */
  private sendAppend(to: NodeId, sendIfEmpty = true): boolean {
    const pr = this.progress.get(to);
    if (!pr || to === this.id || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const entries = prevTerm === undefined ? null : this.log.slice(pr.next, this.log.lastIndex() + 1, this.maxSizePerMsg);
    if (prevTerm === undefined || entries === null) return this.sendSnapshot(to, pr);
    if (entries.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const e of entries) bytes += entryBytes(e);
    this.send(
      message('App', this.id, to, this.termValue, { index: prevIndex, logTerm: prevTerm, entries, commit: this.log.committed }),
    );
    pr.sentEntries(prevIndex + entries.length, bytes, entries.length);
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false;
    const meta = this.log.snapshotMeta();
    assert(meta !== null, `entries for ${to} compacted but no snapshot exists`);
    // The host fills in the data from its snapshot store before sending (the core holds only metadata).
    const snapshot: Snapshot = { meta: { index: meta.index, term: meta.term, conf: cloneConf(meta.conf) }, data: EMPTY };
    this.send(message('Snap', this.id, to, this.termValue, { snapshot }));
    pr.becomeSnapshot(meta.index);
    return true;
  }

  private bcastHeartbeat(): void {
    const readSeq = this.readOnly.lastSeq();
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      this.send(message('Heartbeat', this.id, id, this.termValue, { commit: Math.min(pr.match, this.log.committed), readSeq }));
    }
  }

  // ---------------------------------------------------------------- ReadIndex

  private handleReadRequest(context: string, from: NodeId): boolean {
    if (this.mut('readWithoutQuorum')) {
      this.answerRead(from, this.log.committed, context);
      return true;
    }
    // Our commit index may lag what an earlier leader committed: wait for our own no-op.
    if (!this.committedInCurrentTerm()) return this.readOnly.wait({ context, from });
    const voters = this.membership.current().voters;
    if (voters.length === 1 && voters[0] === this.id) {
      this.answerRead(from, this.log.committed, context);
      return true;
    }
    if (this.readOnly.add({ context, from }, this.log.committed, this.id, voters) === 0) return false;
    this.bcastHeartbeat();
    return true;
  }

  private ackReads(from: NodeId, seq: number): void {
    for (const r of this.readOnly.ack(from, seq, this.membership.current().voters)) {
      this.answerRead(r.request.from, r.index, r.request.context);
    }
  }

  private answerRead(from: NodeId, index: number, context: string): void {
    if (from === this.id) this.readStates.push({ index, context });
    else this.send(message('ReadIndexResp', this.id, from, this.termValue, { index, context }));
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
