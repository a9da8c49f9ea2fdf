/**
 * Pre-generated, realistic OTLP trace requests for benchmarks: `spansPerRequest` spans in traces of
 * `spansPerTrace`, spread over 3 services, ~10 attributes per span (~370 B per span on the wire).
 *
 * The encoder is hand-written (not protobufjs) so that it can record where every trace id sits in
 * the body: `stampUnique` then rewrites those bytes per request, so every request carries new trace
 * ids without re-encoding, and the load generator costs next to nothing.
 */
import { randomBytes } from 'node:crypto';

class Enc {
  private chunks: number[] = [];
  varint(n: number | bigint): this {
    let v = BigInt(n);
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
  str(field: number, s: string): this {
    return this.bytes(field, Buffer.from(s, 'utf8'));
  }
  msg(field: number, e: Enc): this {
    return this.bytes(field, e.finish());
  }
  fixed64(field: number, v: bigint): this {
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    for (const x of b) this.chunks.push(x);
    return this;
  }
  double(field: number, v: number): this {
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    for (const x of b) this.chunks.push(x);
    return this;
  }
  uint(field: number, v: number | bigint): this {
    return this.tag(field, 0).varint(v);
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

type Val = string | number | boolean | bigint;
function kv(key: string, value: Val): Enc {
  const any = new Enc();
  if (typeof value === 'string') any.str(1, value);
  else if (typeof value === 'boolean') any.uint(2, value ? 1 : 0);
  else if (typeof value === 'bigint') any.uint(3, BigInt.asUintN(64, value));
  else if (Number.isInteger(value)) any.uint(3, value);
  else any.double(4, value);
  return new Enc().str(1, key).msg(2, any);
}

const SERVICES = [
  { name: 'frontend', ops: ['GET /', 'GET /cart', 'POST /checkout', 'GET /product/{id}'] },
  { name: 'checkout', ops: ['PlaceOrder', 'PrepareOrder', 'GetQuote', 'ConvertCurrency'] },
  { name: 'payments', ops: ['Charge', 'Authorize', 'SELECT payments', 'INSERT ledger'] },
];

export interface GeneratedRequest {
  body: Buffer;
  /** For each trace in the body: the byte offsets of every copy of its 16-byte trace id. */
  traceIdOffsets: number[][];
  traceIds: Buffer[];
  spans: number;
}

export interface GenerateOptions {
  requests: number;
  spansPerRequest?: number;
  spansPerTrace?: number;
  seed?: number;
}

/** Deterministic enough for benchmarks: ids are random, shapes come from a counter. */
export function generateRequests(opts: GenerateOptions): GeneratedRequest[] {
  const spansPerRequest = opts.spansPerRequest ?? 100;
  const spansPerTrace = opts.spansPerTrace ?? 10;
  const out: GeneratedRequest[] = [];
  const baseNs = BigInt(Date.now()) * 1_000_000n;
  for (let r = 0; r < opts.requests; r++) {
    const traces = Math.ceil(spansPerRequest / spansPerTrace);
    const traceIds = Array.from({ length: traces }, () => randomBytes(16));
    // spans per service, so each service is one ResourceSpans.
    const perService: Enc[][] = SERVICES.map(() => []);
    let made = 0;
    for (let t = 0; t < traces && made < spansPerRequest; t++) {
      const traceStart = baseNs + BigInt(r * 1_000_000 + t * 10_000);
      let parent: Buffer | null = null;
      for (let s = 0; s < spansPerTrace && made < spansPerRequest; s++, made++) {
        const svcIdx = s === 0 ? 0 : 1 + ((s + t) % 2);
        const svc = SERVICES[svcIdx]!;
        const spanId = randomBytes(8);
        const start = traceStart + BigInt(s * 1000);
        const durNs = BigInt(50_000 + ((r * 7919 + t * 104729 + s * 1299709) % 5_000_000));
        const isError = (r + t + s) % 50 === 0;
        const span = new Enc()
          .bytes(1, traceIds[t]!)
          .bytes(2, spanId);
        if (parent) span.bytes(4, parent);
        span
          .str(5, svc.ops[(s + r) % svc.ops.length]!)
          .uint(6, s === 0 ? 2 : (s % 3 === 0 ? 3 : 1))
          .fixed64(7, start)
          .fixed64(8, start + durNs)
          .msg(9, kv('http.method', ['GET', 'POST', 'PUT'][s % 3]!))
          .msg(9, kv('http.route', `/api/v1/items/${s % 17}`))
          .msg(9, kv('http.status_code', isError ? 500 : 200))
          .msg(9, kv('net.peer.name', `host-${(r + s) % 23}.internal`))
          .msg(9, kv('net.peer.port', 8080 + (s % 4)))
          .msg(9, kv('db.system', s % 2 ? 'postgresql' : 'redis'))
          .msg(9, kv('user.id', `user-${(r * 31 + t) % 1000}`))
          .msg(9, kv('feature.flag', (s & 1) === 0))
          .msg(9, kv('retry.count', s % 3))
          .msg(9, kv('queue.latency', (s * 0.37) % 5))
          .msg(9, kv('http.user_agent', 'Mozilla/5.0 (X11; Linux x86_64) otel-bench/1.0'));
        if (isError) span.msg(15, new Enc().str(2, 'upstream failed').uint(3, 2));
        else span.msg(15, new Enc().uint(3, 1));
        perService[svcIdx]!.push(span);
        if (s === 0) parent = spanId;
      }
    }
    const req = new Enc();
    SERVICES.forEach((svc, i) => {
      if (perService[i]!.length === 0) return;
      const resource = new Enc()
        .msg(1, kv('service.name', svc.name))
        .msg(1, kv('service.version', '1.4.2'))
        .msg(1, kv('deployment.environment', 'production'))
        .msg(1, kv('host.name', `${svc.name}-7f9c6d`));
      const scope = new Enc().str(1, '@opentelemetry/instrumentation-http').str(2, '0.52.0');
      const scopeSpans = new Enc().msg(1, scope);
      for (const sp of perService[i]!) scopeSpans.msg(2, sp);
      req.msg(1, new Enc().msg(1, resource).msg(2, scopeSpans).str(3, 'https://opentelemetry.io/schemas/1.21.0'));
    });
    const body = Buffer.from(req.finish());
    const traceIdOffsets = traceIds.map((id) => {
      const offsets: number[] = [];
      let at = body.indexOf(id);
      while (at >= 0) {
        offsets.push(at);
        at = body.indexOf(id, at + 1);
      }
      return offsets;
    });
    out.push({ body, traceIdOffsets, traceIds, spans: made });
  }
  return out;
}

/**
 * A copy of `req.body` whose trace ids carry `seq` in their first 8 bytes: unique per call with a
 * unique seq. Returns the new body and the ids it now holds.
 */
export function stampUnique(req: GeneratedRequest, seq: number): { body: Buffer; traceIds: Buffer[] } {
  const body = Buffer.from(req.body);
  const traceIds: Buffer[] = [];
  req.traceIdOffsets.forEach((offsets, t) => {
    const id = Buffer.from(req.traceIds[t]!);
    id.writeUInt32BE(seq >>> 0, 0);
    id.writeUInt32BE(t, 4);
    for (const at of offsets) id.copy(body, at);
    traceIds.push(id);
  });
  return { body, traceIds };
}
