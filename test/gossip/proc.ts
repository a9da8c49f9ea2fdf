/**
 * Test helper: runs src/gossip/node.ts as a real child process and tracks its view of the cluster
 * from the JSON lines it prints. Waits are condition-based with deadlines, never sleeps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NODE_SCRIPT = path.join(REPO_ROOT, 'src/gossip/node.ts');

export interface NodeLine {
  type: string;
  [key: string]: unknown;
}

export class MemberProcess {
  readonly child: ChildProcess;
  readonly lines: NodeLine[] = [];
  /** member name → last status this process reported for it. */
  readonly view = new Map<string, { status: string; incarnation: number }>();
  port = 0;
  exited = false;
  private waiters: (() => void)[] = [];
  private stderr = '';

  constructor(readonly name: string, args: string[], prefix: string[] = []) {
    const argv = [...prefix, process.execPath, '--import', 'tsx', NODE_SCRIPT, '--name', name, ...args];
    this.child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let buf = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.onLine(line);
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    this.child.on('exit', () => {
      this.exited = true;
      this.notify();
    });
  }

  private onLine(line: string): void {
    let obj: NodeLine;
    try {
      obj = JSON.parse(line) as NodeLine;
    } catch {
      return;
    }
    this.lines.push(obj);
    if (obj.type === 'listening') this.port = obj.port as number;
    if (obj.type === 'event') {
      this.view.set(obj.member as string, { status: obj.status as string, incarnation: obj.incarnation as number });
    }
    this.notify();
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when cond() holds, re-checked on every output line; rejects at the deadline. */
  waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else if (this.exited && !cond()) {
          clearTimeout(timer);
          reject(new Error(`${this.name} exited while waiting for ${what}; stderr: ${this.stderr}`));
        } else {
          this.waiters.push(check);
        }
      };
      const timer = setTimeout(() => {
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${this.stderr}`));
      }, timeoutMs);
      check();
    });
  }

  statusOf(member: string): string | undefined {
    return this.view.get(member)?.status;
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.exited) this.child.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGKILL');
    await new Promise<void>((resolve) => {
      if (this.exited) resolve();
      else this.child.once('exit', () => resolve());
    });
  }
}

/** Waits until every process in `observers` satisfies cond, all against one shared deadline. */
export async function waitAll(observers: MemberProcess[], cond: (p: MemberProcess) => boolean, timeoutMs: number,
  what: string): Promise<number> {
  const start = Date.now();
  await Promise.all(observers.map((p) => p.waitFor(() => cond(p), timeoutMs, what)));
  return Date.now() - start;
}
