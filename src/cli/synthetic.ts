/**
 * Realistic synthetic traces for `otlp-store generate`: a small shop of five services (frontend,
 * checkout, cart, catalog, payment) and their databases, with nested client/server spans, HTTP, RPC
 * and DB attributes, events, occasional errors, and consistent timing (children inside parents).
 */
import { randomBytes } from 'node:crypto';
import { otlpTypes } from '../otlp/proto.js';

interface Step {
  service: string;
  name: string;
  kind: number; // SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer
  attributes?: (rnd: Random) => Record<string, string | number | boolean>;
  selfMs: [number, number];
  errorRate?: number;
  children?: Step[];
}

const SERVICE_META: Record<string, { version: string; language: string }> = {
  frontend: { version: '2.4.1', language: 'nodejs' },
  checkout: { version: '1.9.0', language: 'go' },
  cart: { version: '0.12.3', language: 'dotnet' },
  catalog: { version: '3.1.0', language: 'java' },
  payment: { version: '1.2.7', language: 'python' },
};

class Random {
  constructor(private state: number) {}
  next(): number {
    // mulberry32: deterministic when a seed is given, so runs can be reproduced.
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }
  int(min: number, max: number): number {
    return Math.floor(this.between(min, max + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

const rpc = (service: string, method: string) => () => ({ 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method });
const db = (system: string, statement: string) => () => ({ 'db.system': system, 'db.statement': statement });

function httpServer(method: string, route: string) {
  return (r: Random) => ({
    'http.request.method': method,
    'http.route': route,
    'url.path': route.replace('{id}', String(r.int(1, 500))),
    'http.response.status_code': 200,
    'user_agent.original': r.pick(['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (Macintosh)', 'curl/8.5.0']),
    'user.id': `user-${r.int(1, 50)}`,
  });
}

const FLOWS: Step[] = [
  {
    service: 'frontend', name: 'POST /api/checkout', kind: 2, selfMs: [2, 8], attributes: httpServer('POST', '/api/checkout'),
    children: [
      {
        service: 'frontend', name: 'checkout.PlaceOrder', kind: 3, selfMs: [0.3, 1], attributes: rpc('CheckoutService', 'PlaceOrder'),
        children: [{
          service: 'checkout', name: 'CheckoutService/PlaceOrder', kind: 2, selfMs: [1, 4], attributes: rpc('CheckoutService', 'PlaceOrder'),
          children: [
            { service: 'checkout', name: 'cart.GetCart', kind: 3, selfMs: [0.2, 0.8], attributes: rpc('CartService', 'GetCart'),
              children: [{ service: 'cart', name: 'CartService/GetCart', kind: 2, selfMs: [0.5, 2], attributes: rpc('CartService', 'GetCart'),
                children: [{ service: 'cart', name: 'HGETALL', kind: 3, selfMs: [0.2, 1.5], attributes: db('redis', 'HGETALL cart:*') }] }] },
            { service: 'checkout', name: 'payment.Charge', kind: 3, selfMs: [0.2, 0.8], attributes: rpc('PaymentService', 'Charge'),
              children: [{ service: 'payment', name: 'PaymentService/Charge', kind: 2, selfMs: [5, 40], errorRate: 0.06,
                attributes: (r) => ({ 'rpc.system': 'grpc', 'payment.amount': Math.round(r.between(5, 500) * 100) / 100, 'payment.currency': r.pick(['USD', 'EUR', 'GBP']), 'payment.card_type': r.pick(['visa', 'mastercard', 'amex']) }) }] },
            { service: 'checkout', name: 'INSERT orders', kind: 3, selfMs: [1, 6], attributes: db('postgresql', 'INSERT INTO orders (user_id, total) VALUES ($1, $2)') },
          ],
        }],
      },
    ],
  },
  {
    service: 'frontend', name: 'GET /api/products/{id}', kind: 2, selfMs: [1, 4], attributes: httpServer('GET', '/api/products/{id}'),
    children: [{
      service: 'frontend', name: 'catalog.GetProduct', kind: 3, selfMs: [0.2, 0.6], attributes: rpc('CatalogService', 'GetProduct'),
      children: [{ service: 'catalog', name: 'CatalogService/GetProduct', kind: 2, selfMs: [0.5, 3], errorRate: 0.02, attributes: rpc('CatalogService', 'GetProduct'),
        children: [{ service: 'catalog', name: 'SELECT products', kind: 3, selfMs: [0.5, 12], attributes: db('postgresql', 'SELECT * FROM products WHERE id = $1') }] }],
    }],
  },
  {
    service: 'frontend', name: 'GET /api/cart', kind: 2, selfMs: [1, 3], attributes: httpServer('GET', '/api/cart'),
    children: [{
      service: 'frontend', name: 'cart.GetCart', kind: 3, selfMs: [0.2, 0.6], attributes: rpc('CartService', 'GetCart'),
      children: [{ service: 'cart', name: 'CartService/GetCart', kind: 2, selfMs: [0.5, 2], attributes: rpc('CartService', 'GetCart'),
        children: [{ service: 'cart', name: 'HGETALL', kind: 3, selfMs: [0.2, 1.5], attributes: db('redis', 'HGETALL cart:*') }] }],
    }],
  },
];

interface BuiltSpan {
  service: string;
  span: Record<string, unknown>;
}

const MS = 1_000_000n;

function build(step: Step, r: Random, traceId: Buffer, parentSpanId: Buffer | undefined, startNs: bigint, out: BuiltSpan[]): { endNs: bigint; error: boolean } {
  const spanId = randomBytes(8);
  const index = out.length;
  out.push({ service: step.service, span: {} });
  let cursor = startNs + BigInt(Math.round(r.between(0.05, 0.4) * 1e6));
  let childError = false;
  for (const child of step.children ?? []) {
    const result = build(child, r, traceId, spanId, cursor, out);
    childError ||= result.error;
    cursor = result.endNs + BigInt(Math.round(r.between(0.02, 0.3) * 1e6));
  }
  const endNs = cursor + BigInt(Math.round(r.between(step.selfMs[0], step.selfMs[1]) * 1e6));
  const ownError = r.next() < (step.errorRate ?? 0);
  // A client span fails with its server; a server span with a failing child fails too.
  const error = ownError || childError;
  const attributes = Object.entries(step.attributes?.(r) ?? {}).map(([key, value]) => ({ key, value: anyValue(key === 'http.response.status_code' && error ? 500 : value) }));
  const events = ownError
    ? [{ timeUnixNano: String(endNs - MS / 10n), name: 'exception', attributes: [
        { key: 'exception.type', value: anyValue('PaymentDeclinedError') },
        { key: 'exception.message', value: anyValue('card declined by issuer') },
      ] }]
    : [];
  out[index]!.span = {
    traceId,
    spanId,
    parentSpanId: parentSpanId ?? Buffer.alloc(0),
    name: step.name,
    kind: step.kind,
    startTimeUnixNano: String(startNs),
    endTimeUnixNano: String(endNs),
    attributes,
    events,
    status: error ? { code: 2, message: ownError ? 'card declined by issuer' : 'downstream call failed' } : { code: 0 },
  };
  return { endNs, error };
}

function anyValue(value: string | number | boolean): Record<string, unknown> {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return Number.isInteger(value) ? { intValue: value } : { doubleValue: value };
}

export class TraceGenerator {
  private readonly random: Random;
  constructor(seed = Date.now() & 0x7fffffff) {
    this.random = new Random(seed);
  }

  /** `traces` new traces ending around now, as an encoded ExportTraceServiceRequest. */
  request(traces: number): { body: Uint8Array; spans: number; traceIds: string[] } {
    const byService = new Map<string, Record<string, unknown>[]>();
    const traceIds: string[] = [];
    let spans = 0;
    for (let i = 0; i < traces; i++) {
      const traceId = randomBytes(16);
      traceIds.push(traceId.toString('hex'));
      const built: BuiltSpan[] = [];
      const startNs = BigInt(Date.now()) * MS - BigInt(this.random.int(50, 2000)) * MS;
      build(this.random.pick(FLOWS), this.random, traceId, undefined, startNs, built);
      for (const { service, span } of built) {
        let list = byService.get(service);
        if (!list) byService.set(service, (list = []));
        list.push(span);
      }
      spans += built.length;
    }
    const resourceSpans = [...byService].map(([service, serviceSpans]) => ({
      resource: {
        attributes: [
          { key: 'service.name', value: anyValue(service) },
          { key: 'service.version', value: anyValue(SERVICE_META[service]!.version) },
          { key: 'telemetry.sdk.language', value: anyValue(SERVICE_META[service]!.language) },
          { key: 'deployment.environment.name', value: anyValue('demo') },
          { key: 'host.name', value: anyValue(`${service}-${this.random.int(0, 2)}`) },
        ],
      },
      scopeSpans: [{ scope: { name: 'otlp-store-generate', version: '1.0.0' }, spans: serviceSpans }],
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
    }));
    const { ExportTraceServiceRequest } = otlpTypes();
    const message = ExportTraceServiceRequest.fromObject({ resourceSpans });
    return { body: ExportTraceServiceRequest.encode(message).finish(), spans, traceIds };
  }
}
