/**
 * Runs an otlp-store node as a child process (`tsx src/cli/main.ts start ...` on ephemeral ports)
 * for integration tests, and reads the ports it reports on its "listening" line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export interface Ports {
  grpc: number;
  http: number;
  query: number;
  jaeger: number;
}

export interface NodeProcess {
  child: ChildProcess;
  ports: Ports;
  dataDir: string;
  /** stdout + stderr lines so far (bounded). */
  output: string[];
  http(path?: string): string;
  query(path?: string): string;
  jaeger(path?: string): string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill9(): Promise<void>;
  exited: Promise<number | null>;
}

export function tempDir(prefix = 'otlp-store-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function cliCommand(args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts'), ...args] };
}

export async function startNode(dataDir: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<NodeProcess> {
  const { command, args } = cliCommand([
    'start', '--data-dir', dataDir, '--host', '127.0.0.1',
    '--grpc-port', '0', '--http-port', '0', '--query-port', '0', '--jaeger-port', '0',
    '--log-level', 'warn', '--shards', '4', ...extraArgs,
  ]);
  const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  running.add(child);
  const output: string[] = [];
  const remember = (line: string): void => {
    output.push(line);
    if (output.length > 500) output.shift();
  };
  createInterface({ input: child.stderr! }).on('line', remember);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    running.delete(child);
    resolve(code);
  }));
  const ports = await new Promise<Ports>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not report ports in ${timeoutMs} ms:\n${output.join('\n')}`)), timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code} before reporting ports:\n${output.join('\n')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      remember(line);
      if (!line.startsWith('{')) return;
      try {
        const obj = JSON.parse(line) as { msg?: string; ports?: Ports };
        if (obj.msg === 'listening' && obj.ports) {
          clearTimeout(timer);
          resolve(obj.ports);
        }
      } catch {
        // not JSON: ignore
      }
    });
  });
  const url = (port: number) => (path = '') => `http://127.0.0.1:${port}${path}`;
  return {
    child,
    ports,
    dataDir,
    output,
    http: url(ports.http),
    query: url(ports.query),
    jaeger: url(ports.jaeger),
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    kill9: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or throws after timeoutMs. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
