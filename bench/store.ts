/**
 * Store benchmark (not a test): write throughput with fsync'd group commit against a same-session
 * LevelDB-only baseline, then trace-by-id and search latency over a large store.
 *
 *   npx tsx bench/store.ts [--throughput-spans 400000] [--large-spans 10000000] [--concurrency 8]
 *                          [--head-mb 64] [--max-build-s 1500] [--out bench/results/store.md]
 *
 * Input: bench/lib/otlp-gen.ts requests (100 spans, 10 per trace, ~11 attributes a span, 3
 * services), given unique trace ids per request and scanned by otlp/'s scanner into SpanBatches
 * before the timed part (the timed part is the store alone).
 */
import { ClassicLevel } from 'classic-level';
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import * as path from 'node:path';
import { scanExportTraceRequest } from '../src/otlp/index.js';
import type { SpanBatch } from '../src/otlp/model.js';
import { TieredStore } from '../src/store/index.js';
import type { CandidateQuery } from '../src/store/types.js';
import { generateRequests, stampUnique } from './lib/otlp-gen.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
function argStr(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

const THROUGHPUT_SPANS = arg('throughput-spans', 400_000);
const LARGE_SPANS = arg('large-spans', 10_000_000);
const CONCURRENCY = arg('concurrency', 8);
const HEAD_MB = arg('head-mb', 64);
const MAX_BUILD_S = arg('max-build-s', 1500);
const OUT = argStr('out', 'bench/results/store.md');
const SHARDS = 16;

let templatesCache: ReturnType<typeof generateRequests> | null = null;
function templates(): ReturnType<typeof generateRequests> {
  return (templatesCache ??= generateRequests({ requests: 64, spansPerRequest: 100, spansPerTrace: 10 }));
}
let seq = 1;
function nextBatch(): { batch: SpanBatch; traceIds: Buffer[] } {
  const s = seq++;
  const templates = templatesCache ?? (templatesCache = generateRequests({ requests: 64, spansPerRequest: 100, spansPerTrace: 10 }));
  const { body, traceIds } = stampUnique(templates[s % templates.length]!, s);
  const decoded = scanExportTraceRequest(body);
  if (decoded.rejected.count) throw new Error('generator produced invalid spans');
  // The templates' times all fall within 64 ms; real data moves forward. Shift request s by
  // s × REQUEST_INTERVAL_NS, in the bytes (the spans are slices of `body`, our own copy) and in
  // the extracted fields alike.
  const shift = BigInt(s) * REQUEST_INTERVAL_NS;
  for (const span of decoded.batch.spans) {
    shiftSpanTimes(span.bytes, shift);
    span.startTimeUnixNano += shift;
    span.endTimeUnixNano += shift;
  }
  return { batch: decoded.batch, traceIds };
}

/** 5 ms between requests of 100 spans: the data of a 20,000 spans/s stream. */
const REQUEST_INTERVAL_NS = 5_000_000n;

/** Adds `shift` to the start (field 7) and end (field 8) fixed64 times of an encoded Span, in place. */
function shiftSpanTimes(span: Uint8Array, shift: bigint): void {
  const view = new DataView(span.buffer, span.byteOffset, span.byteLength);
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = span[pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  while (pos < span.length) {
    const tag = varint();
    const field = tag >>> 3;
    switch (tag & 7) {
      case 0: varint(); break;
      case 1:
        if (field === 7 || field === 8) view.setBigUint64(pos, view.getBigUint64(pos, true) + shift, true);
        pos += 8;
        break;
      case 2: {
        const length = varint(); // read before adding: `pos += varint()` would use the old pos
        pos += length;
        break;
      }
      case 5: pos += 4; break;
      default: throw new Error(`unexpected wire type in span at ${pos}`);
    }
  }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const fmt = (n: number, d = 2): string => n.toFixed(d);
const log = (...a: unknown[]): void => console.error(new Date().toISOString().slice(11, 19), ...a);

function newStore(dir: string, over: Partial<ConstructorParameters<typeof TieredStore>[0]> = {}): TieredStore {
  return new TieredStore({
    dataDir: dir, shards: SHARDS, fsync: true, retention: { defaultMs: 14 * 86_400_000 }, cacheBytes: 128 << 20,
    memoryHeadBytes: HEAD_MB << 20, maxQueuedSpans: 500_000, ...over,
  });
}

async function runConcurrent<T>(items: T[], work: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (i < items.length) await work(items[i++]!);
  }));
}

/** CPU (all threads of this process: JS, libuv pool, LevelDB) per span: robust when other processes share the cores. */
function cpuMicros(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return u.user + u.system;
}

async function throughputStore(batches: SpanBatch[]): Promise<{ spansPerS: number; cpuUsPerSpan: number; sealedBlocks: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-store-'));
  const store = newStore(dir);
  await store.open();
  const spans = batches.reduce((n, b) => n + b.spans.length, 0);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await runConcurrent(batches, (b) => store.write('bench', b));
  const s = (performance.now() - t0) / 1000;
  const cpuUsPerSpan = cpuMicros(c0) / spans;
  const sealedBlocks = store.blockCount();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { spansPerS: spans / s, cpuUsPerSpan, sealedBlocks };
}

/** The alternative ARCHITECTURE.md measured: every span and its index entries in LevelDB, one synced batch per write. */
async function throughputLevelOnly(batches: SpanBatch[]): Promise<{ spansPerS: number; cpuUsPerSpan: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-level-'));
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const spans = batches.reduce((n, b) => n + b.spans.length, 0);
  // Group commit like the store: concurrent writers' operations share one synced LevelDB batch.
  let pending: Array<{ ops: Array<{ type: 'put'; key: Buffer; value: Buffer }>; done: () => void }> = [];
  let flushing = false;
  const flush = async (): Promise<void> => {
    if (flushing) return;
    flushing = true;
    while (pending.length) {
      const group = pending;
      pending = [];
      await db.batch(group.flatMap((g) => g.ops), { sync: true });
      for (const g of group) g.done();
    }
    flushing = false;
  };
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await runConcurrent(batches, (b) => new Promise<void>((done) => {
    const ops: Array<{ type: 'put'; key: Buffer; value: Buffer }> = [];
    for (const s of b.spans) {
      const res = b.resources[s.resource]!;
      ops.push({ type: 'put', key: Buffer.concat([Buffer.from('S'), s.traceId, s.spanId]), value: Buffer.from(s.bytes) });
      ops.push({ type: 'put', key: Buffer.concat([Buffer.from('I' + res.serviceName + '\0' + s.name + '\0'), s.traceId]), value: Buffer.alloc(0) });
    }
    pending.push({ ops, done });
    void flush();
  }));
  const s = (performance.now() - t0) / 1000;
  const cpuUsPerSpan = cpuMicros(c0) / spans;
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return { spansPerS: spans / s, cpuUsPerSpan };
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function collectN(it: AsyncIterable<unknown>, n: number): Promise<number> {
  let k = 0;
  for await (const _ of it) if (++k >= n) break;
  return k;
}

/** `--idle-rss <dir>`: open an existing store, settle, print RSS (run as a child so nothing else is in the heap). */
async function idleRss(dir: string): Promise<void> {
  const store = newStore(dir);
  await store.open();
  await new Promise((r) => setTimeout(r, 2000));
  global.gc?.();
  await new Promise((r) => setTimeout(r, 500));
  console.log(JSON.stringify({ rssMiB: process.memoryUsage().rss / 2 ** 20, heapMiB: process.memoryUsage().heapUsed / 2 ** 20, blocks: store.blockCount(), spans: store.stats().spans }));
  await store.close();
}

function measureIdleRss(dir: string): { rssMiB: number; heapMiB: number; blocks: number; spans: number } {
  const out = execSync(`${process.execPath} --expose-gc --import tsx ${path.join(import.meta.dirname, 'store.ts')} --idle-rss ${dir}`, { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as { rssMiB: number; heapMiB: number; blocks: number; spans: number };
}

async function main(): Promise<void> {
  const lines: string[] = [];
  const out = (s = ''): void => { lines.push(s); console.log(s); };
  const cmd = `npx tsx bench/store.ts ${process.argv.slice(2).join(' ')}`.trim();
  out('# Store benchmark');
  out();
  out(`- command: \`${cmd}\``);
  out(`- machine: nproc ${cpus().length}, memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, disk: ${tmpdir()} (${execSync(`df -h ${tmpdir()} | tail -1 | awk '{print $1}'`).toString().trim()})`);
  out(`- date: ${new Date().toISOString()}`);
  out(`- input: bench/lib/otlp-gen.ts requests (100 spans, 10 spans/trace, ~11 attributes/span, 3 services, ~${Math.round(templates()[0]!.body.length / 100)} B/span), unique trace ids, scanned before the timed part; ${SHARDS} shards; ${CONCURRENCY} concurrent writers; fsync on; head ${HEAD_MB} MiB`);
  out();

  // ---- 1. write throughput ----
  log(`preparing ${THROUGHPUT_SPANS} spans`);
  const batches: SpanBatch[] = [];
  for (let n = 0; n < THROUGHPUT_SPANS; n += 100) batches.push(nextBatch().batch);
  log('store write throughput');
  const st = await throughputStore(batches);
  log('leveldb-only write throughput');
  const lv = await throughputLevelOnly(batches);
  const st2 = await throughputStore(batches); // again, after LevelDB, to show run-to-run spread
  out('## Write throughput (fsync\'d group commit)');
  out();
  out(`Load on the machine during the run (other engineers' processes share the 2 cores): \`${execSync('cat /proc/loadavg').toString().trim()}\`. Wall-clock spans/s depend on that load; CPU µs per span (all threads of the bench process) much less.`);
  out();
  out('| what | spans/s (wall) | CPU µs/span |');
  out('| --- | --- | --- |');
  out(`| store.write (run 1; ${st.sealedBlocks} blocks sealed during the run) | ${Math.round(st.spansPerS).toLocaleString('en')} | ${fmt(st.cpuUsPerSpan)} |`);
  out(`| store.write (run 2) | ${Math.round(st2.spansPerS).toLocaleString('en')} | ${fmt(st2.cpuUsPerSpan)} |`);
  out(`| LevelDB only (span + index entry puts, one synced batch per group) | ${Math.round(lv.spansPerS).toLocaleString('en')} | ${fmt(lv.cpuUsPerSpan)} |`);
  out(`| ratio store / LevelDB-only (mean of the two store runs) | ${fmt((st.spansPerS + st2.spansPerS) / 2 / lv.spansPerS)} | ${fmt((st.cpuUsPerSpan + st2.cpuUsPerSpan) / 2 / lv.cpuUsPerSpan)} |`);
  out();
  batches.length = 0;

  // ---- 2. large store ----
  if (LARGE_SPANS > 0) {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-large-'));
    const store = newStore(dir);
    await store.open();
    const sampleIds: Buffer[] = [];
    let written = 0;
    const t0 = performance.now();
    let lastLog = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (written < LARGE_SPANS && performance.now() - t0 < MAX_BUILD_S * 1000) {
        const { batch, traceIds } = nextBatch();
        written += batch.spans.length;
        if (seq % 50 === 0) sampleIds.push(traceIds[seq % traceIds.length]!);
        for (;;) {
          try {
            await store.write('bench', batch);
            break;
          } catch (e) {
            if ((e as Error).name !== 'StoreOverloadedError') throw e;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
        if (written - lastLog >= 1_000_000) {
          lastLog = written;
          log(`built ${written} spans, ${store.blockCount()} blocks, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
        }
      }
    }));
    await store.flush();
    const buildS = (performance.now() - t0) / 1000;
    const stats = store.stats();
    const du = execSync(`du -sb ${dir} | cut -f1`).toString().trim();
    global.gc?.();
    out(`## Large store: ${stats.spans.toLocaleString('en')} spans, ${stats.traces.toLocaleString('en')} traces, ${store.blockCount()} blocks`);
    out();
    out(`- built in ${fmt(buildS, 0)} s (${Math.round(stats.spans / buildS).toLocaleString('en')} spans/s including generation and scanning); ${LARGE_SPANS > stats.spans ? `stopped at the ${MAX_BUILD_S} s bound, target was ${LARGE_SPANS}` : 'full target reached'}`);
    out(`- on disk: ${(Number(du) / 2 ** 30).toFixed(2)} GiB (${fmt(Number(du) / stats.spans, 0)} B/span incl. LevelDB index); RSS of the bench process after build: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
    out();

    // trace by id: distinct ids, so the LRU cache does not answer
    const ids = sampleIds.slice(-2000);
    const byId: number[] = [];
    for (const id of ids) {
      byId.push(await time(async () => {
        const b = await store.getTrace('bench', id);
        if (!b) throw new Error('sampled trace not found');
      }));
    }
    const cached: number[] = [];
    for (const id of ids.slice(0, 500)) cached.push(await time(() => store.getTrace('bench', id)));
    out('### Trace by id');
    out();
    out('| case | n | p50 ms | p95 ms | p99 ms |');
    out('| --- | --- | --- | --- | --- |');
    out(`| uncached (distinct ids across all blocks) | ${byId.length} | ${fmt(pct(byId, 50))} | ${fmt(pct(byId, 95))} | ${fmt(pct(byId, 99))} |`);
    out(`| cached (LRU hit) | ${cached.length} | ${fmt(pct(cached, 50), 3)} | ${fmt(pct(cached, 95), 3)} | ${fmt(pct(cached, 99), 3)} |`);
    out();

    // search: first 20 candidates, as /api/search?limit=20 would take them
    const rng = (() => { let x = 12345; return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31; })();
    const views = [];
    for await (const v of store.searchTraces({ tenant: 'bench' })) { views.push(v.summary); if (views.length >= 1) break; }
    const newest = views[0]!.startTimeUnixNano;
    const span = BigInt(seq) * REQUEST_INTERVAL_NS; // the time range the written data covers
    const cases: Array<[string, () => CandidateQuery]> = [
      ['no filter (most recent 20)', () => ({ tenant: 'bench' })],
      ['service=checkout && name=PlaceOrder', () => ({ tenant: 'bench', requiredTerms: [{ kind: 'service', value: 'checkout' }, { kind: 'name', value: 'PlaceOrder' }] })],
      ['span.http.status_code=500 (errors, ~2% of spans)', () => ({ tenant: 'bench', requiredTerms: [{ kind: 'attr', scope: 'span', key: 'http.status_code', value: 500 }] })],
      ['user.id=<random of 1000> && resource service=payments', () => ({ tenant: 'bench', requiredTerms: [{ kind: 'attr', scope: 'any', key: 'user.id', value: `user-${Math.floor(rng() * 1000)}` }, { kind: 'attr', scope: 'resource', key: 'service.name', value: 'payments' }] })],
      ['random 10 s window (of the whole range), no terms', () => { const end = newest - BigInt(Math.floor(rng() * Number(span))); return { tenant: 'bench', startNs: end - 10_000_000_000n, endNs: end }; }],
      ['minDuration 4.99 ms (rare)', () => ({ tenant: 'bench', minTraceDurationNs: 4_990_000n })],
      ['needle that matches nothing (scans every block\'s postings)', () => ({ tenant: 'bench', requiredTerms: [{ kind: 'attr', scope: 'span', key: 'user.id', value: 'user-none' }] })],
    ];
    out('### Search (first 20 candidates, most recent first)');
    out();
    out('| query | runs | results | p50 ms | p95 ms |');
    out('| --- | --- | --- | --- | --- |');
    for (const [name, make] of cases) {
      const ts: number[] = [];
      let results = 0;
      for (let r = 0; r < 30; r++) {
        const q = make();
        ts.push(await time(async () => { results = await collectN(store.searchTraces(q), 20); }));
      }
      out(`| ${name} | ${ts.length} | ${results} | ${fmt(pct(ts, 50))} | ${fmt(pct(ts, 95))} |`);
    }
    out();
    await store.close();
    const idle = measureIdleRss(dir);
    out(`### Idle RSS of a fresh process holding this store open`);
    out();
    out(`${idle.rssMiB.toFixed(0)} MiB RSS (${idle.heapMiB.toFixed(0)} MiB JS heap) with ${idle.blocks} blocks and ${idle.spans.toLocaleString('en')} spans, after open, WAL replay and GC (includes tsx's loader).`);
    out();
    rmSync(dir, { recursive: true, force: true });
  }
  writeFileSync(OUT, lines.join('\n') + '\n');
  log(`wrote ${OUT}`);
}

const idleDir = argStr('idle-rss', '');
if (idleDir) await idleRss(idleDir);
else await main();
