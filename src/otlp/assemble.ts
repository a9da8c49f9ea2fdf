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

const textEncoder = new TextEncoder();

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

class Writer {
  private pos = 0;
  constructor(readonly buf: Uint8Array) {}
  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }
  header(field: number, length: number): void {
    this.buf[this.pos++] = (field << 3) | 2;
    this.varint(length);
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  get offset(): number {
    return this.pos;
  }
}

interface Sized {
  scopeSizes: number[];
  schemaUrl: Uint8Array;
  size: number;
}

export function encodeTracesData(groups: ResourceGroup[]): Uint8Array {
  // Pass 1: sizes, so pass 2 writes once into one exact buffer.
  const sized: Sized[] = [];
  let total = 0;
  for (const g of groups) {
    const scopeSizes: number[] = [];
    // An absent resource / scope stays absent (empty bytes): OTLP reads both as "unknown".
    let rsSize = g.resource.bytes.length ? fieldSize(g.resource.bytes.length) : 0;
    for (const s of g.scopes) {
      let ssSize = s.scope.bytes.length ? fieldSize(s.scope.bytes.length) : 0;
      for (const span of s.spans) ssSize += fieldSize(span.length);
      const url = s.scope.schemaUrl;
      if (url) ssSize += fieldSize(Buffer.byteLength(url, 'utf8'));
      scopeSizes.push(ssSize);
      rsSize += fieldSize(ssSize);
    }
    const schemaUrl = textEncoder.encode(g.resource.schemaUrl);
    if (schemaUrl.length) rsSize += fieldSize(schemaUrl.length);
    sized.push({ scopeSizes, schemaUrl, size: rsSize });
    total += fieldSize(rsSize);
  }
  const w = new Writer(new Uint8Array(total));
  groups.forEach((g, gi) => {
    const s = sized[gi]!;
    w.header(1, s.size);
    if (g.resource.bytes.length) {
      w.header(1, g.resource.bytes.length);
      w.bytes(g.resource.bytes);
    }
    g.scopes.forEach((sg, si) => {
      w.header(2, s.scopeSizes[si]!);
      if (sg.scope.bytes.length) {
        w.header(1, sg.scope.bytes.length);
        w.bytes(sg.scope.bytes);
      }
      for (const span of sg.spans) {
        w.header(2, span.length);
        w.bytes(span);
      }
      if (sg.scope.schemaUrl) {
        const url = textEncoder.encode(sg.scope.schemaUrl);
        w.header(3, url.length);
        w.bytes(url);
      }
    });
    if (s.schemaUrl.length) {
      w.header(3, s.schemaUrl.length);
      w.bytes(s.schemaUrl);
    }
  });
  if (w.offset !== total) throw new Error(`encodeTracesData: wrote ${w.offset} bytes, sized ${total}`);
  return w.buf;
}
