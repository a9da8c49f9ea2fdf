/**
 * OTLP decode benchmark: the lazy scanner (src/otlp/scan.ts) against protobufjs full decode of the
 * same realistic requests (100 spans, ~11 attributes per span, 3 services, unique ids), plus the
 * OTLP/JSON ingest path and SpanBatch re-encoding. Runs the variants interleaved, several rounds,
 * and reports the median round; writes bench/results/otlp.md.
 *
 *   npx tsx bench/otlp-decode.ts [--seconds-per-round 1.5] [--rounds 5] [--out bench/results/otlp.md]
 */
import { execSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { encodeSpanBatch } from '../src/otlp/batch.js';
import { otlpJsonToProtobuf } from '../src/otlp/json.js';
import { tracesDataToOtlpJson } from '../src/otlp/render.js';
import { otlpTypes } from '../src/otlp/proto.js';
import { scanExportTraceRequest } from '../src/otlp/scan.js';
import { realisticRequest } from '../test/otlp/generate.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const SECONDS = Number(arg('seconds-per-round', '1.5'));
const ROUNDS = Number(arg('rounds', '5'));
const OUT = arg('out', 'bench/results/otlp.md');
const REQUESTS = 200;
const SPANS_PER_REQUEST = 100;

const LOAD_AT_START = loadavg().map((l) => l.toFixed(2)).join(' ');
const requests = Array.from({ length: REQUESTS }, (_, i) => realisticRequest(i + 1, SPANS_PER_REQUEST));
const jsonBodies = requests.slice(0, 50).map((r) => Buffer.from(JSON.stringify(tracesDataToOtlpJson(r, { ids: 'hex' }))));
// Filled only for phase 2: retaining scanned batches changes how V8 allocates (see phase 3).
let batches: ReturnType<typeof scanExportTraceRequest>['batch'][] = [];
let retainedMessages: unknown[] = [];
const bytesPerRequest = requests.reduce((n, r) => n + r.length, 0) / requests.length;
const T = otlpTypes().ExportTraceServiceRequest;

let sink = 0;
interface Variant {
  name: string;
  run: (i: number) => number; // returns spans handled
}
const variants: Variant[] = [
  { name: 'scanExportTraceRequest (lazy scan, protobuf)', run: (i) => scanExportTraceRequest(requests[i % REQUESTS]!).batch.spans.length },
  {
    name: 'protobufjs ExportTraceServiceRequest.decode',
    run: (i) => {
      const m = T.decode(requests[i % REQUESTS]!) as unknown as { resourceSpans: unknown[] };
      sink += m.resourceSpans.length;
      return SPANS_PER_REQUEST;
    },
  },
  {
    name: 'OTLP/JSON → protobuf → scan',
    run: (i) => scanExportTraceRequest(otlpJsonToProtobuf(jsonBodies[i % jsonBodies.length]!)).batch.spans.length,
  },
  {
    name: 'JSON.parse alone (same JSON bodies)',
    run: (i) => {
      sink += Object.keys(JSON.parse(jsonBodies[i % jsonBodies.length]!.toString('utf8'))).length;
      return SPANS_PER_REQUEST;
    },
  },
  { name: 'encodeSpanBatch (re-encode a scanned batch)', run: (i) => (sink += encodeSpanBatch(batches[i % REQUESTS]!).length, SPANS_PER_REQUEST) },
];

/**
 * Spans per second of this process's CPU time (user + system), not wall time: the machine is
 * shared, and CPU time is far less disturbed by other processes than the wall clock. Wall-clock
 * rates are kept too, for reference.
 */
const wallRates = new Map<string, number[]>();
function measure(v: Variant): number {
  const deadline = performance.now() + SECONDS * 1000;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  let spans = 0;
  let i = 0;
  while (performance.now() < deadline) {
    for (let k = 0; k < 10; k++) spans += v.run(i++);
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = spans / ((performance.now() - start) / 1000);
  if (!wallRates.has(v.name)) wallRates.set(v.name, []);
  wallRates.get(v.name)!.push(wall);
  return spans / ((cpu.user + cpu.system) / 1e6);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Child mode: decoded spans are retained from the very first request on, as the store's memory
 * head retains them. V8 then pretenures the decoders' allocation sites (their objects survived)
 * and allocates them in old space from then on. Prints one JSON line of medians.
 */
if (process.argv.includes('--child-retained')) {
  batches = requests.map((r) => scanExportTraceRequest(r).batch);
  retainedMessages = requests.map((r) => T.decode(r));
  const out: Record<string, number> = {};
  for (const v of variants.slice(0, 2)) {
    const xs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) xs.push(measure(v));
    out[v.name] = median(xs);
  }
  process.stdout.write(JSON.stringify({ retained: out, sink: batches.length + retainedMessages.length }) + '\n');
  process.exit(0);
}

// Warm-up: let the JIT settle.
for (const v of variants.slice(0, 4)) for (let i = 0; i < 300; i++) v.run(i);

function rounds(list: Variant[], label: string): Map<string, number[]> {
  const results = new Map<string, number[]>(list.map((v) => [v.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of list) results.get(v.name)!.push(measure(v));
    process.stdout.write(`${label}: round ${r + 1}/${ROUNDS} done\n`);
  }
  return results;
}

// Phase 1: decoders, nothing retained between requests.
const results = rounds(variants.slice(0, 4), 'phase 1');
// Phase 2: re-encoding needs scanned batches kept in memory.
batches = requests.map((r) => scanExportTraceRequest(r).batch);
for (const [k, v] of rounds(variants.slice(4), 'phase 2')) results.set(k, v);
// Phase 3: the same decoders while 20,000 decoded spans of each kind stay alive, as the store's
// memory head keeps them. V8 then pretenures the allocation sites (their objects survived), so
// both decoders allocate in old space and pay for it in GC.
retainedMessages = requests.map((r) => T.decode(r));
const retainedVariants = variants.slice(0, 2).map((v) => ({ ...v, name: `${v.name}, 20k decoded spans retained` }));
for (const [k, v] of rounds(retainedVariants, 'phase 3')) results.set(k, v);
variants.push(...retainedVariants);
sink += retainedMessages.length + batches.length;

const med = new Map([...results].map(([k, xs]) => [k, median(xs)]));
// Phase 4, in a child process: retained from the start (see --child-retained).
const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child-retained', '--rounds', String(ROUNDS), '--seconds-per-round', String(SECONDS)], {
  encoding: 'utf8',
  maxBuffer: 1 << 20,
});
const childLine = child.stdout.split('\n').find((l) => l.startsWith('{"retained"'));
if (!childLine) throw new Error(`child run failed: ${child.stderr.slice(-2000)}`);
const childResults = (JSON.parse(childLine) as { retained: Record<string, number> }).retained;
const fromStart = variants.slice(0, 2).map((v) => ({ ...v, name: `${v.name}, decoded spans retained from the first request (child process)` }));
fromStart.forEach((v, i) => med.set(v.name, childResults[variants[i]!.name]!));
variants.push(...fromStart);

const scan = med.get(variants[0]!.name)!;
const pbjs = med.get(variants[1]!.name)!;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
let nproc = String(cpus().length);
try {
  nproc = execSync('nproc').toString().trim();
} catch {
  /* keep os.cpus() */
}
const lines = [
  '# otlp/ decode benchmark',
  '',
  `Command: \`npx tsx bench/otlp-decode.ts --seconds-per-round ${SECONDS} --rounds ${ROUNDS}\``,
  '',
  `Machine: nproc ${nproc}, ${cpus()[0]?.model ?? 'unknown CPU'}, memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free), ` +
    `Node ${process.version}, load average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')} (the machine is shared; figures are noisy).`,
  '',
  `Date: ${new Date().toISOString()}; load average at start ${LOAD_AT_START}`,
  '',
  `Input: ${REQUESTS} pre-generated ExportTraceServiceRequests of ${SPANS_PER_REQUEST} spans (11 attributes per span: 7 strings, 3 ints, ` +
    `1 double, 1 bool; 5 resource attributes; 3 services; unique ids), ${fmt(bytesPerRequest)} bytes per request on average ` +
    `(${fmt(bytesPerRequest / SPANS_PER_REQUEST)} B/span). JSON variants use 50 of them as OTLP/JSON (${fmt(jsonBodies[0]!.length)} bytes each).`,
  '',
  `Median of ${ROUNDS} interleaved rounds of ${SECONDS}s per variant, single thread, spans per second of process CPU time (wall-clock median in the last column):`,
  '',
  '| Variant | spans/CPU-s | vs protobufjs decode | spans/s wall |',
  '| --- | ---: | ---: | ---: |',
  ...variants.map((v) => `| ${v.name} | ${fmt(med.get(v.name)!)} | ${(med.get(v.name)! / pbjs).toFixed(2)}× | ${wallRates.has(v.name) ? fmt(median(wallRates.get(v.name)!)) : '–'} |`),
  '',
  `Scanner / protobufjs full decode: **${(scan / pbjs).toFixed(2)}×** (all rounds, spans/CPU-s: scan ${results.get(variants[0]!.name)!.map(fmt).join(', ')}; ` +
    `protobufjs ${results.get(variants[1]!.name)!.map(fmt).join(', ')}). ` +
    `With 20k decoded spans of each kind retained: **${(med.get(variants[5]!.name)! / med.get(variants[6]!.name)!).toFixed(2)}×**; ` +
    `retained from the first request on: **${(med.get(variants[7]!.name)! / med.get(variants[8]!.name)!).toFixed(2)}×**.`,
  '',
  'Retention matters: when every decoded span survives (as the store\'s memory head keeps them), V8',
  'pretenures the allocation sites of the decoder and allocates its objects in old space; a decoder',
  'measured in isolation then looks slower, because the spans it makes here are garbage at once and',
  'old-space garbage costs full mark-compacts. (`node --no-allocation-site-pretenuring` removes the',
  'effect.) Which regime the node is in is decided by the whole ingest path: see bench:ingest.',
  '',
];
lines.push(
  '## Where the scanner\'s time goes',
  '',
  'From `node --cpu-prof` of the scanner alone on the same requests (line ticks of an esbuild bundle of',
  'src/otlp/scan.ts; 2026-11-24, same machine), after the attribute fast path (one-byte lengths, key then',
  'one scalar value: +25%) and the word-compared intern cache:',
  '',
  '- ~30% turning bytes into strings: attribute keys and values, span names. Short ASCII strings (≤ 40 B)',
  '  go through a direct-mapped intern cache (slot from length + first/last word, then a word compare;',
  '  ~20%, much of it a cache miss on the table); longer ones are ASCII-checked and sliced natively',
  '  (`latin1Slice`, ~6%).',
  '- ~12% creating typed-array views for `spanId`, `parentSpanId` and the span `bytes` (`new Uint8Array(buf,',
  '  off, len)` costs ~40 ns, `subarray` ~70 ns; spans of one trace share one `traceId` view).',
  '- ~10% pushing IndexedAttribute objects; ~4% reading tags; the rest is the walk itself (events, links,',
  '  nested values are walked so that every stored slice is well-formed) and GC (about 20 objects per span:',
  '  SpanRecord, 11 IndexedAttribute objects, views, 2 BigInt times).',
  '',
  'The scanner extracts far more than a lazy "ids, name, times" scan (every scalar attribute of every span',
  'and resource, with UTF-8 validation of every string field). What would take it further: keep',
  'attributes as byte offsets and decode them on first use (a change to the shared SpanRecord model),',
  'and skip UTF-8 validation of strings that are never decoded (events, links, trace_state) — protobufjs',
  'does not validate them either.',
  '',
);
writeFileSync(OUT, lines.join('\n'));
process.stdout.write(lines.join('\n') + `\n(sink ${sink % 7})\n`);
