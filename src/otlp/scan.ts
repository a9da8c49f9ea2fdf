/**
 * A hand-written lazy scanner of ExportTraceServiceRequest (== TracesData on the wire).
 *
 * It walks the protobuf wire format once, without protobufjs and without building an object per
 * field: each span, resource and scope is kept as a subarray of the input (no copy), and only what
 * routing, storage and indexing need is extracted (ids, name, kind, times, status, scalar
 * attributes, service.name). Everything else inside a span (events, links, trace_state, nested
 * attribute values) is still walked, so that every stored slice is well-formed protobuf that any
 * decoder (protobufjs, Go, Grafana) can read back.
 *
 * Two kinds of failure:
 *  - undecodable input (truncated varint, a length past the end of its message, a wrong wire
 *    type for a known field, invalid UTF-8 in a string field, nesting deeper than MAX_DEPTH)
 *    throws OtlpDecodeError naming the field path and byte offset → 400 / INVALID_ARGUMENT;
 *  - a well-formed span that the OTLP spec calls invalid (trace_id not 16 bytes or all zero,
 *    span_id not 8 bytes or all zero, parent_span_id neither empty nor 8 bytes) is rejected on
 *    its own and counted in `rejected`; the other spans are kept (→ partial_success).
 * The spec only says end >= start is "expected" and an empty name means "unknown", so neither
 * rejects a span; nor do unknown enum values (proto3 enums are open).
 */
import {
  OtlpDecodeError,
  type DecodedTraceRequest,
  type IndexedAttribute,
  type ResourceRef,
  type ScopeRef,
  type SpanBatch,
  type SpanRecord,
} from './model.js';

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_SGROUP = 3;
const WIRE_EGROUP = 4;
const WIRE_I32 = 5;

/** Deepest nesting of AnyValue arrays / kvlists (and groups) accepted; bounds recursion. */
export const MAX_DEPTH = 64;
/** At most this many rejection messages are kept per request (the count is always exact). */
export const MAX_REJECT_MESSAGES = 10;

const EMPTY = new Uint8Array(0);
const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

const WIRE_NAMES = ['varint', 'i64', 'len', 'start-group', 'end-group', 'i32', 'invalid wire type 6', 'invalid wire type 7'];

// Value kinds of the last AnyValue read.
const V_NONE = 0;
const V_STRING = 1;
const V_BOOL = 2;
const V_INT = 3;
const V_DOUBLE = 4;
const V_OTHER = 5;

/**
 * A direct-mapped cache of short ASCII strings (attribute keys, service names, common values):
 * bounded (INTERN_SLOTS entries of at most INTERN_MAX_BYTES), shared by all scans; a hit returns
 * the same string without building a new one.
 */
const INTERN_SLOTS = 4096;
const INTERN_MASK = INTERN_SLOTS - 1;
const INTERN_MAX_BYTES = 40;
const INTERN_WORDS = INTERN_MAX_BYTES / 4;
/** Per slot: the first and last 4 bytes, the 32-bit words between them, the length, the string. */
const internFirst = new Uint32Array(INTERN_SLOTS);
const internLast = new Uint32Array(INTERN_SLOTS);
const internWords = new Uint32Array(INTERN_SLOTS * INTERN_WORDS);
const internLength = new Int32Array(INTERN_SLOTS).fill(-1);
const internStrings: string[] = new Array<string>(INTERN_SLOTS).fill('');

// How Scanner.checkedMessage checks a field of a message nothing is extracted from.
const CHECK_STRING = 0;
const CHECK_BYTES = 1;
const CHECK_ATTRIBUTES = 2;
const CHECK_VARINT = 3;
const CHECK_FIXED64 = 4;
const CHECK_FIXED32 = 5;

interface FieldChecks {
  /** The message's place in error paths (e.g. 'events'). */
  ctx: string;
  /** `${ctx}.attributes`, built once (not per attribute). */
  attributesCtx: string;
  /** Indexed by field number; a missing entry is an unknown field, skipped. */
  fields: readonly ({ name: string; check: number } | undefined)[];
}

/** Checks for a message whose fields are numbered 1, 2, 3, ... in the order given. */
function fieldChecks(ctx: string, fields: [name: string, check: number][]): FieldChecks {
  return { ctx, attributesCtx: `${ctx}.attributes`, fields: [undefined, ...fields.map(([name, check]) => ({ name, check }))] };
}

// trace.v1 Span.Event, Span.Link; common.v1 EntityRef (fields in field-number order, from 1).
const EVENT_CHECKS = fieldChecks('events', [
  ['time_unix_nano', CHECK_FIXED64], ['name', CHECK_STRING], ['attributes', CHECK_ATTRIBUTES], ['dropped_attributes_count', CHECK_VARINT],
]);
const LINK_CHECKS = fieldChecks('links', [
  ['trace_id', CHECK_BYTES], ['span_id', CHECK_BYTES], ['trace_state', CHECK_STRING], ['attributes', CHECK_ATTRIBUTES],
  ['dropped_attributes_count', CHECK_VARINT], ['flags', CHECK_FIXED32],
]);
const ENTITY_REF_CHECKS = fieldChecks('resource.entity_refs', [
  ['schema_url', CHECK_STRING], ['type', CHECK_STRING], ['id_keys', CHECK_STRING], ['description_keys', CHECK_STRING],
]);

/** Node's Buffer has a native latin1Slice (exact for ASCII), missing from its public typings. */
interface NodeBufferSlices {
  latin1Slice(start: number, end: number): string;
}

class Scanner {
  readonly view: DataView;
  /** The same bytes as a Buffer, for its native string slicing. */
  readonly node: NodeBufferSlices;
  pos = 0;
  /** High 32 bits of the last varint read. */
  hi = 0;
  /** Where we are, for error messages (indices into the request). */
  rs = -1;
  ss = -1;
  sp = -1;
  /** The enclosing message field being walked (e.g. 'events.attributes'), for error messages. */
  ctx = '';
  // The last AnyValue read.
  valueKind = V_NONE;
  valueString = '';
  valueNumber = 0;
  valueBig: bigint | null = null;
  valueBool = false;

  /** A view of `length` bytes at `start` (cheaper than subarray). */
  slice(start: number, length: number): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset + start, length);
  }

  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.node = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength) as unknown as NodeBufferSlices;
  }

  path(field: string): string {
    let p = 'ExportTraceServiceRequest';
    if (this.rs >= 0) p += `.resource_spans[${this.rs}]`;
    if (this.ss >= 0) p += `.scope_spans[${this.ss}]`;
    if (this.sp >= 0) p += `.spans[${this.sp}]`;
    if (this.ctx) p += `.${this.ctx}`;
    return field ? `${p}.${field}` : p;
  }

  fail(field: string, problem: string, offset = this.pos): never {
    throw new OtlpDecodeError(`${this.path(field)}: ${problem} at byte offset ${offset}`);
  }

  /** Reads a varint of up to 10 bytes; returns the low 32 bits (unsigned), high bits in `hi`. */
  varint(end: number, field: string): number {
    const buf = this.buf;
    let pos = this.pos;
    const start = pos;
    let lo = 0;
    let b: number;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) this.fail(field, 'truncated varint', start);
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        this.hi = 0;
        return lo >>> 0;
      }
    }
    if (pos >= end) this.fail(field, 'truncated varint', start);
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    let hi = (b & 0x7f) >> 4;
    if (b < 0x80) {
      this.pos = pos;
      this.hi = hi;
      return lo >>> 0;
    }
    for (let shift = 3; shift < 32; shift += 7) {
      if (pos >= end) this.fail(field, 'truncated varint', start);
      b = buf[pos++]!;
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        this.hi = hi >>> 0;
        return lo >>> 0;
      }
    }
    this.fail(field, 'varint longer than 10 bytes', start);
  }

  /** A tag; returns (fieldNumber << 3 | wireType) as a number. */
  tag(end: number, where: string): number {
    const pos = this.pos;
    if (pos < end) {
      const b = this.buf[pos]!;
      // Fast path: one-byte tag (field numbers 1..15).
      if (b < 0x80 && b >= 8) {
        this.pos = pos + 1;
        return b;
      }
    }
    return this.tagSlow(end, where);
  }

  tagSlow(end: number, where: string): number {
    const start = this.pos;
    const t = this.varint(end, where);
    if (this.hi !== 0 || t >>> 3 === 0) this.fail(where, `invalid field number ${this.hi !== 0 ? 'over 2^29' : 0}`, start);
    return t;
  }

  /** A length prefix; returns the end offset of the payload after checking it fits in `end`. */
  lengthEnd(end: number, field: string): number {
    const pos = this.pos;
    if (pos < end) {
      const b = this.buf[pos]!;
      // Fast path: one-byte length that fits.
      if (b < 0x80 && b < end - pos) {
        this.pos = pos + 1;
        return pos + 1 + b;
      }
    }
    return this.lengthEndSlow(end, field);
  }

  lengthEndSlow(end: number, field: string): number {
    const start = this.pos;
    const len = this.varint(end, field);
    if (this.hi !== 0 || len > end - this.pos) {
      this.fail(field, `length ${this.hi !== 0 ? '>= 2^32' : len} runs past the end of its message (${end - this.pos} bytes left)`, start);
    }
    return this.pos + len;
  }

  fixed64(end: number, field: string): bigint {
    if (end - this.pos < 8) this.fail(field, 'truncated fixed64');
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  double(end: number, field: string): number {
    if (end - this.pos < 8) this.fail(field, 'truncated double');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  skipFixed(end: number, n: number, field: string): void {
    if (end - this.pos < n) this.fail(field, `truncated ${n === 8 ? 'fixed64' : 'fixed32'}`);
    this.pos += n;
  }

  /** Checks and skips a fixed64 (WIRE_I64) or fixed32 (WIRE_I32) field whose value is not needed. */
  skipFixedField(tag: number, end: number, field: string, wire: typeof WIRE_I64 | typeof WIRE_I32): void {
    if ((tag & 7) !== wire) this.wrongWire(tag, field, wire);
    this.skipFixed(end, wire === WIRE_I64 ? 8 : 4, field);
  }

  /** Skips the value of an unknown field of any wire type (groups included, depth-bounded). */
  skip(tag: number, end: number, depth: number): void {
    const wire = tag & 7;
    const field = `field ${tag >>> 3}`;
    switch (wire) {
      case WIRE_VARINT:
        this.varint(end, field);
        return;
      case WIRE_I64:
        this.skipFixed(end, 8, field);
        return;
      case WIRE_LEN:
        this.pos = this.lengthEnd(end, field);
        return;
      case WIRE_I32:
        this.skipFixed(end, 4, field);
        return;
      case WIRE_SGROUP: {
        if (depth >= MAX_DEPTH) this.fail(field, `groups nested deeper than ${MAX_DEPTH}`);
        for (;;) {
          if (this.pos >= end) this.fail(field, 'unterminated group');
          const t = this.tag(end, field);
          if ((t & 7) === WIRE_EGROUP) {
            if (t >>> 3 !== tag >>> 3) this.fail(field, `end-group for field ${t >>> 3} closes group ${tag >>> 3}`);
            return;
          }
          this.skip(t, end, depth + 1);
        }
      }
      default:
        this.fail(field, `unexpected ${WIRE_NAMES[wire]}`);
    }
  }

  wrongWire(tag: number, field: string, expected: number): never {
    this.fail(field, `wrong wire type ${WIRE_NAMES[tag & 7]} (expected ${WIRE_NAMES[expected]}) for field ${tag >>> 3}`);
  }

  /** Decodes UTF-8 in [start, end), validating it. Short strings go through the intern cache. */
  string(start: number, end: number, field: string): string {
    const buf = this.buf;
    const n = end - start;
    if (n === 0) return '';
    if (n <= INTERN_MAX_BYTES) {
      // The slot comes from the length and the first and last 4 bytes; a hit compares those two
      // words and the words between them (cached strings are ASCII, so equal bytes are ASCII too).
      const view = this.view;
      let first: number;
      let last: number;
      if (n >= 4) {
        first = view.getUint32(start, true);
        last = view.getUint32(end - 4, true);
      } else {
        first = buf[start]! | (n > 1 ? buf[start + 1]! << 8 : 0) | (n > 2 ? buf[start + 2]! << 16 : 0);
        last = 0;
      }
      let slot = Math.imul(first ^ Math.imul(last, 0x9e3779b1) ^ n, 0x85ebca6b);
      slot = (slot ^ (slot >>> 13)) & INTERN_MASK;
      const off = slot * INTERN_WORDS;
      if (internLength[slot] === n && internFirst[slot] === first && internLast[slot] === last) {
        let o = 4;
        let k = off;
        while (o < n - 4 && internWords[k] === view.getUint32(start + o, true)) {
          o += 4;
          k++;
        }
        if (o >= n - 4) return internStrings[slot]!;
      }
      if (!this.isAscii(start, end)) return this.decodeUtf8(start, end, field);
      const str = this.node.latin1Slice(start, end);
      internFirst[slot] = first;
      internLast[slot] = last;
      for (let o = 4, k = off; o < n - 4; o += 4, k++) internWords[k] = view.getUint32(start + o, true);
      internLength[slot] = n;
      internStrings[slot] = str;
      return str;
    }
    if (!this.isAscii(start, end)) return this.decodeUtf8(start, end, field);
    return this.node.latin1Slice(start, end);
  }

  isAscii(start: number, end: number): boolean {
    const view = this.view;
    let i = start;
    for (; i + 4 <= end; i += 4) if (view.getUint32(i, true) & 0x80808080) return false;
    const buf = this.buf;
    for (; i < end; i++) if (buf[i]! >= 0x80) return false;
    return true;
  }

  decodeUtf8(start: number, end: number, field: string): string {
    try {
      return fatalDecoder.decode(this.buf.subarray(start, end));
    } catch {
      this.fail(field, 'invalid UTF-8 in string', start);
    }
  }

  /** Checks UTF-8 in [start, end) without building a string. */
  checkUtf8(start: number, end: number, field: string): void {
    if (!this.isAscii(start, end)) this.decodeUtf8(start, end, field);
  }

  /** A length-delimited string field: reads it (decode=true) or only validates it. */
  stringField(tag: number, end: number, field: string, decode: boolean): string {
    if ((tag & 7) !== WIRE_LEN) this.wrongWire(tag, field, WIRE_LEN);
    const stop = this.lengthEnd(end, field);
    const start = this.pos;
    this.pos = stop;
    if (decode) return this.string(start, stop, field);
    this.checkUtf8(start, stop, field);
    return '';
  }

  /** A length-delimited bytes or message field; returns its end, leaves pos at its start. */
  lenField(tag: number, end: number, field: string): number {
    if ((tag & 7) !== WIRE_LEN) this.wrongWire(tag, field, WIRE_LEN);
    return this.lengthEnd(end, field);
  }

  /** A KeyValue attribute that is validated but not indexed (scope, event and link attributes). */
  unindexedAttribute(tag: number, end: number, ctx: string): void {
    const stop = this.lenField(tag, end, 'attributes');
    this.keyValue(stop, ctx, 0, null);
  }

  varintField(tag: number, end: number, field: string): number {
    if ((tag & 7) !== WIRE_VARINT) this.wrongWire(tag, field, WIRE_VARINT);
    return this.varint(end, field);
  }

  // ---- common.v1 ----

  /**
   * AnyValue in [pos, end). Records the scalar it holds (last one wins, as for any oneof) in
   * value*; walks arrays and kvlists to validate them.
   */
  anyValue(end: number, field: string, depth: number, decode: boolean): void {
    if (depth >= MAX_DEPTH) this.fail(field, `attribute values nested deeper than ${MAX_DEPTH}`);
    this.valueKind = V_NONE;
    while (this.pos < end) {
      const tag = this.tag(end, field);
      switch (tag >>> 3) {
        case 1: {
          const s = this.stringField(tag, end, 'string_value', decode);
          this.valueKind = V_STRING;
          this.valueString = s;
          break;
        }
        case 2:
          this.valueBool = this.varintField(tag, end, 'bool_value') !== 0 || this.hi !== 0;
          this.valueKind = V_BOOL;
          break;
        case 3: {
          const lo = this.varintField(tag, end, 'int_value');
          this.setInt64(lo, this.hi);
          this.valueKind = V_INT;
          break;
        }
        case 4:
          if ((tag & 7) !== WIRE_I64) this.wrongWire(tag, 'double_value', WIRE_I64);
          this.valueNumber = this.double(end, 'double_value');
          this.valueKind = V_DOUBLE;
          break;
        case 5: {
          const stop = this.lenField(tag, end, 'array_value');
          this.arrayValue(stop, 'array_value', depth + 1);
          this.valueKind = V_OTHER;
          break;
        }
        case 6: {
          const stop = this.lenField(tag, end, 'kvlist_value');
          this.keyValueList(stop, 'kvlist_value', depth + 1);
          this.valueKind = V_OTHER;
          break;
        }
        case 7:
          this.pos = this.lenField(tag, end, 'bytes_value');
          this.valueKind = V_OTHER;
          break;
        default:
          this.skip(tag, end, depth);
      }
    }
  }

  setInt64(lo: number, hi: number): void {
    this.valueBig = null;
    if (hi === 0) {
      this.valueNumber = lo;
    } else if (hi < 0x200000) {
      this.valueNumber = hi * 4294967296 + lo;
    } else if (hi >= 0x80000000 && ~hi >>> 0 < 0x200000) {
      const magnitude = (~hi >>> 0) * 4294967296 + (~lo >>> 0) + 1;
      if (magnitude <= Number.MAX_SAFE_INTEGER) this.valueNumber = -magnitude;
      else this.valueBig = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
    } else {
      this.valueBig = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
    }
  }

  arrayValue(end: number, field: string, depth: number): void {
    while (this.pos < end) {
      const tag = this.tag(end, field);
      if (tag >>> 3 === 1) {
        const stop = this.lenField(tag, end, 'values');
        this.anyValue(stop, 'values', depth, false);
        this.pos = stop;
      } else this.skip(tag, end, depth);
    }
  }

  keyValueList(end: number, field: string, depth: number): void {
    while (this.pos < end) {
      const tag = this.tag(end, field);
      if (tag >>> 3 === 1) {
        const stop = this.lenField(tag, end, 'values');
        this.keyValue(stop, this.ctx, depth, null);
      } else this.skip(tag, end, depth);
    }
  }

  /** KeyValue in [pos, end); when `into` is given, a scalar value is appended to it. */
  keyValue(end: number, ctx: string, depth: number, into: IndexedAttribute[] | null): void {
    const savedCtx = this.ctx;
    this.ctx = ctx;
    if (into !== null && this.scalarKeyValue(end, into)) {
      this.ctx = savedCtx;
      return;
    }
    const field = '';
    const decode = into !== null;
    let key = '';
    let kind = V_NONE;
    let str = '';
    let num = 0;
    let big: bigint | null = null;
    let bool = false;
    while (this.pos < end) {
      const tag = this.tag(end, field);
      const fieldNo = tag >>> 3;
      if (fieldNo === 1) {
        key = this.stringField(tag, end, 'key', decode);
      } else if (fieldNo === 2) {
        const stop = this.lenField(tag, end, 'value');
        this.anyValue(stop, 'value', depth + 1, decode);
        this.pos = stop;
        kind = this.valueKind;
        str = this.valueString;
        num = this.valueNumber;
        big = this.valueBig;
        bool = this.valueBool;
      } else this.skip(tag, end, depth);
    }
    this.ctx = savedCtx;
    if (into === null) return;
    switch (kind) {
      case V_STRING:
        into.push({ key, value: str });
        break;
      case V_BOOL:
        into.push({ key, value: bool });
        break;
      case V_INT:
        into.push({ key, value: big ?? num });
        break;
      case V_DOUBLE:
        into.push({ key, value: num, isDouble: true });
        break;
    }
  }

  /**
   * Fast path for the common layout of an attribute: `key` then `value` holding one scalar, every
   * length in one byte. Reads it and returns true; returns false (nothing consumed) for any other
   * layout, which the general path then handles. Same results as the general path.
   */
  scalarKeyValue(end: number, into: IndexedAttribute[]): boolean {
    const buf = this.buf;
    const p = this.pos;
    if (end - p < 4 || buf[p] !== 0x0a) return false;
    const keyLen = buf[p + 1]!;
    const keyStart = p + 2;
    const keyEnd = keyStart + keyLen;
    if (keyLen >= 0x80 || keyEnd + 3 > end || buf[keyEnd] !== 0x12) return false;
    const valueLen = buf[keyEnd + 1]!;
    const valueStart = keyEnd + 2;
    if (valueLen >= 0x80 || valueStart + valueLen !== end || valueLen < 2) return false;
    switch (buf[valueStart]) {
      case 0x0a: {
        // string_value
        if (buf[valueStart + 1] !== valueLen - 2) return false;
        const key = this.string(keyStart, keyEnd, 'key');
        into.push({ key, value: this.string(valueStart + 2, end, 'string_value') });
        break;
      }
      case 0x10: {
        // bool_value (one-byte varint)
        if (valueLen !== 2 || buf[valueStart + 1]! >= 0x80) return false;
        into.push({ key: this.string(keyStart, keyEnd, 'key'), value: buf[valueStart + 1] !== 0 });
        break;
      }
      case 0x18: {
        // int_value
        this.pos = valueStart + 1;
        const lo = this.varint(end, 'int_value');
        if (this.pos !== end) {
          this.pos = p;
          return false;
        }
        this.setInt64(lo, this.hi);
        const value = this.valueBig ?? this.valueNumber;
        into.push({ key: this.string(keyStart, keyEnd, 'key'), value });
        break;
      }
      case 0x21: {
        // double_value
        if (valueLen !== 9) return false;
        const value = this.view.getFloat64(valueStart + 1, true);
        into.push({ key: this.string(keyStart, keyEnd, 'key'), value, isDouble: true });
        break;
      }
      default:
        return false;
    }
    this.pos = end;
    return true;
  }

  /** Resource message in [pos, end): scalar attributes into `ref`, everything else validated. */
  resource(end: number, ref: ResourceRef): void {
    this.ctx = 'resource';
    while (this.pos < end) {
      const tag = this.tag(end, '');
      switch (tag >>> 3) {
        case 1: {
          const stop = this.lenField(tag, end, 'attributes');
          this.keyValue(stop, 'resource.attributes', 0, ref.attributes);
          break;
        }
        case 2:
          this.varintField(tag, end, 'dropped_attributes_count');
          break;
        case 3: {
          const stop = this.lenField(tag, end, 'entity_refs');
          this.checkedMessage(stop, ENTITY_REF_CHECKS);
          break;
        }
        default:
          this.skip(tag, end, 0);
      }
    }
    for (const a of ref.attributes) {
      if (a.key === 'service.name' && typeof a.value === 'string') ref.serviceName = a.value;
    }
    this.ctx = '';
  }

  entityRef(end: number, field: string): void {
    while (this.pos < end) {
      const tag = this.tag(end, field);
      const n = tag >>> 3;
      if (n >= 1 && n <= 4) this.stringField(tag, end, field, false);
      else this.skip(tag, end, 0);
    }
  }

  /** InstrumentationScope in [pos, end). */
  scope(end: number, ref: ScopeRef): void {
    this.ctx = 'scope';
    while (this.pos < end) {
      const tag = this.tag(end, '');
      switch (tag >>> 3) {
        case 1:
          ref.name = this.stringField(tag, end, 'name', true);
          break;
        case 2:
          ref.version = this.stringField(tag, end, 'version', true);
          break;
        case 3:
          this.unindexedAttribute(tag, end, 'scope.attributes');
          break;
        case 4:
          this.varintField(tag, end, 'dropped_attributes_count');
          break;
        default:
          this.skip(tag, end, 0);
      }
    }
    this.ctx = '';
  }

  /** Validates a message nothing is extracted from (event, link, entity ref), as `checks` describes. */
  checkedMessage(end: number, checks: FieldChecks): void {
    const savedCtx = this.ctx;
    this.ctx = checks.ctx;
    const fields = checks.fields;
    while (this.pos < end) {
      const tag = this.tag(end, '');
      const f = fields[tag >>> 3];
      if (f === undefined) {
        this.skip(tag, end, 0);
        continue;
      }
      switch (f.check) {
        case CHECK_STRING:
          this.stringField(tag, end, f.name, false);
          break;
        case CHECK_BYTES:
          this.pos = this.lenField(tag, end, f.name);
          break;
        case CHECK_ATTRIBUTES:
          this.unindexedAttribute(tag, end, checks.attributesCtx);
          break;
        case CHECK_VARINT:
          this.varintField(tag, end, f.name);
          break;
        case CHECK_FIXED64:
          this.skipFixedField(tag, end, f.name, WIRE_I64);
          break;
        case CHECK_FIXED32:
          this.skipFixedField(tag, end, f.name, WIRE_I32);
          break;
        default:
          throw new Error(`scan: unknown field check ${f.check}`);
      }
    }
    this.ctx = savedCtx;
  }
}

function isZero(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Concatenation of two encodings of the same message == their protobuf merge. */
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

class RequestScan extends Scanner {
  readonly batch: SpanBatch = { resources: [], scopes: [], spans: [] };
  lastTraceId: Uint8Array = EMPTY;
  readonly lastTraceWords = new Uint32Array(4);
  rejectedCount = 0;
  readonly messages: string[] = [];

  reject(problem: string): void {
    this.rejectedCount++;
    if (this.messages.length < MAX_REJECT_MESSAGES) {
      this.messages.push(`span ${this.sp} of scope ${this.ss} of resource ${this.rs}: ${problem}`);
    }
  }

  request(): void {
    const end = this.buf.length;
    let rs = 0;
    while (this.pos < end) {
      const tag = this.tag(end, '');
      if (tag >>> 3 === 1) {
        const stop = this.lenField(tag, end, 'resource_spans');
        this.rs = rs;
        this.resourceSpans(stop);
        this.rs = -1;
        rs++;
      } else this.skip(tag, end, 0);
    }
  }

  resourceSpans(end: number): void {
    const ref: ResourceRef = { bytes: EMPTY, schemaUrl: '', serviceName: '', attributes: [] };
    const index = this.batch.resources.length;
    this.batch.resources.push(ref);
    let ss = 0;
    while (this.pos < end) {
      const tag = this.tag(end, '');
      if (tag >>> 3 === 2) {
        const stop = this.lenField(tag, end, 'scope_spans');
        this.ss = ss;
        this.scopeSpans(stop, index);
        this.ss = -1;
        ss++;
      } else this.groupHeaderField(tag, end, ref, 'resource');
    }
    if (ref.bytes.length > 0) this.embedded(ref.bytes, (s, end) => s.resource(end, ref));
  }

  scopeSpans(end: number, resource: number): void {
    const ref: ScopeRef = { bytes: EMPTY, schemaUrl: '', name: '', version: '' };
    const index = this.batch.scopes.length;
    this.batch.scopes.push(ref);
    let sp = 0;
    while (this.pos < end) {
      const tag = this.tag(end, '');
      if (tag >>> 3 === 2) {
        const stop = this.lenField(tag, end, 'spans');
        this.sp = sp;
        this.span(stop, resource, index);
        this.pos = stop;
        this.sp = -1;
        sp++;
      } else this.groupHeaderField(tag, end, ref, 'scope');
    }
    if (ref.bytes.length > 0) this.embedded(ref.bytes, (s, end) => s.scope(end, ref));
  }

  /**
   * Fields 1 (the Resource / InstrumentationScope, kept as bytes and merged when repeated, as
   * protobuf merges) and 3 (schema_url) that ResourceSpans and ScopeSpans share; skips unknown ones.
   */
  groupHeaderField(tag: number, end: number, ref: ResourceRef | ScopeRef, field: 'resource' | 'scope'): void {
    switch (tag >>> 3) {
      case 1: {
        const stop = this.lenField(tag, end, field);
        ref.bytes = concat(ref.bytes, this.buf.subarray(this.pos, stop));
        this.pos = stop;
        return;
      }
      case 3:
        ref.schemaUrl = this.stringField(tag, end, 'schema_url', true);
        return;
      default:
        this.skip(tag, end, 0);
    }
  }

  /**
   * Scans a resource or scope: in place when its bytes are a slice of the request (offsets in
   * errors are then request offsets), else (a merged copy, when the field repeated) on its own.
   */
  embedded(bytes: Uint8Array, scan: (s: Scanner, end: number) => void): void {
    const start = bytes.byteOffset - this.buf.byteOffset;
    if (bytes.buffer === this.buf.buffer && start >= 0 && start + bytes.length <= this.buf.length) {
      const save = this.pos;
      this.pos = start;
      scan(this, start + bytes.length);
      this.pos = save;
    } else {
      const copy = new Scanner(bytes);
      copy.rs = this.rs;
      copy.ss = this.ss;
      scan(copy, bytes.length);
    }
  }

  span(end: number, resource: number, scope: number): void {
    const buf = this.buf;
    const spanStart = this.pos;
    let traceStart = 0;
    let traceEnd = 0;
    let spanIdStart = 0;
    let spanIdEnd = 0;
    let parentStart = 0;
    let parentEnd = 0;
    let name = '';
    let kind = 0;
    let startTime = 0n;
    let endTime = 0n;
    let statusCode = 0;
    let statusMessage = '';
    const attributes: IndexedAttribute[] = [];
    while (this.pos < end) {
      const tag = this.tag(end, '');
      switch (tag >>> 3) {
        case 1:
          traceEnd = this.lenField(tag, end, 'trace_id');
          traceStart = this.pos;
          this.pos = traceEnd;
          break;
        case 2:
          spanIdEnd = this.lenField(tag, end, 'span_id');
          spanIdStart = this.pos;
          this.pos = spanIdEnd;
          break;
        case 3:
          this.stringField(tag, end, 'trace_state', false);
          break;
        case 4:
          parentEnd = this.lenField(tag, end, 'parent_span_id');
          parentStart = this.pos;
          this.pos = parentEnd;
          break;
        case 5:
          name = this.stringField(tag, end, 'name', true);
          break;
        case 6:
          kind = this.varintField(tag, end, 'kind') | 0;
          break;
        case 7:
          if ((tag & 7) !== WIRE_I64) this.wrongWire(tag, 'start_time_unix_nano', WIRE_I64);
          startTime = this.fixed64(end, 'start_time_unix_nano');
          break;
        case 8:
          if ((tag & 7) !== WIRE_I64) this.wrongWire(tag, 'end_time_unix_nano', WIRE_I64);
          endTime = this.fixed64(end, 'end_time_unix_nano');
          break;
        case 9: {
          const stop = this.lenField(tag, end, 'attributes');
          this.keyValue(stop, 'attributes', 0, attributes);
          break;
        }
        case 10:
          this.varintField(tag, end, 'dropped_attributes_count');
          break;
        case 11: {
          const stop = this.lenField(tag, end, 'events');
          this.checkedMessage(stop, EVENT_CHECKS);
          break;
        }
        case 12:
          this.varintField(tag, end, 'dropped_events_count');
          break;
        case 13: {
          const stop = this.lenField(tag, end, 'links');
          this.checkedMessage(stop, LINK_CHECKS);
          break;
        }
        case 14:
          this.varintField(tag, end, 'dropped_links_count');
          break;
        case 15: {
          const stop = this.lenField(tag, end, 'status');
          while (this.pos < stop) {
            const t = this.tag(stop, 'status');
            const n = t >>> 3;
            if (n === 2) statusMessage = this.stringField(t, stop, 'status.message', true);
            else if (n === 3) statusCode = this.varintField(t, stop, 'status.code') | 0;
            else this.skip(t, stop, 0);
          }
          break;
        }
        case 16:
          this.skipFixedField(tag, end, 'flags', WIRE_I32);
          break;
        default:
          this.skip(tag, end, 0);
      }
    }

    const traceLen = traceEnd - traceStart;
    if (traceLen !== 16) return this.reject(`trace_id must be 16 bytes, got ${traceLen}`);
    if (isZero(buf, traceStart, traceEnd)) return this.reject('trace_id must not be all zeros');
    const spanLen = spanIdEnd - spanIdStart;
    if (spanLen !== 8) return this.reject(`span_id must be 8 bytes, got ${spanLen}`);
    if (isZero(buf, spanIdStart, spanIdEnd)) return this.reject('span_id must not be all zeros');
    const parentLen = parentEnd - parentStart;
    if (parentLen !== 0 && parentLen !== 8) return this.reject(`parent_span_id must be empty or 8 bytes, got ${parentLen}`);

    // Spans of one trace usually arrive together: share one traceId view between them.
    let traceId = this.lastTraceId;
    const view = this.view;
    if (
      traceId === EMPTY ||
      view.getUint32(traceStart, true) !== this.lastTraceWords[0] ||
      view.getUint32(traceStart + 4, true) !== this.lastTraceWords[1] ||
      view.getUint32(traceStart + 8, true) !== this.lastTraceWords[2] ||
      view.getUint32(traceStart + 12, true) !== this.lastTraceWords[3]
    ) {
      traceId = this.slice(traceStart, 16);
      this.lastTraceId = traceId;
      for (let w = 0; w < 4; w++) this.lastTraceWords[w] = view.getUint32(traceStart + 4 * w, true);
    }
    const record: SpanRecord = {
      traceId,
      spanId: this.slice(spanIdStart, 8),
      // An all-zero parent is what some converters write for "no parent": a root span.
      parentSpanId: parentLen === 8 && !isZero(buf, parentStart, parentEnd) ? this.slice(parentStart, 8) : EMPTY,
      name,
      kind,
      startTimeUnixNano: startTime,
      endTimeUnixNano: endTime,
      statusCode,
      statusMessage,
      attributes,
      bytes: this.slice(spanStart, end - spanStart),
      resource,
      scope,
    };
    this.batch.spans.push(record);
  }
}

/**
 * Scans an encoded ExportTraceServiceRequest (or TracesData). Valid spans come back in `batch`
 * as slices of `bytes` (keep `bytes` unmodified while the batch is in use); invalid spans are
 * counted in `rejected`. Throws OtlpDecodeError when the body cannot be decoded at all.
 */
export function scanExportTraceRequest(bytes: Uint8Array): DecodedTraceRequest {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('scanExportTraceRequest: expected a Uint8Array');
  // A plain Uint8Array view (Buffer's subarray is slower, and slices need not be Buffers).
  const scan = new RequestScan(Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes);
  scan.request();
  let messages = scan.messages;
  if (scan.rejectedCount > messages.length) {
    messages = [...messages, `... and ${scan.rejectedCount - messages.length} more rejected spans`];
  }
  return { batch: scan.batch, rejected: { count: scan.rejectedCount, messages } };
}

/** "rejected N spans: first reason; second reason; ..." — the partial_success.error_message text. */
export function rejectionSummary(rejected: DecodedTraceRequest['rejected']): string {
  if (rejected.count === 0) return '';
  return `rejected ${rejected.count} invalid span${rejected.count === 1 ? '' : 's'}: ${rejected.messages.join('; ')}`;
}
