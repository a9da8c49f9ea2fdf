/**
 * Public API of the pure Raft core.
 *
 * Host-driving loop (what a real process or the simulator must do):
 *
 *   const core = new RaftCore({ id, storage: durableLog, random: seededRandom(seed), peers });
 *   every tick interval (e.g. 100 ms):  core.tick()
 *   on a message from the network:      core.step(msg)          (drop messages whose `to` is not us)
 *   client write / read / admin:        core.propose(data), core.readIndex(ctx),
 *                                       core.proposeConfChange(cc), core.transferLeader(id)
 *   after any of the above, loop while core.hasReady():
 *     const rd = core.ready();
 *     1. if rd.snapshot: durableLog.saveSnapshot(rd.snapshot) — it replaces the WHOLE log
 *        (the core only hands out a snapshot whose last entry does not match the local log),
 *        then restore the state machine from rd.snapshot.data.
 *     2. durableLog.append(rd.entries)   (entries[0] may truncate a conflicting suffix)
 *        if rd.hardState: durableLog.setHardState(rd.hardState)
 *        if rd.mustSync: await durableLog.sync()
 *     3. only now send rd.messages (persist-before-send). For a message of type 'Snap', replace
 *        msg.snapshot with the newest snapshot in the snapshot store (data included): the core
 *        holds snapshot metadata only.
 *     4. apply rd.committedEntries in order (EntryType.ConfChange entries are already in force in
 *        the core — membership takes effect when appended — the host only updates its peer list
 *        from core.confState()).
 *     5. for each rd.readStates: answer the read once the applied index ≥ readState.index.
 *     6. core.advance()
 *   Steps may arrive between ready() and advance() (e.g. while fsync runs); ready() must not be
 *   called again before advance().
 *
 * Snapshots/compaction are the host's choice: snapshot the state machine at its applied index
 * with conf = core.confStateAt(applied), durableLog.saveSnapshot(...) then durableLog.compact(index).
 * A brand-new cluster passes `peers` (identical on every initial member); a restarted node or a
 * node being added passes no peers and recovers everything from storage or from the leader.
 * Proposals are accepted only on the leader: propose() returns {ok:false, reason, leader} elsewhere.
 * An entry proposed at (index, term) is committed iff the host later applies an entry with that
 * same index and term; a different term at that index means the proposal was lost.
 */
export { RaftCore, ALL_MUTATIONS } from './raft.js';
export type { RaftConfig, Mutation, StateType, ProposeResult, Status, ProgressView } from './raft.js';
export type { Message, MessageType, Ready, ReadState, ConfChange, ConfChangeType } from './messages.js';
export { message, encodeConfChange, decodeConfChange } from './messages.js';
export type { LogReader } from './log.js';
export { entryBytes } from './log.js';
export { applyConfChange, confChangeProblem } from './membership.js';
export { seededRandom, randomInt } from './prng.js';
export type { Random } from './prng.js';
export { RaftInvariantError } from './assert.js';
export type { ProgressState } from './progress.js';
