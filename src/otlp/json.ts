/**
 * OTLP/JSON → protobuf, per https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
 *
 * JSON → protobuf (ingest): a schema-driven encoder over the vendored .proto files.
 *  - traceId / spanId / parentSpanId are hex (not base64); every other bytes field is base64
 *    (standard or URL-safe, padded or not, as proto3 JSON parsers accept);
 *  - enums are integers (the spec's MUST); enum value names are accepted too, leniently;
 *  - field names are lowerCamelCase; the original snake_case names are accepted too, as proto3
 *    JSON parsers do;
 *  - 64-bit integers as JSON numbers or decimal strings, exactly (no rounding through doubles);
 *  - unknown fields are ignored at any depth; null means "not set";
 *  - errors throw OtlpDecodeError naming the JSON path, e.g.
 *    "resourceSpans[0].scopeSpans[0].spans[3].startTimeUnixNano: not an integer: "12.5"".
 *
 * protobuf → JSON (queries) is ./render.ts: tracesDataToOtlpJson, tracesDataToTempoJson.
 */
import protobuf from 'protobufjs';
import { tryFromBase64, tryFromHex } from './ids.js';
import { exactInteger, JsonNumberText, parseJsonExact, parseJsonExactSlow } from './json-parse.js';
import { OtlpDecodeError } from './model.js';
import { otlpTypes } from './proto.js';

export type OtlpSignal = 'traces' | 'logs' | 'metrics';

/** Deepest message nesting the JSON encoder follows (AnyValue kvlists nest without limit in JSON). */
export const MAX_JSON_MESSAGE_DEPTH = 128;

const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

// ---------------------------------------------------------------- schema

type ScalarType =
  | 'double' | 'float' | 'int32' | 'uint32' | 'sint32' | 'fixed32' | 'sfixed32'
  | 'int64' | 'uint64' | 'sint64' | 'fixed64' | 'sfixed64' | 'bool' | 'string' | 'bytes';

interface FieldInfo {
  id: number;
  jsonName: string;
  repeated: boolean;
  /** Scalar type, 'enum' or 'message'. */
  type: ScalarType | 'enum' | 'message';
  message?: MessageInfo;
  enumValues?: Record<string, number>;
  /** Name of the oneof (real or proto3-optional) the field belongs to: always written when set. */
  oneof?: string;
  hexId: boolean;
  packed: boolean;
}

interface MessageInfo {
  name: string;
  byJsonName: Map<string, FieldInfo>;
  hasOneofs: boolean;
}

const messageInfos = new Map<protobuf.Type, MessageInfo>();

function snakeCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

function messageInfo(type: protobuf.Type): MessageInfo {
  let info = messageInfos.get(type);
  if (info) return info;
  info = { name: type.name, byJsonName: new Map(), hasOneofs: false };
  messageInfos.set(type, info); // before recursing: messages refer to themselves (AnyValue)
  for (const field of type.fieldsArray) {
    field.resolve();
    const resolved = field.resolvedType;
    const f: FieldInfo = {
      id: field.id,
      jsonName: field.name,
      repeated: field.repeated,
      type: resolved instanceof protobuf.Type ? 'message' : resolved instanceof protobuf.Enum ? 'enum' : (field.type as ScalarType),
      oneof: field.partOf ? field.partOf.name : undefined,
      hexId: ID_FIELDS.has(field.name) && field.type === 'bytes',
      packed: false,
    };
    if (resolved instanceof protobuf.Enum) f.enumValues = resolved.values;
    f.packed = f.repeated && f.type !== 'message' && f.type !== 'string' && f.type !== 'bytes';
    if (f.oneof) info.hasOneofs = true;
    info.byJsonName.set(field.name, f);
    info.byJsonName.set(snakeCase(field.name), f);
    if (resolved instanceof protobuf.Type) f.message = messageInfo(resolved);
  }
  return info;
}

// ---------------------------------------------------------------- writer

class ProtoWriter {
  buf: Uint8Array;
  private view: DataView;
  private node: Buffer;
  len = 0;

  constructor(size = 4096) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
    this.node = Buffer.from(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
    this.node = Buffer.from(next.buffer);
  }

  varint(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.len++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.len++] = n;
  }

  /** Any 64-bit value as its unsigned two's-complement varint. */
  varint64(v: bigint): void {
    if (v >= 0n && v <= 0xffffffffn) {
      this.varint(Number(v));
      return;
    }
    let u = BigInt.asUintN(64, v);
    this.ensure(10);
    while (u >= 0x80n) {
      this.buf[this.len++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.len++] = Number(u);
  }

  tag(id: number, wire: number): void {
    this.varint(id * 8 + wire);
  }

  fixed32(n: number): void {
    this.ensure(4);
    this.view.setUint32(this.len, n >>> 0, true);
    this.len += 4;
  }

  fixed64(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.len, BigInt.asUintN(64, v), true);
    this.len += 8;
  }

  double(n: number): void {
    this.ensure(8);
    this.view.setFloat64(this.len, n, true);
    this.len += 8;
  }

  float(n: number): void {
    this.ensure(4);
    this.view.setFloat32(this.len, n, true);
    this.len += 4;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  string(s: string): void {
    // ASCII fast path: one byte per char, no byteLength pass.
    const n = s.length;
    if (n < 128) {
      let ascii = true;
      for (let i = 0; i < n; i++) {
        if (s.charCodeAt(i) >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.ensure(n + 1);
        this.buf[this.len++] = n;
        for (let i = 0; i < n; i++) this.buf[this.len + i] = s.charCodeAt(i);
        this.len += n;
        return;
      }
    }
    const size = Buffer.byteLength(s, 'utf8');
    this.varint(size);
    this.ensure(size);
    this.node.write(s, this.len, size, 'utf8');
    this.len += size;
  }

  /** Reserves room for a length prefix; returns the mark to pass to `ldelim`. */
  fork(): number {
    this.ensure(5);
    this.len += 5;
    return this.len;
  }

  /** Writes the length of everything since `fork` before it, closing the gap left by the reservation. */
  ldelim(mark: number): void {
    const size = this.len - mark;
    let n = size;
    let varintLen = 1;
    while (n >= 0x80) {
      n = Math.floor(n / 128);
      varintLen++;
    }
    let p = mark - 5;
    n = size;
    while (n >= 0x80) {
      this.buf[p++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[p++] = n;
    if (varintLen < 5) {
      this.buf.copyWithin(p, mark, this.len);
      this.len -= 5 - varintLen;
    }
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

// ---------------------------------------------------------------- JSON → protobuf

/**
 * The JSON path being encoded, as a stack of keys and indices: pushed and popped as the encoder
 * descends, turned into text only when an error is reported (building path strings for every
 * field would cost more than the encoding).
 */
const pathStack: (string | number)[] = [];

function pathText(): string {
  let p = '';
  for (const k of pathStack) p += typeof k === 'number' ? `[${k}]` : p ? `.${k}` : k;
  return p || '(root)';
}

function fail(problem: string): never {
  throw new OtlpDecodeError(`${pathText()}: ${problem}`);
}

/** Thrown when a JSON number may have been rounded by JSON.parse: the body is re-parsed exactly. */
class NeedsExactParse extends Error {}

/** A short description of a JSON value for an error message (never recursive: values may nest deeply). */
function describe(v: unknown): string {
  if (v instanceof JsonNumberText) return v.text;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') {
    const s = JSON.stringify(v.length > 60 ? v.slice(0, 57) : v);
    return v.length > 60 ? s.slice(0, -1) + '..."' : s;
  }
  return String(v);
}

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

/** Decimal digits only, no sign: the common form of 64-bit values in OTLP/JSON. */
const PLAIN_UINT = /^\d{1,19}$/;

function integerOf(v: unknown, type: string): bigint {
  let n: bigint | null;
  if (typeof v === 'number') {
    // A JSON number beyond 2^53 may have been rounded by JSON.parse: re-read the literal.
    if (Number.isInteger(v) && !Number.isSafeInteger(v) && exactParsing === false) throw new NeedsExactParse();
    n = Number.isInteger(v) ? BigInt(v) : null;
  } else if (typeof v === 'string') {
    n = PLAIN_UINT.test(v) ? BigInt(v) : exactInteger(v);
  } else if (v instanceof JsonNumberText) {
    n = exactInteger(v);
  } else {
    fail(`expected an integer (${type}), got ${describe(v)}`);
  }
  if (n === null) fail(`not an integer: ${describe(v)}`);
  const [min, max] = INT_RANGES[type]!;
  if (n < min || n > max) fail(`${describe(v)} is out of range for ${type}`);
  return n;
}

/** Whether the value being encoded came from the exact parser (so numbers are as written). */
let exactParsing = false;

function floatOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof JsonNumberText) return Number(v.text);
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (/^\s*-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/.test(v)) return Number(v);
  }
  fail(`expected a number, got ${describe(v)}`);
}

function enumOf(v: unknown, f: FieldInfo): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) return v;
  if (typeof v === 'string' && f.enumValues && Object.prototype.hasOwnProperty.call(f.enumValues, v)) {
    return f.enumValues[v]!;
  }
  if (typeof v === 'number' || v instanceof JsonNumberText) return Number(integerOf(v, 'int32'));
  fail(`expected an enum integer, got ${describe(v)}`);
}

function isDefault(f: FieldInfo, v: unknown): boolean {
  switch (f.type) {
    case 'string':
    case 'bytes':
      return v === '';
    case 'bool':
      return v === false;
    case 'message':
      return false;
    default:
      return v === 0 || v === '0';
  }
}

/** Wire type of a non-repeated value of this field. */
function wireOf(f: FieldInfo): number {
  switch (f.type) {
    case 'double':
    case 'fixed64':
    case 'sfixed64':
      return 1;
    case 'float':
    case 'fixed32':
    case 'sfixed32':
      return 5;
    case 'string':
    case 'bytes':
    case 'message':
      return 2;
    default:
      return 0;
  }
}

/** Writes the value (no tag) of a scalar or enum. */
function writeScalar(w: ProtoWriter, f: FieldInfo, v: unknown): void {
  switch (f.type) {
    case 'string':
      if (typeof v !== 'string') fail(`expected a string, got ${describe(v)}`);
      w.string(v);
      return;
    case 'bool':
      if (typeof v !== 'boolean') fail(`expected true or false, got ${describe(v)}`);
      w.varint(v ? 1 : 0);
      return;
    case 'bytes': {
      if (typeof v !== 'string') fail(`expected a ${f.hexId ? 'hex' : 'base64'} string, got ${describe(v)}`);
      const bytes = f.hexId ? tryFromHex(v) : tryFromBase64(v);
      if (!bytes) fail(f.hexId ? `not a hex id: ${describe(v)}` : `not base64: ${describe(v)}`);
      w.bytes(bytes);
      return;
    }
    case 'double':
      w.double(floatOf(v));
      return;
    case 'float':
      w.float(floatOf(v));
      return;
    case 'enum': {
      const n = enumOf(v, f);
      if (n >= 0) w.varint(n);
      else w.varint64(BigInt(n));
      return;
    }
    case 'int32':
    case 'int64':
    case 'uint32':
    case 'uint64':
      w.varint64(integerOf(v, f.type));
      return;
    case 'sint32':
    case 'sint64': {
      const n = integerOf(v, f.type);
      w.varint64(n >= 0n ? n << 1n : ((-n) << 1n) - 1n);
      return;
    }
    case 'fixed32':
    case 'sfixed32':
      w.fixed32(Number(BigInt.asUintN(32, integerOf(v, f.type))));
      return;
    case 'fixed64':
    case 'sfixed64':
      w.fixed64(integerOf(v, f.type));
      return;
    default:
      throw new Error(`otlp/json: unhandled field type ${f.type} at ${pathText()}`);
  }
}

/** Scratch writer for type-checking values that are not written (proto3 defaults). */
const scratch = new ProtoWriter(64);

function writeMessage(w: ProtoWriter, info: MessageInfo, obj: unknown, depth: number): void {
  if (depth > MAX_JSON_MESSAGE_DEPTH) fail(`messages nested deeper than ${MAX_JSON_MESSAGE_DEPTH}`);
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj) || obj instanceof JsonNumberText) {
    fail(`expected an object (${info.name}), got ${describe(obj)}`);
  }
  let oneofNames: string[] | null = null;
  let oneofFields: string[] | null = null;
  const record = obj as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const f = info.byJsonName.get(key);
    if (!f) continue; // unknown fields are ignored
    const v = record[key];
    if (v === null || v === undefined) continue;
    pathStack.push(key);
    if (f.oneof) {
      if (!oneofNames) {
        oneofNames = [];
        oneofFields = [];
      }
      const at = oneofNames.indexOf(f.oneof);
      if (at >= 0 && oneofFields![at] !== f.jsonName) fail(`oneof ${f.oneof} is already set by ${oneofFields![at]}`);
      oneofNames.push(f.oneof);
      oneofFields!.push(f.jsonName);
    }
    if (f.repeated) {
      if (!Array.isArray(v)) fail(`expected an array, got ${describe(v)}`);
      if (v.length > 0) {
        if (f.packed) {
          w.tag(f.id, 2);
          const mark = w.fork();
          for (let i = 0; i < v.length; i++) {
            pathStack.push(i);
            if (v[i] === null) fail('null in a repeated field');
            writeScalar(w, f, v[i]);
            pathStack.pop();
          }
          w.ldelim(mark);
        } else {
          for (let i = 0; i < v.length; i++) {
            pathStack.push(i);
            if (v[i] === null) fail('null in a repeated field');
            writeField(w, f, v[i], depth);
            pathStack.pop();
          }
        }
      }
    } else if (!f.oneof && f.type !== 'message' && isDefault(f, v)) {
      // Proto3: a non-oneof scalar at its default value is not written (absent == default).
      scratch.len = 0;
      writeScalar(scratch, f, v); // still type-checked
    } else {
      writeField(w, f, v, depth);
    }
    pathStack.pop();
  }
}

function writeField(w: ProtoWriter, f: FieldInfo, v: unknown, depth: number): void {
  w.tag(f.id, wireOf(f));
  if (f.type === 'message') {
    const mark = w.fork();
    writeMessage(w, f.message!, v, depth + 1);
    w.ldelim(mark);
  } else {
    writeScalar(w, f, v);
  }
}

const REQUEST_TYPES: Record<OtlpSignal, () => protobuf.Type> = {
  traces: () => otlpTypes().ExportTraceServiceRequest,
  logs: () => otlpTypes().ExportLogsServiceRequest,
  metrics: () => otlpTypes().ExportMetricsServiceRequest,
};

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

function bodyText(body: string | Uint8Array): string {
  let text: string;
  if (typeof body === 'string') text = body;
  else {
    try {
      text = utf8Fatal.decode(body);
    } catch {
      throw new OtlpDecodeError('invalid JSON: body is not valid UTF-8');
    }
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // a BOM is tolerated
}

/** JSON text (string or UTF-8 bytes) → parsed value, with 64-bit integers kept exact. */
export function parseOtlpJsonBody(body: string | Uint8Array): unknown {
  return parseJsonExact(bodyText(body));
}

function encodeValue(type: protobuf.Type, value: unknown, exact: boolean, sizeHint = 4096): Uint8Array {
  // Protobuf is typically under half the size of the same OTLP/JSON: start there, grow if not.
  const w = new ProtoWriter(Math.max(1024, sizeHint));
  pathStack.length = 0;
  exactParsing = exact;
  try {
    writeMessage(w, messageInfo(type), value, 0);
  } finally {
    pathStack.length = 0;
    exactParsing = false;
  }
  return w.finish();
}

/** An already-parsed OTLP/JSON message → protobuf bytes of the given protobufjs type. */
export function jsonValueToProtobuf(type: protobuf.Type, value: unknown): Uint8Array {
  return encodeValue(type, value, true);
}

/**
 * OTLP/JSON body of an Export*ServiceRequest → its protobuf bytes (for traces, feed them to
 * scanExportTraceRequest). Throws OtlpDecodeError naming the JSON path of the problem.
 *
 * Fast path: native JSON.parse. Only when an integer field meets a JSON number beyond 2^53 (which
 * JSON.parse may have rounded) is the text parsed again by the exact parser.
 */
export function otlpJsonToProtobuf(body: string | Uint8Array, signal: OtlpSignal = 'traces'): Uint8Array {
  const text = bodyText(body);
  const type = REQUEST_TYPES[signal]();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // Let the exact parser name the position of the syntax error.
    value = parseJsonExactSlow(text, err as Error);
    return encodeValue(type, value, true);
  }
  const sizeHint = text.length >> 1;
  try {
    return encodeValue(type, value, false, sizeHint);
  } catch (err) {
    if (!(err instanceof NeedsExactParse)) throw err;
    return encodeValue(type, parseJsonExactSlow(text), true, sizeHint);
  }
}
