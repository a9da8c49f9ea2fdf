/**
 * TracesData encoding for the seal hot path: the same wire layout as otlp/assemble.ts's
 * encodeTracesData, but sizing and writing are split so a whole block is written into one buffer
 * (no buffer per trace), and schema URLs are encoded once and cached (they repeat in every trace).
 */
import type { ResourceGroup } from '../otlp/assemble.js';

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

function fieldSize(payload: number): number {
  return 1 + varintSize(payload) + payload;
}

export interface SizedTrace {
  groups: ResourceGroup[];
  resourceSizes: number[];
  scopeSizes: number[][];
  total: number;
}

export function sizeTrace(groups: ResourceGroup[]): SizedTrace {
  const resourceSizes: number[] = [];
  const scopeSizes: number[][] = [];
  let total = 0;
  for (const g of groups) {
    let rs = fieldSize(g.resource.bytes.length);
    const ss: number[] = [];
    for (const s of g.scopes) {
      let size = fieldSize(s.scope.bytes.length);
      for (const span of s.spans) size += fieldSize(span.length);
      if (s.scope.schemaUrl) size += fieldSize(utf8(s.scope.schemaUrl).length);
      ss.push(size);
      rs += fieldSize(size);
    }
    if (g.resource.schemaUrl) rs += fieldSize(utf8(g.resource.schemaUrl).length);
    resourceSizes.push(rs);
    scopeSizes.push(ss);
    total += fieldSize(rs);
  }
  return { groups, resourceSizes, scopeSizes, total };
}

/** Writes the sized trace at `pos`; returns the position after it. */
export function writeTrace(t: SizedTrace, buf: Buffer, pos: number): number {
  const start = pos;
  const varint = (n: number): void => {
    while (n >= 0x80) {
      buf[pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    buf[pos++] = n;
  };
  const field = (num: number, b: Uint8Array): void => {
    buf[pos++] = (num << 3) | 2;
    varint(b.length);
    buf.set(b, pos);
    pos += b.length;
  };
  t.groups.forEach((g, gi) => {
    buf[pos++] = (1 << 3) | 2;
    varint(t.resourceSizes[gi]!);
    field(1, g.resource.bytes);
    g.scopes.forEach((s, si) => {
      buf[pos++] = (2 << 3) | 2;
      varint(t.scopeSizes[gi]![si]!);
      field(1, s.scope.bytes);
      for (const span of s.spans) field(2, span);
      if (s.scope.schemaUrl) field(3, utf8(s.scope.schemaUrl));
    });
    if (g.resource.schemaUrl) field(3, utf8(g.resource.schemaUrl));
  });
  if (pos - start !== t.total) throw new Error(`writeTrace: wrote ${pos - start} bytes, sized ${t.total}`);
  return pos;
}
