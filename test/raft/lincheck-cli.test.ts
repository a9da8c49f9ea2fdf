/** The CLI as users run it: a child process, its output and its exit code. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(__dirname, '../..');
const CLI = join(REPO, 'src/raft/lincheck/cli.ts');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function lincheck(...args: string[]): Promise<Run> {
  return new Promise((done, fail) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        fail(error);
        return;
      }
      done({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

const kvLine = (process: number, type: string, f: string, key: string, value: string | null): string =>
  `{:process ${process}, :type :${type}, :f :${f}, :key "${key}", :value ${value === null ? 'nil' : `"${value}"`}}`;

let dir: string;
const file = (name: string, lines: string[]): string => {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lincheck-cli-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('lincheck CLI', () => {
  it('exits 0 and prints "linearizable: true" for a linearizable history', async () => {
    const path = file('ok.edn', [
      kvLine(0, 'invoke', 'put', 'a', 'x'),
      kvLine(0, 'ok', 'put', 'a', 'x'),
      kvLine(1, 'invoke', 'get', 'a', null),
      kvLine(1, 'ok', 'get', 'a', 'x'),
    ]);
    const run = await lincheck('--model', 'kv', path);
    expect(run.stdout.trim()).toBe('linearizable: true');
    expect(run.code).toBe(0);
  });

  it('exits 1 and explains a violation, naming the key', async () => {
    const path = file('bad.edn', [
      kvLine(0, 'invoke', 'put', 'a', 'x'),
      kvLine(0, 'ok', 'put', 'a', 'x'),
      kvLine(0, 'invoke', 'put', 'b', 'y'),
      kvLine(0, 'ok', 'put', 'b', 'y'),
      kvLine(1, 'invoke', 'get', 'b', null),
      kvLine(1, 'ok', 'get', 'b', ''),
    ]);
    const run = await lincheck('--model', 'kv', path);
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('linearizable: false');
    expect(run.stdout).toContain('not linearizable: key "b"');
    expect(run.stdout).toContain('longest linearizable prefix: 1 operation(s)');
    expect(run.stdout).toMatch(/could not be placed[\s\S]*get\("b"\) -> "" \[5, 6\] \(lines 5-6\)/);
  });

  it('exits 2 on bad input, with the line number', async () => {
    const path = file('broken.edn', [kvLine(0, 'invoke', 'put', 'a', 'x'), kvLine(0, 'ok', 'put', 'a', 'x'), '{:process 1, :type :invoke']);
    const run = await lincheck('--model', 'kv', path);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${path}:3:`);
    expect(run.stdout).toBe('');
  });

  it('exits 2 on bad usage or a missing file', async () => {
    const [badModel, noFile, missing] = await Promise.all([
      lincheck('--model', 'queue', 'x'),
      lincheck('--model', 'kv'),
      lincheck('--model', 'kv', join(dir, 'nope.edn')),
    ]);
    expect(badModel.code).toBe(2);
    expect(badModel.stderr).toMatch(/--model must be one of register, kv, set/);
    expect(noFile.code).toBe(2);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read/);
  });

  it('exits 3 with "linearizable: unknown" when the search runs out of time', async () => {
    // 16 concurrent appends and an impossible read: every order would have to be tried.
    const lines: string[] = [];
    for (let p = 0; p < 16; p++) lines.push(kvLine(p, 'invoke', 'append', 'k', String.fromCharCode(97 + p)));
    for (let p = 0; p < 16; p++) lines.push(kvLine(p, 'ok', 'append', 'k', String.fromCharCode(97 + p)));
    lines.push(kvLine(99, 'invoke', 'get', 'k', null), kvLine(99, 'ok', 'get', 'k', 'impossible'));
    const run = await lincheck('--model', 'kv', '--timeout-ms', '50', file('hard.edn', lines));
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/^linearizable: unknown\nsearch did not finish within 50 ms; unfinished: key "k"/);
  });

  it('checks Jepsen register logs', async () => {
    const row = (p: number, type: string, f: string, value: string): string => `INFO  jepsen.util - ${p}\t:${type}\t:${f}\t${value}`;
    const ok = file('register-ok.log', [row(0, 'invoke', 'write', '1'), row(0, 'ok', 'write', '1'), row(1, 'invoke', 'cas', '[1 2]'), row(1, 'ok', 'cas', '[1 2]')]);
    const bad = file('register-bad.log', [row(0, 'invoke', 'write', '1'), row(0, 'ok', 'write', '1'), row(1, 'invoke', 'cas', '[1 2]'), row(1, 'fail', 'cas', '[1 2]')]);
    const [good, run] = await Promise.all([lincheck('--model', 'register', ok), lincheck('--model', 'register', bad)]);
    expect(good.code).toBe(0);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('cas(1 -> 2) -> failed');
  });
});
