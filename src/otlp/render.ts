/**
 * protobuf → JSON (queries): renders an encoded TracesData (== ExportTraceServiceRequest ==
 * Tempo's Trace) as OTLP/JSON, over the hand-written decoder in ./decode.ts, in two dialects:
 * - OTLP/JSON (`{ ids: 'hex', enums: 'int' }`, the default) per
 *   https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding as the collector's pdata
 *   marshaler writes it: hex trace/span ids, enums as integers, other bytes base64. Jaeger api_v3.
 * - Tempo (`{ ids: 'base64', enums: 'name' }`): what Tempo's /api/traces/{id} writes. Tempo
 *   marshals its tempopb protos (a copy of OTLP's) with gogo/protobuf jsonpb's default Marshaler
 *   (modules/frontend/combiner/common.go: new(jsonpb.Marshaler).MarshalToString): enums by NAME
 *   ("SPAN_KIND_SERVER"), every bytes field — ids included — as standard padded base64.
 * Both: lowerCamelCase keys, 64-bit integers as decimal strings, NaN/±Infinity as strings, default
 * values omitted, except that every span carries a `status` object (`{}` when unset).
 */
import { decodeTracesData, type AnyValue, type DecodedEntityRef, type DecodedResourceSpans, type DecodedSpan, type KeyValue } from './decode.js';
import { toBase64, toHex } from './ids.js';

export interface OtlpJsonOptions {
  /** 'hex' for OTLP/JSON (Jaeger api_v3); 'base64' for Tempo's gogo-jsonpb JSON. */
  ids: 'hex' | 'base64';
  /** 'int' for OTLP/JSON (the default); 'name' for Tempo's gogo-jsonpb JSON. */
  enums?: 'int' | 'name';
}

export const JAEGER_OTLP_JSON: OtlpJsonOptions = { ids: 'hex', enums: 'int' };
export const TEMPO_OTLP_JSON: OtlpJsonOptions = { ids: 'base64', enums: 'name' };

const SPAN_KIND_NAMES = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
const STATUS_CODE_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

type Json = Record<string, unknown>;

function doubleJson(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export function anyValueJson(v: AnyValue): Json {
  switch (v.kind) {
    case 'string': return { stringValue: v.value };
    case 'bool': return { boolValue: v.value };
    case 'int': return { intValue: v.value.toString() };
    case 'double': return { doubleValue: doubleJson(v.value) };
    case 'array': return { arrayValue: v.values.length ? { values: v.values.map(anyValueJson) } : {} };
    case 'kvlist': return { kvlistValue: v.values.length ? { values: v.values.map(keyValueJson) } : {} };
    case 'bytes': return { bytesValue: toBase64(v.value) };
    case 'empty': return {};
  }
}

export function keyValueJson(kv: KeyValue): Json {
  return { key: kv.key, value: anyValueJson(kv.value) };
}

function setIf(o: Json, key: string, value: unknown, present: boolean): void {
  if (present) o[key] = value;
}

function spanJson(s: DecodedSpan, o: OtlpJsonOptions): Json {
  const id = (b: Uint8Array) => (o.ids === 'hex' ? toHex(b) : toBase64(b));
  const enumOf = (names: string[], v: number) => (o.enums === 'name' ? names[v] ?? v : v);
  const out: Json = {};
  setIf(out, 'traceId', id(s.traceId), s.traceId.length > 0);
  setIf(out, 'spanId', id(s.spanId), s.spanId.length > 0);
  setIf(out, 'traceState', s.traceState, s.traceState !== '');
  setIf(out, 'parentSpanId', id(s.parentSpanId), s.parentSpanId.length > 0);
  setIf(out, 'flags', s.flags, s.flags !== 0);
  setIf(out, 'name', s.name, s.name !== '');
  setIf(out, 'kind', enumOf(SPAN_KIND_NAMES, s.kind), s.kind !== 0);
  setIf(out, 'startTimeUnixNano', s.startTimeUnixNano.toString(), s.startTimeUnixNano !== 0n);
  setIf(out, 'endTimeUnixNano', s.endTimeUnixNano.toString(), s.endTimeUnixNano !== 0n);
  setIf(out, 'attributes', s.attributes.map(keyValueJson), s.attributes.length > 0);
  setIf(out, 'droppedAttributesCount', s.droppedAttributesCount, s.droppedAttributesCount !== 0);
  setIf(
    out,
    'events',
    s.events.map((e) => {
      const ev: Json = {};
      setIf(ev, 'timeUnixNano', e.timeUnixNano.toString(), e.timeUnixNano !== 0n);
      setIf(ev, 'name', e.name, e.name !== '');
      setIf(ev, 'attributes', e.attributes.map(keyValueJson), e.attributes.length > 0);
      setIf(ev, 'droppedAttributesCount', e.droppedAttributesCount, e.droppedAttributesCount !== 0);
      return ev;
    }),
    s.events.length > 0,
  );
  setIf(out, 'droppedEventsCount', s.droppedEventsCount, s.droppedEventsCount !== 0);
  setIf(
    out,
    'links',
    s.links.map((l) => {
      const lj: Json = {};
      setIf(lj, 'traceId', id(l.traceId), l.traceId.length > 0);
      setIf(lj, 'spanId', id(l.spanId), l.spanId.length > 0);
      setIf(lj, 'traceState', l.traceState, l.traceState !== '');
      setIf(lj, 'attributes', l.attributes.map(keyValueJson), l.attributes.length > 0);
      setIf(lj, 'droppedAttributesCount', l.droppedAttributesCount, l.droppedAttributesCount !== 0);
      setIf(lj, 'flags', l.flags, l.flags !== 0);
      return lj;
    }),
    s.links.length > 0,
  );
  setIf(out, 'droppedLinksCount', s.droppedLinksCount, s.droppedLinksCount !== 0);
  const status: Json = {};
  setIf(status, 'message', s.status.message, s.status.message !== '');
  setIf(status, 'code', enumOf(STATUS_CODE_NAMES, s.status.code), s.status.code !== 0);
  out.status = status;
  return out;
}

function entityRefJson(e: DecodedEntityRef): Json {
  const out: Json = {};
  setIf(out, 'schemaUrl', e.schemaUrl, e.schemaUrl !== '');
  setIf(out, 'type', e.type, e.type !== '');
  setIf(out, 'idKeys', e.idKeys, e.idKeys.length > 0);
  setIf(out, 'descriptionKeys', e.descriptionKeys, e.descriptionKeys.length > 0);
  return out;
}

/** The `resourceSpans` array of a TracesData as OTLP/JSON. */
export function resourceSpansJson(data: DecodedResourceSpans[], o: OtlpJsonOptions): Json[] {
  return data.map((rs) => {
    const out: Json = {};
    if (rs.resource) {
      const r: Json = {};
      setIf(r, 'attributes', rs.resource.attributes.map(keyValueJson), rs.resource.attributes.length > 0);
      setIf(r, 'droppedAttributesCount', rs.resource.droppedAttributesCount, rs.resource.droppedAttributesCount !== 0);
      setIf(r, 'entityRefs', rs.resource.entityRefs.map(entityRefJson), rs.resource.entityRefs.length > 0);
      out.resource = r;
    }
    setIf(
      out,
      'scopeSpans',
      rs.scopeSpans.map((ss) => {
        const sj: Json = {};
        if (ss.scope) {
          const sc: Json = {};
          setIf(sc, 'name', ss.scope.name, ss.scope.name !== '');
          setIf(sc, 'version', ss.scope.version, ss.scope.version !== '');
          setIf(sc, 'attributes', ss.scope.attributes.map(keyValueJson), ss.scope.attributes.length > 0);
          setIf(sc, 'droppedAttributesCount', ss.scope.droppedAttributesCount, ss.scope.droppedAttributesCount !== 0);
          sj.scope = sc;
        }
        setIf(sj, 'spans', ss.spans.map((s) => spanJson(s, o)), ss.spans.length > 0);
        setIf(sj, 'schemaUrl', ss.schemaUrl, ss.schemaUrl !== '');
        return sj;
      }),
      rs.scopeSpans.length > 0,
    );
    setIf(out, 'schemaUrl', rs.schemaUrl, rs.schemaUrl !== '');
    return out;
  });
}

/**
 * Encoded TracesData → its JSON object { resourceSpans: [...] }. With the default options this is
 * exactly OTLP/JSON. Throws WireError (an OtlpDecodeError) on malformed bytes.
 */
export function tracesDataToOtlpJson(bytes: Uint8Array, options: OtlpJsonOptions = JAEGER_OTLP_JSON): { resourceSpans: Json[] } {
  return { resourceSpans: resourceSpansJson(decodeTracesData(bytes), options) };
}

/**
 * Tempo's JSON of a trace (GET /api/traces/{id}): tempopb.Trace, {"batches": [...]} (Tempo 1.x/2.x
 * name the field `batches`; newer Tempo renamed it to `resourceSpans`, which is what `key` is for).
 */
export function tracesDataToTempoJson<K extends 'batches' | 'resourceSpans' = 'batches'>(
  bytes: Uint8Array,
  key: K = 'batches' as K,
): Record<K, Json[]> {
  return { [key]: resourceSpansJson(decodeTracesData(bytes), TEMPO_OTLP_JSON) } as Record<K, Json[]>;
}
