/**
 * Decodes an encoded TracesData (what Store.getTrace returns) into plain objects with every field,
 * for the renderers that need structure (OTLP/JSON and Tempo JSON in ./render.ts, Jaeger's model
 * in query/). A small hand-written wire reader keeps 64-bit integers exact (bigint), needs no
 * .proto files at run time, and is faster than protobufjs decode + toObject (bench/query.ts).
 *
 * Field numbers (opentelemetry/proto/trace/v1/trace.proto, common/v1/common.proto):
 *   TracesData { resource_spans = 1 }
 *   ResourceSpans { resource = 1; scope_spans = 2; schema_url = 3 }
 *   Resource { attributes = 1; dropped_attributes_count = 2; entity_refs = 3 }
 *   EntityRef { schema_url = 1; type = 2; id_keys = 3; description_keys = 4 }
 *   ScopeSpans { scope = 1; spans = 2; schema_url = 3 }
 *   InstrumentationScope { name = 1; version = 2; attributes = 3; dropped_attributes_count = 4 }
 *   Span { trace_id = 1; span_id = 2; trace_state = 3; parent_span_id = 4; name = 5; kind = 6;
 *          start_time_unix_nano = 7; end_time_unix_nano = 8; attributes = 9; dropped_attributes_count = 10;
 *          events = 11; dropped_events_count = 12; links = 13; dropped_links_count = 14; status = 15; flags = 16 }
 *   Event { time_unix_nano = 1; name = 2; attributes = 3; dropped_attributes_count = 4 }
 *   Link { trace_id = 1; span_id = 2; trace_state = 3; attributes = 4; dropped_attributes_count = 5; flags = 6 }
 *   Status { message = 2; code = 3 }
 *   KeyValue { key = 1; value = 2 }
 *   AnyValue { string_value = 1; bool_value = 2; int_value = 3; double_value = 4; array_value = 5;
 *              kvlist_value = 6; bytes_value = 7 }
 *   ArrayValue { values = 1 }   KeyValueList { values = 1 }
 */
import { OtlpDecodeError } from './model.js';

export type AnyValue =
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: bigint }
  | { kind: 'double'; value: number }
  | { kind: 'array'; values: AnyValue[] }
  | { kind: 'kvlist'; values: KeyValue[] }
  | { kind: 'bytes'; value: Uint8Array }
  | { kind: 'empty' };

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export interface DecodedEntityRef {
  schemaUrl: string;
  type: string;
  idKeys: string[];
  descriptionKeys: string[];
}

export interface DecodedResource {
  attributes: KeyValue[];
  droppedAttributesCount: number;
  entityRefs: DecodedEntityRef[];
}

export interface DecodedScope {
  name: string;
  version: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface DecodedEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface DecodedLink {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
}

export interface DecodedSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  parentSpanId: Uint8Array;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  events: DecodedEvent[];
  droppedEventsCount: number;
  links: DecodedLink[];
  droppedLinksCount: number;
  status: { message: string; code: number };
}

export interface DecodedScopeSpans {
  scope: DecodedScope | null;
  spans: DecodedSpan[];
  schemaUrl: string;
}

export interface DecodedResourceSpans {
  resource: DecodedResource | null;
  scopeSpans: DecodedScopeSpans[];
  schemaUrl: string;
}

const textDecoder = new TextDecoder('utf-8');
const EMPTY = new Uint8Array(0);
/** Nesting bound for AnyValue arrays/kvlists, so hostile bytes cannot exhaust the stack. */
const MAX_DEPTH = 64;

/** Malformed TracesData bytes; an OtlpDecodeError, so callers handling decode errors catch it too. */
export class WireError extends OtlpDecodeError {
  override name = 'WireError';
}

class Reader {
  pos: number;
  /** Field number of the last tag read, for skip() to match a group's end-group. */
  private lastField = 0;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  static of(buf: Uint8Array): Reader {
    return new Reader(buf, 0, buf.length);
  }
  more(): boolean {
    return this.pos < this.end;
  }
  private need(n: number): void {
    if (this.pos + n > this.end) throw new WireError(`truncated message at byte ${this.pos}`);
  }
  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result & 0xffffffffffffffffn;
      shift += 7n;
    }
    throw new WireError('varint longer than 10 bytes');
  }
  /** A varint known to be small (tags, lengths, enums, counts). */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw new WireError('varint too large');
        return result;
      }
      mul *= 128;
    }
    throw new WireError('varint longer than 10 bytes');
  }
  /** int32/enum: negative values arrive as 10-byte two's complement varints. */
  int32(): number {
    const v = this.varint64();
    return Number(BigInt.asIntN(32, v));
  }
  private u32(at: number): number {
    const b = this.buf;
    return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
  }
  fixed64(): bigint {
    this.need(8);
    const lo = this.u32(this.pos);
    const hi = this.u32(this.pos + 4);
    this.pos += 8;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  fixed32(): number {
    this.need(4);
    const v = this.u32(this.pos);
    this.pos += 4;
    return v;
  }
  double(): number {
    this.need(8);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }
  bytes(): Uint8Array {
    const len = this.varint();
    this.need(len);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  string(): string {
    const len = this.varint();
    this.need(len);
    const start = this.pos;
    this.pos += len;
    // Short ASCII strings (keys, names) are most strings here; TextDecoder's per-call cost dominates for them.
    if (len <= 64) {
      let out = '';
      for (let i = start; i < start + len; i++) {
        const c = this.buf[i]!;
        if (c >= 0x80) return textDecoder.decode(this.buf.subarray(start, start + len));
        out += String.fromCharCode(c);
      }
      return out;
    }
    return textDecoder.decode(this.buf.subarray(start, start + len));
  }
  sub(): Reader {
    const len = this.varint();
    this.need(len);
    const r = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }
  /**
   * Skips the value of an unknown field whose tag was just read by tag(). Groups (wire types 3/4,
   * deprecated but valid proto2) are skipped as ./scan.ts skips them at ingest: nested groups,
   * an end-group must name its start-group's field, nesting bounded by MAX_DEPTH. Ingest accepts
   * such spans, so a read must never fail on them.
   */
  skip(wire: number): void {
    this.skipField(this.lastField, wire, 0);
  }
  private skipField(field: number, wire: number, depth: number): void {
    switch (wire) {
      case 0: this.varint64(); return;
      case 1: this.need(8); this.pos += 8; return;
      case 2: { const len = this.varint(); this.need(len); this.pos += len; return; }
      case 5: this.need(4); this.pos += 4; return;
      case 3: {
        if (depth >= MAX_DEPTH) throw new WireError(`groups nested deeper than ${MAX_DEPTH}`);
        for (;;) {
          if (this.pos >= this.end) throw new WireError(`unterminated group ${field}`);
          const t = this.varint();
          const innerField = Math.floor(t / 8);
          const innerWire = t & 7;
          if (innerWire === 4) {
            if (innerField !== field) throw new WireError(`end-group for field ${innerField} closes group ${field}`);
            return;
          }
          this.skipField(innerField, innerWire, depth + 1);
        }
      }
      default: throw new WireError(`unexpected wire type ${wire} for field ${field}`);
    }
  }
  /** Reads a tag; returns [field, wireType]. */
  tag(): [number, number] {
    const t = this.varint();
    this.lastField = Math.floor(t / 8);
    return [this.lastField, t & 7];
  }
}

function anyValue(r: Reader, depth: number): AnyValue {
  if (depth > MAX_DEPTH) throw new WireError('AnyValue nested too deeply');
  let v: AnyValue = { kind: 'empty' };
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) v = { kind: 'string', value: r.string() };
    else if (f === 2 && w === 0) v = { kind: 'bool', value: r.varint64() !== 0n };
    else if (f === 3 && w === 0) v = { kind: 'int', value: BigInt.asIntN(64, r.varint64()) };
    else if (f === 4 && w === 1) v = { kind: 'double', value: r.double() };
    else if (f === 5 && w === 2) v = { kind: 'array', values: repeatedValues(r.sub(), depth + 1) };
    else if (f === 6 && w === 2) v = { kind: 'kvlist', values: repeatedKeyValues(r.sub(), depth + 1) };
    else if (f === 7 && w === 2) v = { kind: 'bytes', value: r.bytes() };
    else r.skip(w);
  }
  return v;
}

function repeatedValues(r: Reader, depth: number): AnyValue[] {
  const out: AnyValue[] = [];
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) out.push(anyValue(r.sub(), depth));
    else r.skip(w);
  }
  return out;
}

function repeatedKeyValues(r: Reader, depth: number): KeyValue[] {
  const out: KeyValue[] = [];
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) out.push(keyValue(r.sub(), depth));
    else r.skip(w);
  }
  return out;
}

function keyValue(r: Reader, depth: number): KeyValue {
  let key = '';
  let value: AnyValue = { kind: 'empty' };
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) key = r.string();
    else if (f === 2 && w === 2) value = anyValue(r.sub(), depth);
    else r.skip(w);
  }
  return { key, value };
}

function entityRef(r: Reader): DecodedEntityRef {
  const out: DecodedEntityRef = { schemaUrl: '', type: '', idKeys: [], descriptionKeys: [] };
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) out.schemaUrl = r.string();
    else if (f === 2 && w === 2) out.type = r.string();
    else if (f === 3 && w === 2) out.idKeys.push(r.string());
    else if (f === 4 && w === 2) out.descriptionKeys.push(r.string());
    else r.skip(w);
  }
  return out;
}

function resource(r: Reader): DecodedResource {
  const out: DecodedResource = { attributes: [], droppedAttributesCount: 0, entityRefs: [] };
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) out.attributes.push(keyValue(r.sub(), 0));
    else if (f === 2 && w === 0) out.droppedAttributesCount = r.varint();
    else if (f === 3 && w === 2) out.entityRefs.push(entityRef(r.sub()));
    else r.skip(w);
  }
  return out;
}

function scope(r: Reader): DecodedScope {
  const out: DecodedScope = { name: '', version: '', attributes: [], droppedAttributesCount: 0 };
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) out.name = r.string();
    else if (f === 2 && w === 2) out.version = r.string();
    else if (f === 3 && w === 2) out.attributes.push(keyValue(r.sub(), 0));
    else if (f === 4 && w === 0) out.droppedAttributesCount = r.varint();
    else r.skip(w);
  }
  return out;
}

function event(r: Reader): DecodedEvent {
  const out: DecodedEvent = { timeUnixNano: 0n, name: '', attributes: [], droppedAttributesCount: 0 };
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 1) out.timeUnixNano = r.fixed64();
    else if (f === 2 && w === 2) out.name = r.string();
    else if (f === 3 && w === 2) out.attributes.push(keyValue(r.sub(), 0));
    else if (f === 4 && w === 0) out.droppedAttributesCount = r.varint();
    else r.skip(w);
  }
  return out;
}

function link(r: Reader): DecodedLink {
  const out: DecodedLink = { traceId: EMPTY, spanId: EMPTY, traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0 };
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) out.traceId = r.bytes();
    else if (f === 2 && w === 2) out.spanId = r.bytes();
    else if (f === 3 && w === 2) out.traceState = r.string();
    else if (f === 4 && w === 2) out.attributes.push(keyValue(r.sub(), 0));
    else if (f === 5 && w === 0) out.droppedAttributesCount = r.varint();
    else if (f === 6 && w === 5) out.flags = r.fixed32();
    else r.skip(w);
  }
  return out;
}

function status(r: Reader): { message: string; code: number } {
  const out = { message: '', code: 0 };
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 2 && w === 2) out.message = r.string();
    else if (f === 3 && w === 0) out.code = r.int32();
    else r.skip(w);
  }
  return out;
}

function decodeSpan(r: Reader): DecodedSpan {
  const s: DecodedSpan = {
    traceId: EMPTY, spanId: EMPTY, traceState: '', parentSpanId: EMPTY, flags: 0, name: '', kind: 0,
    startTimeUnixNano: 0n, endTimeUnixNano: 0n, attributes: [], droppedAttributesCount: 0, events: [],
    droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { message: '', code: 0 },
  };
  while (r.more()) {
    const [f, w] = r.tag();
    switch (f) {
      case 1: if (w === 2) { s.traceId = r.bytes(); continue; } break;
      case 2: if (w === 2) { s.spanId = r.bytes(); continue; } break;
      case 3: if (w === 2) { s.traceState = r.string(); continue; } break;
      case 4: if (w === 2) { s.parentSpanId = r.bytes(); continue; } break;
      case 5: if (w === 2) { s.name = r.string(); continue; } break;
      case 6: if (w === 0) { s.kind = r.int32(); continue; } break;
      case 7: if (w === 1) { s.startTimeUnixNano = r.fixed64(); continue; } break;
      case 8: if (w === 1) { s.endTimeUnixNano = r.fixed64(); continue; } break;
      case 9: if (w === 2) { s.attributes.push(keyValue(r.sub(), 0)); continue; } break;
      case 10: if (w === 0) { s.droppedAttributesCount = r.varint(); continue; } break;
      case 11: if (w === 2) { s.events.push(event(r.sub())); continue; } break;
      case 12: if (w === 0) { s.droppedEventsCount = r.varint(); continue; } break;
      case 13: if (w === 2) { s.links.push(link(r.sub())); continue; } break;
      case 14: if (w === 0) { s.droppedLinksCount = r.varint(); continue; } break;
      case 15: if (w === 2) { s.status = status(r.sub()); continue; } break;
      case 16: if (w === 5) { s.flags = r.fixed32(); continue; } break;
    }
    r.skip(w);
  }
  return s;
}

function scopeSpans(r: Reader): DecodedScopeSpans {
  const out: DecodedScopeSpans = { scope: null, spans: [], schemaUrl: '' };
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) out.scope = scope(r.sub());
    else if (f === 2 && w === 2) out.spans.push(decodeSpan(r.sub()));
    else if (f === 3 && w === 2) out.schemaUrl = r.string();
    else r.skip(w);
  }
  return out;
}

function resourceSpans(r: Reader): DecodedResourceSpans {
  const out: DecodedResourceSpans = { resource: null, scopeSpans: [], schemaUrl: '' };
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) out.resource = resource(r.sub());
    else if (f === 2 && w === 2) out.scopeSpans.push(scopeSpans(r.sub()));
    else if (f === 3 && w === 2) out.schemaUrl = r.string();
    else r.skip(w);
  }
  return out;
}

/** Decodes an encoded TracesData (== Tempo's Trace, == ExportTraceServiceRequest). */
export function decodeTracesData(bytes: Uint8Array): DecodedResourceSpans[] {
  const r = Reader.of(bytes);
  const out: DecodedResourceSpans[] = [];
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) out.push(resourceSpans(r.sub()));
    else r.skip(w);
  }
  return out;
}

/** Wraps an encoded message as field 1 (length-delimited) of an outer message. */
export function wrapAsField1(inner: Uint8Array): Uint8Array {
  const header: number[] = [0x0a];
  let n = inner.length;
  while (n >= 0x80) {
    header.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  header.push(n);
  const out = new Uint8Array(header.length + inner.length);
  out.set(header, 0);
  out.set(inner, header.length);
  return out;
}
