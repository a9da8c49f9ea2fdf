/** The `otlp-store` commands against a running node (child processes all the way). */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliCommand, REPO_ROOT, startNode, tempDir, type NodeProcess } from '../server/harness.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], timeoutMs = 60_000): Promise<Run> {
  const { command, args: full } = cliCommand(args);
  return new Promise((resolve, reject) => {
    const child = spawn(command, full, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`otlp-store ${args.join(' ')} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let node: NodeProcess;
const dir = tempDir();
beforeAll(async () => {
  node = await startNode(dir.path);
});
afterAll(async () => {
  await node?.stop();
  dir.remove();
});

describe('otlp-store CLI', () => {
  let httpTraceId = '';

  it('generate sends synthetic traces over OTLP/HTTP and gRPC', async () => {
    const http = await cli(['generate', '--otlp-url', node.http(), '--count', '30', '--rate', '0', '--seed', '7']);
    expect(http.code, http.stderr).toBe(0);
    expect(http.stdout).toMatch(/sent 30 traces \(\d+ spans\) over http/);
    httpTraceId = /otlp-store trace ([0-9a-f]{32})/.exec(http.stdout)![1]!;

    const grpc = await cli(['generate', '--protocol', 'grpc', '--otlp-url', `127.0.0.1:${node.ports.grpc}`, '--count', '12', '--batch', '4', '--rate', '0', '--tenant', 'cli-tenant']);
    expect(grpc.code, grpc.stderr).toBe(0);
    expect(grpc.stdout).toMatch(/sent 12 traces .* over grpc/);
    const services = (await (await fetch(node.jaeger('/api/services'), { headers: { 'x-scope-orgid': 'cli-tenant' } })).json()) as { data: string[] };
    expect(services.data).toEqual(expect.arrayContaining(['frontend']));
  });

  it('trace prints a span tree with services, names, durations and offsets', async () => {
    const run = await cli(['trace', httpTraceId, '--url', node.query()]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^Trace ${httpTraceId}\\s+\\d+ spans?, \\d+ services?, [\\d.]+(ms|µs|s)`));
    expect(lines[1]).toMatch(/^frontend {2}\S.* {2}[\d.]+(ms|µs|s) {2}\+0ns {2}\[server\]/);
    expect(lines.slice(2).every((l) => /^[│ ]*[├└]─ \S+ {2}.+ {2}[\d.]+(ns|µs|ms|s) {2}\+[\d.]+(ns|µs|ms|s)/.test(l))).toBe(true);

    const json = await cli(['trace', httpTraceId, '--url', node.query(), '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { resourceSpans: { scopeSpans: { spans: { traceId: string }[] }[] }[] };
    expect(parsed.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)).every((s) => s.traceId === httpTraceId)).toBe(true);

    const missing = await cli(['trace', 'ab'.repeat(16), '--url', node.query()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not found/);
  });

  it('search prints a table, and the API JSON with --json', async () => {
    const table = await cli(['search', '--url', node.query(), '--q', '{ resource.service.name = "frontend" }', '--since', '1h', '--limit', '5']);
    expect(table.code, table.stderr).toBe(0);
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^TRACE ID\s+START \(UTC\)\s+DURATION\s+ROOT SERVICE\s+ROOT NAME/);
    expect(rows.length).toBe(6);
    expect(rows.slice(1).every((r) => /^[0-9a-f]+\s+\d{4}-\d\d-\d\d .*frontend/.test(r))).toBe(true);

    const json = await cli(['search', '--url', node.query(), '--tags', 'service.name=payment', '--limit', '3', '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { traces: { traceID: string }[] };
    expect(parsed.traces.length).toBeGreaterThan(0);
    expect(parsed.traces.length).toBeLessThanOrEqual(3);

    const bad = await cli(['search', '--url', node.query(), '--q', '{ span.x = }']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/400/);
  });

  it('ready exits 0 for a ready node and 1 when nothing listens', async () => {
    const ok = await cli(['ready', '--url', node.query()]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ready/);
    const down = await cli(['ready', '--url', 'http://127.0.0.1:1', '--timeout', '2000']);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/not ready/);
  });

  it('--help describes every command; bad usage and bad config exit 2 naming the problem', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['start', 'trace', 'search', 'ready', 'generate']) expect(top.stdout).toContain(command);
    const help = await cli(['search', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--q TRACEQL/);

    const unknown = await cli(['search', '--bogus', '1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--bogus/);

    const config = join(dir.path, 'bad.yaml');
    writeFileSync(config, 'shards: many\n');
    const start = await cli(['start', '--config', config]);
    expect(start.code).toBe(2);
    expect(start.stderr).toMatch(/shards/);
  });
});
