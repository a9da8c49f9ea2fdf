/**
 * Normalises traces from every shape the node answers in (OTLP protobuf decoded by protobufjs,
 * OTLP/JSON, Jaeger v1 JSON) and from what the SDK recorded, into one comparable form.
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

export type NormValue =
  | { s: string }
  | { b: boolean }
  | { i: string }
  | { d: number }
  | { bytes: string }
  | { a: NormValue[] }
  | { kv: Record<string, NormValue> }
  | { empty: true };

export interface NormSpan {
  service: string;
  resource: Record<string, NormValue>;
  resourceSchemaUrl: string;
  scope: { name: string; version: string; schemaUrl: string; attributes: Record<string, NormValue> };
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  start: string;
  end: string;
  attributes: Record<string, NormValue>;
  droppedAttributesCount: number;
  events: { time: string; name: string; attributes: Record<string, NormValue>; droppedAttributesCount: number }[];
  droppedEventsCount: number;
  links: { traceId: string; spanId: string; traceState: string; attributes: Record<string, NormValue>; droppedAttributesCount: number }[];
  droppedLinksCount: number;
  status: { code: number; message: string };
}

type Obj = Record<string, unknown>;
const hexOfBytes = (v: unknown): string => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : '');
const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const num = (v: unknown): number => (v === undefined || v === null ? 0 : Number(v));

/** An AnyValue from protobufjs toObject (longs: String, bytes as Uint8Array) or from OTLP/JSON. */
function normValue(v: unknown, json: boolean): NormValue {
  const o = (v ?? {}) as Obj;
  if ('stringValue' in o) return { s: str(o.stringValue) };
  if ('boolValue' in o) return { b: Boolean(o.boolValue) };
  if ('intValue' in o) return { i: BigInt(o.intValue as string | number).toString() };
  if ('doubleValue' in o) return { d: Number(o.doubleValue) };
  if ('bytesValue' in o) return { bytes: json ? Buffer.from(str(o.bytesValue), 'base64').toString('hex') : hexOfBytes(o.bytesValue) };
  if ('arrayValue' in o) return { a: (((o.arrayValue as Obj)?.values ?? []) as unknown[]).map((x) => normValue(x, json)) };
  if ('kvlistValue' in o) return { kv: normAttrs(((o.kvlistValue as Obj)?.values ?? []) as unknown[], json) };
  return { empty: true };
}

function normAttrs(list: unknown, json: boolean): Record<string, NormValue> {
  const out: Record<string, NormValue> = {};
  for (const kv of (list ?? []) as Obj[]) out[str(kv.key)] = normValue(kv.value, json);
  return out;
}

/** OTLP TracesData-shaped object → NormSpan[] sorted by span id. json: ids are hex, bytes base64. */
export function normalizeOtlp(tracesData: unknown, json: boolean): NormSpan[] {
  const id = (v: unknown): string => (json ? str(v).toLowerCase() : hexOfBytes(v));
  const out: NormSpan[] = [];
  for (const rs of (((tracesData ?? {}) as Obj).resourceSpans ?? []) as Obj[]) {
    const resource = normAttrs((rs.resource as Obj | undefined)?.attributes, json);
    const service = (resource['service.name'] as { s?: string } | undefined)?.s ?? '';
    for (const ss of (rs.scopeSpans ?? []) as Obj[]) {
      const scope = (ss.scope ?? {}) as Obj;
      for (const s of (ss.spans ?? []) as Obj[]) {
        const status = (s.status ?? {}) as Obj;
        out.push({
          service,
          resource,
          resourceSchemaUrl: str(rs.schemaUrl),
          scope: { name: str(scope.name), version: str(scope.version), schemaUrl: str(ss.schemaUrl), attributes: normAttrs(scope.attributes, json) },
          traceId: id(s.traceId),
          spanId: id(s.spanId),
          parentSpanId: id(s.parentSpanId),
          traceState: str(s.traceState),
          name: str(s.name),
          kind: num(s.kind),
          start: BigInt(str(s.startTimeUnixNano) || '0').toString(),
          end: BigInt(str(s.endTimeUnixNano) || '0').toString(),
          attributes: normAttrs(s.attributes, json),
          droppedAttributesCount: num(s.droppedAttributesCount),
          events: ((s.events ?? []) as Obj[]).map((e) => ({
            time: BigInt(str(e.timeUnixNano) || '0').toString(),
            name: str(e.name),
            attributes: normAttrs(e.attributes, json),
            droppedAttributesCount: num(e.droppedAttributesCount),
          })),
          droppedEventsCount: num(s.droppedEventsCount),
          links: ((s.links ?? []) as Obj[]).map((l) => ({
            traceId: id(l.traceId),
            spanId: id(l.spanId),
            traceState: str(l.traceState),
            attributes: normAttrs(l.attributes, json),
            droppedAttributesCount: num(l.droppedAttributesCount),
          })),
          droppedLinksCount: num(s.droppedLinksCount),
          status: { code: num(status.code), message: str(status.message) },
        });
      }
    }
  }
  return out.sort((a, b) => a.spanId.localeCompare(b.spanId));
}

function sdkValue(v: unknown): NormValue {
  if (typeof v === 'string') return { s: v };
  if (typeof v === 'boolean') return { b: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { i: String(v) } : { d: v };
  if (Array.isArray(v)) return { a: v.map(sdkValue) };
  if (v === null || v === undefined) return { empty: true };
  throw new Error(`unexpected SDK attribute value ${String(v)}`);
}

function sdkAttrs(attrs: Record<string, unknown> | undefined): Record<string, NormValue> {
  const out: Record<string, NormValue> = {};
  for (const [k, v] of Object.entries(attrs ?? {})) out[k] = sdkValue(v);
  return out;
}

const hrToNs = (hr: [number, number]): string => (BigInt(hr[0]) * 1_000_000_000n + BigInt(hr[1])).toString();

/** What the SDK recorded, as the OTLP exporters put it on the wire. */
export function normalizeSdk(spans: ReadableSpan[]): NormSpan[] {
  return spans
    .map((s): NormSpan => {
      const resource = sdkAttrs(s.resource.attributes as Record<string, unknown>);
      return {
        service: (resource['service.name'] as { s: string }).s,
        resource,
        resourceSchemaUrl: s.resource.schemaUrl ?? '',
        scope: { name: s.instrumentationScope.name, version: s.instrumentationScope.version ?? '', schemaUrl: s.instrumentationScope.schemaUrl ?? '', attributes: {} },
        traceId: s.spanContext().traceId,
        spanId: s.spanContext().spanId,
        parentSpanId: s.parentSpanContext?.spanId ?? '',
        traceState: s.spanContext().traceState?.serialize() ?? '',
        name: s.name,
        kind: s.kind + 1,
        start: hrToNs(s.startTime),
        end: hrToNs(s.endTime),
        attributes: sdkAttrs(s.attributes as Record<string, unknown>),
        droppedAttributesCount: s.droppedAttributesCount,
        events: s.events.map((e) => ({ time: hrToNs(e.time), name: e.name, attributes: sdkAttrs(e.attributes as Record<string, unknown>), droppedAttributesCount: e.droppedAttributesCount ?? 0 })),
        droppedEventsCount: s.droppedEventsCount,
        links: s.links.map((l) => ({
          traceId: l.context.traceId,
          spanId: l.context.spanId,
          traceState: l.context.traceState?.serialize() ?? '',
          attributes: sdkAttrs(l.attributes as Record<string, unknown>),
          droppedAttributesCount: l.droppedAttributesCount ?? 0,
        })),
        droppedLinksCount: s.droppedLinksCount,
        status: { code: s.status.code, message: s.status.message ?? '' },
      };
    })
    .sort((a, b) => a.spanId.localeCompare(b.spanId));
}

/** The part of a NormSpan that Jaeger's v1 JSON model can carry. */
export interface JaegerV1Span {
  traceID: string;
  spanID: string;
  parent: string;
  operationName: string;
  startTime: number; // µs
  duration: number; // µs
  service: string;
  tags: Record<string, string>;
  logs: { timestamp: number; fields: Record<string, string> }[];
  references: { refType: string; traceID: string; spanID: string }[];
}

const jaegerTagValue = (v: NormValue): string => {
  if ('s' in v) return v.s;
  if ('b' in v) return String(v.b);
  if ('i' in v) return v.i;
  if ('d' in v) return String(v.d);
  return JSON.stringify(v);
};

/** Expected Jaeger v1 view of a NormSpan (only span tags of scalar types a JSON number can hold are compared). */
export function expectedJaegerV1(s: NormSpan): Pick<JaegerV1Span, 'traceID' | 'spanID' | 'operationName' | 'startTime' | 'duration' | 'service'> & { scalarTags: Record<string, string>; eventNames: string[] } {
  const scalarTags: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.attributes)) {
    // Jaeger v1 carries int64 tags as JSON numbers, which a JSON reader cannot hold beyond 2^53.
    if ('i' in v && !Number.isSafeInteger(Number(v.i))) continue;
    if ('s' in v || 'b' in v || 'i' in v || 'd' in v) scalarTags[k] = jaegerTagValue(v);
  }
  return {
    traceID: s.traceId,
    spanID: s.spanId,
    operationName: s.name,
    startTime: Number(BigInt(s.start) / 1000n),
    duration: Number((BigInt(s.end) - BigInt(s.start)) / 1000n),
    service: s.service,
    scalarTags,
    eventNames: s.events.map((e) => e.name),
  };
}
