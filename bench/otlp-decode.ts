/**
 * OTLP decode benchmark: the lazy scanner (src/otlp/scan.ts) against protobufjs full decode of the
 * same realistic requests (100 spans, ~11 attributes per span, 3 services, unique ids), plus the
 * OTLP/JSON ingest path and SpanBatch re-encoding. Runs the variants interleaved, several rounds,
 * and reports the median round; writes bench/results/otlp.md.
 *
 *   npx tsx bench/otlp-decode.ts [--seconds-per-round 1.5] [--rounds 5] [--out bench/results/otlp.md]
 */
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { encodeSpanBatch } from '../src/otlp/batch.js';
import { otlpJsonToProtobuf, tracesDataToOtlpJson } from '../src/otlp/json.js';
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

const requests = Array.from({ length: REQUESTS }, (_, i) => realisticRequest(i + 1, SPANS_PER_REQUEST));
const jsonBodies = requests.slice(0, 50).map((r) => Buffer.from(JSON.stringify(tracesDataToOtlpJson(r, { ids: 'hex' }))));
const batches = requests.map((r) => scanExportTraceRequest(r).batch);
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

function measure(v: Variant): number {
  const deadline = performance.now() + SECONDS * 1000;
  const start = performance.now();
  let spans = 0;
  let i = 0;
  while (performance.now() < deadline) {
    for (let k = 0; k < 10; k++) spans += v.run(i++);
  }
  return spans / ((performance.now() - start) / 1000);
}

// Warm-up: let the JIT settle.
for (const v of variants) for (let i = 0; i < 300; i++) v.run(i);

const results = new Map<string, number[]>(variants.map((v) => [v.name, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const v of variants) results.get(v.name)!.push(measure(v));
  process.stdout.write(`round ${r + 1}/${ROUNDS} done\n`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const med = new Map([...results].map(([k, xs]) => [k, median(xs)]));
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
  `Date: ${new Date().toISOString()}`,
  '',
  `Input: ${REQUESTS} pre-generated ExportTraceServiceRequests of ${SPANS_PER_REQUEST} spans (11 attributes per span: 7 strings, 3 ints, ` +
    `1 double, 1 bool; 5 resource attributes; 3 services; unique ids), ${fmt(bytesPerRequest)} bytes per request on average ` +
    `(${fmt(bytesPerRequest / SPANS_PER_REQUEST)} B/span). JSON variants use 50 of them as OTLP/JSON (${fmt(jsonBodies[0]!.length)} bytes each).`,
  '',
  `Median of ${ROUNDS} interleaved rounds of ${SECONDS}s per variant, single thread:`,
  '',
  '| Variant | spans/s | vs protobufjs decode |',
  '| --- | ---: | ---: |',
  ...variants.map((v) => `| ${v.name} | ${fmt(med.get(v.name)!)} | ${(med.get(v.name)! / pbjs).toFixed(2)}× |`),
  '',
  `Scanner / protobufjs full decode: **${(scan / pbjs).toFixed(2)}×** (all rounds, spans/s: scan ${results.get(variants[0]!.name)!.map(fmt).join(', ')}; ` +
    `protobufjs ${results.get(variants[1]!.name)!.map(fmt).join(', ')}).`,
  '',
];
writeFileSync(OUT, lines.join('\n'));
process.stdout.write(lines.join('\n') + `\n(sink ${sink % 7})\n`);
