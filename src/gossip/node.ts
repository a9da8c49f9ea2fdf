/**
 * A standalone gossip member, for tests and experiments:
 *   tsx src/gossip/node.ts --bind 127.0.0.2:0 --join 127.0.0.1:7946 --name n2 [--zone z]
 *       [--service peer=127.0.0.2:7947] [--tag role=ingest] [--set probeIntervalMs=1000]
 * Prints one JSON object per line: {"type":"listening",...} once bound, then every membership
 * event. SIGTERM/SIGINT leave gracefully, then exit. A "members" line on stdin prints a snapshot.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { LAN_DEFAULTS, type GossipConfig } from './core/config.js';
import { GossipHost } from './transport/host.js';

const { values } = parseArgs({
  options: {
    bind: { type: 'string', default: '127.0.0.1:7946' },
    advertise: { type: 'string' },
    join: { type: 'string', multiple: true },
    name: { type: 'string' },
    zone: { type: 'string', default: '' },
    service: { type: 'string', multiple: true },
    tag: { type: 'string', multiple: true },
    set: { type: 'string', multiple: true },
  },
  strict: true,
});

function out(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ ...obj, ts: Date.now() }) + '\n');
}

const i = values.bind.lastIndexOf(':');
const bindHost = values.bind.slice(0, i);
const port = Number(values.bind.slice(i + 1));
if (i <= 0 || !Number.isInteger(port)) throw new Error(`--bind must be host:port, got ${values.bind}`);

const config: Partial<GossipConfig> = {};
for (const kv of values.set ?? []) {
  const [key, raw] = kv.split('=', 2);
  if (!key || raw === undefined || !(key in LAN_DEFAULTS)) throw new Error(`--set ${kv}: unknown config key`);
  const current = (LAN_DEFAULTS as Record<string, unknown>)[key];
  (config as Record<string, unknown>)[key] = typeof current === 'boolean' ? raw === 'true' : Number(raw);
}

function pairs(list: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const j = kv.indexOf('=');
    if (j <= 0) throw new Error(`--${flag} must be key=value, got "${kv}"`);
    out[kv.slice(0, j)] = kv.slice(j + 1);
  }
  return out;
}

const name = values.name ?? `${bindHost}:${port}`;
const host = new GossipHost({ name, bindHost, port, advertiseHost: values.advertise, config,
  meta: { services: pairs(values.service, 'service'), zone: values.zone, version: '0.1.0', tags: pairs(values.tag, 'tag') } });
host.on('event', (e) => out({ type: 'event', event: e.type, member: e.member.name, addr: e.member.addr,
  incarnation: e.member.incarnation, status: e.member.status }));

const bound = await host.start();
out({ type: 'listening', name, host: bound.host, port: bound.port, incarnation: host.gossip.incarnation });
if (values.join && values.join.length > 0) {
  const seeds = values.join.flatMap((s) => s.split(',')).filter(Boolean);
  const r = await host.join(seeds);
  out({ type: 'join', reached: r.reached, failed: r.failed });
}

let stopping = false;
const shutdown = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await host.leave(3000);
  out({ type: 'left', incarnation: host.gossip.incarnation });
  await host.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'members') {
    out({ type: 'members', incarnation: host.gossip.incarnation,
      members: host.members().map((m) => ({ name: m.name, status: m.status, incarnation: m.incarnation, addr: m.addr })) });
  } else if (line.trim() === 'leave') void shutdown();
});
