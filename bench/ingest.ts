/**
 * `npm run bench:ingest` — OTLP ingest, end to end, against one node started as a child process.
 *
 * In one run: the machine's ceilings for the same requests (protobufjs full decode; LevelDB batch
 * writes of the same bytes with sync), then the node: idle RSS, HTTP/protobuf and gRPC ingest at
 * full load (accepted spans/s, acknowledgement latency), HTTP at half that rate (p95), peak RSS,
 * RSS while holding 10,000 idle connections, and trace-by-id and search latency over a large store.
 * Every phase is bounded in time or count. Flags: --seconds N (per load phase, default 20),
 * --connections N (default 32), --stored-spans N (default 10000000; 0 skips), --idle-connections N.
 */
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import autocannon, { type Result as AutocannonResult } from 'autocannon';
import * as grpc from '@grpc/grpc-js';
import { Level } from 'level';
import { otlpTypes } from '../src/otlp/proto.js';
import { generateRequests, stampUnique, type GeneratedRequest } from './lib/otlp-gen.js';
import { startNode, memoryOf, type RunningNode } from './lib/node-proc.js';
import { summarize, fmt, mib } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '32' },
    'grpc-concurrency': { type: 'string', default: '32' },
    'stored-spans': { type: 'string', default: '10000000' },
    'idle-connections': { type: 'string', default: '10000' },
    'data-dir': { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const GRPC_CONCURRENCY = Number(args['grpc-concurrency']);
const STORED_SPANS = Number(args['stored-spans']);
const IDLE_CONNECTIONS = Number(args['idle-connections']);

const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: { nproc: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), cpu: cpus()[0]?.model, node: process.version },
  command: `npm run bench:ingest -- ${process.argv.slice(2).join(' ')}`.trim(),
};
const log = (...a: unknown[]): void => console.log(...a);

const templates = generateRequests({ requests: 200 });
const SPANS_PER_REQUEST = templates[0]!.spans;
const bytesPerSpan = templates.reduce((n, r) => n + r.body.length, 0) / templates.reduce((n, r) => n + r.spans, 0);
log(`# ${templates.length} request templates, ${SPANS_PER_REQUEST} spans each, ${fmt(bytesPerSpan)} B/span`);
let seq = 1;
const nextBody = (): { body: Buffer; traceIds: Buffer[] } => stampUnique(templates[seq % templates.length] as GeneratedRequest, seq++);

function forAbout(ms: number, step: () => number): { spans: number; elapsedS: number } {
  const t0 = performance.now();
  let spans = 0;
  while (performance.now() - t0 < ms) spans += step();
  return { spans, elapsedS: (performance.now() - t0) / 1000 };
}

async function ceilingDecode(): Promise<number> {
  // The same protobufjs types the node loads (src/otlp/proto.ts), fully decoding.
  const Req = otlpTypes().ExportTraceServiceRequest;
  let i = 0;
  const { spans, elapsedS } = forAbout(4000, () => {
    const t = templates[i++ % templates.length]!;
    Req.decode(t.body);
    return t.spans;
  });
  return spans / elapsedS;
}

async function ceilingLevelDb(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-level-'));
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const t0 = performance.now();
  let spans = 0;
  let k = 0;
  // Groups of 8 requests per synced batch, 4 batches in flight: what a group-committing store could do.
  const worker = async (): Promise<void> => {
    while (performance.now() - t0 < 4000) {
      const ops = [];
      for (let j = 0; j < 8; j++) {
        const t = templates[k % templates.length]!;
        const key = Buffer.alloc(8);
        key.writeBigUInt64BE(BigInt(k++));
        ops.push({ type: 'put' as const, key, value: t.body });
        spans += t.spans;
      }
      await db.batch(ops, { sync: true });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const rate = spans / ((performance.now() - t0) / 1000);
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

interface LoadResult {
  acceptedSpansPerS: number;
  requestsOk: number;
  non2xx: number;
  errors: number;
  latencyMs: ReturnType<typeof summarize>;
  statusCodes: Record<string, number>;
}

async function httpLoad(node: RunningNode, opts: { seconds?: number; amount?: number; overallRate?: number; connections: number; keepIds?: Buffer[] }): Promise<LoadResult> {
  const latencies: number[] = [];
  const codes: Record<string, number> = {};
  const t0 = performance.now();
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const inst = autocannon(
      {
        url: `http://127.0.0.1:${node.ports.http}`,
        connections: opts.connections,
        // autocannon rejects keys present with an undefined value.
        ...(opts.seconds !== undefined ? { duration: opts.seconds } : {}),
        ...(opts.amount !== undefined ? { amount: opts.amount } : {}),
        ...(opts.overallRate !== undefined ? { overallRate: opts.overallRate } : {}),
        timeout: 30,
        requests: [
          {
            method: 'POST',
            path: '/v1/traces',
            headers: { 'content-type': 'application/x-protobuf' },
            setupRequest: (req) => {
              const { body, traceIds } = nextBody();
              if (opts.keepIds && opts.keepIds.length < 20_000 && seq % 7 === 0) opts.keepIds.push(traceIds[seq % traceIds.length]!);
              return { ...req, body };
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    inst.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      codes[statusCode] = (codes[statusCode] ?? 0) + 1;
      if (statusCode === 200) latencies.push(responseTime);
    });
  });
  const elapsedS = (performance.now() - t0) / 1000;
  const ok = codes['200'] ?? 0;
  return {
    acceptedSpansPerS: (ok * SPANS_PER_REQUEST) / elapsedS,
    requestsOk: ok,
    non2xx: result.non2xx,
    errors: result.errors,
    latencyMs: summarize(latencies),
    statusCodes: codes,
  };
}

async function grpcLoad(node: RunningNode, seconds: number, concurrency: number): Promise<LoadResult> {
  const client = new grpc.Client(`127.0.0.1:${node.ports.grpc}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  const identity = (b: Buffer): Buffer => b;
  const latencies: number[] = [];
  const codes: Record<string, number> = {};
  let ok = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const { body } = nextBody();
      const start = performance.now();
      const code = await new Promise<number>((resolve) => {
        client.makeUnaryRequest('/opentelemetry.proto.collector.trace.v1.TraceService/Export', identity, identity, body, new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (err) => resolve(err ? (err as grpc.ServiceError).code : 0));
      });
      codes[code] = (codes[code] ?? 0) + 1;
      if (code === 0) {
        ok++;
        latencies.push(performance.now() - start);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedS = (performance.now() - t0) / 1000;
  client.close();
  return { acceptedSpansPerS: (ok * SPANS_PER_REQUEST) / elapsedS, requestsOk: ok, non2xx: 0, errors: 0, latencyMs: summarize(latencies), statusCodes: codes };
}

async function holdIdleConnections(node: RunningNode, count: number): Promise<{ held: number; rss: number; readyWhileHeld: boolean }> {
  const sockets: Socket[] = [];
  let failed = 0;
  for (let i = 0; i < count; i += 500) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(500, count - i) }, () =>
        new Promise<Socket | null>((resolve) => {
          const s = connect({ host: '127.0.0.1', port: node.ports.http });
          s.once('connect', () => resolve(s));
          s.once('error', () => resolve(null));
          s.setTimeout(20_000, () => resolve(null));
        }),
      ),
    );
    for (const s of batch) (s ? sockets.push(s) : failed++);
  }
  // Let the server accept and settle, then check it still serves while holding them all.
  await new Promise((r) => setTimeout(r, 2000));
  const alive = sockets.filter((s) => !s.destroyed).length;
  const rss = memoryOf(node.pid).rss;
  let readyWhileHeld = false;
  try {
    readyWhileHeld = (await fetch(`http://127.0.0.1:${node.ports.query}/ready`)).ok;
  } catch {
    readyWhileHeld = false;
  }
  for (const s of sockets) s.destroy();
  if (failed) log(`  ${failed} connections failed to open`);
  return { held: alive, rss, readyWhileHeld };
}

async function latencyOf(urls: string[], headers: Record<string, string> = {}): Promise<ReturnType<typeof summarize> & { statuses: Record<string, number> }> {
  const samples: number[] = [];
  const statuses: Record<string, number> = {};
  for (const url of urls) {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    samples.push(performance.now() - t0);
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  }
  return { ...summarize(samples), statuses };
}

async function main(): Promise<void> {
  // Measure the compiled build, as `npm start` runs it.
  execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
  log(`\n## Ceilings on this machine (same requests, in-process)`);
  const decode = await ceilingDecode();
  log(`protobufjs full decode: ${fmt(decode)} spans/s`);
  const level = await ceilingLevelDb();
  log(`LevelDB batch writes of the same bytes (8 requests a synced batch, 4 in flight): ${fmt(level)} spans/s`);
  report.ceilings = { protobufjsDecodeSpansPerS: decode, levelDbSyncedBatchSpansPerS: level };

  const dataDir = args['data-dir'] ?? mkdtempSync(join(tmpdir(), 'bench-node-'));
  mkdirSync(dataDir, { recursive: true });
  const node = await startNode(dataDir);
  try {
    await waitReady(node);
    await new Promise((r) => setTimeout(r, 3000));
    const idle = memoryOf(node.pid).rss;
    log(`\n## Node\nidle RSS: ${mib(idle)}`);
    report.idleRss = idle;

    log(`\nHTTP/protobuf, ${CONNECTIONS} connections, ${SECONDS} s ...`);
    const http = await httpLoad(node, { seconds: SECONDS, connections: CONNECTIONS });
    log(`  accepted ${fmt(http.acceptedSpansPerS)} spans/s; ack latency ms p50 ${fmt(http.latencyMs.p50, 1)} p95 ${fmt(http.latencyMs.p95, 1)} p99 ${fmt(http.latencyMs.p99, 1)}; statuses ${JSON.stringify(http.statusCodes)}`);
    log(`  ratio to protobufjs decode: ${fmt(http.acceptedSpansPerS / decode, 2)}; to LevelDB synced batches: ${fmt(http.acceptedSpansPerS / level, 2)}`);
    report.http = http;

    log(`\ngRPC, ${GRPC_CONCURRENCY} concurrent calls, ${SECONDS} s ...`);
    const g = await grpcLoad(node, SECONDS, GRPC_CONCURRENCY);
    log(`  accepted ${fmt(g.acceptedSpansPerS)} spans/s; ack latency ms p50 ${fmt(g.latencyMs.p50, 1)} p95 ${fmt(g.latencyMs.p95, 1)} p99 ${fmt(g.latencyMs.p99, 1)}; codes ${JSON.stringify(g.statusCodes)}`);
    log(`  ratio to protobufjs decode: ${fmt(g.acceptedSpansPerS / decode, 2)}`);
    report.grpc = g;

    const halfRate = Math.max(1, Math.floor(http.acceptedSpansPerS / 2 / SPANS_PER_REQUEST));
    log(`\nHTTP/protobuf at half that rate (${halfRate} requests/s = ${fmt(halfRate * SPANS_PER_REQUEST)} spans/s), ${SECONDS} s ...`);
    const half = await httpLoad(node, { seconds: SECONDS, connections: CONNECTIONS, overallRate: halfRate });
    log(`  accepted ${fmt(half.acceptedSpansPerS)} spans/s; ack latency ms p50 ${fmt(half.latencyMs.p50, 1)} p95 ${fmt(half.latencyMs.p95, 1)} p99 ${fmt(half.latencyMs.p99, 1)}`);
    report.httpHalfRate = half;

    const mem = memoryOf(node.pid);
    log(`peak RSS so far: ${mib(mem.peakRss)}`);
    report.peakRssAfterLoad = mem.peakRss;

    if (IDLE_CONNECTIONS > 0) {
      log(`\nholding ${IDLE_CONNECTIONS} idle connections ...`);
      const held = await holdIdleConnections(node, IDLE_CONNECTIONS);
      log(`  held ${held.held}; RSS ${mib(held.rss)}; /ready while held: ${held.readyWhileHeld}`);
      report.idleConnections = held;
    }

    if (STORED_SPANS > 0) {
      const already = (http.requestsOk + g.requestsOk + half.requestsOk) * SPANS_PER_REQUEST;
      const more = Math.max(0, STORED_SPANS - already);
      const keepIds: Buffer[] = [];
      log(`\nloading ${fmt(more)} more spans (to ${fmt(STORED_SPANS)} stored) ...`);
      const t0 = performance.now();
      // At least a few requests, so there are known ids to look up.
      const load = await httpLoad(node, { amount: Math.max(200, Math.ceil(more / SPANS_PER_REQUEST)), connections: CONNECTIONS, keepIds });
      log(`  loaded at ${fmt(load.acceptedSpansPerS)} spans/s in ${fmt((performance.now() - t0) / 1000)} s; statuses ${JSON.stringify(load.statusCodes)}`);
      report.load10M = { acceptedSpansPerS: load.acceptedSpansPerS, statusCodes: load.statusCodes, seconds: (performance.now() - t0) / 1000 };
      const q = `http://127.0.0.1:${node.ports.query}`;
      const ids = Array.from({ length: 300 }, (_, i) => keepIds[(i * 7919) % keepIds.length]!.toString('hex'));
      const byId = await latencyOf(ids.map((id) => `${q}/api/v2/traces/${id}`), { accept: 'application/protobuf' });
      log(`  trace by id (v2, protobuf), ${byId.n} lookups: ms p50 ${fmt(byId.p50, 2)} p95 ${fmt(byId.p95, 2)} p99 ${fmt(byId.p99, 2)}; statuses ${JSON.stringify(byId.statuses)}`);
      const nowS = Math.floor(Date.now() / 1000);
      const searches = [
        `/api/search?tags=${encodeURIComponent('service.name=payments')}&limit=20`,
        `/api/search?q=${encodeURIComponent('{ span.http.status_code = 500 }')}&limit=20`,
        `/api/search?q=${encodeURIComponent('{ resource.service.name = "checkout" && duration > 4ms }')}&limit=20`,
        `/api/search?q=${encodeURIComponent('{ name = "Charge" && span.user.id = "user-7" }')}&limit=20&start=${nowS - 3600}&end=${nowS + 60}`,
        `/api/search?minDuration=4900us&limit=20`,
      ];
      const searchUrls: string[] = [];
      for (let i = 0; i < 40; i++) for (const s of searches) searchUrls.push(q + s);
      const search = await latencyOf(searchUrls);
      log(`  search, ${search.n} queries of ${searches.length} shapes: ms p50 ${fmt(search.p50, 1)} p95 ${fmt(search.p95, 1)} p99 ${fmt(search.p99, 1)}; statuses ${JSON.stringify(search.statuses)}`);
      report.traceById = byId;
      report.search = search;
      report.peakRss = memoryOf(node.pid).peakRss;
      log(`  peak RSS: ${mib(report.peakRss as number)}`);
    }
  } finally {
    await node.stop();
    if (!args['data-dir']) rmSync(dataDir, { recursive: true, force: true });
  }
  mkdirSync('bench/out', { recursive: true });
  const file = join('bench/out', `ingest-${(report.date as string).replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? String(v) : v), 2));
  log(`\nreport written to ${file}`);
}

async function waitReady(node: RunningNode): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${node.ports.query}/ready`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('node not ready within 60 s');
}

await main();
