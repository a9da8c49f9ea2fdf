/**
 * Query-path micro and HTTP benchmarks (not a test). Run: npx tsx bench/query.ts [traces] [spansPerTrace]
 *
 * 1. Rendering a stored trace as JSON: our wire decoder + renderer vs protobufjs decode + toObject.
 * 2. TraceQL evaluation throughput over TraceViews.
 * 3. Over a real TieredStore (temp dir) through fastify inject: trace-by-id (v2 protobuf, v2 JSON,
 *    Jaeger v1) and /api/search latencies.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { otlpTypes, scanExportTraceRequest } from '../src/otlp/index.js';
import { TieredStore } from '../src/store/index.js';
import { decodeTracesData } from '../src/otlp/decode.js';
import { resourceSpansJson, TEMPO_OTLP_JSON } from '../src/otlp/render.js';
import { tempoApi } from '../src/query/tempo.js';
import { jaegerApi } from '../src/query/jaeger.js';
import { parseTraceQL } from '../src/query/traceql/parser.js';
import { matchingSpans } from '../src/query/traceql/evaluate.js';
import type { TraceView } from '../src/store/types.js';

const TRACES = Number(process.argv[2] ?? 2000);
const SPANS = Number(process.argv[3] ?? 100);
const SERVICES = ['frontend', 'cart', 'checkout'];
const NOW_MS = Date.now();

function traceRequest(t: number): Record<string, unknown> {
  const traceId = Buffer.alloc(16);
  traceId.writeUInt32BE(t + 1, 12);
  traceId[0] = 0x42;
  const startMs = NOW_MS - 3600_000 + t * 1000;
  return {
    resourceSpans: SERVICES.map((service, si) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }, { key: 'host.name', value: { stringValue: `host-${t % 7}` } }] },
      scopeSpans: [{
        scope: { name: 'bench', version: '1' },
        spans: Array.from({ length: Math.ceil(SPANS / SERVICES.length) }, (_, i) => {
          const n = si * 1000 + i + 1;
          const spanId = Buffer.alloc(8);
          spanId.writeUInt32BE(n, 4);
          const parent = Buffer.alloc(8);
          parent.writeUInt32BE(1, 4);
          return {
            traceId, spanId, ...(n === 1 ? {} : { parentSpanId: parent }),
            name: `op-${i % 10}`, kind: 2,
            startTimeUnixNano: (BigInt(startMs + i) * 1_000_000n).toString(),
            endTimeUnixNano: (BigInt(startMs + i + 5 + (i % 50)) * 1_000_000n).toString(),
            attributes: Array.from({ length: 10 }, (_, k) => ({ key: `attr.${k}`, value: k % 2 ? { intValue: String(i * k) } : { stringValue: `v${(i + k) % 20}` } })),
            status: { code: i % 17 === 0 ? 2 : 0 },
          };
        }),
      }],
    })),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timeIt(n: number, f: () => Promise<unknown> | unknown): Promise<{ p50: number; p95: number; p99: number; mean: number }> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await f();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99), mean: samples.reduce((a, b) => a + b, 0) / n };
}

const fmt = (r: { p50: number; p95: number; p99: number }) => `p50 ${r.p50.toFixed(2)} ms, p95 ${r.p95.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`;

async function main(): Promise<void> {
  const types = otlpTypes();
  const sample = types.ExportTraceServiceRequest.encode(types.ExportTraceServiceRequest.fromObject(traceRequest(0))).finish();

  // 1. JSON rendering of one stored trace, interleaved rounds so machine noise hits both alike.
  let oursNs = 0;
  let pbjsNs = 0;
  const rounds = 10;
  const perRound = 30;
  for (let round = 0; round < rounds; round++) {
    let t = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) JSON.stringify({ batches: resourceSpansJson(decodeTracesData(sample), TEMPO_OTLP_JSON) });
    oursNs += Number(process.hrtime.bigint() - t);
    t = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) JSON.stringify(types.TracesData.toObject(types.TracesData.decode(sample), { longs: String, bytes: String, enums: String }));
    pbjsNs += Number(process.hrtime.bigint() - t);
  }
  const per = (ns: number) => ns / rounds / perRound / 1e6;
  console.log(`render ${SPANS}-span trace (${sample.length} B) as JSON: ours ${per(oursNs).toFixed(3)} ms; protobufjs decode+toObject ${per(pbjsNs).toFixed(3)} ms; protobufjs/ours ${(pbjsNs / oursNs).toFixed(2)}x`);

  // 2. + 3. A real store.
  const dir = await mkdtemp(join(tmpdir(), 'otlp-store-bench-query-'));
  const store = new TieredStore({ dataDir: dir, shards: 8, fsync: false, retention: { defaultMs: 14 * 86400_000 }, cacheBytes: 64 << 20, memoryHeadBytes: 64 << 20, maxQueuedSpans: 1_000_000 });
  await store.open();
  try {
    const t0 = Date.now();
    for (let t = 0; t < TRACES; t += 10) {
      await Promise.all(Array.from({ length: Math.min(10, TRACES - t) }, (_, k) => {
        const bytes = types.ExportTraceServiceRequest.encode(types.ExportTraceServiceRequest.fromObject(traceRequest(t + k))).finish();
        return store.write('single-tenant', scanExportTraceRequest(bytes).batch);
      }));
    }
    const totalSpans = TRACES * Math.ceil(SPANS / SERVICES.length) * SERVICES.length;
    console.log(`loaded ${TRACES} traces, ${totalSpans} spans in ${((Date.now() - t0) / 1000).toFixed(1)} s (fixture load, not an ingest figure)`);

    // Evaluation throughput over real TraceViews.
    const views: TraceView[] = [];
    for await (const v of store.searchTraces({ tenant: 'single-tenant' })) {
      views.push(v);
      if (views.length >= 200) break;
    }
    const query = parseTraceQL('{ resource.service.name = "checkout" && span.attr.1 > 100 && status = error }');
    const spansEvaluated = views.reduce((n, v) => n + v.spans.length, 0);
    const evalT = await timeIt(20, () => views.forEach((v) => matchingSpans(query, v)));
    console.log(`TraceQL evaluation: ${((spansEvaluated / evalT.mean) * 1000 / 1e6).toFixed(2)} M spans/s (${spansEvaluated} spans per pass)`);

    const scan = await timeIt(3, async () => {
      let n = 0;
      for await (const v of store.searchTraces({ tenant: 'single-tenant' })) n += v.spans.length;
      return n;
    });
    console.log(`store.searchTraces full iteration (no query work): mean ${scan.mean.toFixed(0)} ms for ${totalSpans} spans = ${(totalSpans / scan.mean / 1000).toFixed(2)} M spans/s`);

    const tempo = Fastify();
    await tempo.register(tempoApi, { store, tenantOf: () => 'single-tenant' });
    const jaeger = Fastify();
    await jaeger.register(jaegerApi, { store, tenantOf: () => 'single-tenant' });
    await tempo.ready();
    await jaeger.ready();
    const idOf = (t: number) => `42${'0'.repeat(22)}${(t + 1).toString(16).padStart(8, '0')}`;
    let k = 0;
    const n = 200;
    const next = () => idOf((k++ * 7919) % TRACES);
    console.log(`GET /api/v2/traces/{id} protobuf: ${fmt(await timeIt(n, () => tempo.inject({ url: `/api/v2/traces/${next()}`, headers: { accept: 'application/protobuf' } })))}`);
    console.log(`GET /api/v2/traces/{id} JSON:     ${fmt(await timeIt(n, () => tempo.inject({ url: `/api/v2/traces/${next()}` })))}`);
    console.log(`GET (jaeger) /api/traces/{id}:    ${fmt(await timeIt(n, () => jaeger.inject({ url: `/api/traces/${next()}` })))}`);
    const searches: [string, string][] = [
      ['{} limit 20', '/api/search?q=%7B%7D'],
      ['service+status (indexed terms)', `/api/search?q=${encodeURIComponent('{ resource.service.name = "checkout" && status = error }')}`],
      ['regex on name (no terms)', `/api/search?q=${encodeURIComponent('{ name =~ "op-[37]" && duration > 40ms }')}`],
      ['rare match: attr.1 = 4455 (int term)', `/api/search?q=${encodeURIComponent('{ span.attr.1 = 4455 }')}`],
      ['no match, unindexable (scans all)', `/api/search?q=${encodeURIComponent('{ span.attr.1 > 100000000 }')}`],
    ];
    for (const [label, url] of searches) {
      const r = await tempo.inject({ url });
      const body = r.json() as { traces: unknown[]; metrics: { inspectedTraces?: number } };
      console.log(`GET ${label}: ${fmt(await timeIt(label.includes('scans all') ? 5 : 30, () => tempo.inject({ url })))} (${body.traces.length} traces, ${body.metrics.inspectedTraces ?? 0} inspected)`);
    }
    await tempo.close();
    await jaeger.close();
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
