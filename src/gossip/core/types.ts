import type { MemberStatus, NodeMeta } from './codec.js';

/** Read-only view of one member, as handed to callers. */
export interface Member {
  readonly name: string;
  readonly addr: string;
  readonly meta: NodeMeta;
  readonly incarnation: number;
  readonly status: MemberStatus;
  /** Host time (ms) of the last status change, as this node saw it. */
  readonly stateChangeMs: number;
}

export type GossipEventType = 'joined' | 'updated' | 'suspect' | 'alive' | 'dead' | 'left';

export interface GossipEvent {
  type: GossipEventType;
  member: Member;
  atMs: number;
}

export interface OutPacket {
  to: string;
  bytes: Uint8Array;
}

/** A request/response exchange over a reliable stream (TCP); answer with GossipCore.streamReply. */
export interface StreamRequest {
  id: number;
  to: string;
  bytes: Uint8Array;
  timeoutMs: number;
}

export interface GossipStats {
  packetsOut: number;
  bytesOut: number;
  packetsIn: number;
  bytesIn: number;
  streamsOut: number;
  streamBytesOut: number;
  streamsIn: number;
  streamBytesIn: number;
  malformed: number;
  oversized: number;
  unknownMessages: number;
  misdirected: number;
  refutations: number;
  suspicionsStarted: number;
  suspicionVerifications: number;
  /** Probes ended early because the target refused the TCP ping (nothing listens there). */
  probesRefused: number;
  deathsDeclared: number;
  addressConflicts: number;
  refusedMembers: number;
  prunedBroadcasts: number;
  droppedEvents: number;
  droppedOutbox: number;
}

export function emptyStats(): GossipStats {
  return {
    packetsOut: 0, bytesOut: 0, packetsIn: 0, bytesIn: 0, streamsOut: 0, streamBytesOut: 0, streamsIn: 0,
    streamBytesIn: 0, malformed: 0, oversized: 0, unknownMessages: 0, misdirected: 0, refutations: 0,
    suspicionsStarted: 0, suspicionVerifications: 0, probesRefused: 0, deathsDeclared: 0, addressConflicts: 0, refusedMembers: 0, prunedBroadcasts: 0,
    droppedEvents: 0, droppedOutbox: 0,
  };
}
