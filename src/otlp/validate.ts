/**
 * Decode-to-validate for the signals that are not stored yet (logs, metrics): a full protobufjs
 * decode (after OTLP/JSON → protobuf for JSON bodies), so that the server can tell a bad body
 * (400 / INVALID_ARGUMENT) from a good one it cannot store yet (501 / UNIMPLEMENTED).
 */
import { otlpJsonToProtobuf, type OtlpSignal } from './json.js';
import { OtlpDecodeError } from './model.js';
import { otlpTypes } from './proto.js';
import protobuf from 'protobufjs';

/** Walk depth bound, as for AnyValue nesting elsewhere. */
const LOCATE_MAX_DEPTH = 64;

/**
 * The path of the first field whose bytes cannot be read (`ExportLogsServiceRequest.resourceLogs[0]
 * .scopeLogs[0]: length 9 runs past the end`), or null when the walk finds nothing wrong.
 */
function locateWireFailure(type: protobuf.Type, buf: Uint8Array, start: number, end: number, path: string, depth: number): string | null {
  if (depth > LOCATE_MAX_DEPTH) return `${path}: nested too deeply`;
  const reader = protobuf.Reader.create(buf.subarray(0, end));
  reader.pos = start;
  const counts = new Map<number, number>();
  while (reader.pos < end) {
    let tag: number;
    try {
      tag = reader.uint32();
    } catch {
      return `${path}: truncated tag at byte ${reader.pos}`;
    }
    const id = tag >>> 3;
    const wire = tag & 7;
    const field = type.fieldsById[id];
    const index = counts.get(id) ?? 0;
    counts.set(id, index + 1);
    const fieldPath = field ? `${path}.${field.name}${field.repeated ? `[${index}]` : ''}` : `${path}.<field ${id}>`;
    if (wire === 2 && field && field.resolvedType instanceof protobuf.Type) {
      let len: number;
      try {
        len = reader.uint32();
      } catch {
        return `${fieldPath}: truncated length`;
      }
      if (len > end - reader.pos) return `${fieldPath}: length ${len} runs past the end of its message (${end - reader.pos} bytes left)`;
      const inner = locateWireFailure(field.resolvedType, buf, reader.pos, reader.pos + len, fieldPath, depth + 1);
      if (inner) return inner;
      reader.pos += len;
      continue;
    }
    try {
      reader.skipType(wire);
    } catch (err) {
      return `${fieldPath}: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (reader.pos > end) return `${fieldPath}: runs past the end of its message`;
  }
  return null;
}

export interface ExportSummary {
  resources: number;
  /** Log records, metric data points or spans in the request. */
  items: number;
}

interface Scoped {
  resourceLogs?: { scopeLogs?: { logRecords?: { traceId?: Uint8Array; spanId?: Uint8Array }[] }[] }[];
  resourceMetrics?: { scopeMetrics?: { metrics?: Record<string, { dataPoints?: unknown[] } | undefined>[] }[] }[];
  resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
}

const METRIC_DATA = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'];

function decode(signal: OtlpSignal, bytes: Uint8Array): Scoped {
  const t = otlpTypes();
  const type = signal === 'logs' ? t.ExportLogsServiceRequest : signal === 'metrics' ? t.ExportMetricsServiceRequest : t.ExportTraceServiceRequest;
  try {
    return type.decode(bytes) as unknown as Scoped;
  } catch (err) {
    // protobufjs throws Error / RangeError (and a stack overflow on absurd nesting): all mean "undecodable".
    const message = err instanceof Error ? err.message : String(err);
    // protobufjs names no field; walking the wire format once more finds which one failed (errors only).
    let where: string | null = null;
    try {
      where = locateWireFailure(type, bytes, 0, bytes.length, type.name, 0);
    } catch {
      where = null;
    }
    throw new OtlpDecodeError(where ? `${where}: ${message}` : `${type.name}: ${message}`);
  }
}

export function validateExport(signal: OtlpSignal, body: Uint8Array, format: 'protobuf' | 'json'): ExportSummary {
  const bytes = format === 'json' ? otlpJsonToProtobuf(body, signal) : body;
  const msg = decode(signal, bytes);
  let resources = 0;
  let items = 0;
  if (signal === 'logs') {
    (msg.resourceLogs ?? []).forEach((rl, ri) => {
      resources++;
      (rl.scopeLogs ?? []).forEach((sl, si) => {
        (sl.logRecords ?? []).forEach((lr, li) => {
          items++;
          const where = `resource_logs[${ri}].scope_logs[${si}].log_records[${li}]`;
          const traceLen = lr.traceId?.length ?? 0;
          const spanLen = lr.spanId?.length ?? 0;
          if (traceLen !== 0 && traceLen !== 16) throw new OtlpDecodeError(`${where}.trace_id: must be empty or 16 bytes, got ${traceLen}`);
          if (spanLen !== 0 && spanLen !== 8) throw new OtlpDecodeError(`${where}.span_id: must be empty or 8 bytes, got ${spanLen}`);
        });
      });
    });
  } else if (signal === 'metrics') {
    for (const rm of msg.resourceMetrics ?? []) {
      resources++;
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          for (const kind of METRIC_DATA) items += m[kind]?.dataPoints?.length ?? 0;
        }
      }
    }
  } else {
    for (const rs of msg.resourceSpans ?? []) {
      resources++;
      for (const ss of rs.scopeSpans ?? []) items += ss.spans?.length ?? 0;
    }
  }
  return { resources, items };
}
