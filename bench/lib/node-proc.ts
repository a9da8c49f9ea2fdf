/** Start an otlp-store node as a child process for benchmarks and read the ports it bound. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface NodePorts {
  grpc: number;
  http: number;
  query: number;
  jaeger: number;
}

export interface RunningNode {
  child: ChildProcess;
  pid: number;
  ports: NodePorts;
  stop(): Promise<void>;
}

/** Picks the bound ports out of a JSON log line, whatever shape the node prints them in. */
function portsFrom(line: string): NodePorts | null {
  if (!line.startsWith('{')) return null;
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
  const src = (typeof obj.ports === 'object' && obj.ports ? obj.ports : obj) as Record<string, unknown>;
  const pick = (...names: string[]): number | undefined => {
    for (const n of names) if (typeof src[n] === 'number') return src[n] as number;
    return undefined;
  };
  const grpc = pick('grpc', 'grpcPort');
  const http = pick('http', 'httpPort', 'otlpHttp');
  const query = pick('query', 'queryPort', 'tempo');
  const jaeger = pick('jaeger', 'jaegerPort');
  if (grpc && http && query && jaeger) return { grpc, http, query, jaeger };
  return null;
}

export async function startNode(dataDir: string, extraArgs: string[] = [], timeoutMs = 60_000): Promise<RunningNode> {
  const child = spawn(
    process.execPath,
    ['dist/cli/main.js', 'start', '--data-dir', dataDir,
      '--grpc-port', '0', '--http-port', '0', '--query-port', '0', '--jaeger-port', '0', '--log-level', 'warn', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout! });
  const ports = await new Promise<NodePorts>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not report its ports in ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code} before reporting ports; stderr: ${stderr}`));
    });
    lines.on('line', (line) => {
      const p = portsFrom(line);
      if (p) {
        clearTimeout(timer);
        resolve(p);
      }
    });
  });
  return {
    child,
    pid: child.pid!,
    ports,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
      }),
  };
}

/** Resident set size and its high-water mark, in bytes, from /proc. */
export function memoryOf(pid: number): { rss: number; peakRss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
}
