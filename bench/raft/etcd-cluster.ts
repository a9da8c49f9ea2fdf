/**
 * A three-member etcd cluster on 127.0.0.1-3 (Debian's etcd-server), and a put client over its
 * v3 JSON gateway (`POST /v3/kv/put`, base64 key and value) with keep-alive HTTP.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { findCommonFreePort } from '../../src/raft/kv/local-cluster.js';
import { terminate } from '../../src/util/process.js';

export interface EtcdMember {
  name: string;
  host: string;
  clientPort: number;
  process: ChildProcess | null;
  stderrTail: string;
}

export function etcdVersion(): string | null {
  try {
    return execFileSync('etcd', ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return null;
  }
}

export class EtcdCluster {
  readonly members: EtcdMember[] = [];

  private constructor(
    private readonly baseDir: string,
    private readonly peerPort: number,
    clientPort: number,
  ) {
    for (let i = 1; i <= 3; i++) {
      this.members.push({ name: `e${i}`, host: `127.0.0.${i}`, clientPort, process: null, stderrTail: '' });
    }
  }

  static async create(baseDir: string): Promise<EtcdCluster> {
    const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
    const peerPort = await findCommonFreePort(hosts);
    let clientPort = await findCommonFreePort(hosts);
    while (clientPort === peerPort) clientPort = await findCommonFreePort(hosts);
    return new EtcdCluster(baseDir, peerPort, clientPort);
  }

  async start(): Promise<void> {
    const initial = this.members.map((m) => `${m.name}=http://${m.host}:${this.peerPort}`).join(',');
    for (const m of this.members) {
      const args = [
        '--name', m.name,
        '--data-dir', path.join(this.baseDir, m.name),
        '--listen-client-urls', `http://${m.host}:${m.clientPort}`,
        '--advertise-client-urls', `http://${m.host}:${m.clientPort}`,
        '--listen-peer-urls', `http://${m.host}:${this.peerPort}`,
        '--initial-advertise-peer-urls', `http://${m.host}:${this.peerPort}`,
        '--initial-cluster', initial,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', `bench-${process.pid}`,
        '--quota-backend-bytes', String(8 * 1024 * 1024 * 1024),
        '--logger', 'zap',
        '--log-level', 'error',
      ];
      const child = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      m.process = child;
      child.stderr!.on('data', (c: Buffer) => {
        m.stderrTail = (m.stderrTail + c.toString()).slice(-4000);
      });
      child.on('exit', () => {
        m.process = null;
      });
    }
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if ((await this.leader()) !== null) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`etcd cluster did not elect a leader: ${this.members.map((m) => m.stderrTail).join('\n')}`);
  }

  /** The member that currently leads, by asking each member's maintenance status. */
  async leader(): Promise<EtcdMember | null> {
    for (const m of this.members) {
      try {
        const status = (await postJson(m, '/v3/maintenance/status', {}, null)) as { header?: { member_id?: string }; leader?: string };
        if (status.leader && status.header?.member_id === status.leader) return m;
      } catch {
        // not up yet
      }
    }
    return null;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        if (m.process) await terminate(m.process);
      }),
    );
  }
}

export function postJson(member: { host: string; clientPort: number }, urlPath: string, body: unknown, agent: http.Agent | null): Promise<unknown> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: member.host,
        port: member.clientPort,
        path: urlPath,
        method: 'POST',
        agent: agent ?? undefined,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 200) reject(new Error(`etcd ${urlPath}: HTTP ${res.statusCode} ${text.slice(0, 200)}`));
          else resolve(JSON.parse(text));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
