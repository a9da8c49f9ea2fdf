/**
 * Binary encoding of a SpanBatch for the WAL and for block records.
 *
 * Layout: [u32 viewLength][view][blob]. The view (msgpack) carries every extracted field the index
 * and search need; the blob is the raw resource, scope and span protobuf slices concatenated, so a
 * search reads only the view and trace-by-id slices the blob without copying.
 */
import { Packr } from 'msgpackr';
import type { AttrValue, IndexedAttribute, ResourceRef, ScopeRef, SpanBatch, SpanRecord } from '../otlp/model.js';

// bigint stays bigint (times, big int64 attributes), numbers stay numbers: type-preserving round trip.
const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });

type PackedAttrs = unknown[]; // flat [key, value, isDouble(0|1), ...]

function packAttrs(attrs: IndexedAttribute[]): PackedAttrs {
  const out: unknown[] = new Array(attrs.length * 3);
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs[i]!;
    out[i * 3] = a.key;
    out[i * 3 + 1] = a.value;
    out[i * 3 + 2] = a.isDouble ? 1 : 0;
  }
  return out;
}

function unpackAttrs(packed: unknown): IndexedAttribute[] {
  const arr = packed as unknown[];
  const out: IndexedAttribute[] = new Array(arr.length / 3);
  for (let i = 0; i < out.length; i++) {
    const a: IndexedAttribute = { key: arr[i * 3] as string, value: arr[i * 3 + 1] as AttrValue };
    if (arr[i * 3 + 2] === 1) a.isDouble = true;
    out[i] = a;
  }
  return out;
}

function toBigInt(v: unknown): bigint {
  return typeof v === 'bigint' ? v : BigInt(v as number);
}

const EMPTY = new Uint8Array(0);

export function encodeBatch(batch: SpanBatch): Uint8Array {
  const r = batch.resources.map((x) => [x.schemaUrl, x.serviceName, packAttrs(x.attributes), x.bytes.length]);
  const c = batch.scopes.map((x) => [x.schemaUrl, x.name, x.version, x.bytes.length]);
  let blobLength = 0;
  for (const x of batch.resources) blobLength += x.bytes.length;
  for (const x of batch.scopes) blobLength += x.bytes.length;
  const s = new Array(batch.spans.length);
  for (let i = 0; i < batch.spans.length; i++) {
    const x = batch.spans[i]!;
    s[i] = [
      x.traceId, x.spanId, x.parentSpanId, x.name, x.kind, x.startTimeUnixNano, x.endTimeUnixNano,
      x.statusCode, x.statusMessage, packAttrs(x.attributes), x.resource, x.scope, x.bytes.length,
    ];
    blobLength += x.bytes.length;
  }
  const view: Uint8Array = packr.pack([r, c, s]);
  const out = Buffer.allocUnsafe(4 + view.length + blobLength);
  out.writeUInt32LE(view.length, 0);
  out.set(view, 4);
  let pos = 4 + view.length;
  for (const x of batch.resources) { out.set(x.bytes, pos); pos += x.bytes.length; }
  for (const x of batch.scopes) { out.set(x.bytes, pos); pos += x.bytes.length; }
  for (const x of batch.spans) { out.set(x.bytes, pos); pos += x.bytes.length; }
  if (pos !== out.length) throw new Error(`encodeBatch: wrote ${pos}, sized ${out.length}`);
  return out;
}

/**
 * Decodes what encodeBatch wrote. With `withBytes` false (search), `buf` may hold only the
 * length prefix and the view; every `bytes` field is then empty.
 */
export function decodeBatch(buf: Uint8Array, withBytes = true): SpanBatch {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const viewLength = b.readUInt32LE(0);
  if (4 + viewLength > b.length) throw new Error(`decodeBatch: view of ${viewLength} bytes exceeds record of ${b.length}`);
  const [r, c, s] = packr.unpack(b.subarray(4, 4 + viewLength)) as [unknown[][], unknown[][], unknown[][]];
  let pos = 4 + viewLength;
  const take = (n: number): Uint8Array => {
    if (!withBytes) return EMPTY;
    if (pos + n > b.length) throw new Error('decodeBatch: blob shorter than the view says');
    const out = b.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const resources: ResourceRef[] = r.map((x) => ({
    schemaUrl: x[0] as string, serviceName: x[1] as string, attributes: unpackAttrs(x[2]), bytes: take(x[3] as number),
  }));
  const scopes: ScopeRef[] = c.map((x) => ({
    schemaUrl: x[0] as string, name: x[1] as string, version: x[2] as string, bytes: take(x[3] as number),
  }));
  const spans: SpanRecord[] = new Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const x = s[i]!;
    spans[i] = {
      traceId: x[0] as Uint8Array, spanId: x[1] as Uint8Array, parentSpanId: x[2] as Uint8Array,
      name: x[3] as string, kind: x[4] as number,
      startTimeUnixNano: toBigInt(x[5]), endTimeUnixNano: toBigInt(x[6]),
      statusCode: x[7] as number, statusMessage: x[8] as string, attributes: unpackAttrs(x[9]),
      resource: x[10] as number, scope: x[11] as number, bytes: take(x[12] as number),
    };
  }
  return { resources, scopes, spans };
}

/** Generic msgpack for metadata (block metas, snapshot frames). */
export function packValue(v: unknown): Uint8Array {
  return packr.pack(v);
}
export function unpackValue<T>(b: Uint8Array): T {
  return packr.unpack(b) as T;
}
