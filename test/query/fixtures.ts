/** A real TieredStore in a temp dir, fed through the real OTLP scanner, for HTTP-level tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { otlpTypes, scanExportTraceRequest } from '../../src/otlp/index.js';
import { TieredStore } from '../../src/store/index.js';
import { jaegerApi } from '../../src/query/jaeger.js';
import { tempoApi } from '../../src/query/tempo.js';

export interface TestStore {
  store: TieredStore;
  close(): Promise<void>;
}

export async function openStore(): Promise<TestStore> {
  const dir = await mkdtemp(join(tmpdir(), 'otlp-store-query-'));
  const store = new TieredStore({
    dataDir: dir,
    shards: 4,
    fsync: false,
    retention: { defaultMs: 14 * 24 * 3600 * 1000 },
    cacheBytes: 1 << 20,
    memoryHeadBytes: 16 << 20,
    maxQueuedSpans: 100_000,
  });
  await store.open();
  return {
    store,
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function tenantOf(request: FastifyRequest): string {
  const h = request.headers['x-scope-orgid'];
  return typeof h === 'string' && h !== '' ? h : 'single-tenant';
}

export async function tempoApp(store: TieredStore): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(tempoApi, { store, tenantOf });
  await app.ready();
  return app;
}

export async function jaegerApp(store: TieredStore, now?: () => number): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(jaegerApi, now ? { store, tenantOf, now } : { store, tenantOf });
  await app.ready();
  return app;
}

/** Encodes an ExportTraceServiceRequest given as a protobufjs plain object. */
export function encodeRequest(obj: Record<string, unknown>): Uint8Array {
  const t = otlpTypes().ExportTraceServiceRequest;
  return t.encode(t.fromObject(obj)).finish();
}

export async function ingest(store: TieredStore, tenant: string, obj: Record<string, unknown>): Promise<void> {
  const decoded = scanExportTraceRequest(encodeRequest(obj));
  if (decoded.rejected.count) throw new Error(`fixture rejected: ${decoded.rejected.messages.join('; ')}`);
  await store.write(tenant, decoded.batch);
}

export function hexId(bytes: number, seed: number): string {
  return (seed.toString(16).padStart(4, '0') + 'a1b2c3d4e5f60718293a4b5c6d7e8f90').slice(0, bytes * 2);
}

export function id(hex: string): Buffer {
  return Buffer.from(hex, 'hex');
}

export const kv = (key: string, value: Record<string, unknown>) => ({ key, value });
export const str = (key: string, v: string) => kv(key, { stringValue: v });

/** Nanosecond timestamp `msAgo` milliseconds before a fixed recent instant (retention keeps it). */
export const NOW_MS = Math.floor(Date.now() / 1000) * 1000;
export function nsAgo(msAgo: number, extraNs = 0): string {
  return (BigInt(NOW_MS - msAgo) * 1_000_000n + BigInt(extraNs)).toString();
}

export interface SimpleSpan {
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startMsAgo: number;
  durationMs: number;
  status?: number;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

/** A request with one resource per service, each with its spans. */
export function simpleTrace(traceIdHex: string, services: Record<string, SimpleSpan[]>): Record<string, unknown> {
  return {
    resourceSpans: Object.entries(services).map(([service, spans]) => ({
      resource: { attributes: [str('service.name', service)] },
      scopeSpans: [
        {
          scope: { name: 'test-lib', version: '1.0.0' },
          spans: spans.map((s) => ({
            traceId: id(traceIdHex),
            spanId: id(s.spanId),
            ...(s.parentSpanId ? { parentSpanId: id(s.parentSpanId) } : {}),
            name: s.name,
            kind: s.kind ?? 2,
            startTimeUnixNano: nsAgo(s.startMsAgo),
            endTimeUnixNano: nsAgo(s.startMsAgo - s.durationMs),
            attributes: s.attributes ?? [],
            ...(s.status ? { status: { code: s.status } } : {}),
          })),
        },
      ],
    })),
  };
}

export const RICH_TRACE_ID = '5b8efff798038103d269b633813fc60c';

/** One trace exercising every OTLP span field and attribute type. */
export function richTrace(): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'checkout'), kv('host.cpu', { intValue: '8' }), str('deployment.environment', 'prod')], droppedAttributesCount: 1 },
        schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
        scopeSpans: [
          {
            scope: { name: 'io.checkout', version: '2.1.0', attributes: [str('scope.attr', 'x')], droppedAttributesCount: 2 },
            schemaUrl: 'https://opentelemetry.io/schemas/1.20.0',
            spans: [
              {
                traceId: id(RICH_TRACE_ID),
                spanId: id('eee19b7ec3c1b174'),
                traceState: 'vendor=abc',
                flags: 0x301,
                name: 'POST /checkout',
                kind: 2,
                startTimeUnixNano: nsAgo(5000, 123),
                endTimeUnixNano: nsAgo(4000, 456),
                attributes: [
                  str('http.method', 'POST'),
                  kv('http.status_code', { intValue: '500' }),
                  kv('big', { intValue: '9223372036854775807' }),
                  kv('neg', { intValue: '-42' }),
                  kv('ratio', { doubleValue: 0.25 }),
                  kv('retry', { boolValue: true }),
                  kv('payload', { bytesValue: Buffer.from([0, 1, 2, 255]) }),
                  kv('tags', { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '2' }] } }),
                  kv('nested', { kvlistValue: { values: [str('inner', 'v'), kv('n', { doubleValue: 1.5 })] } }),
                ],
                droppedAttributesCount: 3,
                events: [
                  { timeUnixNano: nsAgo(4500, 7), name: 'exception', attributes: [str('exception.message', 'boom')], droppedAttributesCount: 1 },
                ],
                droppedEventsCount: 4,
                links: [
                  { traceId: id('0af7651916cd43dd8448eb211c80319c'), spanId: id('b7ad6b7169203331'), traceState: 'l=1', attributes: [str('link.kind', 'batch')], droppedAttributesCount: 5, flags: 1 },
                ],
                droppedLinksCount: 6,
                status: { code: 2, message: 'payment declined' },
              },
              {
                traceId: id(RICH_TRACE_ID),
                spanId: id('0000000000000001'),
                parentSpanId: id('eee19b7ec3c1b174'),
                name: 'charge card',
                kind: 3,
                startTimeUnixNano: nsAgo(4900),
                endTimeUnixNano: nsAgo(4800),
                status: { code: 1 },
              },
            ],
          },
        ],
      },
      {
        resource: { attributes: [str('service.name', 'payments')] },
        scopeSpans: [
          {
            scope: { name: 'io.payments' },
            spans: [
              {
                traceId: id(RICH_TRACE_ID),
                spanId: id('0000000000000002'),
                parentSpanId: id('0000000000000001'),
                name: 'authorize',
                kind: 2,
                startTimeUnixNano: nsAgo(4890),
                endTimeUnixNano: nsAgo(4810),
              },
            ],
          },
        ],
      },
    ],
  };
}
