/** Public surface of the gossip module (SWIM + Lifeguard membership, memberlist-shaped). */
export { GossipCore, pushPullScale, type GossipCoreOptions } from './core/core.js';
export { makeConfig, LAN_DEFAULTS, DEFAULT_GOSSIP_PORT, type GossipConfig } from './core/config.js';
export { EMPTY_META, PROTOCOL_VERSION, type NodeMeta, type MemberStatus } from './core/codec.js';
export { Prng } from './core/prng.js';
export type { Member, GossipEvent, GossipEventType, GossipStats, OutPacket, StreamRequest } from './core/types.js';
export { GossipHost, type GossipHostOptions } from './transport/host.js';
