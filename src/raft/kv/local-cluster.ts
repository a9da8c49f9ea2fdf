/**
 * Launches KV node processes on 127.0.0.x (one address per node, same ports), for tests and the
 * benchmark: start, kill -9, restart, stop. Node processes run as `node --import tsx node.ts`
 * directly (no wrapper process), so a signal reaches the node itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { terminate } from '../../util/process.js';
import type { HostPort } from './framing.js';

const NODE_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node.ts');

export interface LocalNode {
  id: string;
  host: string;
  dataDir: string;
  client: HostPort;
  process: ChildProcess | null;
  /** Last lines of stderr, for failure messages. */
  stderrTail: string;
}

export interface LocalClusterOptions {
  size: number;
  baseDir: string;
  peerPort: number;
  clientPort: number;
  extraArgs?: string[];
  /** Flags for node itself, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']. */
  nodeFlags?: string[];
  startTimeoutMs?: number;
}

/** A port free on 127.0.0.1..127.0.0.n at the same time (each node binds its own address). */
export async function findCommonFreePort(hosts: string[], tries = 20): Promise<number> {
  for (let attempt = 0; attempt < tries; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    let free = true;
    for (const host of hosts) {
      if (!(await canBind(host, port))) {
        free = false;
        break;
      }
    }
    if (free) return port;
  }
  throw new Error(`no common free port on ${hosts.join(', ')} after ${tries} tries`);
}

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export class LocalCluster {
  readonly nodes: LocalNode[] = [];
  private readonly peersArg: string;

  constructor(private readonly options: LocalClusterOptions) {
    for (let i = 1; i <= options.size; i++) {
      const host = `127.0.0.${i}`;
      this.nodes.push({
        id: `n${i}`,
        host,
        dataDir: path.join(options.baseDir, `n${i}`),
        client: { host, port: options.clientPort },
        process: null,
        stderrTail: '',
      });
    }
    this.peersArg = this.nodes.map((n) => `${n.id}=${n.host}:${options.peerPort}`).join(',');
  }

  static async create(size: number, baseDir: string, extraArgs: string[] = [], nodeFlags: string[] = []): Promise<LocalCluster> {
    const hosts = Array.from({ length: size }, (_, i) => `127.0.0.${i + 1}`);
    const peerPort = await findCommonFreePort(hosts);
    let clientPort = await findCommonFreePort(hosts);
    while (clientPort === peerPort) clientPort = await findCommonFreePort(hosts);
    return new LocalCluster({ size, baseDir, peerPort, clientPort, extraArgs, nodeFlags });
  }

  async startAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.start(n)));
  }

  /** Start a node and wait for its ready line. */
  start(node: LocalNode): Promise<void> {
    if (node.process) throw new Error(`${node.id} is already running`);
    const args = [
      ...(this.options.nodeFlags ?? []),
      '--import',
      'tsx',
      NODE_SCRIPT,
      '--id',
      node.id,
      '--data',
      node.dataDir,
      '--peer-listen',
      `${node.host}:${this.options.peerPort}`,
      '--client-listen',
      `${node.host}:${this.options.clientPort}`,
      '--peers',
      this.peersArg,
      ...(this.options.extraArgs ?? []),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    node.process = child;
    node.stderrTail = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      node.stderrTail = (node.stderrTail + chunk.toString()).slice(-4000);
    });
    child.on('exit', () => {
      if (node.process === child) node.process = null;
    });
    const timeoutMs = this.options.startTimeoutMs ?? 20_000;
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${node.id} did not start within ${timeoutMs} ms: ${node.stderrTail}`)), timeoutMs);
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${node.id} exited during start (code ${code}, signal ${signal}): ${node.stderrTail}`));
      });
    });
  }

  /** kill -9 and wait until the process is gone. */
  async kill9(node: LocalNode): Promise<void> {
    const child = node.process;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Graceful stop of every running node (SIGTERM, then SIGKILL after a deadline). */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        if (node.process) await terminate(node.process);
      }),
    );
  }

  /** Exit information of nodes that died on their own (not by kill9), for assertions. */
  crashed(): LocalNode[] {
    return this.nodes.filter((n) => n.process === null && n.stderrTail.includes('fatal'));
  }
}
