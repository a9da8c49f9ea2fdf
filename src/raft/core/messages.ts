/**
 * Messages exchanged between Raft cores, and what the core hands its host in a Ready.
 * Everything here is plain data (strings, numbers, Uint8Array) so a host can frame it with
 * msgpackr or anything else without a custom codec.
 */
import type { Entry, HardState, NodeId, Snapshot } from '../types.js';

export type MessageType =
  | 'App' // AppendEntries (leader → follower)
  | 'AppResp'
  | 'Vote'
  | 'VoteResp'
  | 'PreVote'
  | 'PreVoteResp'
  | 'Snap' // InstallSnapshot; the host attaches the snapshot data before sending
  | 'Heartbeat'
  | 'HeartbeatResp'
  | 'TimeoutNow' // leadership transfer: the target campaigns at once
  | 'ReadIndex' // follower forwards a read to the leader
  | 'ReadIndexResp';

export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  /** App: term of the entry at `index`. Vote/PreVote: term of the candidate's last entry. Reject: hint term. */
  logTerm: number;
  /** App: index preceding `entries`. AppResp: last matching index, or the rejected index. Vote: candidate's last index. */
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  /** AppResp reject: the follower's hint for where the leader should probe next (fast backtracking). */
  rejectHint: number;
  snapshot: Snapshot | null;
  /** ReadIndex / ReadIndexResp: the caller's request context. Vote: 'transfer' for a forced campaign. */
  context: string;
  /** Heartbeat / HeartbeatResp: the leader's newest ReadIndex round, echoed back to confirm leadership. */
  readSeq: number;
}

export function message(type: MessageType, from: NodeId, to: NodeId, term: number, fields: Partial<Message> = {}): Message {
  return {
    type,
    from,
    to,
    term,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    snapshot: null,
    context: '',
    readSeq: 0,
    ...fields,
  };
}

/** A read that may be served once the host's applied index reaches `index`. */
export interface ReadState {
  index: number;
  context: string;
}

export type ConfChangeType = 'AddNode' | 'AddLearner' | 'RemoveNode';

/** Single-server change: one node at a time. AddNode of an existing learner promotes it. */
export interface ConfChange {
  type: ConfChangeType;
  node: NodeId;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return textEncoder.encode(JSON.stringify({ type: cc.type, node: cc.node }));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const parsed = JSON.parse(textDecoder.decode(data)) as { type?: unknown; node?: unknown };
  if (
    (parsed.type !== 'AddNode' && parsed.type !== 'AddLearner' && parsed.type !== 'RemoveNode') ||
    typeof parsed.node !== 'string' ||
    parsed.node === ''
  ) {
    throw new Error(`invalid conf change entry: ${textDecoder.decode(data)}`);
  }
  return { type: parsed.type, node: parsed.node };
}

/**
 * What the host must do, in this order: persist `snapshot`, `entries` and `hardState`
 * (fsync when `mustSync`), then send `messages`, then apply `committedEntries` (and restore the
 * state machine from `snapshot` first if present), serve `readStates` once applied ≥ index, then
 * call `advance()`.
 */
export interface Ready {
  hardState: HardState | null;
  /** Append to the durable log; entries[0] may overwrite (truncate) a conflicting suffix. */
  entries: Entry[];
  /** A snapshot received from the leader: save it, drop the whole log it replaces, restore from it. */
  snapshot: Snapshot | null;
  /** Send only after everything above is durable (persist-before-send). */
  messages: Message[];
  committedEntries: Entry[];
  readStates: ReadState[];
  /** True when hardState term/vote or entries/snapshot changed: they must be fsync'd before sending. */
  mustSync: boolean;
}
