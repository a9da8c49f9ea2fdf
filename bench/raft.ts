/**
 * Raft benchmark: three real KV node processes on loopback (fsync on) against a three-member etcd
 * cluster on loopback, same workload: P concurrent proposers each putting S-byte values in a
 * closed loop for a fixed time. Reports puts/s, MiB/s of values, p50/p99 commit latency (client
 * view: acknowledged = committed on a majority, fsync'd, applied), and ours/etcd ratios.
 *
 *   npm run bench:raft                     # full matrix, 10 s per cell, writes bench/results/raft.md
 *   npm run bench:raft -- --seconds 3 --sizes 1024 --concurrency 1,16 --no-write
 *   npm run bench:raft -- --systems ours --cpu-prof /tmp/raft-prof
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { LocalCluster } from '../src/raft/kv/local-cluster.js';
import { KvRouter } from '../src/raft/kv/router.js';
import { EtcdCluster, etcdVersion, postJson, type EtcdMember } from './raft/etcd-cluster.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    sizes: { type: 'string', default: '1024,16384' },
    concurrency: { type: 'string', default: '1,16,64' },
    systems: { type: 'string', default: 'ours,etcd' },
    'cpu-prof': { type: 'string' },
    'node-stats': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    repeat: { type: 'string', default: '1' },
    out: { type: 'string', default: 'bench/results/raft.md' },
  },
});

const seconds = Number(values.seconds);
const warmupSeconds = Number(values.warmup);
const sizes = values.sizes!.split(',').map(Number);
const concurrencies = values.concurrency!.split(',').map(Number);
const systems = values.systems!.split(',') as ('ours' | 'etcd')[];
const repeat = Math.max(1, Number(values.repeat));
const startedAt = new Date();

interface Cell {
  system: 'ours' | 'etcd';
  size: number;
  concurrency: number;
  ops: number;
  errors: number;
  seconds: number;
  opsPerSec: number;
  mibPerSec: number;
  p50ms: number;
  p99ms: number;
  /** Every run's MiB/s, in run order, when the matrix was repeated. */
  allMibPerSec?: number[];
}

type PutFn = (key: string, value: string) => Promise<boolean>;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** P closed-loop proposers for warmup + measure seconds; only the measured window counts. */
async function runCell(system: Cell['system'], size: number, concurrency: number, makePut: () => PutFn): Promise<Cell> {
  const value = 'v'.repeat(size);
  const latencies: number[] = [];
  let ops = 0;
  let errors = 0;
  const start = performance.now();
  const measureFrom = start + warmupSeconds * 1000;
  const stopAt = measureFrom + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, p) => {
      const put = makePut();
      let n = 0;
      while (performance.now() < stopAt) {
        const t0 = performance.now();
        const ok = await put(`bench/${p}/${n++ % 64}`, value);
        const t1 = performance.now();
        if (t0 < measureFrom || t1 > stopAt) continue;
        if (ok) {
          ops++;
          latencies.push(t1 - t0);
        } else errors++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const cell: Cell = {
    system,
    size,
    concurrency,
    ops,
    errors,
    seconds,
    opsPerSec: ops / seconds,
    mibPerSec: (ops * size) / seconds / (1024 * 1024),
    p50ms: percentile(latencies, 50),
    p99ms: percentile(latencies, 99),
  };
  console.log(
    `${system.padEnd(4)} size=${String(size).padStart(5)} P=${String(concurrency).padStart(2)}  ` +
      `${cell.opsPerSec.toFixed(0).padStart(6)} puts/s  ${cell.mibPerSec.toFixed(2).padStart(7)} MiB/s  ` +
      `p50 ${cell.p50ms.toFixed(2)} ms  p99 ${cell.p99ms.toFixed(2)} ms  errors ${errors}`,
  );
  return cell;
}

interface System {
  name: Cell['system'];
  makePut(size: number, concurrency: number): { put: () => PutFn; done: () => void };
  stop(): Promise<void>;
}

async function startOurs(baseDir: string): Promise<System> {
  const nodeFlags = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [];
  const cluster = await LocalCluster.create(3, path.join(baseDir, 'ours'), values['node-stats'] ? ['--stats'] : [], nodeFlags);
  await cluster.startAll();
  const addresses = new Map(cluster.nodes.map((n) => [n.id, n.client]));
  const probe = new KvRouter(addresses);
  const deadline = Date.now() + 20_000;
  while (!(await probe.request('put', 'probe', 'x', 2000)).ok) {
    if (Date.now() > deadline) throw new Error('our cluster did not become writable');
    await new Promise((r) => setTimeout(r, 100));
  }
  probe.close();
  return {
    name: 'ours',
    makePut() {
      const routers: KvRouter[] = [];
      return {
        put: () => {
          const router = new KvRouter(addresses);
          routers.push(router);
          return async (key, value) => (await router.request('put', key, value, 10_000)).ok;
        },
        done: () => routers.forEach((r) => r.close()),
      };
    },
    async stop() {
      await cluster.stopAll(); // SIGTERM: lets --cpu-prof write its profiles
      if (values['node-stats']) for (const n of cluster.nodes) console.log(n.stderrTail.trim());
    },
  };
}

async function startEtcd(baseDir: string): Promise<System> {
  const cluster = await EtcdCluster.create(path.join(baseDir, 'etcd'));
  await cluster.start();
  const leader = (await cluster.leader()) as EtcdMember;
  return {
    name: 'etcd',
    makePut(size, concurrency) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
      const valueB64 = Buffer.from('v'.repeat(size)).toString('base64');
      return {
        put: () => async (key) => {
          try {
            await postJson(leader, '/v3/kv/put', { key: Buffer.from(key).toString('base64'), value: valueB64 }, agent);
            return true;
          } catch {
            return false;
          }
        },
        done: () => agent.destroy(),
      };
    },
    stop: () => cluster.stop(),
  };
}

/**
 * Both clusters run side by side (the idle one only heartbeats) and each cell runs on one, then
 * the other, alternating which goes first: the machine is shared, so load from elsewhere hits
 * both systems alike instead of whichever happened to run during a busy minute.
 */
async function runMatrix(started: System[]): Promise<Cell[]> {
  const runs: Cell[] = [];
  let flip = false;
  for (let r = 0; r < repeat; r++) {
    for (const size of sizes) {
      for (const concurrency of concurrencies) {
        const order = flip ? [...started].reverse() : started;
        flip = !flip;
        for (const system of order) {
          const { put, done } = system.makePut(size, concurrency);
          runs.push(await runCell(system.name, size, concurrency, put));
          done();
        }
      }
    }
  }
  // With repeats, each cell reports its median run by MiB/s (all runs are listed too).
  const cells: Cell[] = [];
  for (const system of started) {
    for (const size of sizes) {
      for (const concurrency of concurrencies) {
        const same = runs.filter((c) => c.system === system.name && c.size === size && c.concurrency === concurrency);
        same.sort((a, b) => a.mibPerSec - b.mibPerSec);
        const median = same[Math.floor((same.length - 1) / 2)]!;
        cells.push({ ...median, allMibPerSec: runs.filter((c) => same.includes(c)).map((c) => c.mibPerSec) });
      }
    }
  }
  return cells;
}

/** fdatasync latency of the disk under the temp dir, for context. */
function fsyncProbe(dir: string): { p50ms: number; n: number } {
  const file = path.join(dir, 'fsync-probe');
  const fd = fs.openSync(file, 'w');
  const buf = Buffer.alloc(4096, 1);
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    fs.writeSync(fd, buf);
    const t0 = performance.now();
    fs.fdatasyncSync(fd);
    times.push(performance.now() - t0);
  }
  fs.closeSync(fd);
  fs.unlinkSync(file);
  times.sort((a, b) => a - b);
  return { p50ms: percentile(times, 50), n: times.length };
}

function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
}

function report(cells: Cell[], fsync: { p50ms: number }, etcd: string | null): string {
  const lines: string[] = [];
  const command = `npm run bench:raft${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
  lines.push('# Raft benchmark: otlp-store Raft KV vs etcd', '');
  lines.push(`- Command: \`${command}\``);
  lines.push(`- Date: ${startedAt.toISOString()} to ${new Date().toISOString()}`);
  lines.push(`- Machine: nproc ${os.cpus().length}, memory ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.cpus()[0]?.model ?? 'unknown CPU'}; Node ${process.version}`);
  lines.push(`- Disk: fdatasync of a 4 KiB append, p50 ${fsync.p50ms.toFixed(2)} ms (data dirs under ${os.tmpdir()})`);
  lines.push(`- etcd: ${etcd ?? 'not installed'} (Debian etcd-server), v3 JSON gateway \`POST /v3/kv/put\`, base64 key/value, keep-alive HTTP, requests sent to the leader`);
  lines.push(`- Ours: \`src/raft/kv/node.ts\` ×3 on 127.0.0.1–3, msgpack over TCP, fsync'd group commit; requests to the leader`);
  lines.push(`- Workload: P closed-loop proposers, each putting S-byte values to 64 keys of its own; ${warmupSeconds} s warm-up then ${seconds} s measured per cell; client in one Node process; both clusters up side by side, each cell run on one then the other (order alternating)`);
  lines.push('- Latency: client-observed time from request to acknowledgement (committed on a majority with fsync, applied)', '');
  lines.push('| entry | proposers | ours puts/s | ours MiB/s | ours p50 / p99 ms | etcd puts/s | etcd MiB/s | etcd p50 / p99 ms | MiB/s ratio |');
  lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const size of sizes) {
    for (const concurrency of concurrencies) {
      const o = cells.find((c) => c.system === 'ours' && c.size === size && c.concurrency === concurrency);
      const e = cells.find((c) => c.system === 'etcd' && c.size === size && c.concurrency === concurrency);
      const fmt = (c: Cell | undefined): string[] =>
        c ? [c.opsPerSec.toFixed(0), c.mibPerSec.toFixed(2), `${c.p50ms.toFixed(2)} / ${c.p99ms.toFixed(2)}`] : ['–', '–', '–'];
      const sizeLabel = size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
      lines.push(`| ${sizeLabel} | ${concurrency} | ${[...fmt(o), ...fmt(e)].join(' | ')} | ${o && e ? ratio(o.mibPerSec, e.mibPerSec) : 'n/a'} |`);
    }
  }
  if (repeat > 1) {
    lines.push('', `Each cell ran ${repeat} times (interleaved); the table shows the median run by MiB/s. All runs, MiB/s:`, '');
    for (const c of cells) lines.push(`- ${c.system} ${c.size} B × ${c.concurrency}: ${c.allMibPerSec!.map((m) => m.toFixed(2)).join(', ')}`);
  }
  const errors = cells.filter((c) => c.errors > 0);
  if (errors.length > 0) {
    lines.push('', `Errors: ${errors.map((c) => `${c.system} ${c.size}B P=${c.concurrency}: ${c.errors}`).join('; ')}`);
  }
  return lines.join('\n') + '\n';
}

const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-raft-'));
try {
  const fsync = fsyncProbe(baseDir);
  console.log(`fdatasync p50 ${fsync.p50ms.toFixed(2)} ms; nproc ${os.cpus().length}`);
  const etcd = etcdVersion();
  const started: System[] = [];
  let cells: Cell[] = [];
  try {
    if (systems.includes('ours')) started.push(await startOurs(baseDir));
    if (systems.includes('etcd')) {
      if (!etcd) console.log('etcd not installed (apt-get install -y etcd-server): skipping the comparison');
      else started.push(await startEtcd(baseDir));
    }
    cells = await runMatrix(started);
  } finally {
    for (const system of started) await system.stop();
  }
  const text = report(cells, fsync, etcd);
  console.log('\n' + text);
  if (!values['no-write']) {
    const out = values.out!;
    const previous = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
    // Keep hand-written analysis below the generated table.
    const marker = '\n## Analysis';
    const analysis = previous.includes(marker) ? previous.slice(previous.indexOf(marker)) : '';
    fs.writeFileSync(out, text + analysis);
    console.log(`wrote ${out}`);
  }
} finally {
  fs.rmSync(baseDir, { recursive: true, force: true });
}
