/**
 * Membership settings. Defaults follow HashiCorp memberlist's LAN profile except suspicionMult
 * (3, not 4; see below); every value can be overridden. Durations are milliseconds.
 */
export interface GossipConfig {
  /** Unique node name; identity of a member across restarts. */
  name: string;
  /** Address others use to reach this node ("ip:port", UDP and TCP on the same port). */
  advertiseAddr: string;
  /** Time between failure-detection probes (scaled by local health). */
  probeIntervalMs: number;
  /** Wait for a direct ack before trying indirect probes (scaled by local health). */
  probeTimeoutMs: number;
  /** Members asked to probe on our behalf when a direct probe fails. */
  indirectChecks: number;
  /** Also try a TCP ping when UDP probes fail. */
  tcpFallbackPing: boolean;
  /** Suspicion timeout = mult · max(1, log10(N)) · probe interval (minimum of the dynamic timeout). */
  suspicionMult: number;
  /** Maximum dynamic suspicion timeout = this · minimum. */
  suspicionMaxTimeoutMult: number;
  /** Each broadcast is sent retransmitMult · ceil(log10(N+1)) times. */
  retransmitMult: number;
  /** Interval of pure gossip rounds (only when there is something to disseminate). */
  gossipIntervalMs: number;
  /** Members gossiped to each round. */
  gossipNodes: number;
  /** Dead members still receive gossip for this long, so they can refute. */
  gossipToTheDeadMs: number;
  /** Full-state TCP sync interval (scaled up above 32 members, like memberlist); 0 disables. */
  pushPullIntervalMs: number;
  /** How often to try a push/pull with a dead (not left) member, to heal partitions; 0 disables. */
  reconnectIntervalMs: number;
  /** Dead and left members are kept (and reconnect-tried) for this long, then forgotten. */
  deadRetentionMs: number;
  /** Upper bound on the local health multiplier (Lifeguard); 1 disables awareness. */
  awarenessMaxMultiplier: number;
  /** Largest UDP payload built or accepted. */
  maxPacketBytes: number;
  /** Largest stream (TCP) message built or accepted. */
  maxStreamBytes: number;
  /** Timeout given to stream requests (push/pull, TCP ping). */
  streamTimeoutMs: number;
  /** Bound on the broadcast queue (raised to 2·N when the cluster is larger). */
  maxBroadcastQueue: number;
  /** Bound on the member table; beyond it unknown members are refused and counted. */
  maxMembers: number;
  /** Bound on the encoded node metadata. */
  maxMetaBytes: number;
  /** Bound on the buffered event stream; the oldest events are dropped (and counted) beyond it. */
  maxBufferedEvents: number;
}

export const DEFAULT_GOSSIP_PORT = 7946;

export const LAN_DEFAULTS: Omit<GossipConfig, 'name' | 'advertiseAddr'> = {
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  tcpFallbackPing: true,
  // memberlist uses 4. Its minimum suspicion timeout alone, 4 · log10(200) · 1 s = 9.2 s at 200
  // members and 4 s at 5, leaves no room for the targets we ship against (crash known to all in
  // ≤ 10 s median at 200 members, ≤ 5 s at 5). 3 gives 6.9 s and 3 s, and kept zero false positives
  // over simulated hours at 10 % loss (bench/results/gossip.md).
  suspicionMult: 3,
  suspicionMaxTimeoutMult: 6,
  retransmitMult: 4,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  pushPullIntervalMs: 30_000,
  reconnectIntervalMs: 30_000,
  deadRetentionMs: 3_600_000,
  awarenessMaxMultiplier: 8,
  maxPacketBytes: 1400,
  maxStreamBytes: 8 * 1024 * 1024,
  streamTimeoutMs: 10_000,
  maxBroadcastQueue: 1024,
  maxMembers: 10_000,
  maxMetaBytes: 512,
  maxBufferedEvents: 10_000,
};

export function makeConfig(partial: Partial<GossipConfig> & Pick<GossipConfig, 'name' | 'advertiseAddr'>): GossipConfig {
  const config: GossipConfig = { ...LAN_DEFAULTS, ...partial };
  validateConfig(config);
  return config;
}

export function validateConfig(c: GossipConfig): void {
  const fail = (why: string): never => {
    throw new Error(`invalid gossip config: ${why}`);
  };
  if (!c.name || c.name.length > 128) fail('name must be 1..128 characters');
  if (!/^.+:\d+$/.test(c.advertiseAddr)) fail(`advertiseAddr "${c.advertiseAddr}" must be host:port`);
  const positive: (keyof GossipConfig)[] = [
    'probeIntervalMs', 'probeTimeoutMs', 'suspicionMult', 'suspicionMaxTimeoutMult', 'retransmitMult',
    'gossipIntervalMs', 'awarenessMaxMultiplier', 'maxPacketBytes', 'maxStreamBytes', 'streamTimeoutMs',
    'maxBroadcastQueue', 'maxMembers', 'maxMetaBytes', 'maxBufferedEvents',
  ];
  for (const key of positive) {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(`${key} must be a positive number`);
  }
  for (const key of ['indirectChecks', 'gossipNodes', 'gossipToTheDeadMs', 'pushPullIntervalMs', 'reconnectIntervalMs', 'deadRetentionMs'] as const) {
    if (!Number.isFinite(c[key]) || c[key] < 0) fail(`${key} must be >= 0`);
  }
  if (c.probeTimeoutMs > c.probeIntervalMs) fail('probeTimeoutMs must not exceed probeIntervalMs');
  if (c.maxPacketBytes < 256) fail('maxPacketBytes must be at least 256');
}
