/**
 * Seeded generators of OTLP trace requests for tests and bench/otlp-decode.ts, encoded with
 * protobufjs from the vendored .proto files (an independent encoder from the scanner under test).
 */
import { otlpTypes } from '../../src/otlp/proto.js';

/** mulberry32: small, fast, seeded. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(next: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
  if (out.every((b) => b === 0)) out[0] = 1;
  return out;
}

const SERVICES = ['frontend', 'checkout', 'payment'];
const ROUTES = ['/api/cart', '/api/checkout', '/api/pay', '/api/products/{id}', '/healthz'];

/**
 * A realistic request: `spans` spans over 3 services (one ResourceSpans each), ~10 attributes per
 * span (strings, ints, a double, a bool), unique ids, traces of 10 spans.
 */
export function realisticRequestObject(seed: number, spans = 100): Record<string, unknown> {
  const next = rng(seed);
  const base = 1_700_000_000_000_000_000n + BigInt(seed) * 1_000_000_000n;
  const perService: Record<string, unknown>[][] = SERVICES.map(() => []);
  let traceId = randomBytes(next, 16);
  for (let i = 0; i < spans; i++) {
    if (i % 10 === 0) traceId = randomBytes(next, 16);
    const svc = i % SERVICES.length;
    const route = ROUTES[Math.floor(next() * ROUTES.length)]!;
    const start = base + BigInt(i) * 1_000_000n;
    const status = 200 + (next() < 0.05 ? 300 : 0);
    perService[svc]!.push({
      traceId,
      spanId: randomBytes(next, 8),
      parentSpanId: i % 10 === 0 ? undefined : randomBytes(next, 8),
      name: `HTTP GET ${route}`,
      kind: 2 + (i % 2),
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + BigInt(Math.floor(next() * 50_000_000))).toString(),
      attributes: [
        { key: 'http.request.method', value: { stringValue: 'GET' } },
        { key: 'http.route', value: { stringValue: route } },
        { key: 'url.full', value: { stringValue: `https://shop.example.com${route}?q=${Math.floor(next() * 1e6)}` } },
        { key: 'http.response.status_code', value: { intValue: status } },
        { key: 'server.address', value: { stringValue: 'shop.example.com' } },
        { key: 'server.port', value: { intValue: 443 } },
        { key: 'network.protocol.version', value: { stringValue: '1.1' } },
        { key: 'user_agent.original', value: { stringValue: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0' } },
        { key: 'app.cart.items', value: { intValue: Math.floor(next() * 20) } },
        { key: 'app.cache.hit', value: { boolValue: next() < 0.5 } },
        { key: 'app.price', value: { doubleValue: Math.round(next() * 10000) / 100 } },
      ],
      status: status >= 500 ? { code: 2, message: 'upstream failed' } : { code: 0 },
    });
  }
  return {
    resourceSpans: SERVICES.map((name, i) => ({
      resource: {
        attributes: [
          { key: 'service.name', value: { stringValue: name } },
          { key: 'service.version', value: { stringValue: '1.4.2' } },
          { key: 'deployment.environment.name', value: { stringValue: 'production' } },
          { key: 'host.name', value: { stringValue: `node-${i}` } },
          { key: 'telemetry.sdk.language', value: { stringValue: 'nodejs' } },
        ],
      },
      scopeSpans: [
        { scope: { name: '@opentelemetry/instrumentation-http', version: '0.52.0' }, spans: perService[i] },
      ],
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
    })),
  };
}

export function encodeRequest(obj: Record<string, unknown>): Uint8Array {
  const T = otlpTypes().ExportTraceServiceRequest;
  const err = T.verify(T.fromObject(obj));
  if (err) throw new Error('generator produced an invalid request: ' + err);
  return T.encode(T.fromObject(obj)).finish();
}

export function realisticRequest(seed: number, spans = 100): Uint8Array {
  return encodeRequest(realisticRequestObject(seed, spans));
}
