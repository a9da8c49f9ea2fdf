/** Small OTLP clients for tests: raw HTTP posts, raw gRPC unary calls, and request builders. */
import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { otlpTypes } from '../../src/otlp/proto.js';

export interface SpanSpec {
  traceId?: Buffer;
  spanId?: Buffer;
  parentSpanId?: Buffer;
  name?: string;
  service?: string;
  attributes?: Record<string, string | number | boolean>;
}

export function newTraceId(): Buffer {
  return randomBytes(16);
}

/** An encoded ExportTraceServiceRequest; one ResourceSpans per service. */
export function traceRequest(spans: SpanSpec[]): { body: Buffer; object: Record<string, unknown> } {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const byService = new Map<string, Record<string, unknown>[]>();
  spans.forEach((s, i) => {
    const service = s.service ?? 'svc';
    const list = byService.get(service) ?? [];
    byService.set(service, list);
    list.push({
      traceId: s.traceId ?? newTraceId(),
      spanId: s.spanId ?? randomBytes(8),
      parentSpanId: s.parentSpanId ?? Buffer.alloc(0),
      name: s.name ?? `span-${i}`,
      kind: 2,
      startTimeUnixNano: String(nowNs - 5_000_000n + BigInt(i)),
      endTimeUnixNano: String(nowNs - 1_000_000n),
      attributes: Object.entries(s.attributes ?? {}).map(([key, v]) => ({
        key,
        value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : Number.isInteger(v) ? { intValue: v } : { doubleValue: v },
      })),
    });
  });
  const object = {
    resourceSpans: [...byService].map(([service, list]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ scope: { name: 'test' }, spans: list }],
    })),
  };
  const { ExportTraceServiceRequest } = otlpTypes();
  return { body: Buffer.from(ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(object)).finish()), object };
}

export async function postOtlp(url: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': typeof body === 'string' ? 'application/json' : 'application/x-protobuf', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
    signal: AbortSignal.timeout(30_000),
  });
}

export interface DecodedStatus {
  code: number;
  message: string;
  details: { typeUrl?: string; type_url?: string; value?: Uint8Array }[];
}

export function decodeStatus(bytes: Uint8Array): DecodedStatus {
  const { RpcStatus } = otlpTypes();
  const obj = RpcStatus.toObject(RpcStatus.decode(bytes), { defaults: true }) as DecodedStatus;
  return obj;
}

/** Seconds of the RetryInfo detail of a google.rpc.Status, or undefined. */
export function retryDelaySeconds(status: DecodedStatus): number | undefined {
  const { RetryInfo } = otlpTypes();
  for (const d of status.details ?? []) {
    const typeUrl = d.typeUrl ?? d.type_url ?? '';
    if (typeUrl.endsWith('google.rpc.RetryInfo') && d.value) {
      const info = RetryInfo.toObject(RetryInfo.decode(d.value), { longs: Number }) as { retryDelay?: { seconds?: number; nanos?: number } };
      return (info.retryDelay?.seconds ?? 0) + (info.retryDelay?.nanos ?? 0) / 1e9;
    }
  }
  return undefined;
}

export type Signal = 'trace' | 'logs' | 'metrics';
const SERVICE: Record<Signal, string> = {
  trace: 'opentelemetry.proto.collector.trace.v1.TraceService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
};

export interface GrpcOutcome {
  code: number;
  details: string;
  response?: Buffer;
  statusDetails?: Buffer;
}

export class RawGrpcClient {
  private readonly client: grpc.Client;
  constructor(port: number, options: grpc.ClientOptions = {}) {
    this.client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
  }
  export(signal: Signal, body: Buffer, metadata: Record<string, string> = {}, callOptions: grpc.CallOptions = {}): Promise<GrpcOutcome> {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(`/${SERVICE[signal]}/Export`, (b: Buffer) => b, (b: Buffer) => b, body, md, { deadline: Date.now() + 30_000, ...callOptions }, (err, response) => {
        if (!err) return resolve({ code: 0, details: '', response: response! });
        const statusDetails = err.metadata?.get('grpc-status-details-bin')[0];
        resolve({ code: err.code, details: err.details, statusDetails: Buffer.isBuffer(statusDetails) ? statusDetails : undefined });
      });
    });
  }
  close(): void {
    this.client.close();
  }
}

export function decodeTraceResponse(bytes: Uint8Array): { rejectedSpans: number; errorMessage: string } {
  const { ExportTraceServiceResponse } = otlpTypes();
  const obj = ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(bytes), { longs: Number }) as { partialSuccess?: { rejectedSpans?: number; errorMessage?: string } };
  return { rejectedSpans: obj.partialSuccess?.rejectedSpans ?? 0, errorMessage: obj.partialSuccess?.errorMessage ?? '' };
}

export function logsRequest(): Buffer {
  const { ExportLogsServiceRequest } = otlpTypes();
  return Buffer.from(ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject({
    resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'logger' } }] }, scopeLogs: [{ logRecords: [{ timeUnixNano: String(BigInt(Date.now()) * 1_000_000n), body: { stringValue: 'hello' }, severityNumber: 9 }] }] }],
  })).finish());
}

export function metricsRequest(): Buffer {
  const { ExportMetricsServiceRequest } = otlpTypes();
  return Buffer.from(ExportMetricsServiceRequest.encode(ExportMetricsServiceRequest.fromObject({
    resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'requests', sum: { dataPoints: [{ asInt: 5, timeUnixNano: String(BigInt(Date.now()) * 1_000_000n) }], aggregationTemporality: 2, isMonotonic: true } }] }] }],
  })).finish());
}
