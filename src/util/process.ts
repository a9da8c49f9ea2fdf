import type { ChildProcess } from 'node:child_process';

/** Graceful stop of a child process: SIGTERM, SIGKILL if it is still running after `graceMs`. */
export async function terminate(child: ChildProcess, graceMs = 5000): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
