/** Hand-assembled protobuf bytes, for inputs no encoder would write (malformed, unusual). */
export type Bytes = Uint8Array | number[];

export function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

export function cat(...parts: Bytes[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let off = 0;
  for (const a of arrays) {
    out.set(a, off);
    off += a.length;
  }
  return out;
}

export const tag = (field: number, wire: number) => varint(field * 8 + wire);
export const len = (field: number, ...payload: Bytes[]) => {
  const body = cat(...payload);
  return cat(tag(field, 2), varint(body.length), body);
};
export const str = (field: number, s: string) => len(field, new TextEncoder().encode(s));
export const vint = (field: number, n: number | bigint) => cat(tag(field, 0), varint(n));
export const fixed64 = (field: number, n: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return cat(tag(field, 1), b);
};
export const fixed32 = (field: number, n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return cat(tag(field, 5), b);
};

export const bytesOf = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
export const TRACE = bytesOf('5b8efff798038103d269b633813fc60c');
export const SPAN = bytesOf('eee19b7ec3c1b173');

/** A span message body with valid ids unless overridden. */
export function span(parts: { traceId?: Bytes; spanId?: Bytes; parent?: Bytes; name?: string; extra?: Bytes[] } = {}): Uint8Array {
  return cat(
    parts.traceId === undefined ? len(1, TRACE) : len(1, parts.traceId),
    parts.spanId === undefined ? len(2, SPAN) : len(2, parts.spanId),
    parts.parent === undefined ? [] : len(4, parts.parent),
    str(5, parts.name ?? 'op'),
    ...(parts.extra ?? []),
  );
}

/** ExportTraceServiceRequest { resource_spans { resource {service.name}, scope_spans { scope, spans... } } } */
export function request(spans: Uint8Array[], service = 'svc'): Uint8Array {
  const resource = len(1, len(1, str(1, 'service.name'), len(2, str(1, service))));
  const scope = len(1, str(1, 'scope'));
  return len(1, resource, len(2, scope, ...spans.map((s) => len(2, s))));
}
