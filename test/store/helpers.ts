/** Test helpers: real protobuf-encoded spans, random data, temp stores, and a TracesData reader. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { IndexedAttribute, ResourceRef, ScopeRef, SpanBatch, SpanRecord } from '../../src/otlp/model.js';
import { TieredStore, type TieredStoreConfig } from '../../src/store/tiered-store.js';
import { cat, fixed64, len, str, tag, vint } from '../otlp/wire.js';

// ---- real Span / Resource / Scope messages, built with test/otlp's wire helpers -----------------

function double(field: number, v: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return cat(tag(field, 1), b);
}

function encodeAnyValue(a: IndexedAttribute): Uint8Array {
  const v = a.value;
  if (typeof v === 'string') return str(1, v);
  if (typeof v === 'boolean') return vint(2, v ? 1 : 0);
  if (typeof v === 'bigint') return vint(3, v);
  if (a.isDouble || !Number.isInteger(v)) return double(4, v);
  return vint(3, v);
}

function encodeKeyValue(a: IndexedAttribute): Uint8Array {
  return cat(str(1, a.key), len(2, encodeAnyValue(a)));
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
  const parts: Uint8Array[] = [len(1, s.traceId), len(2, s.spanId)];
  if (s.parentSpanId?.length) parts.push(len(4, s.parentSpanId));
  parts.push(str(5, s.name));
  if (s.kind) parts.push(vint(6, s.kind));
  parts.push(fixed64(7, s.start), fixed64(8, s.end));
  for (const a of s.attributes ?? []) parts.push(len(9, encodeKeyValue(a)));
  if (s.statusCode || s.statusMessage) {
    const status: Uint8Array[] = [];
    if (s.statusMessage) status.push(str(2, s.statusMessage));
    if (s.statusCode) status.push(vint(3, s.statusCode));
    parts.push(len(15, ...status));
  }
  return cat(...parts);
}

export function makeResource(serviceName: string, extra: IndexedAttribute[] = [], schemaUrl = ''): ResourceRef {
  const attributes = [{ key: 'service.name', value: serviceName }, ...extra];
  return { bytes: cat(...attributes.map((a) => len(1, encodeKeyValue(a)))), schemaUrl, serviceName, attributes };
}

export function makeScope(name: string, version = '1.0.0', schemaUrl = ''): ScopeRef {
  return { bytes: cat(str(1, name), str(2, version)), schemaUrl, name, version };
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
