/**
 * A replicated KV node: one Raft group over TCP, a client API over TCP (msgpack frames).
 *
 *   tsx src/raft/kv/node.ts --id n1 --data /tmp/n1 \
 *     --peer-listen 127.0.0.1:7101 --client-listen 127.0.0.1:7201 \
 *     --peers n1=127.0.0.1:7101,n2=127.0.0.2:7101,n3=127.0.0.3:7101
 *
 * Prints one JSON line when ready: {"id":"n1","peerPort":7101,"clientPort":7201,"pid":...}.
 */
import * as net from 'node:net';
import { parseArgs } from 'node:util';
import { FileLog } from '../log/index.js';
import { encodeFrame, FrameDecoder, parseHostPort, type HostPort } from './framing.js';
import { encodeCommand, KvStateMachine } from './kv-state.js';
import type { KvRequest, KvResponse } from './protocol.js';
import { RaftHost } from './raft-host.js';
import { PeerTransport } from './transport.js';

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    data: { type: 'string' },
    'peer-listen': { type: 'string' },
    'client-listen': { type: 'string' },
    peers: { type: 'string' },
    'tick-ms': { type: 'string', default: '100' },
    stats: { type: 'boolean', default: false },
    'request-timeout-ms': { type: 'string', default: '3000' },
    'snapshot-every': { type: 'string', default: '10000' },
    'segment-bytes': { type: 'string', default: String(64 * 1024 * 1024) },
  },
});

function required(name: string, value: string | undefined): string {
  if (!value) {
    process.stderr.write(`missing --${name}\n`);
    process.exit(2);
  }
  return value;
}

const id = required('id', values.id);
const dataDir = required('data', values.data);
const peerListen = parseHostPort(required('peer-listen', values['peer-listen']));
const clientListen = parseHostPort(required('client-listen', values['client-listen']));
const peers = new Map<string, HostPort>();
for (const part of required('peers', values.peers).split(',')) {
  const eq = part.indexOf('=');
  peers.set(part.slice(0, eq), parseHostPort(part.slice(eq + 1)));
}
if (!peers.has(id)) peers.set(id, peerListen);
const requestTimeoutMs = Number(values['request-timeout-ms']);

function die(err: unknown): never {
  process.stderr.write(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

const log = await FileLog.open(dataDir, { segmentBytes: Number(values['segment-bytes']) });
const kv = new KvStateMachine();
const host = new RaftHost({
  id,
  voters: [...peers.keys()],
  log,
  stateMachine: kv,
  tickMs: Number(values['tick-ms']),
  snapshotEveryEntries: Number(values['snapshot-every']),
});
const transport = new PeerTransport({
  self: id,
  listen: peerListen,
  peers,
  onMessages: (messages) => host.step(messages),
  onDropped: (messages) => host.dropped(messages),
});
const peerBound = await transport.start();
await host.start(transport, die);

async function handle(req: KvRequest): Promise<KvResponse> {
  const base = { id: req.id };
  if (typeof req.key !== 'string') return { ...base, ok: false, error: 'bad_request', message: 'key must be a string' };
  if (req.op === 'get') {
    const barrier = await host.readBarrier(requestTimeoutMs);
    if (barrier.status === 'ready') return { ...base, ok: true, value: kv.get(req.key) };
    if (barrier.status === 'timeout') return { ...base, ok: false, error: 'timeout' };
    return { ...base, ok: false, error: barrier.reason === 'NoLeader' ? 'not_leader' : 'unavailable', leader: barrier.leader || undefined, message: barrier.reason };
  }
  if (req.op !== 'put' && req.op !== 'append') return { ...base, ok: false, error: 'bad_request', message: `unknown op ${String(req.op)}` };
  if (typeof req.value !== 'string') return { ...base, ok: false, error: 'bad_request', message: 'value must be a string' };
  const outcome = await host.propose(encodeCommand([req.op, req.key, req.value]), requestTimeoutMs);
  if (outcome.status === 'applied') return { ...base, ok: true };
  if (outcome.status === 'timeout') return { ...base, ok: false, error: 'timeout' };
  const error = outcome.reason === 'NotLeader' ? 'not_leader' : 'unavailable';
  return { ...base, ok: false, error, leader: outcome.leader || undefined, message: outcome.reason };
}

const clientSockets = new Set<net.Socket>();
const clientServer = net.createServer((socket) => {
  socket.setNoDelay(true);
  clientSockets.add(socket);
  const decoder = new FrameDecoder();
  socket.on('data', (chunk: Buffer) => {
    try {
      decoder.push(chunk, (value) => {
        const req = value as KvRequest;
        void handle(req).then((res) => {
          if (!socket.destroyed) socket.write(encodeFrame(res));
        }, die);
      });
    } catch {
      socket.destroy();
    }
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => clientSockets.delete(socket));
});
await new Promise<void>((resolve, reject) => {
  clientServer.once('error', reject);
  clientServer.listen(clientListen.port, clientListen.host, () => resolve());
});
const clientBound = clientServer.address() as net.AddressInfo;
process.stdout.write(JSON.stringify({ id, peerPort: peerBound.port, clientPort: clientBound.port, pid: process.pid }) + '\n');

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clientServer.close();
  for (const s of clientSockets) s.destroy();
  await host.stop();
  if (values.stats) process.stderr.write(JSON.stringify({ id, host: host.stats, transport: transport.stats, log: log.stats }) + '\n');
  await transport.close();
  await log.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
process.on('uncaughtException', die);
process.on('unhandledRejection', die);
