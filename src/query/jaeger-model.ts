/**
 * OTLP → Jaeger UI JSON model (jaeger model/json), the shape of the legacy v1 API, following the
 * OpenTelemetry Collector's OTLP→Jaeger translation: span kind, status and scope become tags,
 * events become logs, the parent becomes a CHILD_OF reference and links FOLLOWS_FROM references,
 * resource attributes other than service.name become process tags.
 */
import { shownServiceName } from './service-name.js';
import type { AnyValue, DecodedResourceSpans, KeyValue } from '../otlp/decode.js';
import { toBase64, toHex } from '../otlp/ids.js';
import { jaegerTraceIdString } from './ids.js';

export interface JaegerKeyValue {
  key: string;
  type: 'string' | 'bool' | 'int64' | 'float64' | 'binary';
  value: string | boolean | number | bigint;
}

export interface JaegerReference {
  refType: 'CHILD_OF' | 'FOLLOWS_FROM';
  traceID: string;
  spanID: string;
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  flags?: number;
  operationName: string;
  references: JaegerReference[];
  startTime: bigint; // µs since the epoch
  duration: bigint; // µs
  tags: JaegerKeyValue[];
  logs: { timestamp: bigint; fields: JaegerKeyValue[] }[];
  processID: string;
  warnings: string[] | null;
}

export interface JaegerProcess {
  serviceName: string;
  tags: JaegerKeyValue[];
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, JaegerProcess>;
  warnings: string[] | null;
}

/** Jaeger's span.kind tag value per OTLP SpanKind ('' for unspecified: no tag). */
export const JAEGER_SPAN_KINDS = ['', 'internal', 'server', 'client', 'producer', 'consumer'];

/**
 * An array / kvlist AnyValue as JSON text (Jaeger carries them as JSON strings). Written by hand
 * so int64 values keep every digit (`9007199254740993`, unquoted); JSON.stringify has no bigint.
 */
function jsonString(v: AnyValue): string {
  switch (v.kind) {
    case 'string':
      return JSON.stringify(v.value);
    case 'bool':
      return v.value ? 'true' : 'false';
    case 'double':
      return JSON.stringify(v.value); // NaN and ±Infinity become null, as JSON.stringify writes them
    case 'int':
      return v.value.toString();
    case 'bytes':
      return JSON.stringify(toBase64(v.value));
    case 'array':
      return `[${v.values.map(jsonString).join(',')}]`;
    case 'kvlist': {
      // A later duplicate key wins, at the place of its first occurrence (as an object literal would).
      const byKey = new Map<string, string>();
      for (const kv of v.values) byKey.set(kv.key, jsonString(kv.value));
      return `{${[...byKey].map(([k, text]) => `${JSON.stringify(k)}:${text}`).join(',')}}`;
    }
    case 'empty':
      return 'null';
  }
}

export function jaegerTag(kv: KeyValue): JaegerKeyValue {
  const v = kv.value;
  switch (v.kind) {
    case 'string':
      return { key: kv.key, type: 'string', value: v.value };
    case 'bool':
      return { key: kv.key, type: 'bool', value: v.value };
    case 'int':
      return { key: kv.key, type: 'int64', value: v.value >= BigInt(Number.MIN_SAFE_INTEGER) && v.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v.value) : v.value };
    case 'double':
      return { key: kv.key, type: 'float64', value: v.value };
    case 'bytes':
      return { key: kv.key, type: 'binary', value: toBase64(v.value) };
    case 'array':
    case 'kvlist':
      return { key: kv.key, type: 'string', value: jsonString(v) };
    case 'empty':
      return { key: kv.key, type: 'string', value: '' };
  }
}

function micros(ns: bigint): bigint {
  return ns / 1000n;
}

function isZero(id: Uint8Array): boolean {
  return id.every((b) => b === 0);
}

/** Converts one trace's decoded TracesData to the Jaeger UI model. */
export function toJaegerTrace(data: DecodedResourceSpans[]): JaegerTrace {
  const processes: Record<string, JaegerProcess> = {};
  const processKeys = new Map<string, string>();
  const spans: JaegerSpan[] = [];
  let traceID = '';
  for (const rs of data) {
    const attrs = rs.resource?.attributes ?? [];
    const serviceAttr = attrs.find((a) => a.key === 'service.name' && a.value.kind === 'string');
    const serviceName = shownServiceName(serviceAttr && serviceAttr.value.kind === 'string' ? serviceAttr.value.value : '');
    const process: JaegerProcess = { serviceName, tags: attrs.filter((a) => a !== serviceAttr).map(jaegerTag) };
    const key = JSON.stringify(process, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
    let processID = processKeys.get(key);
    if (processID === undefined) {
      processID = `p${processKeys.size + 1}`;
      processKeys.set(key, processID);
      processes[processID] = process;
    }
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        const spanTraceId = jaegerTraceIdString(s.traceId);
        if (traceID === '') traceID = spanTraceId;
        const references: JaegerReference[] = [];
        if (s.parentSpanId.length > 0 && !isZero(s.parentSpanId)) {
          references.push({ refType: 'CHILD_OF', traceID: spanTraceId, spanID: toHex(s.parentSpanId) });
        }
        for (const l of s.links) {
          references.push({ refType: 'FOLLOWS_FROM', traceID: jaegerTraceIdString(l.traceId), spanID: toHex(l.spanId) });
        }
        const tags = s.attributes.map(jaegerTag);
        if (ss.scope?.name) tags.push({ key: 'otel.scope.name', type: 'string', value: ss.scope.name });
        if (ss.scope?.version) tags.push({ key: 'otel.scope.version', type: 'string', value: ss.scope.version });
        const kindTag = JAEGER_SPAN_KINDS[s.kind];
        if (kindTag) tags.push({ key: 'span.kind', type: 'string', value: kindTag });
        if (s.status.code === 1) tags.push({ key: 'otel.status_code', type: 'string', value: 'OK' });
        if (s.status.code === 2) {
          tags.push({ key: 'otel.status_code', type: 'string', value: 'ERROR' });
          if (!s.attributes.some((a) => a.key === 'error')) tags.push({ key: 'error', type: 'bool', value: true });
        }
        if (s.status.message) tags.push({ key: 'otel.status_description', type: 'string', value: s.status.message });
        if (s.traceState) tags.push({ key: 'w3c.tracestate', type: 'string', value: s.traceState });
        const span: JaegerSpan = {
          traceID: spanTraceId,
          spanID: toHex(s.spanId),
          operationName: s.name,
          references,
          startTime: micros(s.startTimeUnixNano),
          duration: s.endTimeUnixNano > s.startTimeUnixNano ? micros(s.endTimeUnixNano - s.startTimeUnixNano) : 0n,
          tags,
          logs: s.events.map((e) => ({
            timestamp: micros(e.timeUnixNano),
            fields: [...(e.name ? [{ key: 'event', type: 'string' as const, value: e.name }] : []), ...e.attributes.map(jaegerTag)],
          })),
          processID,
          warnings: null,
        };
        const flags = s.flags & 0xff;
        if (flags) span.flags = flags;
        spans.push(span);
      }
    }
  }
  return { traceID, spans, processes, warnings: null };
}
