/**
 * Builds an encoded TracesData (== ExportTraceServiceRequest == Tempo's Trace, wire-identical) from
 * raw resource, scope and span slices, without decoding any of them. Field numbers:
 *   TracesData.resource_spans = 1
 *   ResourceSpans { resource = 1, scope_spans = 2, schema_url = 3 }
 *   ScopeSpans    { scope = 1, spans = 2, schema_url = 3 }
 */
import type { ResourceRef, ScopeRef } from './model.js';

export interface ScopeGroup {
  scope: ScopeRef;
  spans: Uint8Array[];
}

export interface ResourceGroup {
  resource: ResourceRef;
  scopes: ScopeGroup[];
}

/** Schema URLs repeat in every trace: encode each once (bounded, so odd inputs cannot grow it). */
const urlBytes = new Map<string, Buffer>();
const MAX_CACHED_URLS = 1024;

function utf8(s: string): Buffer {
  let b = urlBytes.get(s);
  if (!b) {
    b = Buffer.from(s, 'utf8');
    if (urlBytes.size < MAX_CACHED_URLS) urlBytes.set(s, b);
  }
  return b;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Size of a length-delimited field (tag byte + length varint + payload) for field numbers < 16. */
function fieldSize(payloadLength: number): number {
  return 1 + varintSize(payloadLength) + payloadLength;
}

/** Pass 1 of the encoding: every nested length, so pass 2 writes once into an exact buffer. */
export interface SizedTracesData {
  groups: ResourceGroup[];
  resourceSizes: number[];
  scopeSizes: number[][];
  total: number;
}

export function sizeTracesData(groups: ResourceGroup[]): SizedTracesData {
  const resourceSizes: number[] = [];
  const scopeSizes: number[][] = [];
  let total = 0;
  for (const g of groups) {
    // An absent resource / scope stays absent (empty bytes): OTLP reads both as "unknown".
    let rsSize = g.resource.bytes.length ? fieldSize(g.resource.bytes.length) : 0;
    const sizes: number[] = [];
    for (const s of g.scopes) {
      let ssSize = s.scope.bytes.length ? fieldSize(s.scope.bytes.length) : 0;
      for (const span of s.spans) ssSize += fieldSize(span.length);
      if (s.scope.schemaUrl) ssSize += fieldSize(utf8(s.scope.schemaUrl).length);
      sizes.push(ssSize);
      rsSize += fieldSize(ssSize);
    }
    if (g.resource.schemaUrl) rsSize += fieldSize(utf8(g.resource.schemaUrl).length);
    resourceSizes.push(rsSize);
    scopeSizes.push(sizes);
    total += fieldSize(rsSize);
  }
  return { groups, resourceSizes, scopeSizes, total };
}

/** Pass 2: writes the sized TracesData into `buf` at `pos`; returns the position after it. */
export function writeTracesData(t: SizedTracesData, buf: Uint8Array, pos: number): number {
  const start = pos;
  const varint = (n: number): void => {
    while (n >= 0x80) {
      buf[pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    buf[pos++] = n;
  };
  const header = (field: number, length: number): void => {
    buf[pos++] = (field << 3) | 2;
    varint(length);
  };
  const field = (num: number, b: Uint8Array): void => {
    header(num, b.length);
    buf.set(b, pos);
    pos += b.length;
  };
  t.groups.forEach((g, gi) => {
    header(1, t.resourceSizes[gi]!);
    if (g.resource.bytes.length) field(1, g.resource.bytes);
    g.scopes.forEach((s, si) => {
      header(2, t.scopeSizes[gi]![si]!);
      if (s.scope.bytes.length) field(1, s.scope.bytes);
      for (const span of s.spans) field(2, span);
      if (s.scope.schemaUrl) field(3, utf8(s.scope.schemaUrl));
    });
    if (g.resource.schemaUrl) field(3, utf8(g.resource.schemaUrl));
  });
  if (pos - start !== t.total) throw new Error(`writeTracesData: wrote ${pos - start} bytes, sized ${t.total}`);
  return pos;
}

export function encodeTracesData(groups: ResourceGroup[]): Uint8Array {
  const sized = sizeTracesData(groups);
  const buf = new Uint8Array(sized.total);
  writeTracesData(sized, buf, 0);
  return buf;
}
