/** Test helpers: real protobuf-encoded spans, random data, temp stores, and a TracesData reader. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { IndexedAttribute, ResourceRef, ScopeRef, SpanBatch, SpanRecord } from '../../src/otlp/model.js';
import { TieredStore, type TieredStoreConfig } from '../../src/store/tiered-store.js';

// ---- a tiny protobuf writer (enough to produce real Span / Resource / Scope messages) ----------

class PbWriter {
  private chunks: number[] = [];
  varint(n: number | bigint): this {
    let v = BigInt(n);
    if (v < 0n) v += 1n << 64n;
    while (v >= 0x80n) {
      this.chunks.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.chunks.push(Number(v));
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    for (const x of b) this.chunks.push(x);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  fixed64(field: number, v: bigint): this {
    this.tag(field, 1);
    for (let i = 0n; i < 8n; i++) this.chunks.push(Number((v >> (8n * i)) & 0xffn));
    return this;
  }
  double(field: number, v: number): this {
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    for (const x of b) this.chunks.push(x);
    return this;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

function encodeAnyValue(a: IndexedAttribute): Uint8Array {
  const w = new PbWriter();
  const v = a.value;
  if (typeof v === 'string') w.string(1, v);
  else if (typeof v === 'boolean') w.tag(2, 0).varint(v ? 1 : 0);
  else if (typeof v === 'bigint') w.tag(3, 0).varint(v);
  else if (a.isDouble || !Number.isInteger(v)) w.double(4, v);
  else w.tag(3, 0).varint(v);
  return w.finish();
}

function encodeKeyValue(a: IndexedAttribute): Uint8Array {
  return new PbWriter().string(1, a.key).bytes(2, encodeAnyValue(a)).finish();
}

export interface SpanSpec {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId?: Uint8Array;
  name: string;
  kind?: number;
  start: bigint;
  end: bigint;
  statusCode?: number;
  statusMessage?: string;
  attributes?: IndexedAttribute[];
}

export function encodeSpan(s: SpanSpec): Uint8Array {
  const w = new PbWriter().bytes(1, s.traceId).bytes(2, s.spanId);
  if (s.parentSpanId?.length) w.bytes(4, s.parentSpanId);
  w.string(5, s.name);
  if (s.kind) w.tag(6, 0).varint(s.kind);
  w.fixed64(7, s.start).fixed64(8, s.end);
  for (const a of s.attributes ?? []) w.bytes(9, encodeKeyValue(a));
  if (s.statusCode || s.statusMessage) {
    const st = new PbWriter();
    if (s.statusMessage) st.string(2, s.statusMessage);
    if (s.statusCode) st.tag(3, 0).varint(s.statusCode);
    w.bytes(15, st.finish());
  }
  return w.finish();
}

export function makeResource(serviceName: string, extra: IndexedAttribute[] = [], schemaUrl = ''): ResourceRef {
  const attributes = [{ key: 'service.name', value: serviceName }, ...extra];
  const w = new PbWriter();
  for (const a of attributes) w.bytes(1, encodeKeyValue(a));
  return { bytes: w.finish(), schemaUrl, serviceName, attributes };
}

export function makeScope(name: string, version = '1.0.0', schemaUrl = ''): ScopeRef {
  return { bytes: new PbWriter().string(1, name).string(2, version).finish(), schemaUrl, name, version };
}

export function makeSpan(s: SpanSpec, resource = 0, scope = 0): SpanRecord {
  return {
    traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? new Uint8Array(0), name: s.name,
    kind: s.kind ?? 0, startTimeUnixNano: s.start, endTimeUnixNano: s.end, statusCode: s.statusCode ?? 0,
    statusMessage: s.statusMessage ?? '', attributes: s.attributes ?? [], bytes: encodeSpan(s), resource, scope,
  };
}

// ---- deterministic random data ----------------------------------------------------------------

export class Rng {
  constructor(private state: number) {}
  next(): number {
    // mulberry32
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    b[0] = b[0]! | 1; // never all zero
    return b;
  }
}

export const SERVICES = ['frontend', 'cart', 'checkout', 'payment'];
export const NAMES = ['GET /', 'POST /cart', 'charge', 'db.query', 'render'];
export const BASE_NS = 1_700_000_000_000_000_000n;

export interface RandomTrace {
  traceId: Uint8Array;
  spans: Array<{ spec: SpanSpec; service: string }>;
}

/** A random trace: a root plus children over a few services, with a few typed attributes. */
export function randomTrace(rng: Rng, maxSpans = 6, timeSpreadNs = 1_000_000_000_000n): RandomTrace {
  const traceId = rng.bytes(16);
  const n = 1 + rng.int(maxSpans);
  const start = BASE_NS + BigInt(rng.int(Number(timeSpreadNs / 1000n))) * 1000n;
  const spans: RandomTrace['spans'] = [];
  const rootId = rng.bytes(8);
  for (let i = 0; i < n; i++) {
    const s0 = start + BigInt(rng.int(1_000_000) * 10);
    spans.push({
      service: rng.pick(SERVICES),
      spec: {
        traceId, spanId: i === 0 ? rootId : rng.bytes(8), parentSpanId: i === 0 ? undefined : rootId,
        name: rng.pick(NAMES), kind: rng.int(6), start: i === 0 ? start : s0,
        end: (i === 0 ? start : s0) + BigInt(1 + rng.int(50_000_000)),
        statusCode: rng.pick([0, 0, 1, 2]),
        attributes: [
          { key: 'http.status_code', value: rng.pick([200, 404, 500]) },
          { key: 'region', value: rng.pick(['eu', 'us']) },
          { key: 'retry', value: rng.pick([true, false]) },
          { key: 'ratio', value: rng.pick([0.5, 1.5]), isDouble: true },
        ],
      },
    });
  }
  return { traceId, spans };
}

/** A batch holding the given traces' spans, one resource per service. */
export function batchOf(traces: RandomTrace[]): SpanBatch {
  const resources: ResourceRef[] = [];
  const resIndex = new Map<string, number>();
  const scopes = [makeScope('test-scope')];
  const spans: SpanRecord[] = [];
  for (const t of traces) {
    for (const { spec, service } of t.spans) {
      let ri = resIndex.get(service);
      if (ri === undefined) {
        ri = resources.length;
        resources.push(makeResource(service, [{ key: 'deployment.environment', value: 'test' }]));
        resIndex.set(service, ri);
      }
      spans.push(makeSpan(spec, ri, 0));
    }
  }
  return { resources, scopes, spans };
}

// ---- reading TracesData back ------------------------------------------------------------------

function readVarint(b: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 1;
  for (;;) {
    const x = b[pos++]!;
    result += (x & 0x7f) * shift;
    if (x < 0x80) return [result, pos];
    shift *= 128;
  }
}

/** Length-delimited fields of a message: [fieldNumber, bytes][] (other wire types skipped). */
export function fields(b: Uint8Array): Array<[number, Uint8Array]> {
  const out: Array<[number, Uint8Array]> = [];
  let pos = 0;
  while (pos < b.length) {
    const [tag, p1] = readVarint(b, pos);
    pos = p1;
    const wire = tag & 7;
    const field = tag >>> 3;
    if (wire === 2) {
      const [len, p2] = readVarint(b, pos);
      out.push([field, b.subarray(p2, p2 + len)]);
      pos = p2 + len;
    } else if (wire === 0) pos = readVarint(b, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

export interface ParsedGroup {
  resource: Uint8Array;
  scopes: Array<{ scope: Uint8Array; spans: Uint8Array[] }>;
}

export function parseTracesData(b: Uint8Array): ParsedGroup[] {
  return fields(b).filter(([f]) => f === 1).map(([, rs]) => {
    const fs = fields(rs);
    return {
      resource: fs.find(([f]) => f === 1)?.[1] ?? new Uint8Array(0),
      scopes: fs.filter(([f]) => f === 2).map(([, ss]) => {
        const sf = fields(ss);
        return { scope: sf.find(([f]) => f === 1)?.[1] ?? new Uint8Array(0), spans: sf.filter(([f]) => f === 2).map(([, s]) => s) };
      }),
    };
  });
}

/** Span bytes of a TracesData as sorted hex strings (a set to compare). */
export function spanSet(b: Uint8Array | null): string[] {
  if (!b) return [];
  return parseTracesData(b).flatMap((g) => g.scopes.flatMap((s) => s.spans.map((x) => Buffer.from(x).toString('hex')))).sort();
}

// ---- temp stores ------------------------------------------------------------------------------

export function tempDir(prefix = 'store-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function storeConfig(dataDir: string, over: Partial<TieredStoreConfig> = {}): TieredStoreConfig {
  return {
    dataDir, shards: 4, fsync: true, retention: { defaultMs: 14 * 86_400_000 }, cacheBytes: 4 << 20,
    memoryHeadBytes: 64 << 20, maxQueuedSpans: 100_000, ...over,
  };
}

export async function openStore(dataDir: string, over: Partial<TieredStoreConfig> = {}): Promise<TieredStore> {
  const s = new TieredStore(storeConfig(dataDir, over));
  await s.open();
  return s;
}

export async function collect<T>(it: AsyncIterable<T>, limit = Number.POSITIVE_INFINITY): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) {
    out.push(x);
    if (out.length >= limit) break;
  }
  return out;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
